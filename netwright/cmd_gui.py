"""`netwright gui [FILE] [--screenshot PNG]`: open the designer (also `netwright` alone).

With --screenshot the window is rendered at 1600×1000 with FILE open, saved as PNG, and the
program exits (for documentation and checks; it runs offscreen when there is no display).
Qt is imported only inside the handler so `netwright --help` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the designer",
                       description="Open the Netwright designer, optionally with a graph file.")
    p.add_argument("file", nargs="?", help="graph file to open")
    p.add_argument("--screenshot", metavar="PNG",
                   help="render the window with FILE open, save it as PNG and exit")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"netwright gui: PySide6 is not installed ({exc}); pip install 'netwright[gui]'",
              file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("Netwright")
    app.setApplicationName("Netwright Designer")
    if args.screenshot:
        # A screenshot must not depend on (or change) the user's remembered layout or recovery.
        os.environ["NETWRIGHT_NO_AUTOSAVE_RESTORE"] = "1"
        os.environ["NETWRIGHT_NO_DIALOGS"] = "1"
    from designer import MainWindow
    from designer.screenshot import take_screenshot

    window = MainWindow(settings=_screenshot_settings() if args.screenshot else None)
    if args.file and not window.open_file(args.file):
        print(f"netwright gui: {window.statusBar().currentMessage()}", file=sys.stderr)
        if args.screenshot:
            return 2
    if args.screenshot:
        return take_screenshot(app, window, args.screenshot)
    window.show()
    return app.exec()


def _screenshot_settings():
    import tempfile

    from PySide6.QtCore import QSettings

    path = os.path.join(tempfile.mkdtemp(prefix="netwright-shot-"), "settings.ini")
    return QSettings(path, QSettings.Format.IniFormat)
