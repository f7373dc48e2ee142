"""The Training panel's Device / Epochs / Batch / LR are views of the document's training section:
edits are undo steps at once, they follow undo and open, Train adds no step, and a newly opened
graph starts with no results of the previous one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

import templates
from graph_core import SetSetting

from .conftest import lenet, small_net
from .test_settings_form import settings_of, wheel

RUN_TIMEOUT = 180_000  # ms: the CI machine is small and shared


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))


def test_the_panel_shows_the_document_and_edits_it_as_one_step(make_window, qtbot):
    g = small_net()
    g.training = {"epochs": 7, "lr": 0.01}
    w = make_window(g)
    panel = w.training.panel
    assert (panel.epochs.value(), panel.batch_size.value(), panel.lr.value()) == (7, 64, 0.01)
    panel.batch_size.setFocus()
    panel.batch_size.selectAll()
    qtbot.keyClicks(panel.batch_size, "256")
    assert w.graph.training["batch_size"] == 256
    assert w.document.undo_stack.count() == 1  # 2, 25, 256: one step
    qtbot.keyClick(panel.batch_size, Qt.Key.Key_Up)
    assert w.graph.training["batch_size"] == 257 and w.document.undo_stack.count() == 1
    # the inspector shows the same value, and an inspector edit shows on the panel
    form = settings_of(w)
    assert form.rows["training.batch_size"].editor.value() == 257
    form.rows["training.epochs"].editor.widget.setValue(12)
    assert panel.epochs.value() == 12
    w.document.undo_stack.undo()
    assert panel.epochs.value() == 7
    w.document.undo_stack.undo()
    assert panel.batch_size.value() == 64 and "batch_size" not in w.graph.training
    w.document.undo_stack.redo()
    assert panel.batch_size.value() == 257


def test_the_panel_follows_an_opened_file_and_a_template(make_window, tmp_path):
    w = make_window(small_net())
    panel = w.training.panel
    other = lenet()
    other.training = {"epochs": 3, "batch_size": 16, "lr": 0.05, "device": "cpu"}
    from graph_core import save_graph

    save_graph(other, tmp_path / "other.json")
    assert w.open_file(tmp_path / "other.json")
    assert (panel.epochs.value(), panel.batch_size.value(), panel.lr.value()) == (3, 16, 0.05)
    assert panel.device.device() == "cpu"
    w.open_template_graph(templates.build("mlp"))
    assert panel.epochs.value() == templates.build("mlp").training.get("epochs", 10)
    assert w.document.undo_stack.count() == 0  # showing a file is no edit


def test_a_device_the_list_lacks_is_shown_as_the_file_says(make_window):
    g = small_net()
    g.training = {"device": "cuda:1"}
    w = make_window(g)
    assert w.training.panel.device.device() == "cuda:1"
    assert w.training.panel.overrides()["device"] == "cuda:1"


def test_a_panel_change_is_refused_while_the_document_is_locked(make_window):
    w = make_window(small_net())
    panel = w.training.panel
    w.set_editing_locked(True, "training is running")
    panel.epochs.setValue(42)
    assert "epochs" not in w.graph.training
    assert panel.epochs.value() == 10  # back to what the document says
    assert "locked" in panel.status.text()
    w.set_editing_locked(False)
    panel.epochs.setValue(42)
    assert w.graph.training["epochs"] == 42


def test_the_wheel_over_the_panel_changes_nothing(make_window):
    w = make_window(small_net())
    panel = w.training.panel
    before = panel.overrides()
    for widget in (panel.epochs, panel.batch_size, panel.lr, panel.device):
        widget.setFocus()
        wheel(widget, down=True)
        wheel(widget, down=False)
    assert panel.overrides() == before
    assert w.document.undo_stack.count() == 0 and w.graph.training == {}


def test_train_adds_no_undo_step_and_opening_another_graph_clears_the_results(make_window, qtbot):
    g = templates.build("lenet")
    g.data["limit"] = 64
    g.training = {"epochs": 1}  # batch size, lr and device left at their defaults, as from scratch
    w = make_window(g)
    w.document.execute(SetSetting("training", "seed", 3))  # one real edit before the run
    tc = w.training
    steps = w.document.undo_stack.count()
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        qtbot.mouseClick(tc.panel.train_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "completed"
    tc.drain()
    assert w.document.undo_stack.count() == steps  # Train wrote nothing: the panel had
    assert tc.plots.store.get("train/loss") is not None and len(tc.plots.store.get("train/loss")) > 0
    qtbot.waitUntil(lambda: tc.results.confusion.matrix is not None, timeout=RUN_TIMEOUT)
    assert tc.panel.status.text()
    # another graph: nothing of the last run stays on show
    w.new_document()
    store = tc.plots.store
    assert store.get("train/loss") is None or len(store.get("train/loss")) == 0
    assert tc.results.confusion.matrix is None
    assert tc.results.predictions.predictions is None
    assert not tc.results.samples.has_image
    assert tc.panel.status.text() == ""
    assert tc.panel.progress.format() == "Ready — click Train" and tc.panel.progress.value() == 0
    assert tc.results.feature_maps.info.text() == ""
