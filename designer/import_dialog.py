"""File -> Import model…: an ONNX file becomes the open document, with its weights beside it.

The user picks the .onnx file, then where the graph goes (its weights are written next to it
as .safetensors, and the graph's training.init_weights names them, so training starts from the
model's own numbers). What cannot be mapped is shown node by node and nothing is written.

An import reads the file, maps its nodes, builds the model in PyTorch and compares it with
onnxruntime: seconds for a large model. Like the ONNX export (exports.py) it runs
`netwright import` in a child process (QProcess), so the GUI thread only starts it and reads its
result, and torch never loads into the GUI process (importing torch on a worker thread while
the GUI thread collects garbage crashed). A window-modal dialog shows that it is busy and offers
Cancel; a refused import shows its lines (each unmappable node, its op type and why) in that
dialog. The child writes into a hidden folder beside the target; only a finished import moves
the graph and its weights into place, so a cancelled or failed one leaves no file behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QObject, QProcess, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from graph_core import GraphLoadError, load_graph, save_graph

from .canvas.layout import wrap_if_unreadable

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"
GRAPH_FILTER = "Netwright graphs (*.json)"


class ImportDialog(QDialog):
    """The busy state of one import (a running bar, the seconds so far, Cancel), then, when the
    import is refused, its lines and Close; when the file leaves the input's sizes open, a field
    for one sample's shape and Import again. Signals: cancel_requested(),
    retry_requested(list of int: the shape)."""

    cancel_requested = Signal()
    retry_requested = Signal(list)

    def __init__(self, source: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import model")
        self.source = source
        self.busy = True
        self.status = QLabel(f"Importing {source.name}…")
        self.status.setObjectName("importStatus")
        self.detail = QLabel("Reading the file, mapping its nodes to Netwright layers, then building the "
                             "model and comparing it with onnxruntime.")
        self.detail.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setObjectName("importBusy")
        self.bar.setRange(0, 0)  # busy: the import has no steps it could count
        self.errors = QPlainTextEdit()
        self.errors.setObjectName("importErrors")
        self.errors.setReadOnly(True)
        self.errors.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.errors.hide()
        self.shape_row = QWidget()
        self.shape = QLineEdit()
        self.shape.setObjectName("importInputShape")
        self.shape.setPlaceholderText("e.g. 3,224,224")
        self.retry = QPushButton("Import again")
        self.retry.setObjectName("importRetry")
        self.retry.clicked.connect(self._retry)
        self.shape.returnPressed.connect(self._retry)
        row = QHBoxLayout(self.shape_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("One sample's shape, without the batch:"))
        row.addWidget(self.shape, 1)
        row.addWidget(self.retry)
        self.shape_row.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.status, self.detail, self.bar, self.errors, self.shape_row, self.buttons):
            layout.addWidget(widget)
        self.clock = QElapsedTimer()
        self.clock.start()
        self.ticker = QTimer(self)
        self.ticker.setInterval(500)
        self.ticker.timeout.connect(self._tick)
        self.ticker.start()
        self.resize(520, self.sizeHint().height())

    def show_refusal(self, lines: list[str], ask_shape: bool = False) -> None:
        """Stop the busy state and show why the model could not be imported; `ask_shape`: the
        file leaves sizes of its input open, which a shape given here fills."""
        self.busy = False
        self.ticker.stop()
        self.status.setText(f"Could not import {self.source.name}; nothing was written.")
        self.detail.hide()
        self.bar.hide()
        self.errors.setPlainText("\n".join(lines))
        self.errors.show()
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.shape_row.setVisible(ask_shape)
        if ask_shape:
            self.shape.setFocus()
        self.resize(max(self.width(), 640), 320)

    def finish(self) -> None:
        """Close without asking anything (the import finished or was cancelled)."""
        self.busy = False
        self.ticker.stop()
        self.done(QDialog.DialogCode.Accepted)

    def reject(self) -> None:  # Cancel, Escape or the close box
        if self.busy:
            self.cancel_requested.emit()
        else:
            super().reject()

    def _retry(self) -> None:
        sizes = parse_shape(self.shape.text())
        if sizes is None:
            self.status.setText("Write one sample's sizes like 3,224,224 (channels first, no batch).")
            return
        self.retry_requested.emit(sizes)

    def _tick(self) -> None:
        self.status.setText(f"Importing {self.source.name}… {self.clock.elapsed() // 1000} s")


class ModelImporter(QObject):
    """Runs File -> Import model… for one window.

    Signals: finished(bool ok, str message): an import ended (ok False when refused, failed or
    cancelled); message is what the status bar shows.

    Attributes:
        last_error: the lines of the last refused import ("" after a success), for tests and
            the status bar.
        process: the running `netwright import`, or None.
        dialog: the dialog of the running (or last refused) import, or None.
    """

    finished = Signal(bool, str)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.last_error = ""
        self.process: QProcess | None = None
        self.dialog: ImportDialog | None = None
        self._job: tuple[Path, Path, Path] | None = None  # source, target, work folder
        self._made: dict[Path, list[Path]] = {}  # work folder -> the folders made for it, deepest first
        self._last: tuple[Path, Path] | None = None  # the last import's source and target, for a retry

    @property
    def busy(self) -> bool:
        return self.process is not None

    def run(self, source: str | os.PathLike | None = None, target: str | os.PathLike | None = None) -> bool:
        """Start importing `source` into `target` (asking for either when not given); True when
        the import started. `finished` tells how it ended."""
        if self.busy:
            self.window.statusBar().showMessage("An import is already running.")
            return False
        if not self.window.files.maybe_save():
            return False
        if source is None:
            folder = str(self.window.files.path.parent) if self.window.files.path else ""
            source, _ = QFileDialog.getOpenFileName(self.window, "Import ONNX model", folder, ONNX_FILTER)
            if not source:
                return False
        if target is None:
            suggested = str(free_name(Path(source)))
            target, _ = QFileDialog.getSaveFileName(self.window, "Save the imported graph as", suggested,
                                                    GRAPH_FILTER)
            if not target:
                return False
        return self._start(Path(source), Path(target))

    def cancel(self, wait: bool = False) -> None:
        """Stop a running import; its partial files are removed. `wait` (closing the window):
        return only once the child process has gone."""
        process, job = self.process, self._job
        if process is None or job is None:
            return
        self.process, self._job = None, None
        process.finished.disconnect()
        process.kill()
        if wait:
            process.waitForFinished(3000)
            self._clean(job[2])
            process.deleteLater()
        else:  # the folder goes once the killed process has let go of it
            process.finished.connect(lambda *_: (self._clean(job[2]), process.deleteLater()))
        if self.dialog is not None:
            self.dialog.finish()
        message = f"Import of {job[0].name} cancelled; nothing was written."
        self.window.statusBar().showMessage(message)
        self.finished.emit(False, message)

    # ---- the child process -------------------------------------------------------------------

    def _start(self, source: Path, target: Path, input_shape: list[int] | None = None) -> bool:
        if self.dialog is not None:  # the last refusal's dialog, maybe still open
            self.dialog.finish()
            self.dialog.deleteLater()
        self.dialog = ImportDialog(source, self.window)
        self.dialog.cancel_requested.connect(self.cancel)
        self.dialog.retry_requested.connect(self._retry)
        self._last = (source, target)
        try:
            made = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=f".{target.stem}-importing-", dir=target.parent))
            self._made[work] = made
        except OSError as exc:
            self._refuse(source, [f"{target}: {exc.strerror or exc}"])
            return False
        process = QProcess(self)
        process.setProgram(sys.executable)
        arguments = ["-m", "netwright", "import", str(source), "-o", str(work / target.name)]
        if input_shape:
            arguments += ["--input-shape", ",".join(str(n) for n in input_shape)]
        process.setArguments(arguments)
        process.finished.connect(lambda code, status: self._done(process, code, status))
        process.errorOccurred.connect(lambda error: self._failed_to_start(process, error))
        self.process, self._job = process, (source, target, work)
        self.window.statusBar().showMessage(f"Importing {source.name}…")
        self.dialog.open()  # window-modal, and the event loop keeps turning
        process.start()
        return True

    def _done(self, process: QProcess, code: int, status: QProcess.ExitStatus) -> None:
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace").strip()
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace").strip()
        source, target, work = self._job
        self._end(process)
        if code != 0 or status != QProcess.ExitStatus.NormalExit:
            self._clean(work)
            stopped = "crashed" if status != QProcess.ExitStatus.NormalExit else f"stopped (exit code {code})"
            self._refuse(source, _error_lines(err) or [f"netwright import {stopped}"])
            return
        try:
            _move_into_place(work, target)
        except OSError as exc:
            self._clean(work)
            self._refuse(source, [f"{target}: {exc.strerror or exc}"])
            return
        self._clean(work)
        self.last_error = ""
        if self.dialog is not None:
            self.dialog.finish()
        # the window redraws without the dialog first, then opens the graph: two short turns of
        # the event loop rather than one long one
        QTimer.singleShot(0, lambda: self._open(source, target, out))

    def _open(self, source: Path, target: Path, out: str) -> None:
        _readable_layout(target, self.window.editor.view_aspect())
        # `run` asked about unsaved changes before the file dialogs: asking again would be a
        # second "Save them?" after the user had answered Discard
        if not self.window.files.open(target, ask=False):
            self._refuse(source, [f"{target}: written, but it cannot be opened (see the status bar)"])
            return
        self.window.view.fit_all()
        message = f"Imported {source.name}: {_summary(out, target)}"
        self.window.statusBar().showMessage(message)
        self.finished.emit(True, message)

    def _retry(self, input_shape: list[int]) -> None:
        if self._last is not None and not self.busy:
            self._start(*self._last, input_shape=input_shape)

    def _failed_to_start(self, process: QProcess, error: QProcess.ProcessError) -> None:
        if error != QProcess.ProcessError.FailedToStart or process is not self.process:
            return  # a crash also ends in `finished`, which reports it
        source, _, work = self._job
        self._end(process)
        self._clean(work)
        self._refuse(source, [f"cannot start {sys.executable}: {process.errorString()}"])

    def _clean(self, work: Path) -> None:
        """Remove the child's folder, and the folders made for it that are still empty."""
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
        for folder in self._made.pop(work, []):
            try:
                folder.rmdir()
            except OSError:  # not empty: the imported graph went there
                break

    def _end(self, process: QProcess) -> None:
        self.process, self._job = None, None
        process.deleteLater()

    def _refuse(self, source: Path, lines: list[str]) -> None:
        self.last_error = "\n".join(lines)
        message = f"Could not import {source.name}: {lines[0]}"
        self.window.statusBar().showMessage(message)
        if self.dialog is None:
            self.dialog = ImportDialog(source, self.window)
        # interop's words for a file whose input has sizes left open (--input-shape fills them)
        self.dialog.show_refusal(lines, ask_shape=any("has no fixed size" in line for line in lines))
        if not self.dialog.isVisible():
            self.dialog.open()
        self.finished.emit(False, message)


def parse_shape(text: str) -> list[int] | None:
    """'3,224,224' (or '3 224 224', '3x224x224') as sizes, None unless every one is positive."""
    parts = [p for p in re.split(r"[,x×\s]+", text.strip()) if p]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        return None
    return [int(p) for p in parts]


def _error_lines(stderr: str) -> list[str]:
    """`netwright import`'s error and the refused nodes under it, without the libraries' chatter
    (warnings also go to stderr); the last line when there is no error line (a crash)."""
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("error: ")), None)
    if start is None:
        return lines[-1:]
    picked = [lines[start].removeprefix("error: ")]
    picked += [line for line in lines[start + 1:] if line.startswith("  ")]
    return picked


def _summary(stdout: str, target: Path) -> str:
    """The status line from `netwright import`'s report (which names the child's folder)."""
    line = stdout.splitlines()[-1] if stdout else ""
    counts = re.search(r": (\d+) nodes, (\d+) parameters", line)
    if counts is None:
        return f"written to {target.name}"
    text = f"{int(counts[1])} nodes, {int(counts[2]):,} parameters; weights in {target.stem}.safetensors; "
    diff = re.search(r"max abs difference (\S+) on random input", line)
    not_compared = re.search(r"not compared: (.*)$", line)
    if diff:
        return text + f"matches onnxruntime to {float(diff[1]):.1g}"
    return text + (f"not compared ({not_compared[1]})" if not_compared else "not compared")


def _move_into_place(work: Path, target: Path) -> None:
    """The weights, then the graph that names them, from the child's folder to the target."""
    os.replace(work / f"{target.stem}.safetensors", target.with_suffix(".safetensors"))
    os.replace(work / target.name, target)


def free_name(source: Path) -> Path:
    """The graph file suggested for an imported `source`: model.json, else model_imported.json,
    model_imported_2.json… (model.onnx often sits beside the graph it was exported from, which a
    suggested model.json would overwrite, its weights file with it)."""
    candidates = [source.with_suffix(".json"), source.with_name(f"{source.stem}_imported.json")]
    candidates += (source.with_name(f"{source.stem}_imported_{i}.json") for i in range(2, 1000))
    return next(p for p in candidates if not p.exists() and not p.with_suffix(".safetensors").exists())


def install_import(window: QWidget, file_menu) -> ModelImporter:
    """Add File -> Import model… (before the export entries) and return its importer."""
    from PySide6.QtGui import QAction

    importer = ModelImporter(window)
    action = QAction("&Import model…", window)
    action.setObjectName("importModelAction")
    action.setToolTip("Open an ONNX file as an editable graph, with its weights")
    action.triggered.connect(lambda: importer.run())
    exports = next((a for a in file_menu.actions() if a.text().startswith("Export")), None)
    file_menu.insertAction(exports, action)
    window.addAction(action)
    return importer


def _readable_layout(path: Path, aspect: float) -> None:
    """Rewrite a freshly imported graph file with its chain wrapped to the canvas's shape: the
    importer writes one row, which fitted to the view is a strip of unreadable cards."""
    try:
        graph = load_graph(path)
        if wrap_if_unreadable(graph, aspect):
            save_graph(graph, path)
    except (GraphLoadError, OSError):
        pass  # opening it reports what is wrong
