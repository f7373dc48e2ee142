"""The Data dock: what the graph trains on, before it trains.

It shows the data section's dataset, how many samples go to training and validation (from
`val_fraction` and `limit`), and one row per field: its name, kind, shape, dtype, classes, and
which nodes read it (Inputs) or compare with it (Output heads), like the data step of MATLAB's
Deep Network Designer or Sony's Neural Network Console. It follows the document's analysis, so it
updates as the user edits the data section or the graph; nothing here generates or reads data
(the schema comes from `Document.data_state`, read off the GUI thread for files).
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph_core import format_shape, resolved_params
from training.datasets import DataError
from training.datasets.core import Options
from training.datasets.lazy import (
    stored_npz_members,
    stream_decision,
    stream_option,
    workers_option,
)
from training.datasets.schema import common_options

from .data_samples import SampleStrip
from .document import Document

COLUMNS = ("field", "kind", "shape", "dtype", "classes", "used by")
_NODE_ROLE = Qt.ItemDataRole.UserRole


class DataPanel(QWidget):
    """The Data dock's widget (objectName `dataPanel`).

    Attributes:
        header: the dataset's name and sample counts (or why there are none).
        table: one row per field (columns `COLUMNS`).
        samples: thumbnails of the first image field's first samples (made off the GUI thread).

    Signals:
        node_chosen(str): a field's row was double-clicked; the first node using it.
    """

    node_chosen = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self.document = document
        self.header = QLabel()
        self.header.setObjectName("dataHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("dataFields")
        self.table.setHorizontalHeaderLabels([c.capitalize() for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.samples = SampleStrip()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addWidget(self.samples)
        layout.addWidget(self.table, 1)
        self._shown: tuple | None = None
        self.on_show = False  # a tabbed dock stays isVisible() behind another tab: track it
        document.analysed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show the document's current data state (skipped when nothing it shows changed)."""
        state = self.document.data_state
        users = self._users()
        key = (state, tuple(sorted(users.items())))
        if key == self._shown:
            return
        self._shown = key
        self.header.setText(self._header_text())
        fields = state.schema.fields if state.schema is not None else {}
        self.table.setRowCount(len(fields))
        for row, (name, fi) in enumerate(fields.items()):
            classes = "" if fi.num_classes is None else str(fi.num_classes)
            if fi.class_names and len(fi.class_names) <= 6 and classes:
                classes += f" ({', '.join(map(str, fi.class_names))})"
            readers = users.get(name, ())
            cells = (name, fi.kind, format_shape(tuple(fi.shape)), fi.dtype, classes, ", ".join(readers))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(_NODE_ROLE, readers[0].split(" (")[0] if readers else None)
                if col == 5 and not readers:
                    item.setText("—")
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(row, col, item)
        self._request_samples()

    def set_on_show(self, shown: bool) -> None:
        """The dock came to the front (its tab chosen) or went behind another tab."""
        self.on_show = shown
        self._request_samples()

    def _request_samples(self) -> None:
        """Thumbnails cost a build of the data (on a worker): only while the dock is on show."""
        if not self.on_show:
            return
        state = self.document.data_state
        fields = state.schema.fields if state.schema is not None else {}
        images = [name for name, fi in fields.items() if fi.kind == "image" and len(fi.shape) == 3]
        self.samples.request(state.section if images else None, self.document.data_root,
                             images[0] if images else None)

    def row_texts(self) -> list[list[str]]:
        """The table as text, row by row (for tests and scripts)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    # ---- helpers -----------------------------------------------------------------------------

    def _header_text(self) -> str:
        state = self.document.data_state
        name = state.section.get("dataset") or "(none)"
        if state.pending:
            return f"Dataset {name}: reading it…"
        if state.schema is None:
            return f"Dataset {name}: {state.problem or 'not available'}"
        schema = state.schema
        try:
            val_fraction, limit = common_options(Options(state.section, str(name)))
        except DataError as exc:  # shown as an issue too; the counts need valid values
            return f"Dataset {schema.name}: {exc}"
        train, val = schema.split_counts(val_fraction, limit)
        where = "built-in" if schema.builtin else schema.source
        split = "its own validation split" if schema.n_val_shipped is not None else \
            f"val_fraction {val_fraction:g}"
        limited = f", limit {limit}" if limit else ""
        held = _holding_text(schema, state.section)
        return (f"Dataset {schema.name} ({where}): {schema.n_samples} samples → {train} train, "
                f"{val} validation ({split}{limited})" + (f"\n{held}" if held else ""))

    def _users(self) -> dict[str, tuple[str, ...]]:
        """Field -> "id (Input)" of each Input reading it, "id (target)" of each head comparing
        with it, "id (reconstructs)" of each head rebuilding the Input that reads it."""
        out: dict[str, list[str]] = {}
        read_by: dict[str, str] = {}  # Input id -> the field it reads
        for node in self.document.graph.nodes_of_type("Input"):
            p = resolved_params(node)
            if p["source"] == "data":
                read_by[node.id] = str(p["field"] or node.id)
                out.setdefault(read_by[node.id], []).append(f"{node.id} (Input)")
        for node in self.document.graph.nodes_of_type("Output"):
            p = resolved_params(node)
            target = str(p["target"])
            if p["loss"] == "none":
                continue
            if not target.startswith("input:"):
                out.setdefault(target, []).append(f"{node.id} (target)")
            elif target[len("input:"):] in read_by:
                out.setdefault(read_by[target[len("input:"):]], []).append(f"{node.id} (reconstructs)")
        return {k: tuple(v) for k, v in out.items()}

    def _double_clicked(self, row: int, _column: int) -> None:
        node = self.table.item(row, 0).data(_NODE_ROLE)
        if node:
            self.node_chosen.emit(node)


def _holding_text(schema: Any, section: dict[str, Any]) -> str:
    """Whether an image folder's or an .npz's images are decoded into memory or read from disk
    while the model trains, decided as the loader will (the `stream` setting); "" for data the
    setting does not apply to. Without it a user cannot tell which way "auto" went."""
    source = Path(schema.source) if schema.source and not schema.builtin else None
    if source is None or not (source.is_dir() or source.suffix.lower() == ".npz"):
        return ""
    images = [name for name, fi in schema.fields.items() if fi.kind == "image"]
    if not images:
        return ""
    decoded = sum(schema.n_samples * math.prod(schema.fields[name].shape) * 4 for name in images)
    opts = Options(section, str(section.get("dataset")))
    try:
        mode, streams, workers = stream_option(opts), stream_decision(opts, decoded), workers_option(opts)
    except DataError:  # shown as an issue
        return ""
    size = f"Images: {decoded / 2**20:,.0f} MB as float32"
    if streams and source.suffix.lower() == ".npz":
        try:
            stored = stored_npz_members(source)
        except (OSError, ValueError, zipfile.BadZipFile):
            stored = {}
        if not any(name in stored for name in images):
            return (f"{size} → decoded into memory: the archive's images are compressed "
                    "(np.savez_compressed); write it with np.savez to stream it")
    if streams:
        by = f"{workers} worker process{'es' if workers != 1 else ''}" if workers else "the training process"
        return f"{size} → read from disk batch by batch, decoded by {by} (stream {mode})"
    why = ": it streams above 512 MB or a quarter of the free memory" if mode == "auto" else ""
    return f"{size} → decoded into memory before training (stream {mode}{why})"


def install_data(window) -> DataPanel:
    """Add the Data dock (tabbed with Issues and Summary) and wire it and the Issues list's
    messages to the window. Returns the panel."""
    panel = DataPanel(window.document)
    dock = window.add_dock(panel, "Data", "data", Qt.DockWidgetArea.BottomDockWidgetArea,
                           tabify_with="issues")
    dock.visibilityChanged.connect(panel.set_on_show)
    panel.node_chosen.connect(window.reveal_node)
    window.issues.message.connect(lambda text: window.statusBar().showMessage(text, 10000))
    return panel
