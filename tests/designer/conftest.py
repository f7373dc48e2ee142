"""Designer test fixtures: a MainWindow on a pure model, with settings, recovery file and
dialogs kept out of the user's way (temp paths; no modal dialogs)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from graph_core import Edge, Graph, Node  # noqa: E402

# No modal dialog may ever block the suite (a test that needs one patches QMessageBox).
os.environ.setdefault("NETWRIGHT_NO_DIALOGS", "1")
os.environ.setdefault("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_SETTINGS_PATH", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("NETWRIGHT_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")
    monkeypatch.setenv("NETWRIGHT_NO_DIALOGS", "1")
    # A ready graph starts the engine process a moment later (torch imported in advance): off,
    # so a hundred windows do not start a hundred engines; test_training_engine turns it on.
    monkeypatch.setenv("NETWRIGHT_ENGINE_PREWARM", "0")
    yield
    # pytest-qt has closed the test's widgets and asked for their deletion (deleteLater); delete
    # them now, while no event is being handled, and collect their Python side. Otherwise they
    # go whenever a later test's event loop turns and the collector runs: a fresh-clone run
    # once died in a segfault inside a pyqtgraph ViewBox's resize while the next test's window
    # was shown (pyqtgraph's ViewBox is known to crash when destroyed at the wrong moment).
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build a MainWindow (optionally on a graph), shown at a fixed size."""
    from designer import MainWindow

    made: list[MainWindow] = []

    def make(graph: Graph | None = None) -> MainWindow:
        w = MainWindow(graph, settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(w)
        w.resize(1400, 900)
        w.show()
        w.activateWindow()
        # Window shortcuts (Delete, Ctrl+Z) need an active window; offscreen, a second window
        # in the same test may never become active, which only the first window's tests need.
        if not made:
            QTest.qWaitForWindowActive(w, 2000)
        made.append(w)
        return w

    yield make
    for w in made:  # closing at teardown must not ask about unsaved changes
        w.document.undo_stack.setClean()


@pytest.fixture
def plots(qtbot):
    """The live training plots, shown at 1000x400."""
    from designer.training.plots import LivePlots

    w = LivePlots()
    qtbot.addWidget(w)
    w.resize(1000, 400)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(make_window):
    return make_window()


def chain(*specs: tuple[str, str, dict], name: str = "net") -> Graph:
    """A linear graph from (id, type, params) triples, laid out left to right."""
    g = Graph(name=name)
    prev = None
    for k, (nid, type_, params) in enumerate(specs):
        g.nodes[nid] = Node(nid, type_, dict(params), ui={"x": 260.0 * k, "y": 0.0})
        if prev is not None:
            g.edges.append(Edge((prev, "out"), (nid, "in")))
        prev = nid
    return g


def small_net() -> Graph:
    """Input (1, 28, 28) -> Conv2d(6, 5) -> ReLU -> Flatten -> Dense(10) -> Output."""
    return chain(("image", "Input", {"shape": [1, 28, 28], "field": "image"}),
                 ("conv", "Conv2d", {"out_channels": 6, "kernel_size": 5}),
                 ("relu", "ReLU", {}),
                 ("flat", "Flatten", {}),
                 ("fc", "Dense", {"out_features": 10}),
                 ("head", "Output", {}), name="small")


def lenet() -> Graph:
    return chain(("image", "Input", {"shape": [1, 28, 28], "field": "image"}),
                 ("conv1", "Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}),
                 ("relu1", "ReLU", {}), ("pool1", "MaxPool2d", {}),
                 ("conv2", "Conv2d", {"out_channels": 16, "kernel_size": 5}),
                 ("relu2", "ReLU", {}), ("pool2", "MaxPool2d", {}), ("flat", "Flatten", {}),
                 ("fc1", "Dense", {"out_features": 120}), ("relu3", "ReLU", {}),
                 ("fc2", "Dense", {"out_features": 10}), ("head", "Output", {}), name="lenet")


def port_view_pos(window, node_id: str, port: str, is_output: bool):
    """Viewport coordinates of a port dot (after making sure it is on screen)."""
    item = window.scene.node_items[node_id].port(port, is_output)
    window.view.centerOn(item.scenePos())
    return window.view.mapFromScene(item.scenePos())


def code_after_edit(qtbot, window) -> str:
    """The code view's text once the debounced regeneration after the last edit has landed."""
    with qtbot.waitSignal(window.code_view.updated, timeout=10000):
        window.code_view.regenerate()
    return window.code_view.toPlainText()
