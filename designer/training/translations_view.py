"""The Translations tab of the results panel: source / reference / model rows of validation
sentences and the attention map of a chosen one, painted from `translations.Translations`."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .translations import Translations

WAITING = "Translations of validation sentences appear after the first epoch."


class AttentionView(QWidget):
    """A heat map: one row per word the model wrote, one column per source word."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("attentionView")
        self.setMinimumSize(240, 180)
        self.rows: list[str] = []
        self.columns: list[str] = []
        self.weights: np.ndarray | None = None

    def set_map(self, weights: np.ndarray | None, rows: list[str], columns: list[str]) -> None:
        self.weights, self.rows, self.columns = weights, rows, columns
        self.update()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if self.weights is None or not self.weights.size:
            p.setPen(QColor("#667085"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "The attention map of the chosen sentence appears after an epoch "
                       "(a graph with attention).")
            return
        left, top = 90.0, 70.0
        h, w = self.weights.shape
        cell = min((self.width() - left - 8) / max(w, 1), (self.height() - top - 8) / max(h, 1))
        for i in range(h):
            for j in range(w):
                shade = int(255 * (1 - float(np.clip(self.weights[i, j], 0, 1))))
                p.fillRect(QRectF(left + j * cell, top + i * cell, cell, cell), QColor(shade, shade, 255))
        p.setPen(QColor("#1d2939"))
        for i, word in enumerate(self.rows[:h]):
            p.drawText(QRectF(0, top + i * cell, left - 6, cell),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, word)
        for j, word in enumerate(self.columns[:w]):
            p.save()
            p.translate(left + (j + 0.5) * cell, top - 4)
            p.rotate(-60)
            p.drawText(QRectF(0, -8, 90, 16), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, word)
            p.restore()


class TranslationsTab(QWidget):
    """Source / reference / model rows of validation sentences, and one sentence's attention."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("translationsTab")
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("translationsTable")
        self.table.setHorizontalHeaderLabels(["source", "reference", "model"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        # a scroll bar appearing narrows the stretched columns: their words wrap onto more lines
        self.table.horizontalHeader().sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        self.sample = QSpinBox()
        self.sample.setObjectName("attentionSampleSpin")
        self.sample.setToolTip("Which sentence's attention map to show (the table's row number)")
        self.sample.setRange(1, 1)
        self.info = QLabel(WAITING)
        self.info.setWordWrap(True)
        self.attention = AttentionView()
        row = QHBoxLayout()
        row.addWidget(self.info, 1)
        row.addWidget(QLabel("Attention of sentence"))
        row.addWidget(self.sample)
        # a splitter: the user can widen the sentences or the map; rows grow to show whole sentences
        body = QSplitter(Qt.Orientation.Horizontal)
        body.setObjectName("translationsSplitter")
        body.addWidget(self.table)
        body.addWidget(self.attention)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        body.setSizes([600, 400])  # a ratio: three columns of words beside one map
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(body, 1)
        self.translations: Translations | None = None
        # numbered from 1 like the table's rows (a 0-based spin showed row 1's map as "sentence 0")
        self.sample.valueChanged.connect(lambda number: self._show_attention(number - 1))
        self.table.currentCellChanged.connect(lambda r, *_: r >= 0 and self.sample.setValue(r + 1))

    def set_translations(self, translations: Translations | None, epoch: int | None = None) -> None:
        self.translations = translations
        rows = translations.rows if translations else []
        self.table.setRowCount(len(rows))
        for i, t in enumerate(rows):
            for j, words in enumerate((t.source, t.reference, t.model)):
                item = QTableWidgetItem(" ".join(words))
                item.setToolTip(" ".join(words))
                if j == 2 and words != t.reference:
                    item.setForeground(QColor("#d92d20"))
                self.table.setItem(i, j, item)
        self.table.resizeRowsToContents()
        if translations is None:
            self.info.setText(WAITING)
        elif not rows and translations.note:
            self.info.setText(translations.note)
        else:
            self.info.setText(f"Epoch {epoch}: {translations.exact} of {len(rows)} sentences translated exactly "
                              "(greedy decoding; red: differs from the reference)")
        self.sample.setRange(1, max(len(rows), 1))
        self._show_attention(self.sample.value() - 1)

    def _show_attention(self, index: int) -> None:
        rows = self.translations.rows if self.translations else []
        if not 0 <= index < len(rows) or rows[index].attention is None:
            self.attention.set_map(None, [], [])
            return
        t = rows[index]
        self.attention.set_map(t.attention, t.model + ["<eos>"], t.source)
