"""The runs panel: every run recorded in the runs folder, listed; overlay runs' curves; export a
trained run as ONNX or as a weights file.

Selecting two or more runs overlays their loss curves (validation by epoch, training by step)
in one plot. ONNX export traces and verifies the model, which takes seconds, so it runs in a
thread-pool task and reports by signal.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, QRunnable, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph_core import GraphLoadError

from ..code_view import worker_pool
from .loss_terms import CurveText, graph_curve_text
from .plots import BLUE, GREEN, ORANGE, PURPLE, RED
from .records import RunRecord, list_runs, read_run

COMPARE_COLORS = (BLUE, ORANGE, GREEN, RED, PURPLE, "#8c564b", "#e377c2", "#17becf")


class _Signals(QObject):
    done = Signal(bool, str)


class _ExportJob(QRunnable):
    def __init__(self, record: RunRecord, path: str, signals: _Signals) -> None:
        super().__init__()
        self.record, self.path, self.signals = record, path, signals

    def run(self) -> None:
        try:
            from codegen import export_onnx

            report = export_onnx(self.record.graph(), self.path, weights=self.record.checkpoint)
            self.signals.done.emit(True, f"Exported {self.path} from run {self.record.name} "
                                         f"(onnxruntime matches PyTorch to {report.max_abs_diff:.1e})")
        except Exception as exc:  # shown to the user; the GUI must not crash on a failed export
            self.signals.done.emit(False, f"ONNX export of run {self.record.name} failed: {exc}")


class RunsPanel(QWidget):
    """List of recorded runs with compare and export. Signal: message(str)."""

    message = Signal(str)
    export_finished = Signal(bool, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self.root: Path | None = None
        self.records: list[RunRecord] = []
        # The process-wide pool: a pool owned by this widget would wait for its job while being
        # deleted with the GIL held, and the job needs the GIL to report (a deadlock).
        self.pool = worker_pool()
        # Set by the training controller: export in its engine process, which answers with
        # export_done(ok, text). Without it (a bare panel) the export runs on a worker thread.
        self.export_in_engine: Callable[[RunRecord, str], None] | None = None
        self._signals = _Signals()
        self._signals.done.connect(self.export_done)
        self.tree = QTreeWidget()
        self.tree.setObjectName("runsList")
        self.tree.setHeaderLabels(["Run", "Status", "Epochs", "Result", "Settings"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.tree.setToolTip("Select two or more runs to compare their curves")
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.compare_plot = pg.PlotWidget(background="w")
        self.compare_plot.setObjectName("comparePlot")
        item = self.compare_plot.getPlotItem()
        item.setTitle("Select runs to overlay their loss curves", size="9pt")
        item.setLabel("bottom", "epoch")
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        self.legend = item.addLegend(offset=(-6, 6), labelTextSize="8pt")
        self.folder_label = QLabel("")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refresh_button = QPushButton("Refresh")
        self.onnx_button = QPushButton("Export ONNX…")
        self.onnx_button.setObjectName("exportRunOnnxButton")
        self.weights_button = QPushButton("Export weights…")
        self.weights_button.setObjectName("exportRunWeightsButton")
        # clicked(bool) would hand its `checked` flag to `select`
        self.refresh_button.clicked.connect(lambda _checked=False: self.refresh())
        self.onnx_button.clicked.connect(lambda: self.export_onnx())
        self.weights_button.clicked.connect(lambda: self.export_weights())
        self._build()
        self._selection_changed()

    def _build(self) -> None:
        buttons = QHBoxLayout()
        for b in (self.refresh_button, self.onnx_button, self.weights_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.folder_label)
        col.addWidget(self.tree, 1)
        col.addLayout(buttons)
        # stacked: the runs dock usually shares a narrow column with the results
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(left)
        split.addWidget(self.compare_plot)
        split.setSizes([200, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(split)

    # ---- listing -----------------------------------------------------------------------------

    def set_root(self, root: Path) -> None:
        if root != self.root:
            self.root = root
            self.refresh()

    def refresh(self, select: Path | None = None) -> None:
        """Re-read the runs folder (keeping the selection, or selecting `select`)."""
        keep = {r.path for r in self.selected()} if select is None else {Path(select)}
        self.records = list_runs(self.root) if self.root else []
        self.folder_label.setText(f"Runs in {self.root}" if self.root else "")
        self.tree.blockSignals(True)
        self.tree.clear()
        for record in self.records:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
            item = QTreeWidgetItem([record.name, record.status, str(record.epochs), record.headline(),
                                    record.settings()])
            item.setToolTip(0, f"{record.path}\nstarted {when}")
            item.setData(0, Qt.ItemDataRole.UserRole, str(record.path))
            self.tree.addTopLevelItem(item)
            item.setSelected(record.path in keep)
        for k in range(5):
            self.tree.resizeColumnToContents(k)
        self.tree.blockSignals(False)
        self._selection_changed()

    def record_for(self, path: Path) -> RunRecord | None:
        return next((r for r in self.records if r.path == Path(path)), None) or read_run(path)

    def selected(self) -> list[RunRecord]:
        paths = [Path(i.data(0, Qt.ItemDataRole.UserRole)) for i in self.tree.selectedItems()]
        return [r for r in self.records if r.path in paths]

    def select(self, paths: list[Path]) -> None:
        wanted = {Path(p) for p in paths}
        for k in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(k)
            item.setSelected(Path(item.data(0, Qt.ItemDataRole.UserRole)) in wanted)

    # ---- comparing ---------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        chosen = self.selected()
        one = len(chosen) == 1 and chosen[0].checkpoint is not None
        self.onnx_button.setEnabled(one)
        self.weights_button.setEnabled(one)
        self.overlay(chosen)

    def overlay(self, records: list[RunRecord]) -> None:
        """Draw each run's validation loss by epoch and training loss by step (as epochs)."""
        item = self.compare_plot.getPlotItem()
        for curve in item.listDataItems():
            item.removeItem(curve)
        self.legend.clear()
        if not records:
            item.setTitle("Select runs to overlay their loss curves", size="9pt")
            return
        for k, record in enumerate(records):
            color = COMPARE_COLORS[k % len(COMPARE_COLORS)]
            store = record.curves()
            store.set_smoothing(0.9)
            train_label, val_label = _run_labels(record)
            train, val = store.get("train/loss"), store.get("val/loss")
            if train is not None and len(train):
                item.plot(train.epochs, train.smoothed, pen=pg.mkPen(color + "90", width=1),
                          name=f"{record.name} {train_label}")
            if val is not None and len(val):
                item.plot(val.epochs, val.y, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                          symbolBrush=color, symbolPen=None, name=f"{record.name} {val_label}")
        item.setTitle("Loss: " + " vs ".join(r.name for r in records) if len(records) > 1
                      else f"Loss of {records[0].name}", size="9pt")

    # ---- exporting ---------------------------------------------------------------------------

    def export_onnx(self, path: str | os.PathLike | None = None, record: RunRecord | None = None) -> bool:
        """Export the selected (or given) run's model with its trained weights; False if not started."""
        record = record or self._one()
        if record is None or record.checkpoint is None:
            self.message.emit("Select one run with a checkpoint to export.")
            return False
        path = path or self._ask(f"{record.name}.onnx", "ONNX model (*.onnx)")
        if not path:
            return False
        self.message.emit(f"Exporting run {record.name} to {path} …")
        if self.export_in_engine is not None:  # keeps torch out of the GUI process
            self.export_in_engine(record, str(path))
        else:
            self.pool.start(_ExportJob(record, str(path), self._signals))
        return True

    def export_weights(self, path: str | os.PathLike | None = None, record: RunRecord | None = None) -> bool:
        """Copy the run's best (else last) weights file (safetensors) to `path`."""
        record = record or self._one()
        if record is None or record.checkpoint is None:
            self.message.emit("Select one run with a checkpoint to export.")
            return False
        path = path or self._ask(f"{record.name}.safetensors", "Weights (*.safetensors)")
        if not path:
            return False
        try:
            tmp = Path(f"{path}.partial")
            shutil.copyfile(record.checkpoint, tmp)
            os.replace(tmp, path)
        except OSError as exc:
            self.message.emit(f"Could not write {path}: {exc}")
            return False
        self.message.emit(f"Saved the weights of run {record.name} ({record.checkpoint.name}) to {path}")
        return True

    def _one(self) -> RunRecord | None:
        chosen = self.selected()
        return chosen[0] if len(chosen) == 1 else None

    def _ask(self, name: str, filters: str) -> str | None:
        if os.environ.get("NETWRIGHT_NO_DIALOGS"):
            return None
        start = str(Path(self.root or ".") / name)
        path, _ = QFileDialog.getSaveFileName(self, "Export", start, filters)
        return path or None

    def export_done(self, ok: bool, text: str) -> None:
        """Report a finished ONNX export (from the worker thread or the engine process)."""
        self.message.emit(text)
        self.export_finished.emit(ok, text)


def _run_labels(record: RunRecord) -> tuple[str, str]:
    """What a recorded run's train and validation loss add up (loss_terms), from its graph.json."""
    try:
        graph = record.graph()
    except (OSError, GraphLoadError):
        return CurveText().run_labels
    return graph_curve_text(graph).run_labels
