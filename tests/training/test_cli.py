"""`netwright train`: progress on stderr, the final JSON line, exit codes, torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import graph_core as gc
from netwright.cli import main
from netwright.cmd_train import Progress, format_seconds
from tests.training import graphs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def graph_file(tmp_path):
    g = graphs.mlp_digits()
    g.data = {"dataset": "digits", "limit": 300}
    path = tmp_path / "mlp.json"
    gc.save_graph(g, path)
    return path


def test_json_line_is_last_on_stdout_and_progress_goes_to_stderr(graph_file, tmp_path, capsys):
    code = main(["train", str(graph_file), "--epochs", "2", "--json", "--out", str(tmp_path / "run"),
                 "--batch-size", "32", "--lr", "0.005", "--seed", "1"])
    out, err = capsys.readouterr()
    assert code == 0
    final = json.loads(out.strip().splitlines()[-1])
    assert set(final) >= {"val_loss", "val_accuracy", "epochs", "seconds"}
    assert final["epochs"] == 2 and final["seconds"] > 0 and 0 <= final["val_accuracy"] <= 1
    assert "epoch 1/2, train loss" in err and "val accuracy" in err and "samples/s" in err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["batch_size"], config["lr"], config["seed"], config["epochs"]) == (32, 0.005, 1, 2)


def test_invalid_graph_exits_1_with_node_lines(tmp_path, capsys):
    g = graphs.mlp_digits(classes=4)
    path = tmp_path / "bad.json"
    gc.save_graph(g, path)
    code = main(["train", str(path), "--json", "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "head: field 'label' has 10 classes but this head gives 4 scores" in err
    assert json.loads(out.strip().splitlines()[-1])["status"] == "failed"


def test_unreadable_file_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert main(["train", str(path)]) == 2


def test_dataset_flag_overrides_the_file(graph_file, tmp_path, capsys):
    code = main(["train", str(graph_file), "--dataset", "iris", "--out", str(tmp_path / "run")])
    _, err = capsys.readouterr()
    assert code == 1
    assert "image: field 'image' is not in iris" in err


def test_resume_flag_continues_a_run(graph_file, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(graph_file), "--epochs", "1", "--out", str(run), "--quiet"]) == 0
    assert main(["train", str(graph_file), "--epochs", "2", "--resume", str(run), "--json", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out.strip().splitlines()[-1])["epochs"] == 2
    rows = (run / "epochs.jsonl").read_text().splitlines()
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2]


def test_progress_bar_shows_loss_metric_throughput_and_eta():
    class Tty:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    stream = Tty()
    bar = Progress(stream)
    bar.handle({"type": "epoch", "epoch": 1, "epochs": 3, "losses": {"loss": 0.5},
                "metrics": {"accuracy": 0.875}, "train": {"losses": {"loss": 0.6}},
                "throughput": 1000.0, "monitor": "val_accuracy"})
    bar.handle({"type": "step", "epoch": 2, "epoch_step": 5, "epoch_steps": 10, "losses": {"loss": 0.25},
                "throughput": 1234.0, "eta": 75.0})
    last = stream.text.split("\r")[-1]
    assert "epoch 2 [############------------] 5/10" in last
    assert "loss 0.2500" in last and "acc 0.8750" in last and "1,234 samples/s" in last and "ETA 1:15" in last
    assert format_seconds(3725) == "1:02:05"


@pytest.mark.slow
def test_a_real_process_prints_the_json_line_last(graph_file, tmp_path):
    done = subprocess.run([sys.executable, "-m", "netwright", "train", str(graph_file), "--epochs", "1",
                           "--json", "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["epochs"] == 1


@pytest.mark.slow
def test_torchrun_with_two_cpu_processes_trains_with_ddp(graph_file, tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # --standalone: a free rendezvous port, so a second job on the machine cannot cross this one.
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "netwright", "train", str(graph_file), "--epochs", "1", "--json",
                           "--device", "cpu", "--out", str(run)],
                          capture_output=True, text=True, cwd=REPO, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    json_lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(json_lines) == 1  # only rank 0 prints
    assert json.loads(json_lines[0])["epochs"] == 1
    assert done.stderr.count("epoch 1/1,") == 1
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2
    # 240 training samples, split over two ranks of 120 each: 2 steps of 64 + 56 per rank
    steps = (run / "steps.jsonl").read_text().splitlines()
    assert len(steps) == 2
    assert (run / "last.safetensors").exists()
