"""File -> Import model…: an ONNX file becomes the open document, with its weights beside it.

The user picks the .onnx file, then where the graph goes (its weights are written next to it
as .safetensors, and the graph's training.init_weights names them, so training starts from the
model's own numbers). What cannot be mapped is shown node by node and nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"
GRAPH_FILTER = "Netwright graphs (*.json)"


class ModelImporter:
    """Runs File -> Import model… for one window.

    Attributes:
        last_error: the lines of the last refused import ("" after a success), for tests and
            the status bar.
    """

    def __init__(self, window: QWidget) -> None:
        self.window = window
        self.last_error = ""

    def run(self, source: str | os.PathLike | None = None, target: str | os.PathLike | None = None) -> bool:
        """Import `source` into `target` (asking for either when not given); True on success."""
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
        return self._import(Path(source), Path(target))

    def _import(self, source: Path, target: Path) -> bool:
        from interop import ImportRefused, import_source

        self.window.statusBar().showMessage(f"Importing {source.name}…")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a large model takes seconds
        try:
            result = import_source(str(source), target)
        except (ImportRefused, OSError) as exc:
            QApplication.restoreOverrideCursor()
            lines = exc.lines if isinstance(exc, ImportRefused) else [f"{target}: {exc.strerror or exc}"]
            self._refuse(source, lines)
            return False
        QApplication.restoreOverrideCursor()
        self.last_error = ""
        self.window.open_file(result.graph_path)
        self.window.statusBar().showMessage(
            f"Imported {source.name}: {len(result.graph.nodes)} nodes, {result.file_params:,} parameters; "
            f"weights in {result.weights_path.name}; "
            + (f"matches onnxruntime to {result.max_diff:.1g}" if result.max_diff is not None
               else f"not compared ({result.compare_error})"))
        return True

    def _refuse(self, source: Path, lines: list[str]) -> None:
        self.last_error = "\n".join(lines)
        self.window.statusBar().showMessage(f"Could not import {source.name}: {lines[0]}")
        if os.environ.get("NETWRIGHT_NO_DIALOGS") != "1":
            QMessageBox.warning(self.window, "Could not import the model", self.last_error)


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
