"""The small parts users see through the engine: metric formulas, sample grids, run files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from training.control import RunControl, make_event
from training.metrics import MetricAccumulator, segmentation_scores
from training.rundir import RunDirectory, atomic_write_bytes
from training.samples import is_image_shape, masks_to_rgb, tile, to_rgb
from training.task import Head


def test_mean_iou_and_pixel_accuracy_by_hand():
    # truth rows, prediction columns: class 0 — 3 right, 1 taken for class 1; class 1 — 2 right
    confusion = torch.tensor([3, 1, 0, 2])
    scores = segmentation_scores(confusion)
    assert scores["pixel_accuracy"] == pytest.approx(5 / 6)
    assert scores["miou"] == pytest.approx((3 / 4 + 2 / 3) / 2)


def test_absent_classes_do_not_drag_mean_iou_down():
    confusion = torch.zeros(9, dtype=torch.int64)
    confusion[0], confusion[4] = 10, 10  # classes 0 and 1 perfect, class 2 never appears
    assert segmentation_scores(confusion)["miou"] == pytest.approx(1.0)


def test_accumulator_weights_losses_by_batch_size_and_counts_accuracy():
    heads = [Head("a", "cross_entropy", 1.0, "classify", (3,), "label"),
             Head("b", "mse", 1.0, "regress", (1,), "value")]
    acc = MetricAccumulator(heads)
    acc.add_losses({"loss": 1.0}, 10)
    acc.add_losses({"loss": 4.0}, 30)
    logits = torch.tensor([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0], [5.0, 0, 0]])
    acc.add_outputs({"a": logits, "b": torch.tensor([[1.0], [2.0], [3.0], [4.0]])},
                    {"a": torch.tensor([0, 1, 2, 2]), "b": torch.tensor([[1.5], [2.0], [3.0], [2.0]])})
    losses, metrics = acc.result()
    assert losses["loss"] == pytest.approx((10 + 120) / 40)
    assert metrics == {"accuracy": 0.75, "a.accuracy": 0.75, "b.mae": pytest.approx(2.5 / 4)}


def test_grids_scale_and_tile_images_and_colour_masks():
    images = to_rgb(np.stack([np.zeros((1, 4, 4)), np.ones((1, 4, 4))]))
    assert images.shape == (2, 4, 4, 3) and images[0].max() == 0 and images[1].min() == 255
    grid = tile(images, columns=2, pad=1, scale=2)
    assert grid.shape == (1 + 8 + 1, 1 + 2 * (8 + 1), 3)
    masks = masks_to_rgb(np.array([[[0, 1]]]))
    assert masks.shape == (1, 1, 2, 3) and not np.array_equal(masks[0, 0, 0], masks[0, 0, 1])
    assert is_image_shape((3, 8, 8)) and is_image_shape((8, 8)) and not is_image_shape((5, 8, 8))


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    atomic_write_bytes(target, b"old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"


def test_metric_rows_go_to_csv_and_jsonl_and_resume_appends(tmp_path):
    run = RunDirectory(tmp_path)
    run.log("epochs", {"epoch": 1, "val_loss": 0.5})
    run.close()
    again = RunDirectory(tmp_path, append=True)
    again.log("epochs", {"epoch": 2, "val_loss": 0.25, "extra": 1})
    again.close()
    assert (tmp_path / "epochs.csv").read_text().splitlines() == ["epoch,val_loss", "1,0.5", "2,0.25"]
    rows = [json.loads(line) for line in (tmp_path / "epochs.jsonl").read_text().splitlines()]
    assert rows == [{"epoch": 1, "val_loss": 0.5}, {"epoch": 2, "val_loss": 0.25, "extra": 1}]


def test_disabled_directory_writes_nothing(tmp_path):
    run = RunDirectory(tmp_path / "rank1", enabled=False)
    run.write_json("summary.json", {})
    run.log("steps", {"step": 1})
    assert not (tmp_path / "rank1").exists()


def test_events_always_carry_the_standard_keys():
    e = make_event("checkpoint", step=3, path="x")
    assert e == {"type": "checkpoint", "step": 3, "epoch": None, "split": None, "losses": {},
                 "metrics": {}, "throughput": None, "eta": None, "path": "x"}


def test_control_stop_wakes_a_paused_worker():
    c = RunControl()
    c.pause()
    assert c.paused
    c.stop()
    c.wait_if_paused()  # returns at once
    assert c.stopped and not c.paused


def test_mae_of_a_bce_reconstruction_compares_probabilities_not_logits():
    acc = MetricAccumulator([Head("r", "bce", 1.0, "reconstruct", (2,), target_input="x")])
    acc.add_outputs({"r": torch.tensor([[0.0, 100.0]])}, {"r": torch.tensor([[0.5, 1.0]])})
    assert acc.result()[1]["mae"] == pytest.approx(0.0)


def test_vae_reconstruction_sums_over_a_sample_like_the_kl_term():
    from training.metrics import head_loss

    head = Head("r", "mse", 1.0, "reconstruct", (4,), target_input="x")
    out, target = torch.ones(2, 4), torch.zeros(2, 4)
    assert float(head_loss(head, out, target)) == pytest.approx(1.0)
    assert float(head_loss(head, out, target, sum_per_sample=True)) == pytest.approx(4.0)


def _counted_one_by_one(head, batches):
    """The counts `add_outputs` made before it kept batches: each batch counted on its own."""
    acc = MetricAccumulator([head])
    for out, tgt in batches:
        acc.add_outputs({head.node: out}, {head.node: tgt})
        acc._fold(*acc._kept[0])  # count this batch now
    return acc.result()[1]


@pytest.mark.parametrize("fold_at", [1, 50, 1 << 18])
def test_kept_batches_count_the_same_as_one_batch_at_a_time(monkeypatch, fold_at):
    """Outputs kept and counted together (at FOLD_ELEMENTS values, at a shape change, in
    result()) give the same figures as counting every batch when it comes."""
    from training import metrics

    g = torch.Generator().manual_seed(0)
    cases = [
        (Head("c", "cross_entropy", 1.0, "classify", (4,), "label"),
         [(torch.randn(n, 4, generator=g), torch.randint(0, 4, (n,), generator=g)) for n in (8, 8, 5)]),
        (Head("b", "bce", 1.0, "binary", (1,), "flag"),
         [(torch.randn(n, 1, generator=g), torch.randint(0, 2, (n,), generator=g).float()) for n in (6, 6, 3)]),
        # sequences of another length in the third batch: kept batches are counted before it
        (Head("t", "cross_entropy", 1.0, "tokens", (5, 7), "target"),
         [(torch.randn(n, length, 7, generator=g), torch.randint(0, 7, (n, length), generator=g))
          for n, length in ((4, 5), (4, 5), (3, 6))]),
        (Head("s", "cross_entropy", 1.0, "segment", (3, 4, 4), "mask"),
         [(torch.randn(n, 3, 4, 4, generator=g), torch.randint(0, 3, (n, 4, 4), generator=g)) for n in (2, 2, 1)]),
        (Head("r", "mse", 1.0, "regress", (2,), "value"),
         [(torch.randn(n, 2, generator=g), torch.randn(n, 2, generator=g)) for n in (5, 5, 2)]),
    ]
    monkeypatch.setattr(metrics, "FOLD_ELEMENTS", fold_at)
    for head, batches in cases:
        acc = MetricAccumulator([head])
        for out, tgt in batches:
            acc.add_outputs({head.node: out.requires_grad_()}, {head.node: tgt})
        kept = acc.result()[1]
        expected = _counted_one_by_one(head, batches)
        assert kept.keys() == expected.keys() and kept, head.kind
        for name, value in expected.items():
            assert kept[name] == pytest.approx(value, rel=1e-6), (head.kind, name)


def test_classify_accuracy_by_hand_over_kept_batches():
    acc = MetricAccumulator([Head("c", "cross_entropy", 1.0, "classify", (2,), "label")])
    acc.add_outputs({"c": torch.tensor([[1.0, 0.0], [0.0, 1.0]])}, {"c": torch.tensor([0, 0])})
    acc.add_outputs({"c": torch.tensor([[1.0, 0.0]])}, {"c": torch.tensor([0])})
    assert acc.result()[1]["accuracy"] == pytest.approx(2 / 3)
    acc.add_outputs({"c": torch.tensor([[0.0, 1.0]])}, {"c": torch.tensor([1])})  # after a result()
    assert acc.result()[1]["accuracy"] == pytest.approx(3 / 4)
