"""The canvas: wiring by dragging between ports, refused wires, moving, editing, layout."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from graph_core import Edge, Graph, Node

from .conftest import chain, port_view_pos, small_net


def _mouse(viewport, kind, pos: QPoint, buttons=Qt.MouseButton.LeftButton) -> None:
    button = Qt.MouseButton.LeftButton if kind != QMouseEvent.Type.MouseMove else Qt.MouseButton.NoButton
    held = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else buttons
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button, held,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def drag(window, start: QPoint, end: QPoint, steps: int = 5) -> None:
    """Press at start, move in steps, release at end, on the canvas viewport."""
    vp = window.view.viewport()
    _mouse(vp, QMouseEvent.Type.MouseButtonPress, start)
    for k in range(1, steps + 1):
        _mouse(vp, QMouseEvent.Type.MouseMove, start + (end - start) * k / steps)
    _mouse(vp, QMouseEvent.Type.MouseButtonRelease, end)


def two_nodes() -> Graph:
    g = Graph(name="two")
    g.nodes["image"] = Node("image", "Input", {"shape": [20]}, ui={"x": 0.0, "y": 0.0})
    g.nodes["fc"] = Node("fc", "Dense", {"out_features": 5}, ui={"x": 300.0, "y": 40.0})
    return g


def test_dragging_from_an_output_port_to_an_input_port_wires_them(make_window):
    w = make_window(two_nodes())
    w.view.fit_all()
    start = port_view_pos(w, "image", "out", True)
    end = w.view.mapFromScene(w.scene.node_items["fc"].port("in", False).scenePos())
    drag(w, start, end)
    assert w.graph.edges == [Edge(("image", "out"), ("fc", "in"))]
    assert w.scene.node_items["fc"].shape_text == "(5,)"
    assert w.scene.edge_items[w.graph.edges[0]].label == "(20,)"
    assert "Wired image.out → fc.in" in w.statusBar().currentMessage()
    w.document.undo_stack.undo()
    assert w.graph.edges == [] and not w.scene.edge_items
    assert w.scene.node_items["fc"].shape_text == "?"
    w.document.undo_stack.redo()
    assert len(w.scene.edge_items) == 1 and w.scene.node_items["fc"].shape_text == "(5,)"


def test_a_wire_dropped_on_a_card_goes_to_its_free_input(make_window):
    w = make_window(two_nodes())
    w.view.fit_all()
    start = port_view_pos(w, "image", "out", True)
    end = w.view.mapFromScene(w.scene.node_items["fc"].center())
    drag(w, start, end)
    assert w.graph.edges == [Edge(("image", "out"), ("fc", "in"))]


def test_invalid_wires_are_refused_with_the_reason(make_window):
    w = make_window(small_net())
    w.view.fit_all()
    # a loop: the Dense output back into the conv input
    start = port_view_pos(w, "fc", "out", True)
    end = w.view.mapFromScene(w.scene.node_items["conv"].port("in", False).scenePos())
    before = list(w.graph.edges)
    drag(w, start, end)
    assert w.graph.edges == before
    assert "loop" in w.statusBar().currentMessage()
    # output to output
    start = port_view_pos(w, "relu", "out", True)
    end = w.view.mapFromScene(w.scene.node_items["flat"].port("out", True).scenePos())
    drag(w, start, end)
    assert w.graph.edges == before
    assert "output port" in w.statusBar().currentMessage()
    assert w.document.undo_stack.count() == 0



def test_moving_several_nodes_is_one_undo_step(make_window):
    w = make_window(small_net())
    w.view.fit_all()
    w.scene.select_nodes(["conv", "relu", "flat"])
    before = {n: dict(w.graph.node(n).ui) for n in ("conv", "relu", "flat")}
    start = w.view.mapFromScene(w.scene.node_items["relu"].center())
    drag(w, start, start + QPoint(0, 120), steps=8)
    moved = {n: w.graph.node(n).ui for n in ("conv", "relu", "flat")}
    assert all(moved[n]["y"] > before[n]["y"] + 50 for n in moved)
    assert w.document.undo_stack.count() == 1
    w.document.undo_stack.undo()
    assert {n: w.graph.node(n).ui for n in moved} == before
    assert w.scene.node_items["conv"].pos().y() == before["conv"]["y"]


def test_pool_indices_only_go_into_an_unpool(make_window):
    w = make_window(chain(("image", "Input", {"shape": [1, 8, 8]}), ("pool", "MaxPool2d", {}),
                          ("relu", "ReLU", {})))
    w.view.fit_all()
    w.scene.clearSelection()
    pool_indices = w.scene.node_items["pool"].port("indices", True)
    assert pool_indices.kind == "indices"
    start = port_view_pos(w, "pool", "indices", True)
    end = w.view.mapFromScene(w.scene.node_items["relu"].port("in", False).scenePos())
    drag(w, start, end)
    assert Edge(("pool", "indices"), ("relu", "in")) not in w.graph.edges
    assert "MaxUnpool" in w.statusBar().currentMessage()


def test_cards_show_errors_in_red_with_the_message(make_window):
    w = make_window(chain(("image", "Input", {"shape": [1, 4, 4]}),
                          ("conv", "Conv2d", {"kernel_size": 7}), ("head", "Output", {})))
    card = w.scene.node_items["conv"]
    assert card.state == "error"
    assert "kernel" in card.toolTip().lower() or "larger" in card.toolTip().lower()
    assert w.scene.node_items["image"].state == ""


def test_frozen_nodes_are_marked(make_window):
    g = small_net()
    g.nodes["conv"].frozen = True
    w = make_window(g)
    assert "Frozen" in w.scene.node_items["conv"].toolTip()
    assert "Frozen" not in w.scene.node_items["fc"].toolTip()


def test_an_edit_updates_cards_in_place(make_window):
    w = make_window(small_net())
    cards = dict(w.scene.node_items)
    w.editor.add_node("ReLU", QPointF(0, 400))
    assert all(w.scene.node_items[n] is cards[n] for n in cards)  # no rebuild of the others
    assert len(w.scene.node_items) == len(cards) + 1


def test_wheel_zooms_and_f_fits_everything(make_window, qtbot):
    from PySide6.QtGui import QWheelEvent

    w = make_window(small_net())
    w.view.resetTransform()
    vp = w.view.viewport()
    centre = QPointF(vp.rect().center())
    wheel = QWheelEvent(centre, QPointF(vp.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, wheel)
    assert abs(w.view.zoom - 1.15 ** 2) < 1e-6
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_F)
    visible = w.view.mapToScene(vp.rect()).boundingRect()
    assert all(visible.contains(card.sceneBoundingRect()) for card in w.scene.node_items.values())


def test_middle_button_drag_pans(make_window):
    w = make_window(small_net())
    w.view.resetTransform()
    vp = w.view.viewport()
    before = w.view.mapToScene(vp.rect().center())
    start = vp.rect().center()
    for kind, pos in ((QMouseEvent.Type.MouseButtonPress, start), (QMouseEvent.Type.MouseMove, start + QPoint(-80, 0)),
                      (QMouseEvent.Type.MouseButtonRelease, start + QPoint(-80, 0))):
        button = Qt.MouseButton.MiddleButton if kind != QMouseEvent.Type.MouseMove else Qt.MouseButton.NoButton
        held = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else Qt.MouseButton.MiddleButton
        QApplication.sendEvent(vp, QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, held,
                                               Qt.KeyboardModifier.NoModifier))
    after = w.view.mapToScene(vp.rect().center())
    assert after.x() - before.x() > 60 and w.graph.node("conv").ui["x"] == 260.0  # view moved, not nodes


def test_the_history_view_lists_each_step(make_window):
    w = make_window(small_net())
    w.editor.add_node("ReLU", QPointF(0, 300))
    w.scene.select_nodes(["relu_2"])
    w.editor.delete_selected()
    assert w.undo_view.stack() is w.document.undo_stack
    assert [w.document.undo_stack.text(k) for k in range(2)] == ["add ReLU relu_2", "delete relu_2"]
    w.undo_view.setCurrentIndex(w.undo_view.model().index(1, 0))  # click the first step
    assert "relu_2" in w.graph.nodes


def test_only_big_graphs_drop_text_when_zoomed_far_out(make_window):
    from designer.canvas.style import LevelOfDetail

    w = make_window(small_net())
    assert not LevelOfDetail.far(0.05)  # a small graph stays readable at any zoom
    big = chain(*[(f"n{k}", "ReLU", {}) for k in range(200)])
    w.files.new(big, ask=False)
    assert LevelOfDetail.far(0.05) and not LevelOfDetail.far(0.5)


def test_long_input_port_names_are_written_whole_on_the_card(make_window):
    """pix2pix's Discriminator reads real, fake and condition: the names' column fits 'condition'
    (it was cut to 'conditio', over the type line); short names keep the narrow column."""
    from PySide6.QtGui import QFontMetricsF

    import templates
    from designer.canvas.node_item import _BODY_FONT

    w = make_window(templates.build("pix2pix"))
    disc = w.scene.node_items["discriminator"]
    assert disc._in_names_width() >= QFontMetricsF(_BODY_FONT).horizontalAdvance("condition")
    add = next(item for nid, item in w.scene.node_items.items() if len(item.in_ports) == 1)
    assert add._in_names_width() == 0.0
