"""The Translations tab at the Results dock's width: whole sentences are readable, not elided."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics

from designer.training.translations import Translation, Translations
from designer.training.translations_view import TranslationsTab


def test_long_sentences_wrap_into_rows_tall_enough_to_read(qtbot):
    tab = TranslationsTab()
    qtbot.addWidget(tab)
    tab.resize(480, 320)  # the Results dock at 1280x800
    tab.show()
    source = ["the", "big", "black", "dog", "likes", "the", "small", "white", "cat"]
    target = ["le", "grand", "chien", "noir", "aime", "le", "petit", "chat", "blanc"]
    rows = [Translation(source, target, target, np.full((len(target) + 1, len(source)), 1 / len(source)))
            for _ in range(8)]
    tab.set_translations(Translations(rows=rows, exact=8), epoch=1)  # more rows than fit: a scroll bar
    qtbot.waitExposed(tab)
    qtbot.wait(100)  # the scroll bar's layout pass narrows the columns after the rows were sized
    assert tab.table.width() >= 200  # three columns of sentences beside the map (its minimum: 240)
    metrics = QFontMetrics(tab.table.font())
    for i in range(8):
        for j in range(3):
            text = tab.table.item(i, j).text()
            width = tab.table.columnWidth(j) - 8  # the cell's margins
            needed = metrics.boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, text).height()
            assert tab.table.rowHeight(i) >= needed, (i, j, text)
            assert tab.table.item(i, j).toolTip() == text
    assert tab.attention.weights is not None
