"""designer: the Netwright desktop app (PySide6) — canvas, palette, inspector, issues, summary,
code view, files and undo. `designer.MainWindow()` is the window; see docs/designer.md.

`MainWindow` is imported on first use (module `__getattr__`), not with the package: the engine
process imports `designer.training.worker` and `designer.training.analysis`, which are Qt-free,
and must not load PySide6 on the way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MainWindow"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from .main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'designer' has no attribute {name!r}")
