"""Sequence logos: a Conv1d over one-hot DNA drawn the way biologists read motifs.

Each kernel is a logo: one column per position, the letters A, C, G, T stacked with heights
from analysis.sequence_logo_heights (how much the filter favours each base), the tallest on top, in the usual colours (A green,
C blue, G orange, T red). A 1-pixel-high grey strip (what the kernels view shows for any other
1-d kernel) hides the motif a filter learned; a logo shows it letter by letter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QTransform
from PySide6.QtWidgets import QWidget

BASES = "ACGT"
BASE_COLOURS = {"A": "#109648", "C": "#255c99", "G": "#f7b32b", "T": "#d62839"}
MAX_LOGOS = 8  # kernels drawn (the most decided first); the caption says how many there are


class SequenceLogoView(QWidget):
    """Logos of up to MAX_LOGOS kernels in a grid (objectName `sequenceLogoView`)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("sequenceLogoView")
        self.heights: np.ndarray | None = None
        self.order: np.ndarray | None = None
        self.drawn_letters = 0  # letters painted in the last paint (for tests)
        self.setMinimumSize(160, 120)

    def set_logos(self, heights: np.ndarray | None, order: np.ndarray | None = None) -> None:
        """Letter heights (out, 4, k); `order` lists the kernels to draw first (strongest)."""
        self.heights = heights
        self.order = order if order is not None or heights is None else np.arange(len(heights))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(320, 320)

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.drawn_letters = 0
        if self.heights is None:
            return
        chosen = [int(k) for k in self.order[:MAX_LOGOS]]
        n = len(chosen)
        # each logo about three times as wide as high: one column in a narrow dock, two in a wide one
        columns = max(1, min(n, int(round(np.sqrt(n * self.width() / max(self.height() - 20, 1) / 3.0)))))
        rows = -(-n // columns)
        cw, ch = self.width() / columns, (self.height() - 20) / rows
        font = QFont(self.font())
        font.setBold(True)
        glyphs = {b: _glyph(b, font) for b in BASES}
        for slot, k in enumerate(chosen):
            r, c = divmod(slot, columns)
            box = QRectF(c * cw + 26, r * ch + 3, cw - 32, ch - 6)
            p.setPen(QColor("#98a2b3"))
            p.drawText(QRectF(c * cw, r * ch + 3, 22, 14), Qt.AlignmentFlag.AlignRight, f"#{k}")
            p.drawLine(box.bottomLeft(), box.bottomRight())
            self._draw_logo(p, self.heights[k], box, glyphs)
        p.setPen(QColor("#344054"))
        more = f"{n} of {len(self.heights)} kernels, most decided first" if len(self.heights) > n else "kernels"
        text = f"{more}: A C G T sized by how much the filter favours the base"
        p.drawText(QRectF(2, self.height() - 18, self.width() - 4, 16), Qt.AlignmentFlag.AlignCenter,
                   p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, self.width() - 4))

    def _draw_logo(self, p: QPainter, logo: np.ndarray, box: QRectF, glyphs: dict[str, QPainterPath]) -> None:
        width = box.width() / max(logo.shape[1], 1)
        for pos in range(logo.shape[1]):
            y = box.bottom()
            for b in np.argsort(logo[:, pos]):  # smallest at the bottom, tallest on top
                h = float(logo[b, pos]) * box.height()
                if h < 0.5:
                    continue
                letter = BASES[b]
                path, bounds = glyphs[letter], glyphs[letter].boundingRect()
                t = QTransform()
                t.translate(box.left() + pos * width, y - h)
                t.scale(width / bounds.width(), h / bounds.height())
                t.translate(-bounds.left(), -bounds.top())
                p.fillPath(t.map(path), QColor(BASE_COLOURS[letter]))
                self.drawn_letters += 1
                y -= h


def _glyph(letter: str, font: QFont) -> QPainterPath:
    path = QPainterPath()
    path.addText(QPointF(0, 0), font, letter)
    return path
