"""The Qt-free parts of designer.training: metric buffers, smoothing, recorded runs, progress text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from designer.training.panel import format_seconds, progress_text
from designer.training.records import list_runs, read_run, runs_root
from designer.training.series import MetricStore, Series, ema


def reference_ema(values, alpha):
    out, last = [], None
    for v in values:
        last = v if last is None else alpha * last + (1 - alpha) * v
        out.append(last)
    return np.array(out)


def test_series_grows_then_keeps_the_newest_points_as_a_ring():
    s = Series(capacity=1000)
    for i in range(2500):
        s.append(i, i / 100, float(i))
    assert 1000 - 1000 // 8 <= len(s) <= 1000
    assert s.y[-1] == 2499 and s.steps[-1] == 2499
    assert np.all(np.diff(s.steps) == 1)  # contiguous, oldest dropped first
    assert s.epochs[-1] == pytest.approx(24.99)


def test_smoothing_matches_a_plain_moving_average_and_skips_nan():
    rng = np.random.default_rng(0)
    values = rng.normal(size=500)
    s = Series()
    s.set_smoothing(0.9)
    for i, v in enumerate(values):
        s.append(i, 0, v)  # incremental
    assert np.allclose(s.smoothed, reference_ema(values, 0.9))
    s.set_smoothing(0.5)  # recomputed over everything
    assert np.allclose(s.smoothed, reference_ema(values, 0.5))
    with_gap = np.array([1.0, np.nan, 3.0])
    assert np.allclose(ema(with_gap, 0.5), [1.0, np.nan, 2.0], equal_nan=True)


def test_store_files_step_and_epoch_events_under_their_keys():
    store = MetricStore()
    store.add_event({"type": "step", "step": 3, "epoch": 2, "epoch_step": 1, "epoch_steps": 2,
                     "losses": {"loss": 0.5, "kl": 0.1}})
    store.add_event({"type": "epoch", "step": 4, "epoch": 2, "losses": {"loss": 0.4},
                     "metrics": {"accuracy": 0.9}, "train": {"losses": {"loss": 0.45}, "metrics": {}}})
    store.add_event({"type": "checkpoint", "path": "x"})
    assert store.get("train/loss").y.tolist() == [0.5]
    assert store.get("train/loss").epochs.tolist() == [1.5]  # half-way through epoch 2
    assert store.get("train/kl").steps.tolist() == [3]
    assert store.get("val/accuracy").y.tolist() == [0.9]
    assert store.get("epoch_train/loss").x("epoch").tolist() == [2]
    assert store.steps == 3 and store.epochs_done == 2


def write_run(folder, status="completed", final=None, steps=6, epochs=2):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"epochs": epochs, "batch_size": 32, "lr": 0.001,
                                                    "runtime": "cpu, fp32"}))
    with open(folder / "steps.jsonl", "w") as f:
        for s in range(1, steps + 1):
            f.write(json.dumps({"step": s, "epoch": (s - 1) * epochs // steps + 1, "loss": 1.0 / s,
                                "lr": 0.001, "throughput": 100.0}) + "\n")
        f.write('{"step": 99, "epo')  # a row cut short by a crash
    with open(folder / "epochs.jsonl", "w") as f:
        for e in range(1, epochs + 1):
            f.write(json.dumps({"epoch": e, "step": e * steps // epochs, "train_loss": 0.5 / e,
                                "val_loss": 0.6 / e, "val_accuracy": 0.5 + e / 10}) + "\n")
    if status:
        (folder / "summary.json").write_text(json.dumps({
            "status": status, "regime": "supervised", "epochs": epochs, "steps": steps, "seconds": 1.5,
            "final": final or {"val_loss": 0.3, "val_accuracy": 0.7}}))
    (folder / "last.safetensors").write_bytes(b"weights")


def test_recorded_runs_are_listed_with_status_headline_and_curves(tmp_path):
    write_run(tmp_path / "a")
    write_run(tmp_path / "b", status=None)  # still running (or crashed): no summary yet
    (tmp_path / "not-a-run").mkdir()
    runs = {r.name: r for r in list_runs(tmp_path)}
    assert set(runs) == {"a", "b"}
    a = runs["a"]
    assert a.status == "completed" and a.headline() == "val_accuracy 0.7"
    assert "epochs 2" in a.settings() and "cpu" in a.settings()
    assert a.checkpoint == tmp_path / "a" / "last.safetensors"
    curves = a.curves()
    assert len(curves.get("train/loss")) == 6  # the broken last row is ignored
    assert curves.get("val/loss").y.tolist() == pytest.approx([0.6, 0.3])
    assert curves.get("val/accuracy").y.tolist() == pytest.approx([0.6, 0.7])
    assert runs["b"].status == "running"
    assert read_run(tmp_path / "not-a-run") is None


def test_runs_root_prefers_the_environment_then_the_graph_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("NETWRIGHT_RUNS_DIR", raising=False)
    assert runs_root(tmp_path / "net.json") == tmp_path.resolve() / "runs"
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert runs_root(tmp_path / "net.json") == tmp_path / "elsewhere"


def test_progress_text_reads_like_a_sentence():
    done, total, text = progress_text({"epoch": 2, "epoch_step": 3, "epoch_steps": 10,
                                       "throughput": 1234.5, "eta": 75.0}, epochs=4)
    assert (done, total) == (13, 40)
    assert text == "Epoch 2/4 · step 3/10 · 1,234 samples/s · ETA 1:15"
    assert format_seconds(3725) == "1:02:05" and format_seconds(None) == "?"
