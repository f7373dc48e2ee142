"""Several nodes selected: the inspector shows what they share, frozen included, and an edit
applies to all of them as one undo step."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QSpinBox

from .conftest import lenet


def click_card(qtbot, w, node_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    item = w.scene.node_items[node_id]
    w.view.centerOn(item.center())
    pos = w.view.mapFromScene(item.mapToScene(QPointF(60, 12)))  # the card's title row
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, modifier, pos)


def test_two_convs_selected_share_their_params_and_freeze_in_one_step(qtbot, make_window):
    w = make_window(lenet())
    click_card(qtbot, w, "conv1")
    click_card(qtbot, w, "conv2", Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.inspector.findChild(QLabel, "multiInspectorTitle") is not None, timeout=3000)
    assert set(w.scene.selected_node_ids()) == {"conv1", "conv2"}
    title = w.inspector.findChild(QLabel, "multiInspectorTitle").text()
    assert "2 nodes selected" in title and "Conv2d × 2" in title
    out = w.inspector.findChild(QSpinBox, "field_out_channels")
    assert out is not None  # a Conv2d parameter both share
    steps = w.document.undo_stack.count()

    frozen = w.inspector.findChild(QCheckBox, "field_frozen")
    qtbot.mouseClick(frozen, Qt.MouseButton.LeftButton)
    assert w.graph.nodes["conv1"].frozen and w.graph.nodes["conv2"].frozen
    assert not w.graph.nodes["fc1"].frozen
    assert w.document.undo_stack.count() == steps + 1

    out.setValue(32)
    out.editingFinished.emit()
    assert w.graph.nodes["conv1"].params["out_channels"] == 32
    assert w.graph.nodes["conv2"].params["out_channels"] == 32
    assert w.document.undo_stack.count() == steps + 2
    w.document.undo_stack.undo()
    assert w.graph.nodes["conv1"].params.get("out_channels") == 6
    assert w.graph.nodes["conv2"].params.get("out_channels") == 16
    w.document.undo_stack.undo()
    assert not w.graph.nodes["conv1"].frozen and not w.graph.nodes["conv2"].frozen


def test_mixed_selection_shows_frozen_mixed_and_no_foreign_params(qtbot, make_window):
    w = make_window(lenet())
    w.graph.nodes["fc1"].frozen = True
    w.scene.select_nodes(["conv1", "fc1", "relu1"])
    qtbot.waitUntil(lambda: w.inspector.findChild(QCheckBox, "field_frozen") is not None
                    and w.inspector.multi is not None, timeout=3000)
    frozen = w.inspector.findChild(QCheckBox, "field_frozen")
    assert frozen.checkState() == Qt.CheckState.PartiallyChecked
    assert w.inspector.findChild(QSpinBox, "field_out_channels") is None  # Dense has out_features
    qtbot.mouseClick(frozen, Qt.MouseButton.LeftButton)  # mixed -> all frozen
    assert all(w.graph.nodes[i].frozen for i in ("conv1", "fc1", "relu1"))
    # back to one node: its own form
    w.scene.select_nodes(["conv1"])
    qtbot.waitUntil(lambda: w.inspector.multi is None and w.inspector.node_id == "conv1", timeout=3000)
