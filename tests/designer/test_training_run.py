"""Train from the window: click Train on the lenet, vae and dcgan templates, watch the plots and
results fill, stop, and find the checkpoint and the run in the runs list."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar

import templates
from graph_core import Node
from training import prepare

RUN_TIMEOUT = 180_000  # ms: generous, the CI machine is small and shared


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))


def template(name: str, limit: int = 128, epochs: int = 1, batch: int = 32):
    g = templates.build(name)
    g.data["limit"] = limit
    g.training.update({"epochs": epochs, "batch_size": batch})
    return g


def loss_points(window) -> int:
    import pyqtgraph as pg

    plot = window.findChild(pg.PlotWidget, "lossPlot")
    return sum(len(item.getData()[0] if item.getData()[0] is not None else [])
               for item in plot.getPlotItem().listDataItems())


def click(qtbot, window, name: str) -> None:
    from PySide6.QtWidgets import QPushButton

    button = window.findChild(QPushButton, name)
    assert button is not None and button.isEnabled(), f"{name} is not clickable"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def run_names(window) -> dict[str, str]:
    from PySide6.QtWidgets import QTreeWidget

    tree = window.findChild(QTreeWidget, "runsList")
    return {tree.topLevelItem(k).text(0): tree.topLevelItem(k).text(1) for k in range(tree.topLevelItemCount())}


def test_lenet_train_plot_stop_checkpoint_and_run_listed(qtbot, make_window):
    # long enough to be stopped by hand: the engine process trains this in seconds
    window = make_window(template("lenet", limit=64, epochs=1000))
    tc = window.training
    click(qtbot, window, "trainButton")
    assert window.editing_locked and "Training in progress" in window.document.locked_reason
    qtbot.waitUntil(lambda: loss_points(window) > 0, timeout=RUN_TIMEOUT)
    # the first epoch's results: a confusion matrix over the validation samples, labelled samples
    qtbot.waitUntil(lambda: tc.results.confusion.matrix is not None, timeout=RUN_TIMEOUT)
    matrix = tc.results.confusion.matrix
    validation = len(prepare(window.graph.data).val)
    assert matrix.shape == (10, 10) and matrix.sum() == validation  # every validation sample counted
    shown = tc.results.predictions.predictions
    assert shown is not None and len(shown.truth) == min(32, validation)
    assert "/1000 · step" in window.findChild(QProgressBar, "progressBar").format()
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "stopButton")
    result = blocker.args[0]
    assert result.status == "stopped"
    run_dir = Path(result.run_dir)
    assert (run_dir / "last.safetensors").is_file()
    assert run_names(window).get(run_dir.name) == "stopped"
    assert not window.editing_locked
    assert window.findChild(type(tc.panel.train_button), "trainButton").isEnabled()
    # every step the engine reported reached the plot's store: nothing lost between threads
    assert len(tc.plots.store.get("train/loss")) == result.steps
    # the panel's settings went into the document, so saving the file keeps them
    assert window.graph.training["epochs"] == 1000


def test_vae_shows_reconstructions_latent_space_and_decoded_grid(qtbot, make_window):
    window = make_window(template("vae", limit=128, epochs=2))
    tc = window.training
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
        qtbot.waitUntil(lambda: loss_points(window) > 0, timeout=RUN_TIMEOUT)
    result = blocker.args[0]
    assert result.status == "completed"
    tc.drain()
    assert tc.results.samples.has_image and "reconstructions" in tc.results.samples.caption
    assert tc.results.latent.point_count > 0
    assert "2-D latent" in tc.results.latent.item.titleLabel.text
    assert tc.results.latent_grid.has_image
    assert tc.plots.point_count("reconstructionPlot") > 0
    assert tc.plots.plots["reconstructionPlot"].isVisible()
    assert not tc.plots.plots["accuracyPlot"].isVisible()
    assert run_names(window)[Path(result.run_dir).name] == "completed"
    assert (Path(result.run_dir) / "best.safetensors").is_file()


def test_dcgan_shows_the_fixed_noise_sample_grid_and_gan_curves(qtbot, make_window):
    window = make_window(template("dcgan", limit=96, epochs=1))
    tc = window.training
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
    assert blocker.args[0].status == "completed"
    assert tc.panel.progress.format().startswith("Finished: 1 epoch, ")  # one epoch, not "1 epochs"
    assert tc.results.samples.has_image and "fixed noise" in tc.results.samples.caption
    image = tc.results.samples.image
    assert image.width() >= 8 * 16 and image.height() >= 8 * 16  # 64 samples of 16x16 in a grid
    for name in ("lossPlot", "ganLossPlot", "ganScorePlot"):
        assert tc.plots.point_count(name) > 0, name
        assert tc.plots.plots[name].isVisible()
    assert run_names(window)[Path(blocker.args[0].run_dir).name] == "completed"


def test_an_invalid_graph_is_refused_with_the_node_named(qtbot, make_window):
    g = template("lenet")
    g.nodes["stray"] = Node("stray", "Dense", {"out_features": 3})  # no input wired
    window = make_window(g)
    window.training.panel.show_status("")
    window.training.toolbar.actions()[0].trigger()  # the toolbar's Train, always in sight
    assert "stray" in window.training.panel.status.text()
    click(qtbot, window, "trainButton")
    assert not window.training.running
    assert not window.editing_locked
    assert "stray" in window.training.panel.status.text()


def test_closing_the_window_while_training_stops_the_run_cleanly(qtbot, make_window):
    window = make_window(template("lenet", limit=64, epochs=1000))
    tc = window.training
    click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: loss_points(window) > 0, timeout=RUN_TIMEOUT)
    run_dir = tc.run_dir
    window.close()  # NETWRIGHT_NO_DIALOGS answers "stop and close"
    assert not tc.running
    assert tc.last_result.status == "stopped"
    assert (run_dir / "last.safetensors").is_file()
    assert (run_dir / "summary.json").is_file()


def test_pause_holds_the_run_and_resume_continues(qtbot, make_window):
    window = make_window(template("vae", limit=256, epochs=5000))
    tc = window.training
    click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: loss_points(window) > 0, timeout=RUN_TIMEOUT)
    click(qtbot, window, "pauseButton")
    assert tc.job.control.paused and tc.panel.pause_button.text() == "Resume"
    assert tc.panel.progress.format().startswith("Paused")
    click(qtbot, window, "pauseButton")
    assert not tc.job.control.paused
    before = tc.plots.store.steps
    qtbot.waitUntil(lambda: tc.plots.store.steps > before, timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT):
        click(qtbot, window, "stopButton")


def test_segnet_shows_input_mask_and_prediction_and_iou(qtbot, make_window):
    window = make_window(template("segnet", limit=48, epochs=1, batch=16))
    tc = window.training
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
    assert blocker.args[0].status == "completed", blocker.args[0].error
    assert tc.results.samples.has_image and "true mask and predicted mask" in tc.results.samples.caption
    assert tc.plots.plots["iouPlot"].isVisible() and tc.plots.point_count("iouPlot") > 0


def test_data_that_does_not_fit_is_refused_before_any_run_with_the_fix_at_hand(qtbot, make_window):
    g = template("lenet")
    g.data["image_size"] = 8  # the Input expects 28x28 digits
    window = make_window(g)
    tc = window.training
    starts = tc.engine.starts
    click(qtbot, window, "trainButton")
    assert not tc.running and tc.engine.starts == starts  # no process started only to fail
    text = tc.panel.status.text()
    assert text.startswith("Cannot train yet") and "image:" in text and "(1, 28, 28)" in text
    assert "Issues list offers a fix" in text and window.docks["issues"].isVisible()
    assert not window.editing_locked and tc.panel.train_button.isEnabled()
    # the fix the Issues list offers makes it train
    window.issues.apply_fix(next(i.fix for i in window.document.data_issues if i.fix))
    assert window.graph.data["image_size"] == 28
    with qtbot.waitSignal(tc.started, timeout=10_000):
        click(qtbot, window, "trainButton")
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT):
        tc.stop()


def test_data_that_does_not_fit_found_only_by_the_engine_is_reported_and_unlocks(qtbot, make_window,
                                                                                 monkeypatch):
    """The engine checks again (a data file can change after the designer read it)."""
    g = template("lenet")
    g.data["image_size"] = 8
    window = make_window(g)
    tc = window.training
    monkeypatch.setattr(window.document, "data_issues", [])  # as if the check had not caught it
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
    assert blocker.args[0].status == "failed"
    text = tc.panel.status.text()
    assert text.startswith("Training failed") and "image:" in text and "(1, 28, 28)" in text
    assert not window.editing_locked and tc.panel.train_button.isEnabled()
    assert tc.panel.progress.format().startswith("Failed")
