"""Data larger than memory: streamed image folders and memory-mapped IDX files, read per batch."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.training import graphs
from tests.training.data_helpers import write_idx, write_image_folder
from training import prepare, train
from training.datasets import lazy

ROOT = Path(__file__).resolve().parents[2]


def _folder(tmp_path: Path, per_class: int = 12, side: int = 16, channels: int = 1) -> Path:
    rng = np.random.default_rng(0)
    shape = (side, side) if channels == 1 else (side, side, 3)
    classes = {name: [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(per_class)]
               for name in ("cat", "dog")}
    return write_image_folder(tmp_path / "photos", classes)


def _conv_graph(data: dict, channels: int = 1, side: int = 16, **training):
    import templates

    g = templates.build("lenet", in_channels=channels, input_size=side, num_classes=2)
    g.training = {"optimizer": "adam", "epochs": 1, "batch_size": 8, "augment": "none", **training}
    g.data = data
    return g


def test_a_streamed_folder_gives_the_same_samples_as_one_in_memory(tmp_path):
    folder = _folder(tmp_path, channels=3)
    eager = prepare({"dataset": str(folder), "stream": "off"}, seed=1)
    streamed = prepare({"dataset": str(folder), "stream": "on"}, seed=1)
    field = streamed.train.fields["image"]
    assert isinstance(field, lazy.ImageFiles) and field.dtype == np.uint8
    assert isinstance(eager.train.fields["image"], np.ndarray)
    assert streamed.train.streamed and not eager.train.streamed
    assert field.shape == eager.train.fields["image"].shape
    # indexing a streamed field gives what the in-memory one holds: float32 in [0, 1]
    np.testing.assert_array_equal(field[:5], eager.train.fields["image"][:5])
    np.testing.assert_array_equal(streamed.val.fields["label"], eager.val.fields["label"])
    assert field.read([0]).dtype == np.uint8


def test_auto_streams_when_the_decoded_size_passes_a_quarter_of_the_memory_limit(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    assert not prepare({"dataset": str(folder)}).train.streamed
    monkeypatch.setattr(lazy, "memory_budget", lambda: 4 * 1000)  # 24 images of 16x16 = 24 KB
    assert prepare({"dataset": str(folder)}).train.streamed
    assert not prepare({"dataset": str(folder), "stream": "off"}).train.streamed


def test_the_first_pass_reads_headers_and_reports_progress(tmp_path):
    folder = _folder(tmp_path)
    seen = []
    prepare({"dataset": str(folder), "stream": "on"}, progress=lambda *a: seen.append(a))
    stages = [s for s, *_ in seen]
    assert "listing files" in stages and "reading headers" in stages
    assert seen[-1] == ("reading headers", 24, 24)


def test_a_broken_file_in_a_streamed_folder_is_named_before_training(tmp_path):
    folder = _folder(tmp_path)
    (folder / "dog" / "img_005.png").write_bytes(b"not an image")
    result = train(_conv_graph({"dataset": str(folder), "stream": "on"}), {"out": str(tmp_path / "run")})
    assert result.status == "failed" and "img_005.png" in result.error


@pytest.mark.parametrize("augment", ["none", "shift"])
def test_training_on_a_streamed_folder_with_workers(tmp_path, augment):
    folder = _folder(tmp_path, per_class=20)
    events = []
    g = _conv_graph({"dataset": str(folder), "stream": "on", "workers": 2})
    result = train(g, {"out": str(tmp_path / "run"), "epochs": 2, "augment": augment},
                   on_event=events.append)
    assert result.status == "completed", result.error
    steps = [e for e in events if e["type"] == "step"]
    assert len(steps) == result.steps == 2 * 4  # 32 training images, batches of 8
    data = [e for e in events if e["type"] == "data"]
    assert data and data[-1]["stage"] == "reading headers" and data[-1]["done"] == 40
    assert 0.0 <= result.final["val_accuracy"] <= 1.0


def test_a_large_idx_file_is_memory_mapped(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 12, 12), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", (np.arange(30) % 3).astype(np.uint8))
    streamed = prepare({"dataset": str(tmp_path), "stream": "on", "val_fraction": 0.0})
    eager = prepare({"dataset": str(tmp_path), "stream": "off", "val_fraction": 0.0})
    field = streamed.train.fields["image"]
    assert isinstance(field, lazy.MappedArray) and field.shape == (30, 1, 12, 12)
    np.testing.assert_array_equal(field[:], eager.train.fields["image"])
    assert field.read([3, 1]).dtype == np.uint8
    np.testing.assert_array_equal(field.read([3, 1])[:, 0], images[[3, 1]])


# The subprocess: measure resident memory after a warm-up on a tiny folder, then train one epoch
# on the big folder and report the peaks (its own, and its DataLoader workers').
_MEASURE = textwrap.dedent("""
    import json, resource, sys
    import torch
    torch.set_num_threads(1)
    import templates
    from training import train

    def graph(folder):
        g = templates.build("lenet", in_channels=3, input_size=SIDE, num_classes=2)
        g.training = {"epochs": 1, "batch_size": 16, "optimizer": "sgd", "augment": "shift"}
        g.data = {"dataset": folder, "stream": "on", "workers": 2, "val_fraction": 0.1}
        return g

    def rss_now():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    import time
    T0 = time.perf_counter()
    small, big, out = sys.argv[1:4]
    train(graph(small), {"out": out + "/warm", "samples": False})
    baseline = rss_now()
    with open("/proc/self/clear_refs", "w") as f:  # peak RSS := current RSS (Linux >= 4.0)
        f.write("5")
    result = train(graph(big), {"out": out + "/big", "samples": False})
    with open("/proc/self/status") as f:
        peak = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM"))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    import time
    print(json.dumps({"t": time.perf_counter() - T0, "status": result.status, "error": result.error, "baseline": baseline,
                      "peak": peak, "workers": workers, "steps": result.steps}))
""")


@pytest.mark.slow
def test_peak_memory_stays_under_a_quarter_of_the_decoded_size(tmp_path):
    """A folder whose decoded float32 size is 4x the memory allowed beyond the baseline trains
    within that allowance, in the trainer and in every worker."""
    side, allowance = 64, 24 << 20
    per_image = 3 * side * side * 4
    count = (4 * allowance) // per_image // 2 + 1  # per class: 2 classes, 4x the allowance in all
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)

    def images(n):
        return [np.roll(base, k, axis=1) for k in range(n)]

    # BMP: written and decoded fastest, so the test spends its time training
    big = write_image_folder(tmp_path / "big", {"a": images(count), "b": images(count)}, ".bmp")
    small = write_image_folder(tmp_path / "small", {"a": images(8), "b": images(8)}, ".bmp")
    assert 2 * count * per_image >= 4 * allowance
    script = _MEASURE.replace("SIDE", str(side))
    done = subprocess.run([sys.executable, "-c", script, str(small), str(big), str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["status"] == "completed", figures["error"]
    assert figures["steps"] >= (2 * count * 0.9) // 16
    limit = figures["baseline"] + allowance
    assert figures["peak"] < limit, figures
    assert figures["workers"] < limit, figures


def test_host_reads_per_epoch_do_not_grow_with_the_number_of_steps(tmp_path, monkeypatch):
    """The engine reads losses back from the device at its reporting interval, not every step."""
    from training import engine

    monkeypatch.setattr(engine, "REPORT_SECONDS", float("inf"))
    monkeypatch.setattr(engine, "REPORT_MIN_SECONDS", 0.0)  # reports by count alone, not by clock
    monkeypatch.setattr(engine, "REPORTS_PER_EPOCH", 10)
    counts = {}
    reads = {"n": 0}
    originals = {name: getattr(torch.Tensor, name) for name in ("item", "tolist", "cpu", "numpy")}

    def counting(name):
        original = originals[name]

        def wrapper(self, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if "/training/" in caller.replace("\\", "/"):
                reads["n"] += 1
            return original(self, *args, **kwargs)
        return wrapper

    for name in originals:
        monkeypatch.setattr(torch.Tensor, name, counting(name))
    for samples in (100, 1000):
        g = graphs.mlp_digits(epochs=1, batch_size=2, optimizer="sgd")
        g.data = {"dataset": "digits", "limit": samples, "val_fraction": 0.1}
        reads["n"] = 0
        events = []
        result = train(g, {"out": str(tmp_path / str(samples)), "samples": False}, on_event=events.append)
        assert result.status == "completed"
        counts[samples] = (result.steps, reads["n"])
        # every step is still reported, with its own loss
        assert [e["step"] for e in events if e["type"] == "step"] == list(range(1, result.steps + 1))
    (few_steps, few_reads), (many_steps, many_reads) = counts[100], counts[1000]
    assert many_steps >= 9 * few_steps
    # one read per report (10 an epoch here), and a few for the epoch's evaluation and figures
    assert few_reads <= 10 + 5 and many_reads <= 10 + 5, counts
    assert many_reads <= few_reads + 2, counts



def test_a_long_epoch_reports_by_the_clock_and_a_short_one_every_step(tmp_path, monkeypatch):
    """Past REPORTS_PER_EPOCH steps an epoch's reports are also spaced by REPORT_MIN_SECONDS (a
    report's fixed cost was 7 us of the moons MLP's 0.3 ms step); up to it, every step reports."""
    from training import engine

    monkeypatch.setattr(engine, "REPORT_SECONDS", float("inf"))
    monkeypatch.setattr(engine, "REPORT_MIN_SECONDS", float("inf"))  # no report before the epoch's end
    monkeypatch.setattr(engine, "REPORTS_PER_EPOCH", 10)
    for samples, batch, epoch_steps in ((1000, 2, 450), (100, 16, 6)):
        g = graphs.mlp_digits(epochs=2, batch_size=batch, optimizer="sgd")
        g.data = {"dataset": "digits", "limit": samples, "val_fraction": 0.1}
        events = []
        result = train(g, {"out": str(tmp_path / str(samples)), "samples": False}, on_event=events.append)
        assert result.status == "completed"
        steps = [e for e in events if e["type"] == "step"]
        assert [e["step"] for e in steps] == list(range(1, 2 * epoch_steps + 1))
        assert {e["epoch_steps"] for e in steps} == {epoch_steps}
        sizes = {e["steps"] for e in steps}  # the number of steps in each event's report
        # a long epoch: one report of all its steps; a short one: a report a step
        assert sizes == ({epoch_steps} if epoch_steps > 10 else {1}), sizes
        losses = [e["losses"]["loss"] for e in steps[:epoch_steps]]
        assert len(set(losses)) > epoch_steps // 2  # each step keeps its own loss


_RANK_SCRIPT = textwrap.dedent("""
    import json, os, sys
    import torch
    torch.set_num_threads(1)
    import templates
    from training import train
    from training.datasets import lazy

    folder, out, log = sys.argv[1:4]
    rank = os.environ["RANK"]
    original = lazy.decode_image

    def logged(file, index, channels, size):  # runs in this rank's DataLoader workers
        with open(f"{log}/rank{rank}-{os.getpid()}.txt", "a") as handle:
            handle.write(str(file) + "\\n")
        return original(file, index, channels, size)

    lazy.decode_image = logged
    g = templates.build("lenet", in_channels=1, input_size=16, num_classes=2)
    g.training = {"optimizer": "sgd", "epochs": 1, "batch_size": 4, "augment": "none"}
    g.data = {"dataset": folder, "stream": "on", "workers": 1, "val_fraction": 0.25}
    result = train(g, {"out": out, "device": "cpu", "samples": False})
    print(json.dumps({"rank": rank, "status": result.status, "error": result.error}))
""")


@pytest.mark.slow
def test_under_torchrun_each_rank_reads_its_own_shard_of_a_streamed_folder(tmp_path):
    import os

    folder = _folder(tmp_path, per_class=16)
    log = tmp_path / "reads"
    log.mkdir()
    script = tmp_path / "rank.py"
    script.write_text(_RANK_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", str(script), str(folder), str(tmp_path / "run"), str(log)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert sorted(s["rank"] for s in statuses) == ["0", "1"]
    assert all(s["status"] == "completed" for s in statuses), statuses
    data = prepare({"dataset": str(folder), "stream": "on", "val_fraction": 0.25}, seed=0)
    train_files = set(data.train.sources)
    val_files = set(data.val.sources)
    reads = {r: [line for p in log.glob(f"rank{r}-*.txt") for line in p.read_text().splitlines()]
             for r in ("0", "1")}
    shards = {r: [f for f in files if f in train_files] for r, files in reads.items()}
    # each rank decoded half the training images, each once, and the halves do not overlap
    assert len(shards["0"]) == len(shards["1"]) == len(train_files) // 2
    assert len(set(shards["0"])) == len(shards["0"])
    assert not set(shards["0"]) & set(shards["1"])
    assert set(shards["0"]) | set(shards["1"]) == train_files
    assert all(f in train_files | val_files for files in reads.values() for f in files)


def test_the_cli_shows_the_first_pass_once_per_stage_in_a_log():
    import io

    from netwright.cmd_train import Progress

    stream = io.StringIO()
    bar = Progress(stream)
    for done in (100, 200):
        bar.handle({"type": "data", "stage": "reading headers", "done": done, "total": 200})
    assert stream.getvalue() == "data: reading headers 200/200\n"


def test_a_large_npz_is_memory_mapped(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 3, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "big.npz", image=images, label=np.arange(20) % 2)
    streamed = prepare({"dataset": str(tmp_path / "big.npz"), "stream": "on", "val_fraction": 0.0})
    eager = prepare({"dataset": str(tmp_path / "big.npz"), "stream": "off", "val_fraction": 0.0})
    field = streamed.train.fields["image"]
    assert isinstance(field, lazy.MappedArray) and field.shape == (20, 3, 8, 8)
    np.testing.assert_array_equal(field[:], eager.train.fields["image"])
    np.testing.assert_array_equal(field.read([4, 2]), images[[4, 2]])
    # compressed archives cannot be mapped: read whole, as before
    np.savez_compressed(tmp_path / "small.npz", image=images, label=np.arange(20) % 2)
    packed = prepare({"dataset": str(tmp_path / "small.npz"), "stream": "on", "val_fraction": 0.0})
    assert isinstance(packed.train.fields["image"], np.ndarray)


def test_describe_reads_only_the_headers_of_a_streamed_folder(tmp_path, monkeypatch):
    from training.datasets import describe

    folder = _folder(tmp_path, channels=3)

    def no_decoding(*args):
        raise AssertionError("describe decoded an image")

    monkeypatch.setattr(lazy, "decode_image", no_decoding)
    schema = describe({"dataset": str(folder), "stream": "on"})
    assert schema.fields["image"].shape == (3, 16, 16) and schema.fields["image"].dtype == "float32"
    assert schema.n_samples == 24 and schema.label_counts == (12, 12)
    assert schema.split_counts(0.25) == (18, 6)


def test_augmentation_in_the_workers_is_reproducible_and_changes_what_is_seen(tmp_path):
    folder = _folder(tmp_path, per_class=16)
    g = _conv_graph({"dataset": str(folder), "stream": "on", "workers": 2})
    runs = [train(g, {"out": str(tmp_path / str(i)), "seed": 3, "augment": mode, "epochs": 2})
            for i, mode in enumerate(("affine", "affine", "none"))]
    assert all(r.status == "completed" for r in runs), [r.error for r in runs]
    curves = [[row["train_loss"] for row in r.history] for r in runs]
    assert curves[0] == curves[1], "the same seed warps the same way, whichever worker warps"
    assert curves[0] != curves[2], "augment changes what the network sees"
