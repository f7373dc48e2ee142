"""Export the document as Python code or as an ONNX file.

ONNX export imports torch, traces the model and checks it with onnxruntime, which takes
seconds: it runs `netwright export` in a child process (QProcess) on a snapshot of the
document and reports back by signal. A separate process keeps torch out of the GUI process
entirely (importing torch on a worker thread while the GUI thread collects garbage crashed),
and a crash in export cannot take the user's unsaved work with it. Python code export is instant.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from graph_core.serialization import atomic_write_text, graph_to_json

from .document import Document


class Exporter(QObject):
    """Export actions. Signals: message(str); onnx_finished(bool ok, str message)."""

    message = Signal(str)
    onnx_finished = Signal(bool, str)

    def __init__(self, document: Document, window: QWidget) -> None:
        super().__init__(window)
        self.document, self.window = document, window
        self.process: QProcess | None = None

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
        """Start an ONNX export in a child process; `onnx_finished` tells the outcome."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export ONNX",
                                                  f"{self.document.graph.name or 'model'}.onnx", "ONNX (*.onnx)")
            if not path:
                return False
        if self.process is not None:
            self.message.emit("An ONNX export is already running.")
            return False
        fd, snapshot = tempfile.mkstemp(prefix="netwright-export-", suffix=".json")
        os.close(fd)
        atomic_write_text(Path(snapshot), graph_to_json(self.document.snapshot()))
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "netwright", "export", snapshot, "-o", str(path)])
        process.finished.connect(lambda code, _status: self._onnx_done(process, code, snapshot))
        self.process = process
        self.message.emit(f"Exporting {path}… (tracing the model with PyTorch)")
        process.start()
        return True

    def _onnx_done(self, process: QProcess, code: int, snapshot: str) -> None:
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace").strip()
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip()
        self.process = None
        process.deleteLater()
        Path(snapshot).unlink(missing_ok=True)
        ok = code == 0
        text = (f"Exported {out.splitlines()[-1]}" if out else "Exported.") if ok else \
            f"ONNX export failed: {err.splitlines()[-1] if err else f'exit code {code}'}"
        self.message.emit(text)
        if not ok:
            self._warn("ONNX export failed", err or text)
        self.onnx_finished.emit(ok, text)

    def _warn(self, title: str, text: str) -> None:
        self.message.emit(text.replace("\n", " "))
        if os.environ.get("NETWRIGHT_NO_DIALOGS") != "1":
            QMessageBox.warning(self.window, title, text)
