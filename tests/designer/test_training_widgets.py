"""The training widgets on their own: plots at 100,000 points, log scale, smoothing, x axis;
device choice; runs list, compare and export; feature maps of a recorded run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import templates
from designer.training.plots import LivePlots
from designer.training.series import MetricStore
from tests.designer.test_training_data import write_run


def filled_store(steps: int, per_epoch: int = 1000) -> MetricStore:
    store = MetricStore()
    rng = np.random.default_rng(1)
    noise = rng.normal(scale=0.1, size=steps)
    for s in range(1, steps + 1):
        e, k = divmod(s - 1, per_epoch)
        store.add_event({"type": "step", "step": s, "epoch": e + 1, "epoch_step": k + 1,
                         "epoch_steps": per_epoch, "losses": {"loss": 2.0 / np.sqrt(s) + noise[s - 1]}})
        if k + 1 == per_epoch:
            store.add_event({"type": "epoch", "step": s, "epoch": e + 1, "losses": {"loss": 2.0 / np.sqrt(s)},
                             "metrics": {"accuracy": min(1.0, s / steps)}, "train": {"losses": {"loss": 1.0}}})
    return store



def curve(plots: LivePlots, plot: str, key: str):
    return next(main for spec, main, _ in plots._curves[plot] if spec.key == key)


def test_100k_steps_are_held_but_drawn_downsampled(plots, qtbot):
    plots.reset(filled_store(100_000))
    plots.redraw(force=True)
    loss = curve(plots, "lossPlot", "train/loss")
    x, _ = loss.getOriginalDataset()
    assert len(x) == 100_000  # the curve holds every step
    # but draws a peak-downsampled version once the view has laid out its range
    qtbot.waitUntil(lambda: len(loss.getData()[0]) < 20_000, timeout=10_000)
    assert plots.point_count("accuracyPlot") == 100  # one point per epoch
    assert loss.opts["downsampleMethod"] == "peak" and loss.opts["clipToView"]


def test_log_scale_applies_to_losses_not_to_accuracy(plots, qtbot):
    plots.reset(filled_store(300, per_epoch=100))
    plots.log_check.setChecked(True)
    assert plots.plots["lossPlot"].getPlotItem().ctrl.logYCheck.isChecked()
    assert not plots.plots["accuracyPlot"].getPlotItem().ctrl.logYCheck.isChecked()
    plots.log_check.setChecked(False)
    assert not plots.plots["lossPlot"].getPlotItem().ctrl.logYCheck.isChecked()


def test_smoothing_draws_the_moving_average_over_the_faint_raw_steps(plots):
    store = filled_store(500, per_epoch=100)
    plots.reset(store)
    raw_y = store.get("train/loss").y.copy()
    main = curve(plots, "lossPlot", "train/loss")
    assert np.allclose(main.getOriginalDataset()[1], raw_y)
    plots.smoothing.setValue(90)
    smoothed = main.getOriginalDataset()[1]
    assert not np.allclose(smoothed, raw_y)
    assert np.std(np.diff(smoothed)) < np.std(np.diff(raw_y)) / 3  # visibly calmer
    faint = next(raw for spec, _, raw in plots._curves["lossPlot"] if spec.key == "train/loss")
    assert np.allclose(faint.getOriginalDataset()[1], raw_y)
    assert plots.smoothing_label.text() == "Smoothing 0.90"


def test_x_axis_switches_between_steps_and_epochs(plots):
    plots.reset(filled_store(400, per_epoch=100))
    loss = curve(plots, "lossPlot", "train/loss")
    assert loss.getOriginalDataset()[0][-1] == 400
    plots.axis_combo.setCurrentIndex(plots.axis_combo.findData("epoch"))
    assert loss.getOriginalDataset()[0][-1] == pytest.approx(4.0)
    assert plots.plots["lossPlot"].getPlotItem().getAxis("bottom").labelText == "epoch"


def test_only_the_regimes_plots_show(plots):
    plots.set_regime("gan")
    visible = {n for n, w in plots.plots.items() if w.isVisible()}
    assert visible == {"lossPlot", "ganLossPlot", "ganScorePlot"}
    plots.set_regime("segmentation")
    assert {n for n, w in plots.plots.items() if w.isVisible()} == {"lossPlot", "iouPlot"}
    plots.set_regime("regression")
    assert {n for n, w in plots.plots.items() if w.isVisible()} == {"lossPlot", "errorPlot"}


def test_shares_keep_a_0_to_1_axis_without_si_prefixes(plots):
    plots.reset(filled_store(300, per_epoch=100))
    plots.redraw(force=True)
    accuracy = plots.plots["accuracyPlot"].getPlotItem()
    low, high = accuracy.viewRange()[1]
    assert low <= 0 and 1 <= high < 1.1  # accuracies of 0.3..1.0 on a fixed 0..1 axis
    assert not accuracy.getAxis("left").autoSIPrefix  # never "800 (x0.001)"


def test_cuda_is_offered_only_when_torch_sees_a_gpu(qtbot, monkeypatch):
    import torch

    from designer.training.engine_child import cuda_devices
    from designer.training.panel import DeviceCombo

    # the engine process asks torch (cuda_devices); the list shows what it answered
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    plain = DeviceCombo()
    qtbot.addWidget(plain)
    plain.add_devices(cuda_devices())
    assert [plain.itemData(i) for i in range(plain.count())] == ["auto", "cpu"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU")
    gpu = DeviceCombo()
    qtbot.addWidget(gpu)
    gpu.add_devices(cuda_devices())
    assert gpu.itemText(gpu.count() - 1) == "CUDA (Fake GPU)" and gpu.itemData(gpu.count() - 1) == "cuda"


def test_the_device_list_opens_at_once_and_grows_when_the_engine_answers(qtbot, make_window):
    window = make_window()
    combo = window.training.panel.device
    with qtbot.waitSignal(combo.devices_wanted, timeout=5000):
        combo.showPopup()  # the first popup asks the engine process; Auto and CPU are there now
    assert [combo.itemData(i) for i in range(2)] == ["auto", "cpu"]
    assert window.training.engine.alive  # asked in a child process, not by importing torch here
    qtbot.waitUntil(lambda: not window.training._devices_pending, timeout=120_000)
    combo.hidePopup()
    import torch  # this test process may import torch: it checks the child's answer

    expected = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert combo.count() == 2 + expected


def test_runs_are_listed_compared_and_their_weights_exported(qtbot, tmp_path):
    from designer.training.runs import RunsPanel

    write_run(tmp_path / "runs" / "first")
    write_run(tmp_path / "runs" / "second", final={"val_loss": 0.2, "val_accuracy": 0.8})
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.set_root(tmp_path / "runs")
    assert panel.tree.topLevelItemCount() == 2
    panel.select([tmp_path / "runs" / "first", tmp_path / "runs" / "second"])
    curves = panel.compare_plot.getPlotItem().listDataItems()
    assert len(curves) == 4  # train and validation loss of each run
    assert {c.name() for c in curves} == {"first train", "first validation", "second train", "second validation"}
    assert not panel.weights_button.isEnabled()  # export needs exactly one run
    panel.select([tmp_path / "runs" / "second"])
    assert panel.weights_button.isEnabled()
    target = tmp_path / "out.safetensors"
    assert panel.export_weights(target)
    assert target.read_bytes() == b"weights"


@pytest.fixture(scope="module")
def trained_lenet(tmp_path_factory):
    """A short real lenet run in a runs folder (shared by the tests below)."""
    from training import train

    root = tmp_path_factory.mktemp("lenet-runs")
    g = templates.build("lenet")
    g.data["limit"] = 64
    result = train(g, {"epochs": 1, "batch_size": 32, "out": str(root / "runs" / "lenet-1")})
    assert result.status == "completed"
    return root / "runs", Path(result.run_dir)


def test_feature_maps_of_a_recorded_run(qtbot, make_window, trained_lenet, monkeypatch):
    runs, run_dir = trained_lenet
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(runs))
    window = make_window(templates.build("lenet"))
    tc = window.training
    tc.runs.refresh()
    tc.runs.select([run_dir])
    tab = tc.results.feature_maps
    assert [tab.node.itemText(i) for i in range(tab.node.count())] == ["conv1", "conv2"]
    tab.node.setCurrentText("conv2")
    tab.sample.setValue(3)  # asks for the maps of conv2 on sample 3
    qtbot.waitUntil(lambda: tab.activations.has_image and "conv2" in tab.info.text(), timeout=60_000)
    assert "16×10×10 activations" in tab.info.text() and "kernels 16×6×5×5" in tab.info.text()
    assert tab.kernels.has_image


@pytest.mark.slow
def test_onnx_export_of_a_trained_run_matches_pytorch(qtbot, make_window, trained_lenet, monkeypatch, tmp_path):
    runs, run_dir = trained_lenet
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(runs))
    window = make_window(templates.build("lenet"))
    panel = window.training.runs
    panel.refresh()
    panel.select([run_dir])
    target = tmp_path / "lenet.onnx"
    with qtbot.waitSignal(panel.export_finished, timeout=180_000) as blocker:
        assert panel.export_onnx(target)
    ok, text = blocker.args
    assert ok, text
    assert target.is_file() and "matches PyTorch" in text


def test_a_reset_sets_the_axes_to_the_new_curves_not_the_last_range(plots, qtbot):
    """After Open or Import the charts start over: a range the user zoomed to, or the previous
    run's, does not linger over the next graph's curves."""
    plots.reset(filled_store(400))
    item = plots.plots["lossPlot"].getPlotItem()
    item.setXRange(1000, 2000, padding=0)  # zoomed far from any step of the next run
    item.setYRange(40, 50, padding=0)
    plots.reset(filled_store(50))
    plots.redraw(force=True)
    qtbot.waitUntil(lambda: item.viewRange()[0][0] < 1000)  # pyqtgraph fits the range when it paints
    (x0, x1), (y0, y1) = item.viewRange()
    assert x0 <= 1 and 50 <= x1 < 1000, (x0, x1)
    assert y1 < 40, (y0, y1)


def test_opening_another_graph_shows_its_regimes_plots_before_it_trains(make_window, tmp_path):
    import graph_core as gc
    import templates

    window = make_window(templates.build("gan"))
    plots = window.training.plots
    gan_file, mlp_file = tmp_path / "gan.json", tmp_path / "mlp.json"
    gc.save_graph(templates.build("gan"), gan_file)
    gc.save_graph(templates.build("mlp"), mlp_file)
    window.open_file(gan_file)
    assert {n for n, w in plots.plots.items() if w.isVisibleTo(window)} == {"lossPlot", "ganLossPlot", "ganScorePlot"}
    window.document.undo_stack.setClean()
    window.open_file(mlp_file)
    assert {n for n, w in plots.plots.items() if w.isVisibleTo(window)} == {"lossPlot", "accuracyPlot"}


def legend_labels(plots: LivePlots, name: str) -> list[str]:
    return [label.text for _, label in plots._legends[name].items]


def pix2pix_epoch(plots: LivePlots) -> None:
    """What a pix2pix run reports: loss (D + adversarial + 100·L1) near 30, in training and validation."""
    for k in range(1, 6):
        plots.store.add_event({"type": "step", "step": k, "epoch": 1, "epoch_step": k, "epoch_steps": 5,
                               "losses": {"loss": 32.0, "d_loss": 1.2, "g_loss": 30.8, "d_x": 0.5, "d_g_z": 0.4}})
    plots.store.add_event({"type": "epoch", "step": 5, "epoch": 1,
                           "losses": {"loss": 27.3, "d_loss": 1.0, "g_loss": 26.3},
                           "metrics": {"d_x": 0.5, "d_g_z": 0.3, "mae": 0.25},
                           "train": {"losses": {"loss": 32.0, "g_loss": 30.8}}})
    plots.redraw(force=True)


def test_pix2pix_curves_say_their_loss_adds_the_l1_term(make_window):
    """A pix2pix loss (D + G + 100·L1 ≈ 30, train and validation alike) sits far above a plain
    GAN's: the legends and titles say what it adds up, and the L1 head's own figure (MAE) is
    plotted."""
    window = make_window(templates.build("pix2pix"))
    plots = window.training.plots
    assert "errorPlot" in {n for n, w in plots.plots.items() if w.isVisibleTo(window)}
    pix2pix_epoch(plots)
    loss = legend_labels(plots, "lossPlot")
    assert "train (step): D + G + 100·L1" in loss and "validation: D + G + 100·L1" in loss
    assert "100·L1" in plots.plots["lossPlot"].getPlotItem().titleLabel.text
    gan = legend_labels(plots, "ganLossPlot")
    assert "g_loss: adversarial + 100·L1" in gan and "g_loss (val): adversarial + 100·L1" in gan
    assert legend_labels(plots, "errorPlot") == ["validation MAE: head l1's L1 term before ×100"]

    # a GAN without generator heads: nothing to add, plain labels
    window.document.undo_stack.setClean()
    window.document.replace_graph(templates.build("dcgan"))
    pix2pix_epoch(plots)
    assert "validation" in legend_labels(plots, "lossPlot")
    assert plots.plots["lossPlot"].getPlotItem().titleLabel.text == "Loss"
    assert not plots.plots["errorPlot"].isVisibleTo(window)


def test_compared_pix2pix_runs_say_what_their_train_and_validation_loss_add_up(qtbot, tmp_path):
    import graph_core as gc
    from designer.training.runs import RunsPanel

    write_run(tmp_path / "runs" / "paint")
    gc.save_graph(templates.build("pix2pix"), tmp_path / "runs" / "paint" / "graph.json")
    write_run(tmp_path / "runs" / "mlp")
    gc.save_graph(templates.build("mlp"), tmp_path / "runs" / "mlp" / "graph.json")
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.set_root(tmp_path / "runs")
    panel.select([tmp_path / "runs" / "paint", tmp_path / "runs" / "mlp"])
    names = {c.name() for c in panel.compare_plot.getPlotItem().listDataItems()}
    assert names == {"paint train (D + G + 100·L1)", "paint validation (D + G + 100·L1)",
                     "mlp train", "mlp validation"}
