"""The analysis table (like MATLAB's analyzeNetwork): per node its name, type, output shape,
parameters, trainable parameters, multiply-accumulates of one forward and activation memory at
the graph's batch size, with totals underneath."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph_core import format_shape, summarize
from graph_core.cost import format_bytes, format_macs

from .document import Document

_COLUMNS = ("node", "type", "output shape", "parameters", "trainable", "MACs", "activations")


class SummaryView(QWidget):
    """The summary dock's widget (objectName `summaryTable` on the table).

    Signals:
        node_chosen(str): a row was clicked.
    """

    node_chosen = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("summaryTable")
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.totals = QLabel()
        self.totals.setWordWrap(True)  # the totals line is long; it must not widen the dock
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        self.table.cellClicked.connect(lambda row, _c: self.node_chosen.emit(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)))
        self._shown: list = []
        document.analysed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        batch = self.document.graph.training.get("batch_size")
        batch = batch if isinstance(batch, int) and batch > 0 else 1
        summary = summarize(self.document.graph, self.document.shapes, batch_size=batch)
        rows = [(r.id, r.name, r.type, r.output_shape, r.params, r.trainable, r.macs, r.activation_bytes)
                for r in summary.rows]
        if rows != self._shown:
            self.table.setUpdatesEnabled(False)
            if len(rows) != len(self._shown):
                self.table.setRowCount(len(rows))
                self._shown = [None] * len(rows)
            for k, row in enumerate(rows):
                if row != self._shown[k]:  # only rows whose content changed are rewritten
                    self._write_row(k, row)
            self._shown = rows
            # columns as wide as their words: at 100 pixels each, MACs and activations sat past
            # the edge of a 1280-pixel window's dock
            self.table.resizeColumnsToContents()
            self.table.setUpdatesEnabled(True)
        frozen = summary.total_params - summary.trainable_params
        self.totals.setText(f"<b>{len(rows)} layers · {summary.total_params:,} parameters</b> "
                            f"({summary.trainable_params:,} trainable, {frozen:,} frozen) · "
                            f"{format_macs(summary.total_macs)} multiply-accumulates per sample · "
                            f"activations {format_bytes(summary.activation_bytes)} at batch {batch}")

    def _write_row(self, k: int, row: tuple) -> None:
        nid, name, type_, shape, params, trainable, macs, memory = row
        cells = (name, type_, format_shape(shape), _count(params), _count(trainable),
                 "?" if macs is None else (format_macs(macs) if macs else ""),
                 "?" if memory is None else format_bytes(memory))
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c >= 3:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, nid)
            self.table.setItem(k, c, item)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
