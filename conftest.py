"""Root pytest configuration: Qt renders offscreen, so the suite runs on machines without a display."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")
