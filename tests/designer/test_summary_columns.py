"""The Summary at the dock's width: the cost columns (MACs, activations) are in view, not past
its right edge behind a scroll bar (seen at 1280x800 on husky_wolf)."""

from __future__ import annotations

import templates
from designer.document import Document
from designer.summary_view import SummaryView


def test_cost_columns_start_inside_a_480_pixel_dock(qtbot):
    view = SummaryView(Document(templates.build("husky_wolf")))
    qtbot.addWidget(view)
    view.resize(480, 330)
    view.show()
    qtbot.waitExposed(view)
    table = view.table
    macs = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index("MACs")
    assert table.horizontalScrollBar().value() == 0
    assert table.columnViewportPosition(macs) < table.viewport().width() - 40
    metrics = table.fontMetrics()
    for c in range(table.columnCount()):  # and no column cuts its own words
        for r in range(table.rowCount()):
            assert table.columnWidth(c) >= metrics.horizontalAdvance(table.item(r, c).text()), (r, c)
