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


def test_the_loss_lint_offers_its_fix_as_a_button(make_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    from .conftest import chain

    # pytorch/examples' VAE decoder end: Sigmoid -> Reshape -> a bce reconstruction
    g = chain(("image", "Input", {"shape": [1, 4, 4], "field": "image"}), ("flat", "Flatten", {}),
              ("fc", "Dense", {"out_features": 16}), ("squash", "Sigmoid", {}),
              ("back", "Reshape", {"shape": [1, 4, 4]}), ("recon", "Output", {"loss": "bce", "target": "input:image"}))
    w = make_window(g)
    buttons = {b.text(): b for b in w.issues.findChildren(QPushButton, "fixButton") if b.isVisibleTo(w.issues)}
    assert {"set recon loss to bce_probs", "remove squash and rewire"} <= set(buttons)
    qtbot.mouseClick(buttons["set recon loss to bce_probs"], Qt.MouseButton.LeftButton)
    assert w.graph.nodes["recon"].params["loss"] == "bce_probs"
    assert not any("sigmoid(sigmoid" in str(i) for i in w.document.issues)
