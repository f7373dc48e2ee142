"""Resume honours what it is told (issue 13): --lr, --epochs and --schedule given with --resume
override the checkpoint's, config.json records what was really used, and a kill between the
checkpoint's two files never pairs weights with another epoch's optimizer state."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tests.training import graphs
from training import train
from training.rundir import RunDirectory

SMALL = {"dataset": "digits", "limit": 400}


def small_mlp(**training):
    g = graphs.mlp_digits(**training)
    g.data = dict(SMALL)
    return g


def _lrs(events: list[dict]) -> list[float]:
    """The lr each epoch trained with (as its steps report it)."""
    by_epoch: dict[int, float] = {}
    for e in events:
        if e["type"] == "step":
            by_epoch.setdefault(e["epoch"], e["lr"])
    return [by_epoch[k] for k in sorted(by_epoch)]


def _config(run) -> dict:
    return json.loads((run / "config.json").read_text())


def test_lr_given_with_resume_is_the_lr_that_trains_and_the_one_recorded(tmp_path):
    first = train(small_mlp(epochs=2, lr=0.001), {"out": str(tmp_path)})
    assert first.status == "completed"
    state = torch.load(tmp_path / "last_state.pt", weights_only=True)
    assert state["regime"]["optimizers"][0]["param_groups"][0]["lr"] == pytest.approx(0.001)
    events = []
    second = train(small_mlp(epochs=2, lr=0.001), {"resume": str(tmp_path), "epochs": 3, "lr": 0.05},
                   on_event=events.append)
    assert second.status == "completed" and second.epochs == 3
    assert _lrs(events) == [pytest.approx(0.05)]  # it was 0.001, the checkpoint's, before the fix
    state = torch.load(tmp_path / "last_state.pt", weights_only=True)
    assert state["regime"]["optimizers"][0]["param_groups"][0]["lr"] == pytest.approx(0.05)
    config = _config(tmp_path)
    assert config["lr"] == 0.05 and config["epochs"] == 3
    assert config["resumed"]["changed"] == ["epochs", "lr"] and config["resumed"]["at_epoch"] == 2


def test_resume_alone_continues_the_checkpoints_own_settings(tmp_path):
    train(small_mlp(epochs=2, lr=0.002), {"out": str(tmp_path), "epochs": 2})
    events = []
    # the graph file now says otherwise; the run continues as it was configured
    second = train(small_mlp(epochs=9, lr=0.5), {"resume": str(tmp_path), "epochs": 3}, on_event=events.append)
    assert second.epochs == 3
    assert _lrs(events) == [pytest.approx(0.002)]
    assert _config(tmp_path)["resumed"]["schedule"] == "continued"


def test_a_cosine_schedule_extended_by_resume_never_runs_past_its_end(tmp_path):
    events = []
    train(small_mlp(epochs=4, lr=0.01, schedule="cosine"), {"out": str(tmp_path)}, on_event=events.append)
    first = _lrs(events)
    # cosine over 4 epochs: the lr read during epoch k (1-based) is lr·(1+cos(π(k-1)/4))/2
    assert first == pytest.approx([0.01 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)])
    events = []
    train(small_mlp(epochs=4, lr=0.01, schedule="cosine"), {"resume": str(tmp_path), "epochs": 8},
          on_event=events.append)
    more = _lrs(events)
    # before: epoch 5 at lr 0, then back up; now the cosine re-planned for 8 epochs
    assert more == pytest.approx([0.01 * (1 + math.cos(math.pi * k / 8)) / 2 for k in range(4, 8)])
    assert all(lr > 0 for lr in more) and all(a > b for a, b in zip(more, more[1:]))
    assert _config(tmp_path)["resumed"]["schedule"] == "cosine extended to end at epoch 8"


def test_a_new_schedule_given_with_resume_restarts_from_the_lr(tmp_path):
    train(small_mlp(epochs=2, lr=0.01), {"out": str(tmp_path)})
    events = []
    train(small_mlp(epochs=2, lr=0.01), {"resume": str(tmp_path), "epochs": 5, "schedule": "cosine"},
          on_event=events.append)
    lrs = _lrs(events)
    assert lrs == pytest.approx([0.01 * (1 + math.cos(math.pi * k / 3)) / 2 for k in range(3)])
    config = _config(tmp_path)
    assert config["schedule"] == "cosine" and config["resumed"]["changed"] == ["epochs", "schedule"]


class Killed(BaseException):
    """What a kill -9 does to the code after it: nothing more runs (not even `except Exception`)."""


def test_a_kill_between_the_checkpoint_files_resumes_a_matching_pair(tmp_path, monkeypatch):
    torch.manual_seed(0)
    straight = train(small_mlp(epochs=3, seed=3), {"out": str(tmp_path / "straight")})
    saves = []
    real_save = RunDirectory.save_weights

    def save_weights(self, model, name):
        saves.append(name)
        if name == "last.safetensors" and saves.count(name) == 2:
            raise Killed  # epoch 2's state is on disk, its last.safetensors is not
        return real_save(self, model, name)

    monkeypatch.setattr(RunDirectory, "save_weights", save_weights)
    run = tmp_path / "killed"
    with pytest.raises(Killed):
        train(small_mlp(epochs=3, seed=3), {"out": str(run)})
    monkeypatch.undo()
    state = torch.load(run / "last_state.pt", weights_only=True)
    assert state["epoch"] == 2  # the state file (with its weights) is epoch 2's
    resumed = train(small_mlp(epochs=3, seed=3), {"resume": str(run)})
    assert resumed.status == "completed" and resumed.epochs == 3
    # epoch 2's weights with epoch 2's optimizer: exactly the run that was never killed
    assert resumed.final["val_loss"] == pytest.approx(straight.final["val_loss"], rel=1e-6)
    a = torch.load(run / "last_state.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "straight" / "last_state.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in b)
