"""Costs on the cards and in the Summary, and the teaching overlays on hover (tooltips of cards
and wires), shown from what graph_core derives."""

from __future__ import annotations

from .conftest import lenet


def test_cards_and_wires_teach_on_hover(make_window):
    w = make_window(lenet())
    conv = w.scene.node_items["conv1"]
    tip = conv.toolTip()
    assert "output size: floor((28 + 2*2 - 5) / 1) + 1 = 28" in tip
    assert "parameters: 5*5*1*6 + 6 = 156" in tip
    assert "receptive field: 5×5 input pixels per value" in tip
    assert conv._params_text == "156 params · 118 K MACs"  # 6*28*28 outputs × 25 taps
    wire = next(item for edge, item in w.scene.edge_items.items() if edge.src[0] == "conv1")
    assert "carries (6, 28, 28) float32: 4,704 values, 18.4 KiB per sample" in wire.toolTip()


def test_the_summary_counts_multiply_accumulates(make_window):
    w = make_window(lenet())
    table = w.summary.table
    assert table.horizontalHeaderItem(5).text() == "MACs"
    assert table.item(1, 5).text() == "118 K"
    assert "multiply-accumulates per sample" in w.summary.totals.text()
