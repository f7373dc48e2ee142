"""Group into block / Ungroup from the Edit menu, the shortcuts and the canvas context menu."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from graph_core import Edge, summarize
from graph_core.serialization import graph_to_json

from .conftest import chain, small_net


def _totals(graph) -> tuple[int, int]:
    s = summarize(graph)
    return s.total_params, s.trainable_params


def test_ctrl_g_groups_the_selection_into_one_block_card_in_one_undo_step(make_window, qtbot):
    w = make_window(small_net())
    before, totals = graph_to_json(w.graph), _totals(w.graph)
    xs = [w.graph.node(n).ui["x"] for n in ("conv", "relu")]
    w.scene.select_nodes(["conv", "relu"])
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert "block" in w.graph.nodes and w.graph.node("block").type == "Block"
    assert "conv" not in w.graph.nodes and "conv" not in w.scene.node_items
    assert set(w.graph.blocks["block"].nodes) >= {"conv", "relu"}
    card = w.scene.node_items["block"]
    assert card.isSelected()
    assert min(xs) <= card.pos().x() <= max(xs)  # where the nodes were,
    assert card.pos().x() == w.graph.node("image").ui["x"] + 260.0  # in the first one's place
    assert card.shape_text == "(6, 24, 24)"
    assert w.scene.node_items["flat"].shape_text == "(3456,)"  # downstream shapes unchanged
    assert _totals(w.graph) == totals
    assert not [i for i in w.document.issues if i.severity == "error"]
    assert "block" in w.statusBar().currentMessage()
    assert w.document.undo_stack.count() == 1
    w.document.undo_stack.undo()
    assert graph_to_json(w.graph) == before
    assert "conv" in w.scene.node_items and "block" not in w.scene.node_items
    w.document.undo_stack.redo()
    assert w.scene.node_items["block"].shape_text == "(6, 24, 24)"


def test_second_group_gets_a_fresh_name_and_the_menu_action_does_the_same(make_window):
    w = make_window(small_net())
    w.scene.select_nodes(["conv"])
    assert w.editor.group_selected() == "block"
    w.scene.select_nodes(["fc"])
    action = next(a for a in w.edit_actions if a.text() == "&Group into block")
    assert action.shortcut().toString() == "Ctrl+G"
    action.trigger()
    assert w.graph.node("block_2").params == {"block": "block_2"}
    assert set(w.graph.blocks) == {"block", "block_2"}
    assert w.scene.node_items["block_2"].shape_text == "(10,)"


def test_a_refused_selection_is_explained_and_pushes_nothing(make_window, qtbot):
    w = make_window(small_net())
    before = graph_to_json(w.graph)
    w.scene.select_nodes(["image", "conv"])
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert "image is an Input" in w.statusBar().currentMessage()
    assert w.document.undo_stack.count() == 0
    assert graph_to_json(w.graph) == before
    # a node between two selected ones would wire the block into itself
    w.scene.select_nodes(["conv", "flat"])
    assert w.editor.group_selected() is None
    assert "relu lies between" in w.statusBar().currentMessage()
    w.scene.clearSelection()
    assert w.editor.group_selected() is None
    assert "Select the nodes to group" in w.statusBar().currentMessage()
    assert w.document.undo_stack.count() == 0


def test_pool_indices_may_not_cross_the_block_edge(make_window):
    g = chain(("image", "Input", {"shape": [1, 8, 8], "field": "image"}),
              ("pool", "MaxPool2d", {}), ("unpool", "MaxUnpool2d", {}), ("head", "Output", {}))
    g.edges.append(Edge(("pool", "indices"), ("unpool", "indices")))
    w = make_window(g)
    w.scene.select_nodes(["pool"])
    assert w.editor.group_selected() is None
    assert "indices" in w.statusBar().currentMessage()
    w.scene.select_nodes(["pool", "unpool"])
    assert w.editor.group_selected() == "block"  # together they are fine
    assert w.scene.node_items["block"].shape_text == "(1, 8, 8)"


def test_ctrl_shift_g_ungroups_a_block_and_undo_brings_it_back(make_window, qtbot):
    w = make_window(small_net())
    original, totals = graph_to_json(w.graph), _totals(w.graph)
    w.scene.select_nodes(["conv", "relu"])
    w.editor.group_selected()
    grouped = graph_to_json(w.graph)
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_G,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "block" not in w.graph.nodes
    assert {"conv", "relu"} <= set(w.scene.node_items)
    assert w.scene.selected_node_ids() == ["conv", "relu"]
    assert Edge(("image", "out"), ("conv", "in")) in w.graph.edges
    assert Edge(("relu", "out"), ("flat", "in")) in w.graph.edges
    assert w.scene.node_items["flat"].shape_text == "(3456,)"
    assert _totals(w.graph) == totals
    assert w.graph.blocks == {}  # no orphan definition left in the file
    assert w.document.undo_stack.count() == 2
    w.document.undo_stack.undo()
    assert graph_to_json(w.graph) == grouped
    w.document.undo_stack.undo()
    assert graph_to_json(w.graph) == original


def test_ungroup_needs_one_selected_block(make_window):
    w = make_window(small_net())
    w.scene.select_nodes(["conv"])
    assert not w.editor.ungroup_selected()
    assert "Select one Block node" in w.statusBar().currentMessage()
    assert w.document.undo_stack.count() == 0


def test_grouping_inside_an_opened_block_is_refused_with_the_way_back(make_window):
    w = make_window(small_net())
    w.scene.select_nodes(["conv", "relu"])
    w.editor.group_selected()
    assert w.scene.open_block("block")
    w.scene.select_nodes(["conv"])
    assert w.editor.group_selected() is None
    assert "top graph" in w.statusBar().currentMessage()
    assert w.document.undo_stack.count() == 1


def test_the_canvas_context_menu_offers_group_and_ungroup(make_window, qtbot):
    w = make_window(small_net())
    w.scene.select_nodes(["conv", "relu"])
    menu = w.canvas_menu(w.view.mapFromScene(w.scene.node_items["conv"].center()))
    assert isinstance(menu, QMenu)
    texts = {a.text().split("\t")[0]: a for a in menu.actions()}
    assert "Ctrl+G" in next(a.text() for a in menu.actions() if a.text().startswith("&Group"))
    assert texts["&Group into block"].isEnabled()
    assert not texts["U&ngroup"].isEnabled()
    texts["&Group into block"].trigger()
    assert w.graph.node("block").type == "Block"
    # right-clicking an unselected card selects it first (what a user expects to act on)
    w.scene.clearSelection()
    menu = w.canvas_menu(w.view.mapFromScene(w.scene.node_items["block"].center()))
    assert w.scene.selected_node_ids() == ["block"]
    texts = {a.text().split("\t")[0]: a for a in menu.actions()}
    assert texts["U&ngroup"].isEnabled()
    texts["U&ngroup"].trigger()
    assert "conv" in w.graph.nodes


def test_an_opened_group_shows_its_ports_beside_its_nodes_and_fits_the_view(make_window):
    w = make_window(small_net())
    w.view.fit_all()
    w.view.zoom_by(3.0)
    top_zoom = w.view.zoom
    w.view.centerOn(w.scene.node_items["head"].center())
    w.scene.select_nodes(["conv", "relu"])
    w.editor.group_selected()
    assert w.scene.open_block("block")
    cards = w.scene.node_items
    inner_in = next(n for n in w.scene.graph.nodes.values() if n.type == "Input").id
    inner_out = next(n for n in w.scene.graph.nodes.values() if n.type == "Output").id
    # the Input left of conv, the Output right of relu, on their rows: no card on another
    assert cards[inner_in].pos().x() < cards["conv"].pos().x()
    assert cards[inner_out].pos().x() > cards["relu"].pos().x()
    assert cards[inner_in].pos().y() == cards["conv"].pos().y()
    rects = [c.sceneBoundingRect() for c in cards.values()]
    assert not any(a.intersects(b) for k, a in enumerate(rects) for b in rects[k + 1:])
    # every card of the block is in view
    visible = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
    assert all(visible.contains(r) for r in rects)
    # back to the top graph: the zoom and place the user left
    w.breadcrumb_buttons()[0].click()
    assert w.view.zoom == top_zoom
    assert w.view.mapToScene(w.view.viewport().rect()).boundingRect().contains(
        w.scene.node_items["head"].center())
    # the placement is part of the one undo step
    w.document.undo_stack.undo()
    w.document.undo_stack.redo()
    assert w.graph.blocks["block"].nodes[inner_in].ui["x"] < w.graph.blocks["block"].nodes["conv"].ui["x"]


def test_ungrouping_one_of_two_users_keeps_the_shared_block(make_window):
    w = make_window(small_net())
    w.scene.select_nodes(["relu"])
    w.editor.group_selected()
    w.scene.select_nodes(["block"])
    assert w.editor.duplicate()  # a second Block node using the same block
    twin = w.scene.selected_node_ids()[0]
    assert w.graph.node(twin).params == {"block": "block"}
    w.scene.select_nodes(["block"])
    assert w.editor.ungroup_selected()
    assert set(w.graph.blocks) == {"block"}
    assert w.scene.node_items[twin].shape_text == "?"  # still a block card, just unwired


def test_a_grouped_graph_generates_a_block_class_and_reopens_identical(make_window, qtbot, tmp_path):
    from .conftest import code_after_edit

    w = make_window(small_net())
    w.scene.select_nodes(["conv", "relu"])
    w.editor.group_selected()
    code = code_after_edit(qtbot, w)
    assert "class Block(nn.Module)" in code and "self.block = Block()" in code
    path = tmp_path / "grouped.json"
    assert w.files.save_as(path)
    saved = graph_to_json(w.graph)
    other = make_window()
    assert other.open_file(path)
    assert graph_to_json(other.graph) == saved
    assert other.scene.node_items["block"].shape_text == "(6, 24, 24)"
