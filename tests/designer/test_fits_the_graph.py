"""Fixes that fit the graph: an autoencoder built by hand is offered 'reconstruct <input>' (loss,
target and Reshape in one undo step), and a node added by double-click never lands on a card."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from .conftest import chain


def autoencoder():
    g = chain(("image", "Input", {"shape": [1, 8, 8], "field": "image"}),
              ("flat", "Flatten", {}),
              ("dense_1", "Dense", {"out_features": 16}),
              ("relu", "ReLU", {}),
              ("dense_2", "Dense", {"out_features": 64}),
              ("head", "Output", {}), name="ae")
    g.data = {"dataset": "digits", "image_size": 8}
    return g


def fix_buttons(w) -> list[QPushButton]:
    return [b for b in w.issues.findChildren(QPushButton, "fixButton") if b.isVisibleTo(w.issues)]


def cards_overlap(w) -> list[tuple[str, str]]:
    items = list(w.scene.node_items.items())
    return [(a, b) for k, (a, ia) in enumerate(items) for b, ib in items[k + 1:]
            if ia.sceneBoundingRect().intersects(ib.sceneBoundingRect())]


def test_a_hand_built_autoencoder_is_offered_reconstruct_its_input_in_one_undo_step(make_window, qtbot):
    w = make_window(autoencoder())
    qtbot.waitUntil(lambda: any(b.text() == "reconstruct image" for b in fix_buttons(w)), timeout=5000)
    # the reconstruct fix comes before the classification one ("set dense_2 out_features to 10")
    labels = [b.text() for b in fix_buttons(w)]
    assert labels.index("reconstruct image") < labels.index("set dense_2 out_features to 10")
    button = next(b for b in fix_buttons(w) if b.text() == "reconstruct image")
    steps = w.document.undo_stack.count()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    head = w.graph.nodes["head"]
    assert head.params["loss"] == "mse" and head.params["target"] == "input:image"
    reshape = next(n for n in w.graph.nodes.values() if n.type == "Reshape")
    assert reshape.params["shape"] == [1, 8, 8]
    assert [str(e) for e in w.graph.edges_into("head", "in")] == [f"{reshape.id}.out -> head.in"]
    assert [str(e) for e in w.graph.edges_into(reshape.id, "in")] == [f"dense_2.out -> {reshape.id}.in"]
    qtbot.waitUntil(lambda: w.document.ready, timeout=5000)  # nothing left to fix: ready to train
    assert w.document.undo_stack.count() == steps + 1
    assert not cards_overlap(w)

    # and after choosing mse by hand, the reconstruct fix is still the first one offered
    w.document.undo_stack.undo()
    assert "Reshape" not in {n.type for n in w.graph.nodes.values()}
    assert w.graph.nodes["head"].params.get("target", "label") == "label"
    w.inspector.show_node("head")
    from graph_core import SetParam

    w.document.execute(SetParam("head", "loss", "mse"))
    qtbot.waitUntil(lambda: bool(fix_buttons(w)), timeout=5000)
    assert fix_buttons(w)[0].text() == "reconstruct image"


def test_a_node_added_by_double_click_after_the_last_layer_does_not_cover_the_output(make_window, qtbot):
    w = make_window(autoencoder())
    w.scene.select_nodes(["dense_2"])  # the Output sits where the next column would be
    palette = w.palette
    item = palette.items()["Reshape"]
    tree = item.treeWidget()
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    added = [n for n in w.graph.nodes.values() if n.type == "Reshape"]
    assert len(added) == 1
    assert not cards_overlap(w), cards_overlap(w)
    # a drop right on a card lands beside it, not on it
    target = w.scene.node_items["relu"].center()
    nid = w.editor.add_node("Dropout", target)
    assert nid and not cards_overlap(w)
