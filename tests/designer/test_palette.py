"""The palette: built from the registry, searchable, and a real drag/drop source."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from designer.canvas.view import LAYER_MIME
from graph_core import all_specs


def test_every_registered_layer_is_in_the_palette_with_its_help(window):
    entries = window.palette.items()
    assert set(entries) == {s.type for s in all_specs()}
    conv = entries["Conv2d"]
    assert conv.parent().text(0) == "Convolution"
    assert all(s.help.split(".")[0][:30] in entries[s.type].toolTip(0) for s in all_specs())


def test_search_narrows_the_palette(window):
    window.palette.search.setText("pool")
    visible = window.palette.visible_types()
    assert "MaxPool2d" in visible and "AvgPool1d" in visible
    assert "Dense" not in visible and "Input" not in visible
    window.palette.search.setText("")
    assert len(window.palette.visible_types()) == len(all_specs())


def test_palette_drag_carries_the_type_as_mime_data(window):
    item = window.palette.items()["Dense"]
    mime = window.palette.tree.mimeData([item])
    assert mime.hasFormat(LAYER_MIME)
    assert bytes(mime.data(LAYER_MIME).data()).decode() == "Dense"


def _drop(window, mime: QMimeData, at: QPoint) -> QDropEvent:
    """What Qt delivers during a real drag: enter, move, then drop on the canvas viewport."""
    viewport = window.view.viewport()
    copy, left, none = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at, copy, mime, left, none)
    QApplication.sendEvent(viewport, enter)
    if mime.hasFormat(LAYER_MIME):
        assert enter.isAccepted()
    QApplication.sendEvent(viewport, QDragMoveEvent(at, copy, mime, left, none))
    event = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)
    return event


def test_dropping_a_palette_entry_creates_the_node_at_the_drop_point(window):
    mime = window.palette.tree.mimeData([window.palette.items()["Dense"]])
    at = QPoint(300, 250)
    event = _drop(window, mime, at)
    assert event.isAccepted()
    assert [n.type for n in window.graph.nodes.values()] == ["Dense"]
    node = next(iter(window.graph.nodes.values()))
    card = window.scene.node_items[node.id]
    # the card is centred on the drop point
    assert card.sceneBoundingRect().contains(window.view.mapToScene(at))
    assert window.document.undo_stack.count() == 1
    window.document.undo_stack.undo()
    assert not window.graph.nodes and not window.scene.node_items
    window.document.undo_stack.redo()
    assert list(window.graph.nodes) == [node.id]


def test_a_drop_without_palette_data_adds_nothing(window):
    mime = QMimeData()
    mime.setText("Dense")
    _drop(window, mime, QPoint(200, 200))
    assert not window.graph.nodes


def test_double_click_adds_after_the_selection_and_wires_it(window):
    window.palette._activated(window.palette.items()["Input"], 0)
    first = window.scene.selected_node_ids()
    assert first == ["input"]
    window.palette._activated(window.palette.items()["Conv2d"], 0)
    assert [str(e) for e in window.graph.edges] == ["input.out -> conv2d.in"]
    assert window.scene.node_items["conv2d"].pos().x() > window.scene.node_items["input"].pos().x()
    assert window.scene.node_items["conv2d"].shape_text == "(16, 26, 26)"


def test_search_prefers_names_over_help_text(window):
    window.palette.search.setText("output")
    assert window.palette.visible_types() == ["Output"]  # not the Input beside it in "Input / output"
    window.palette.search.setText("pooling")  # in no layer's name: the category's layers
    visible = window.palette.visible_types()
    assert "MaxPool2d" in visible and "GlobalAvgPool" in visible and "Dense" not in visible
    window.palette.search.setText("logits")  # in no name: falls back to the help texts
    assert "Output" in window.palette.visible_types()


def test_enter_in_the_search_adds_the_best_match(window):
    window.palette.search.setText("input")
    window.palette.search.returnPressed.emit()
    window.palette.search.setText("flatten")
    window.palette.search.returnPressed.emit()
    assert [n.type for n in window.graph.nodes.values()] == ["Input", "Flatten"]
    assert [str(e) for e in window.graph.edges] == ["input.out -> flatten.in"]
