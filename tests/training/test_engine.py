"""The supervised run end to end: events, run directory, determinism, stop/pause/resume, faults."""

from __future__ import annotations

import csv
import json
import math
import threading

import pytest
import torch

import codegen
from tests.training import graphs
from training import EVENT_TYPES, RunControl, train

SMALL = {"dataset": "digits", "limit": 400}


def small_mlp(**training):
    g = graphs.mlp_digits(**training)
    g.data = dict(SMALL)
    return g


def test_training_learns_and_streams_every_kind_of_event(tmp_path):
    events = []
    result = train(small_mlp(epochs=3), {"out": str(tmp_path)}, on_event=events.append)
    assert result.status == "completed" and result.regime == "supervised"
    assert result.final["val_accuracy"] > 0.7  # ten classes: chance is 0.1
    history = [row["val_loss"] for row in result.history]
    assert history[-1] < history[0]
    kinds = [e["type"] for e in events]
    assert set(kinds) == {"step", "epoch", "checkpoint", "done"} and kinds[-1] == "done"
    for e in events:
        assert set(EVENT_TYPES) >= {e["type"]}
        assert {"step", "epoch", "split", "losses", "metrics", "throughput", "eta"} <= set(e)
    steps = [e for e in events if e["type"] == "step"]
    assert len(steps) == result.steps == 3 * 5  # 320 training samples, batches of 64
    assert [e["step"] for e in steps] == list(range(1, 16))
    assert all(e["throughput"] > 0 and e["eta"] >= 0 and math.isfinite(e["losses"]["loss"]) for e in steps)
    assert steps[-1]["eta"] == 0
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert set(epochs[-1]["metrics"]) == {"accuracy"} and epochs[-1]["split"] == "val"
    assert "loss" in epochs[-1]["train"]["losses"]


def test_run_directory_holds_everything_a_user_needs(tmp_path):
    result = train(small_mlp(epochs=2), {"out": str(tmp_path)})
    names = {p.name for p in tmp_path.iterdir()}
    assert {"graph.json", "config.json", "steps.csv", "steps.jsonl", "epochs.csv", "epochs.jsonl",
            "last.safetensors", "best.safetensors", "last_state.pt", "summary.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    with open(tmp_path / "epochs.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(result.final["val_accuracy"])
    steps = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert len(steps) == result.steps
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["final"]["val_accuracy"] == result.final["val_accuracy"]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["epochs"] == 2 and config["runtime"] == "cpu, fp32"
    # weights only: both formats load without unpickling anything
    state = torch.load(tmp_path / "last_state.pt", weights_only=True)
    assert state["epoch"] == 2 and state["step"] == result.steps
    model = codegen.compile_graph(small_mlp())
    codegen.load_weights(model, tmp_path / "best.safetensors")


def test_same_seed_gives_the_same_curve_and_another_seed_does_not(tmp_path):
    runs = [train(small_mlp(epochs=2), {"out": str(tmp_path / str(i)), "seed": seed})
            for i, seed in enumerate((3, 3, 4))]
    curves = [[row["val_loss"] for row in r.history] for r in runs]
    assert curves[0] == curves[1]
    assert curves[0] != curves[2]


def test_stop_ends_within_one_step_and_keeps_a_checkpoint(tmp_path):
    control = RunControl()
    seen = []

    def on_event(e):
        seen.append(e)
        if e["type"] == "step" and e["step"] == 7:
            control.stop()

    result = train(small_mlp(epochs=5), {"out": str(tmp_path)}, on_event=on_event, stop=control)
    assert result.status == "stopped" and result.steps == 7
    assert max(e["step"] or 0 for e in seen) == 7
    assert (tmp_path / "last.safetensors").exists()
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "stopped"


def test_a_plain_event_or_callable_also_stops(tmp_path):
    flag = threading.Event()
    flag.set()
    assert train(small_mlp(), {"out": str(tmp_path / "a")}, stop=flag).steps == 0
    assert train(small_mlp(), {"out": str(tmp_path / "b")}, stop=lambda: True).status == "stopped"


def test_pause_holds_the_worker_until_resume(tmp_path):
    control = RunControl()
    paused_at = threading.Event()
    steps = []

    def on_event(e):
        if e["type"] == "step":
            steps.append(e["step"])
            if e["step"] == 2:
                control.pause()
                paused_at.set()

    worker = threading.Thread(target=lambda: train(small_mlp(epochs=1), {"out": str(tmp_path)},
                                                   on_event=on_event, stop=control))
    worker.start()
    assert paused_at.wait(60)
    worker.join(0.5)
    assert worker.is_alive() and steps == [1, 2]  # held between steps
    control.resume()
    worker.join(60)
    assert not worker.is_alive() and steps == [1, 2, 3, 4, 5]


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    control = RunControl()
    first = train(small_mlp(epochs=4), {"out": str(tmp_path)}, stop=control,
                  on_event=lambda e: e["type"] == "epoch" and e["epoch"] == 2 and control.stop())
    assert first.status == "stopped" and first.epochs == 2
    events = []
    second = train(small_mlp(epochs=4), {"resume": str(tmp_path)}, on_event=events.append)
    assert second.status == "completed" and second.epochs == 4
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [3, 4]
    assert [e["step"] for e in events if e["type"] == "step"][0] == first.steps + 1
    assert [row["epoch"] for row in second.history] == [1, 2, 3, 4]
    rows = (tmp_path / "epochs.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2, 3, 4]
    # the optimizer's moments came back too: Adam's step count continued
    state = torch.load(tmp_path / "last_state.pt", weights_only=True)
    adam = state["regime"]["optimizers"][0]["state"][0]
    assert int(adam["step"]) == second.steps


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    result = train(small_mlp(), {"resume": str(tmp_path)})
    assert result.status == "failed" and "has no last.safetensors checkpoint" in result.error


def test_a_diverging_loss_stops_with_the_step_and_the_last_good_checkpoint(tmp_path):
    g = small_mlp(epochs=50, classes=1, optimizer="sgd", lr=1e6, momentum=0.0)
    g.nodes["head"].params["loss"] = "mse"  # regress the digit's value: diverges fast at this lr
    events = []
    result = train(g, {"out": str(tmp_path)}, on_event=events.append)
    assert result.status == "failed"
    assert result.error.startswith(f"step {result.steps + 1}: the loss is not finite (loss = ")
    assert "training stopped" in result.error
    assert ("No checkpoint had been written yet" in result.error
            or f"The last good checkpoint is {tmp_path / 'last.safetensors'}" in result.error)
    assert events[-1]["type"] == "error" and events[-1]["message"] == result.error
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "failed"


def test_nan_after_a_checkpoint_names_that_checkpoint(tmp_path):
    # one good epoch, then every weight is poisoned: the error must point at epoch 1's file
    g = small_mlp(epochs=3)

    def poison(e):
        if e["type"] == "checkpoint" and e["epoch"] == 1 and not e["best"]:
            poison.model_ref[0].weight.data.fill_(float("nan"))

    from training import engine

    original = engine.TrainingRun._build_model

    def spy(self):
        original(self)
        poison.model_ref = [getattr(self.net, self.net.node_modules["logits"])]

    engine.TrainingRun._build_model = spy
    try:
        result = train(g, {"out": str(tmp_path)}, on_event=poison)
    finally:
        engine.TrainingRun._build_model = original
    assert result.status == "failed" and result.epochs == 1
    assert f"The last good checkpoint is {tmp_path / 'last.safetensors'} (epoch 1)." in result.error
    assert (tmp_path / "last.safetensors").exists()


def test_broken_sample_in_a_file_is_named(tmp_path):
    import numpy as np

    images = np.random.default_rng(0).random((40, 1, 8, 8), dtype=np.float32)
    images[13, 0, 2, 2] = np.nan
    np.savez(tmp_path / "broken.npz", image=images, label=np.arange(40) % 10)
    g = graphs.mlp_digits()
    g.data = {"dataset": "broken.npz"}
    result = train(g, {"out": str(tmp_path / "run")}, root=tmp_path)
    assert result.status == "failed"
    assert "broken.npz sample 13" in result.error and "NaN" in result.error


def test_frozen_layers_keep_their_weights_and_lr_factors_apply(tmp_path):
    g = small_mlp(epochs=1)
    g.nodes["hidden"].frozen = True
    train(g, {"out": str(tmp_path), "seed": 5})
    torch.manual_seed(5)
    fresh = codegen.compile_graph(g)
    trained = codegen.compile_graph(g)
    codegen.load_weights(trained, tmp_path / "last.safetensors")
    hidden = fresh.node_modules["hidden"]
    logits = fresh.node_modules["logits"]
    assert torch.equal(getattr(fresh, hidden).weight, getattr(trained, hidden).weight)
    assert not torch.equal(getattr(fresh, logits).weight, getattr(trained, logits).weight)


def test_lr_schedule_and_early_stopping(tmp_path):
    events = []
    result = train(small_mlp(epochs=6, schedule="step", step_size=1, gamma=0.5),
                   {"out": str(tmp_path), "early_stopping": 1, "monitor": "train_loss"},
                   on_event=events.append)
    lrs = [e["lr"] for e in events if e["type"] == "step" and e["epoch_step"] == 1]
    assert lrs[:3] == [0.01, 0.005, 0.0025]
    assert result.status in ("completed", "early_stopped")
    stopper = train(small_mlp(epochs=6, lr=1e-9), {"out": str(tmp_path / "b"), "early_stopping": 1,
                                                    "monitor": "val_accuracy"})
    # with a learning rate of 1e-9 accuracy cannot improve after epoch 1
    assert stopper.status == "early_stopped" and stopper.epochs == 2


def test_out_of_gpu_memory_suggests_a_smaller_batch(tmp_path, monkeypatch):
    from training import regimes

    def oom(self, batch, n):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(regimes.HeadRegime, "train_step", oom)
    result = train(small_mlp(batch_size=48), {"out": str(tmp_path)})
    assert result.status == "failed"
    assert result.error == "step 1: out of GPU memory with batch size 48; try a smaller batch (--batch-size 24)"


def test_feeder_names_a_broken_sample_and_its_file():
    import numpy as np

    from training import FieldDataset
    from training.feed import Feeder

    images = np.zeros((4, 2), dtype=np.float32)
    images[2, 1] = np.inf
    split = FieldDataset({"x": images, "y": np.arange(4)}, sources=[f"data.csv line {i + 2}" for i in range(4)])
    feed = Feeder(split, {"x", "y"}, torch.device("cpu"))
    assert feed.describe_broken(torch.tensor([0, 1])) is None
    assert feed.describe_broken(torch.tensor([3, 2])) == (
        "sample 2 of field 'x' contains nan or inf values (from data.csv line 4)")
    batch = feed.batch(torch.tensor([1, 3]))
    assert batch["y"].tolist() == [1, 3] and batch["x"].dtype == torch.float32


def test_gradient_clipping_bounds_each_update(tmp_path):
    g = small_mlp(optimizer="sgd", lr=1.0, momentum=0.0)
    train(g, {"out": str(tmp_path / "clipped"), "seed": 2, "max_steps": 1, "grad_clip": 1e-3})
    train(g, {"out": str(tmp_path / "free"), "seed": 2, "max_steps": 1})

    def moved(run):
        torch.manual_seed(2)
        start = codegen.compile_graph(g)
        after = codegen.compile_graph(g)
        codegen.load_weights(after, tmp_path / run / "last.safetensors")
        deltas = [(a - b).detach().flatten() for a, b in zip(after.parameters(), start.parameters())]
        return float(torch.cat(deltas).norm())

    # plain SGD moves by lr * gradient: the clipped norm caps the whole step at 1e-3
    assert moved("clipped") == pytest.approx(1e-3, rel=1e-3)
    assert moved("free") > 0.01


def test_augment_warps_training_batches_reproducibly_and_still_learns(tmp_path):
    runs = [train(small_mlp(epochs=3), {"out": str(tmp_path / str(i)), "seed": 3, "augment": mode})
            for i, mode in enumerate(("affine", "affine", "none"))]
    curves = [[row["train_loss"] for row in r.history] for r in runs]
    assert curves[0] == curves[1], "the same seed warps the same way"
    assert curves[0] != curves[2], "augment changes what the network sees"
    assert runs[0].final["val_accuracy"] > 0.7
    assert json.loads((tmp_path / "0" / "config.json").read_text())["augment"] == "affine"


def test_augment_only_touches_training_batches(tmp_path, monkeypatch):
    from training import regimes

    seen = {}
    evaluate = regimes.HeadRegime.evaluate

    def spy(self, feed, batch_size):
        seen["val"] = feed.batch(torch.arange(len(feed)))["image"]
        return evaluate(self, feed, batch_size)

    monkeypatch.setattr(regimes.HeadRegime, "evaluate", spy)
    train(small_mlp(epochs=1), {"out": str(tmp_path / "a"), "augment": "affine", "max_steps": 1})
    warped_val = seen["val"]
    train(small_mlp(epochs=1), {"out": str(tmp_path / "b"), "augment": "none", "max_steps": 1})
    assert torch.equal(warped_val, seen["val"]), "validation samples are seen as they are"


def test_augment_without_an_image_field_says_so(tmp_path):
    g = graphs.mlp_digits(classes=3)
    g.nodes["image"].params = {"shape": [4], "field": "features"}
    g.data = {"dataset": "iris"}
    result = train(g, {"out": str(tmp_path), "augment": "shift"})
    assert result.status == "failed"
    assert result.error.startswith("augment: shift warps image fields") and "set augment to none" in result.error


def test_a_single_head_run_reports_the_loss_under_both_names_and_the_train_accuracy(tmp_path):
    """One head of weight 1 keeps one loss value a step; its events still name the loss and
    the head, and the epoch's training accuracy is the share of right answers over the epoch."""
    events = []
    result = train(small_mlp(epochs=2), {"out": str(tmp_path), "samples": False}, on_event=events.append)
    assert result.status == "completed"
    head = next(small_mlp().nodes_of_type("Output")).id
    steps = [e for e in events if e["type"] == "step"]
    assert all(set(e["losses"]) == {"loss", head} and e["losses"]["loss"] == e["losses"][head] for e in steps)
    epoch = [e for e in events if e["type"] == "epoch"][-1]
    train_losses, train_metrics = epoch["train"]["losses"], epoch["train"]["metrics"]
    second = [e for e in steps if e["epoch"] == 2]
    sizes = [64] * len(second)  # 320 samples, batches of 64
    mean = sum(e["losses"]["loss"] * n for e, n in zip(second, sizes)) / sum(sizes)
    assert train_losses["loss"] == pytest.approx(mean, rel=1e-6)
    assert 0.0 < train_metrics["accuracy"] <= 1.0
    assert train_metrics["accuracy"] * 320 == pytest.approx(round(train_metrics["accuracy"] * 320))
