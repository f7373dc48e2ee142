"""Escape on the canvas: cancels a wire being dragged, a rubber band, the quick-add popup."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from .conftest import port_view_pos, small_net
from .test_canvas import two_nodes


def _send(viewport, kind, pos: QPoint) -> None:
    """One mouse event on the canvas viewport with the left button (held while moving)."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    button = none if kind == QMouseEvent.Type.MouseMove else left
    held = none if kind == QMouseEvent.Type.MouseButtonRelease else left
    QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)),
                                                 button, held, Qt.KeyboardModifier.NoModifier))


def _press_and_move(window, start: QPoint, end: QPoint, steps: int = 4) -> None:
    vp = window.view.viewport()
    _send(vp, QMouseEvent.Type.MouseButtonPress, start)
    for k in range(1, steps + 1):
        _send(vp, QMouseEvent.Type.MouseMove, start + (end - start) * k / steps)


def test_escape_cancels_a_wire_being_dragged(make_window, qtbot):
    w = make_window(two_nodes())
    w.view.fit_all()
    start = port_view_pos(w, "image", "out", True)
    end = w.view.mapFromScene(w.scene.node_items["fc"].port("in", False).scenePos())
    _press_and_move(w, start, end)
    assert w.scene.wiring
    previews = [i for i in w.scene.items() if i.zValue() == 5]
    assert previews  # the dashed wire follows the mouse
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Escape)
    assert not w.scene.wiring
    assert not [i for i in w.scene.items() if i.zValue() == 5]
    assert "Wire cancelled" in w.statusBar().currentMessage()
    # releasing over the input port afterwards wires nothing
    _send(w.view.viewport(), QMouseEvent.Type.MouseButtonRelease, end)
    assert w.graph.edges == [] and w.document.undo_stack.count() == 0
    # and the next drag wires as usual
    _press_and_move(w, start, end)
    _send(w.view.viewport(), QMouseEvent.Type.MouseButtonRelease, end)
    assert len(w.graph.edges) == 1


def test_escape_drops_a_rubber_band_and_gives_the_selection_back(make_window, qtbot):
    w = make_window(small_net())
    w.view.fit_all()
    w.scene.select_nodes(["fc"])
    items = [w.scene.node_items[n] for n in ("conv", "relu")]
    top_left = w.view.mapFromScene(items[0].sceneBoundingRect().topLeft()) - QPoint(15, 15)
    bottom_right = w.view.mapFromScene(items[1].sceneBoundingRect().bottomRight()) + QPoint(15, 15)
    assert w.view.itemAt(top_left) is None  # the band starts on empty canvas
    _press_and_move(w, top_left, bottom_right)
    assert not w.view.rubberBandRect().isNull()
    assert w.scene.selected_node_ids() == ["conv", "relu"]  # the band selects as it grows
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Escape)
    assert w.view.rubberBandRect().isNull()
    assert w.scene.selected_node_ids() == ["fc"]
    # moving on and releasing the button selects nothing more and moves nothing
    _send(w.view.viewport(), QMouseEvent.Type.MouseMove, bottom_right + QPoint(40, 40))
    _send(w.view.viewport(), QMouseEvent.Type.MouseButtonRelease, bottom_right + QPoint(40, 40))
    assert w.scene.selected_node_ids() == ["fc"]
    assert w.document.undo_stack.count() == 0
    # a band that is not cancelled still selects
    _press_and_move(w, top_left, bottom_right)
    _send(w.view.viewport(), QMouseEvent.Type.MouseButtonRelease, bottom_right)
    assert w.scene.selected_node_ids() == ["conv", "relu"]


def test_escape_with_nothing_in_progress_clears_the_selection(make_window, qtbot):
    w = make_window(small_net())
    w.scene.select_nodes(["conv", "relu"])
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Escape)
    assert w.scene.selected_node_ids() == []
    assert w.graph.nodes.keys() == small_net().nodes.keys()


def test_escape_closes_quick_add_without_adding_and_gives_the_canvas_focus_back(make_window, qtbot):
    w = make_window(small_net())
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Tab)
    assert w.quick_add.isVisible()
    qtbot.keyClicks(w.quick_add.search, "dense")
    qtbot.keyClick(w.quick_add.search, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not w.quick_add.isVisible())
    assert w.graph.nodes.keys() == small_net().nodes.keys()
    assert w.document.undo_stack.count() == 0
    qtbot.waitUntil(lambda: w.view.hasFocus())


def test_escape_puts_cards_being_dragged_back_and_makes_no_undo_step(make_window, qtbot):
    w = make_window(small_net())
    w.view.fit_all()
    w.scene.select_nodes(["conv", "relu"])
    before = {n: w.scene.node_items[n].pos() for n in ("conv", "relu")}
    start = w.view.mapFromScene(w.scene.node_items["conv"].center())
    _press_and_move(w, start, start + QPoint(60, 90))
    assert w.scene.node_items["conv"].pos() != before["conv"]  # the drag moves both cards
    assert w.scene.node_items["relu"].pos() != before["relu"]
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_Escape)
    assert {n: w.scene.node_items[n].pos() for n in before} == before
    assert "Move cancelled" in w.statusBar().currentMessage()
    _send(w.view.viewport(), QMouseEvent.Type.MouseMove, start + QPoint(120, 150))
    _send(w.view.viewport(), QMouseEvent.Type.MouseButtonRelease, start + QPoint(120, 150))
    assert {n: w.scene.node_items[n].pos() for n in before} == before
    assert w.document.undo_stack.count() == 0
    assert w.scene.selected_node_ids() == ["conv", "relu"]  # Escape kept the selection
    # an uncancelled drag still moves, as one undo step
    _press_and_move(w, start, start + QPoint(60, 90))
    _send(w.view.viewport(), QMouseEvent.Type.MouseButtonRelease, start + QPoint(60, 90))
    assert w.document.undo_stack.count() == 1


def test_at_1024x700_no_toolbar_overlaps_a_dock_and_every_control_is_in_view(make_window, qtbot):
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QDockWidget, QToolBar

    from .conftest import lenet

    w = make_window(lenet())
    w.resize(1024, 700)
    qtbot.waitUntil(lambda: w.width() == 1024 and w.height() == 700)  # not forced wider
    assert w.minimumSizeHint().width() <= 1024
    tc = w.training
    for raised in (w.docks["issues"], tc.training_dock):  # while designing, then training
        raised.raise_()
        QApplication.processEvents()
        toolbars = [t for t in w.findChildren(QToolBar) if t.isVisible()]
        docks = [d for d in w.findChildren(QDockWidget) if d.isVisible() and not d.visibleRegion().isEmpty()]
        assert toolbars and len(docks) >= 5
        for toolbar in toolbars:
            for dock in docks:
                assert not toolbar.geometry().intersects(dock.geometry()), (toolbar.objectName(), dock.objectName())
        window_rect = QRect(0, 0, w.width(), w.height())
        for dock in docks:
            assert window_rect.contains(dock.geometry()), dock.objectName()
    # the Training panel's controls all fit in its dock, none on top of another
    panel = tc.panel
    controls = [panel.train_button, panel.pause_button, panel.stop_button, panel.device, panel.epochs,
                panel.batch_size, panel.lr, panel.progress]
    rects = [QRect(c.mapTo(tc.training_dock, c.rect().topLeft()), c.size()) for c in controls]
    dock_rect = QRect(0, 0, tc.training_dock.width(), tc.training_dock.height())
    for control, rect in zip(controls, rects, strict=True):
        assert control.isVisible() and dock_rect.contains(rect), control.objectName()
        assert rect.width() >= control.minimumSizeHint().width(), control.objectName()
    for k, a in enumerate(rects):
        for b in rects[k + 1:]:
            assert not a.intersects(b)
