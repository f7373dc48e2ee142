"""A new user's first run: LeNet built on an empty canvas with the mouse and keyboard only, then
Train on the first click — no data settings touched, the loss plot fills.

Everything goes through real input events: mouse presses and moves on the palette start the
palette's own drag (its `startDrag` and mime data), port-to-port wires are mouse drags on the
canvas, the last Dense's width is typed into the inspector. One thing stands in for the
platform: the offscreen Qt plugin has no drag loop (`QDrag.exec` returns at once, dropping
nothing), so `_DragLoop` plays the part of the windowing system's loop — it carries the drag's
own mime data to the point the mouse is released over and delivers DragEnter, DragMove and Drop
to the widget there, as xcb or Cocoa would.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QSpinBox, QWidget

from .conftest import port_view_pos
from .test_canvas import drag as wire_drag

RUN_TIMEOUT = 240_000  # ms: the first run pays for starting the training process on a small CI box

# LeNet from the course, as a newcomer assembles it: every layer at its palette defaults except
# the classifier's width (10 digits).
LAYERS = ["Input", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten",
          "Dense", "ReLU", "Dense", "Output"]


class _DragLoop:
    """Stands in for the platform's drag loop, which the offscreen plugin lacks.

    `drop_at` is where the user releases the button: a widget and a point in it. `exec` delivers
    what a windowing system would — enter, a move, the drop — with the QDrag's own mime data, and
    returns the action the target accepted (IgnoreAction when it refused).
    """

    def __init__(self) -> None:
        self.drop_at: tuple[QWidget, QPoint] | None = None
        self.drags = 0

    def exec(self, drag: QDrag, *actions) -> Qt.DropAction:
        self.drags += 1
        if self.drop_at is None:
            return Qt.DropAction.IgnoreAction
        target, at = self.drop_at
        mime, copy = drag.mimeData(), Qt.DropAction.CopyAction
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        enter = QDragEnterEvent(at, copy, mime, left, none)
        QApplication.sendEvent(target, enter)
        if not enter.isAccepted():
            return Qt.DropAction.IgnoreAction
        QApplication.sendEvent(target, QDragMoveEvent(at, copy, mime, left, none))
        drop = QDropEvent(QPointF(at), copy, mime, left, none)
        QApplication.sendEvent(target, drop)
        return drop.dropAction() if drop.isAccepted() else Qt.DropAction.IgnoreAction


@pytest.fixture
def drag_loop(monkeypatch) -> _DragLoop:
    loop = _DragLoop()
    monkeypatch.setattr(QDrag, "exec", lambda drag, *a: loop.exec(drag, *a))
    return loop


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))


def drag_from_palette(window, loop: _DragLoop, type_name: str, to: QPoint) -> str:
    """Press on the palette entry, move past the drag distance, release over the canvas at `to`
    (viewport coordinates); returns the id of the node that appeared."""
    tree = window.palette.tree
    item = window.palette.items()[type_name]
    tree.scrollToItem(item)
    start = tree.visualItemRect(item).center()
    before = set(window.graph.nodes)
    loop.drop_at = (window.view.viewport(), to)
    viewport = tree.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    step = QApplication.startDragDistance() + 2
    for k in range(1, 4):  # the item view starts its drag once the mouse has moved far enough
        QTest.mouseMove(viewport, start + QPoint(step * k, 0))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(step * 3, 0))
    added = set(window.graph.nodes) - before
    assert len(added) == 1, f"dragging {type_name} from the palette added {sorted(added)}"
    return added.pop()


def wire(window, src: str, dst: str) -> None:
    """Drag from src's output port to dst's input port on the canvas."""
    start = port_view_pos(window, src, "out", True)
    end = window.view.mapFromScene(window.scene.node_items[dst].port("in", False).scenePos())
    wire_drag(window, start, end)


def type_into_inspector(qtbot, window, field: str, text: str) -> None:
    box = window.inspector.findChild(QSpinBox, f"field_{field}")
    assert box is not None, f"the inspector shows no {field} field"
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    QTest.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(box, text)
    QTest.keyClick(box, Qt.Key.Key_Return)


def loss_points(window) -> int:
    import pyqtgraph as pg

    plot = window.findChild(pg.PlotWidget, "lossPlot")
    return sum(len(item.getData()[0] if item.getData()[0] is not None else [])
               for item in plot.getPlotItem().listDataItems())


def issue_texts(window) -> list[str]:
    lst = window.issues
    return [lst.item(k).text() for k in range(lst.count())]


@pytest.mark.slow
def test_lenet_built_by_hand_on_an_empty_canvas_trains_on_the_first_click(
        qtbot, make_window, drag_loop, tmp_path):
    window = make_window()
    assert not window.graph.nodes
    view = window.view
    # Zoom out (Ctrl+minus on the canvas) so a row of cards fits, as a user would.
    view.setFocus()
    for _ in range(2):
        QTest.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    width, height = view.viewport().width(), view.viewport().height()
    per_row = 4
    ids = []
    for k, type_name in enumerate(LAYERS):
        row, col = divmod(k, per_row)
        at = QPoint(int(width * (col + 0.5) / per_row), int(height * (row + 0.5) / 3.5))
        ids.append(drag_from_palette(window, drag_loop, type_name, at))
    assert drag_loop.drags == len(LAYERS)
    assert [window.graph.nodes[i].type for i in ids] == LAYERS
    for src, dst in zip(ids, ids[1:]):
        wire(window, src, dst)
    assert len(window.graph.edges) == len(LAYERS) - 1

    # The classifier gives one score per digit: select the last Dense, type 10 in the inspector.
    last_dense = ids[10]
    card = window.scene.node_items[last_dense]
    view.centerOn(card.center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(card.center()))
    qtbot.waitUntil(lambda: window.inspector.node_id == last_dense)
    type_into_inspector(qtbot, window, "out_features", "10")
    assert window.graph.nodes[last_dense].params.get("out_features") == 10

    # Nothing in the data settings was touched, and the Issues list says it is ready.
    window.document.analyse()
    qtbot.waitUntil(lambda: any("No issues" in t for t in issue_texts(window)), timeout=10_000)

    # What the file says is what trains: the dataset and the Input's field are written out.
    path = tmp_path / "mine.json"
    assert window.files.save_as(path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["data"].get("dataset"), saved["data"]
    first_input = next(n for n in saved["nodes"] if n["type"] == "Input")
    assert first_input.get("params", {}).get("field"), first_input

    # Train on the first click: the loss plot fills.
    undo_steps = window.document.undo_stack.count()
    results: list = []
    window.training.finished.connect(results.append)
    button = window.findChild(QPushButton, "trainButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.training.running, window.training.panel.status.text()
    qtbot.waitUntil(lambda: loss_points(window) > 0 or bool(results), timeout=RUN_TIMEOUT)
    assert loss_points(window) > 0, window.training.panel.status.text()
    # Ten epochs of digits take seconds: stop the run if it is still going, then let it end.
    stop = window.findChild(QPushButton, "stopButton")
    if stop.isEnabled():
        qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(results), timeout=RUN_TIMEOUT)
    assert results[0].status in ("stopped", "completed"), results[0].error
    assert window.document.undo_stack.count() == undo_steps  # Train changed nothing in the document
