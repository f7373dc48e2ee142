"""Export the document as Python code or as an ONNX file, with the weights the user trained.

Both File menu exports ask, in one dialog (export_dialog.py), where to write and which weights go
out: the run selected in the Runs dock, else the latest run of this graph, else (or when the user
picks it) the untrained model; the status line names the weights that went out. Python code goes
out with its weights beside it (`model.py` + `model.safetensors`).

ONNX export imports torch, traces the model and checks it with onnxruntime, which takes
seconds: it runs `netwright export` in a child process (QProcess) on a snapshot of the
document and reports back by signal. A separate process keeps torch out of the GUI process
entirely (importing torch on a worker thread while the GUI thread collects garbage crashed),
and a crash in export cannot take the user's unsaved work with it. Python code export is instant.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from graph_core.serialization import atomic_write_text, graph_to_json

from .document import Document
from .export_dialog import UNTRAINED, ExportDialog, WeightsChoice

# What `weights` may be: "auto" (the preferred trained run, else untrained), None (untrained),
# a WeightsChoice, or the path of a weights file.
Weights = str | os.PathLike | WeightsChoice | None


class Exporter(QObject):
    """Export actions. Signals: message(str); onnx_finished(bool ok, str message)."""

    message = Signal(str)
    onnx_finished = Signal(bool, str)

    def __init__(self, document: Document, window: QWidget) -> None:
        super().__init__(window)
        self.document, self.window = document, window
        self.process: QProcess | None = None
        # Set by the training controller: the trained runs of the open graph, preferred first.
        self.trained_runs: Callable[[], list[WeightsChoice]] = list
        self.last_weights: WeightsChoice = UNTRAINED  # what the latest export carried

    def export_python(self, path: str | os.PathLike | None = None, weights: Weights = "auto") -> bool:
        """Write the generated PyTorch source to a .py file, and the chosen trained weights
        beside it as a .safetensors file of the same name (asks for both when `path` is None)."""
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
            asked = self._ask("Export Python code", ".py", "Python (*.py)")
            if asked is None:
                return False
            path, choice = asked
        else:
            choice = self.resolve(weights)
        path = Path(path)
        atomic_write_text(path, source)
        self.last_weights = choice
        if choice.checkpoint is None:
            self.message.emit(f"Exported the PyTorch code to {path} with {choice.describe()}")
            return True
        target = path.with_suffix(".safetensors")
        try:
            tmp = Path(f"{target}.partial")
            shutil.copyfile(choice.checkpoint, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            self._warn("Cannot write the weights", f"Could not write {target}: {exc}")
            return False
        self.message.emit(f"Exported the PyTorch code to {path} and {choice.describe()} to {target.name} "
                          f"(model.load_state_dict(safetensors.torch.load_file(...)))")
        return True

    def export_onnx(self, path: str | os.PathLike | None = None, weights: Weights = "auto") -> bool:
        """Start an ONNX export in a child process; `onnx_finished` tells the outcome. Asks for
        the file and the weights when `path` is None."""
        if path is None:
            asked = self._ask("Export ONNX", ".onnx", "ONNX (*.onnx)")
            if asked is None:
                return False
            path, choice = asked
        else:
            choice = self.resolve(weights)
        if self.process is not None:
            self.message.emit("An ONNX export is already running.")
            return False
        fd, snapshot = tempfile.mkstemp(prefix="netwright-export-", suffix=".json")
        os.close(fd)
        atomic_write_text(Path(snapshot), graph_to_json(self.document.snapshot()))
        process = QProcess(self)
        process.setProgram(sys.executable)
        arguments = ["-m", "netwright", "export", snapshot, "-o", str(path)]
        if choice.checkpoint is not None:
            arguments += ["--weights", str(choice.checkpoint)]
        process.setArguments(arguments)
        process.finished.connect(lambda code, _status: self._onnx_done(process, code, snapshot, choice))
        self.process = process
        self.last_weights = choice
        self.message.emit(f"Exporting {path} with {choice.describe()}… (tracing the model with PyTorch)")
        process.start()
        return True

    def resolve(self, weights: Weights) -> WeightsChoice:
        """The WeightsChoice that `weights` (see `Weights`) stands for."""
        if isinstance(weights, WeightsChoice):
            return weights
        if weights is None:
            return UNTRAINED
        if isinstance(weights, str) and weights == "auto":
            runs = self.trained_runs()
            return runs[0] if runs else UNTRAINED
        path = Path(weights)
        return WeightsChoice(path.name, path, run=path.parent.name, why="chosen by path")

    def _ask(self, title: str, suffix: str, filters: str) -> tuple[str, WeightsChoice] | None:
        """The export dialog: the file and the weights, or None when cancelled."""
        files = getattr(self.window, "files", None)
        folder = files.path.parent if files is not None and files.path else Path.cwd()
        suggested = str(folder / f"{self.document.graph.name or 'model'}{suffix}")
        dialog = ExportDialog(title, suggested, filters, self.trained_runs(), self.window)
        try:
            if dialog.exec() != ExportDialog.DialogCode.Accepted or not dialog.path():
                return None
            return dialog.path(), dialog.choice()
        finally:
            dialog.deleteLater()

    def _onnx_done(self, process: QProcess, code: int, snapshot: str, choice: WeightsChoice = UNTRAINED) -> None:
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace").strip()
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip()
        self.process = None
        process.deleteLater()
        Path(snapshot).unlink(missing_ok=True)
        ok = code == 0
        text = (f"Exported {out.splitlines()[-1] if out else ''} — {choice.describe()}") if ok else \
            f"ONNX export failed: {err.splitlines()[-1] if err else f'exit code {code}'}"
        self.message.emit(text)
        if not ok:
            self._warn("ONNX export failed", err or text)
        self.onnx_finished.emit(ok, text)

    def _warn(self, title: str, text: str) -> None:
        self.message.emit(text.replace("\n", " "))
        if os.environ.get("NETWRIGHT_NO_DIALOGS") != "1":
            QMessageBox.warning(self.window, title, text)
