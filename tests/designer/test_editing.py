"""Edit operations on the canvas: delete, copy/paste, duplicate, auto-layout, blocks, locking."""

from __future__ import annotations

from PySide6.QtCore import Qt

from graph_core import Edge, GroupIntoBlock
from graph_core.serialization import graph_to_json

from .conftest import small_net


def test_delete_removes_nodes_with_their_wires_in_one_step(make_window, qtbot):
    w = make_window(small_net())
    before = graph_to_json(w.graph)
    w.scene.select_nodes(["relu"])
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Delete)
    assert "relu" not in w.graph.nodes and "relu" not in w.scene.node_items
    assert not [e for e in w.graph.edges if "relu" in (e.src[0], e.dst[0])]
    assert w.document.undo_stack.count() == 1
    assert w.scene.node_items["flat"].shape_text == "?"
    w.document.undo_stack.undo()
    assert graph_to_json(w.graph) == before
    assert w.scene.node_items["flat"].shape_text == "(3456,)"


def test_copy_paste_and_duplicate_give_fresh_ids_and_keep_inner_wires(make_window, qtbot):
    w = make_window(small_net())
    w.scene.select_nodes(["conv", "relu"])
    assert w.editor.copy()
    assert w.editor.paste()
    assert {"conv_2", "relu_2"} <= set(w.graph.nodes)
    assert Edge(("conv_2", "out"), ("relu_2", "in")) in w.graph.edges
    assert w.scene.selected_node_ids() == ["conv_2", "relu_2"]
    assert w.graph.node("conv_2").params == {"out_channels": 6, "kernel_size": 5}
    assert w.editor.duplicate()
    assert {"conv_3", "relu_3"} <= set(w.graph.nodes)
    assert w.document.undo_stack.count() == 2
    w.document.undo_stack.undo()
    w.document.undo_stack.undo()
    assert set(w.graph.nodes) == set(small_net().nodes)


def test_auto_layout_flows_left_to_right_as_one_step(make_window):
    g = small_net()
    for n in g.nodes.values():
        n.ui = {"x": 0.0, "y": 0.0}
    w = make_window(g)
    assert w.editor.auto_layout()
    pos = {n: (w.graph.node(n).ui["x"], w.graph.node(n).ui["y"]) for n in g.nodes}
    assert len(set(pos.values())) == len(pos)  # no two cards on top of each other
    for e in w.graph.edges:  # every wire runs to the right, or down into the next band
        (x0, y0), (x1, y1) = pos[e.src[0]], pos[e.dst[0]]
        assert (y1 == y0 and x1 > x0) or y1 > y0
    assert w.document.undo_stack.count() == 1
    w.document.undo_stack.undo()
    assert {w.graph.node(n).ui["x"] for n in g.nodes} == {0.0}


def test_a_block_opens_into_its_subgraph_and_the_breadcrumb_leads_back(make_window):
    g = small_net()
    GroupIntoBlock(["conv", "relu"], "features").apply(g)
    w = make_window(g)
    assert w.scene.node_items["features"].shape_text == "(6, 24, 24)"
    assert w.scene.open_block("features")
    assert set(w.scene.node_items) >= {"conv", "relu"}
    assert w.scene.node_items["relu"].shape_text == "(6, 24, 24)"  # fed with what reaches the block
    assert [b.text() for b in w.breadcrumb_buttons()] == ["small", "features"]
    # edit inside the block: the outer card follows
    from graph_core import SetParam
    w.editor.run(SetParam("conv", "out_channels", 3))
    w.breadcrumb_buttons()[0].click()
    assert w.scene.path == [] and "features" in w.scene.node_items
    assert w.scene.node_items["features"].shape_text == "(3, 24, 24)"
    w.document.undo_stack.undo()
    assert w.scene.node_items["features"].shape_text == "(6, 24, 24)"


def test_locking_refuses_edits_with_the_reason(make_window):
    w = make_window(small_net())
    w.set_editing_locked(True, "training is running")
    assert w.editor.add_node("ReLU") is None
    assert "training is running" in w.statusBar().currentMessage()
    assert not w.palette.isEnabled()
    w.scene.select_nodes(["relu"])
    assert not w.editor.delete_selected()
    assert "relu" in w.graph.nodes
    w.set_editing_locked(False)
    assert w.editor.add_node("ReLU") is not None


def test_quick_add_ranks_exact_and_prefix_matches_first():
    from designer.quick_add import rank_types

    assert rank_types("dense")[0] == "Dense"
    assert rank_types("conv2")[0] == "Conv2d"
    assert rank_types("maxpool")[:3] == ["MaxPool1d", "MaxPool2d", "MaxPool3d"]
    assert rank_types("zzzz") == []


def test_tab_on_the_canvas_opens_quick_add_and_enter_adds_after_the_selection(make_window, qtbot):
    w = make_window(small_net())
    w.scene.select_nodes(["fc"])
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Tab)
    assert w.quick_add.isVisible()
    qtbot.keyClicks(w.quick_add.search, "softmax")
    qtbot.keyClick(w.quick_add.search, Qt.Key.Key_Return)
    assert "softmax" in w.graph.nodes
    assert Edge(("fc", "out"), ("softmax", "in")) in w.graph.edges
