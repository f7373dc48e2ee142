"""designer: the Netwright desktop app (PySide6) — canvas, palette, inspector, issues, summary,
code view, files and undo. `designer.MainWindow()` is the window; see docs/designer.md."""

from __future__ import annotations

from .main_window import MainWindow

__all__ = ["MainWindow"]
