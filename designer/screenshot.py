"""Render the window to a PNG (for `netwright gui FILE --screenshot PNG`)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow


def take_screenshot(app: QApplication, window: MainWindow, path: str, size: tuple[int, int] = (1600, 1000)) -> int:
    """Show the window at `size`, wait for the code view, save a PNG; returns an exit code."""
    window.resize(*size)
    window.show()
    window.resize(*size)  # after show: the docks may have asked for more room before
    app.processEvents()
    window.view.fit_all()
    loop = QEventLoop()
    window.code_view.updated.connect(loop.quit)
    QTimer.singleShot(10000, loop.quit)  # never hang on a stuck generator
    window.code_view.regenerate()
    loop.exec()
    app.processEvents()
    window.view.fit_all()
    app.processEvents()
    if not window.grab().save(path):
        print(f"netwright gui: could not write {path}", file=sys.stderr)
        return 2
    print(path)
    window.files.autosave_timer.stop()
    window.code_view.shutdown()
    window.code_view.pool.waitForDone(5000)
    return 0
