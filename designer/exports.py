"""Export the document as Python code or as an ONNX file.

ONNX export imports torch and traces the model, which takes seconds: it runs on a worker thread
and reports back by signal, so the window stays responsive. Python code export is instant.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from graph_core import Graph
from graph_core.serialization import atomic_write_text

from .code_view import worker_pool
from .document import Document


class _Signals(QObject):
    finished = Signal(bool, str)


class _OnnxJob(QRunnable):
    def __init__(self, graph: Graph, path: str, signals: _Signals) -> None:
        super().__init__()
        self.graph, self.path, self.signals = graph, path, signals

    def run(self) -> None:
        try:
            from codegen import export_onnx

            report = export_onnx(self.graph, self.path)
            diff = getattr(report, "max_abs_diff", None)
            note = f" (onnxruntime matches PyTorch to {diff:.1e})" if isinstance(diff, float) else ""
            self.signals.finished.emit(True, f"Exported {self.path}{note}")
        except Exception as exc:  # report any export failure to the user, never crash the GUI
            self.signals.finished.emit(False, f"ONNX export failed: {exc}")


class Exporter(QObject):
    """Export actions. Signals: message(str); onnx_finished(bool ok, str message)."""

    message = Signal(str)
    onnx_finished = Signal(bool, str)

    def __init__(self, document: Document, window: QWidget) -> None:
        super().__init__(window)
        self.document, self.window = document, window
        self._signals = _Signals()
        self._signals.finished.connect(self._onnx_done)
        self.pool = worker_pool()

    def export_python(self, path: str | os.PathLike | None = None) -> bool:
        """Write the generated PyTorch source to a .py file."""
        try:
            from codegen import generate_source
        except Exception as exc:
            self.message.emit(f"The code generator is not available: {exc}")
            return False
        try:
            source = generate_source(self.document.graph).source
        except Exception as exc:  # an invalid graph: say why
            self._warn("Cannot export code", f"Fix the graph first:\n{exc}")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export Python code",
                                                  f"{self.document.graph.name or 'model'}.py", "Python (*.py)")
            if not path:
                return False
        atomic_write_text(Path(path), source)
        self.message.emit(f"Exported the PyTorch code to {path}")
        return True

    def export_onnx(self, path: str | os.PathLike | None = None) -> bool:
        """Start an ONNX export on a worker thread; `onnx_finished` tells the outcome."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export ONNX",
                                                  f"{self.document.graph.name or 'model'}.onnx", "ONNX (*.onnx)")
            if not path:
                return False
        self.message.emit(f"Exporting {path}… (tracing the model with PyTorch)")
        self.pool.start(_OnnxJob(self.document.snapshot(), str(path), self._signals))
        return True

    def _onnx_done(self, ok: bool, text: str) -> None:
        self.message.emit(text)
        if not ok:
            self._warn("ONNX export failed", text)
        self.onnx_finished.emit(ok, text)

    def _warn(self, title: str, text: str) -> None:
        self.message.emit(text.replace("\n", " "))
        if os.environ.get("NETWRIGHT_NO_DIALOGS") != "1":
            QMessageBox.warning(self.window, title, text)
