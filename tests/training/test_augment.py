"""The `augment` setting's warps: bounded, seeded, images and masks moved together."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import numpy as np
import pytest
import torch

from training import TrainConfig
from training.augment import ImageAugmenter, image_fields
from training.config import ConfigError
from training.datasets import FieldInfo


def square_batch(n: int = 16, size: int = 28) -> dict[str, torch.Tensor]:
    """n images with a bright 8x8 square in the middle, its mask (class 2), and a label."""
    image = torch.zeros(n, 1, size, size)
    lo, hi = size // 2 - 4, size // 2 + 4
    image[:, :, lo:hi, lo:hi] = 1.0
    mask = torch.zeros(n, size, size, dtype=torch.int64)
    mask[:, lo:hi, lo:hi] = 2
    return {"image": image, "mask": mask, "label": torch.arange(n)}


def centre_of_mass(image: torch.Tensor) -> torch.Tensor:
    """(n, 2) centre of each (n, 1, H, W) image's brightness, in pixels (row, column)."""
    h, w = image.shape[-2:]
    weight = image.sum((1, 2, 3))
    rows = (image.sum((1, 3)) * torch.arange(h)).sum(1) / weight
    cols = (image.sum((1, 2)) * torch.arange(w)).sum(1) / weight
    return torch.stack([rows, cols], 1)


def test_shift_moves_each_image_by_at_most_two_pixels_at_28():
    batch = square_batch()
    out = ImageAugmenter("shift", ["image"], [], seed=0)(batch)
    moved = centre_of_mass(out["image"]) - centre_of_mass(batch["image"])
    assert moved.abs().max() <= 2.0 + 1e-4
    assert moved.abs().max() > 0.5, "the samples do move"
    assert out["image"].shape == batch["image"].shape and out["image"].dtype == torch.float32
    assert torch.equal(out["label"], batch["label"]), "labels are never touched"
    assert torch.equal(batch["image"], square_batch()["image"]), "the batch given is not modified"


def test_masks_follow_their_image_and_keep_whole_class_ids():
    batch = square_batch()
    out = ImageAugmenter("affine", ["image"], ["mask"], seed=1)(batch)
    mask = out["mask"]
    assert mask.dtype == torch.int64 and set(mask.unique().tolist()) <= {0, 2}
    bright = out["image"][:, 0] > 0.5
    marked = mask == 2
    iou = (bright & marked).sum((1, 2)) / (bright | marked).sum((1, 2))
    assert iou.min() > 0.8, iou


def test_same_seed_same_warps_another_seed_others():
    batch = square_batch()
    first, again, other = (ImageAugmenter("affine", ["image"], [], seed=s)(batch)["image"] for s in (5, 5, 6))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_image_fields_are_the_images_and_masks_the_graph_reads():
    info = {"image": FieldInfo((1, 32, 32), "float32", kind="image"),
            "mask": FieldInfo((32, 32), "int64", 4, kind="mask"),
            "label": FieldInfo((), "int64", 4, kind="label"),
            "series": FieldInfo((128,), "float32", kind="series")}
    assert image_fields(info, {"image", "mask", "label"}) == (["image"], ["mask"])
    assert image_fields(info, {"image", "label"}) == (["image"], [])
    assert image_fields(info, {"series", "label"}) == ([], [])


def test_augment_setting_is_checked():
    assert TrainConfig.resolve({"augment": "Affine"}).augment == "affine"
    assert TrainConfig.resolve({}).augment == "none"
    with pytest.raises(ConfigError, match="augment: 'flip' is not one of none, shift, affine"):
        TrainConfig.resolve({"augment": "flip"})


def test_the_augmenter_pickles_without_shared_memory_and_draws_on_alike():
    aug = ImageAugmenter("affine", ["image"], [], seed=3)
    aug.draw(5)
    copy = pickle.loads(ForkingPickler.dumps(aug))  # how DataLoader hands it to a worker
    assert torch.equal(copy.draw(4), aug.draw(4))  # the generator's state came along


def test_streamed_augmented_training_under_the_spawn_start_method(tmp_path):
    # spawn is the default on macOS and Windows: a worker that received the augmenter's
    # generator as a shared tensor died ("unable to resize file ... Invalid argument")
    from tests.training.data_helpers import write_image_folder

    rng = np.random.default_rng(0)
    folder = write_image_folder(tmp_path / "photos", {name: [rng.integers(0, 256, (16, 16), dtype=np.uint8)
                                                             for _ in range(12)] for name in ("a", "b")})
    script = tmp_path / "spawned.py"
    script.write_text(textwrap.dedent(f"""
        import multiprocessing
        if __name__ == "__main__":
            multiprocessing.set_start_method("spawn", force=True)
            import torch
            torch.set_num_threads(1)
            import templates
            from training import train
            g = templates.build("lenet", in_channels=1, input_size=16, num_classes=2)
            g.training = {{"epochs": 1, "batch_size": 8, "augment": "shift"}}
            g.data = {{"dataset": {str(folder)!r}, "stream": "on", "workers": 1}}
            result = train(g, {{"out": {str(tmp_path / "run")!r}}})
            print(result.status, result.error)
    """), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script)], cwd=root, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.stdout.strip().startswith("completed"), done.stdout[-2000:] + done.stderr[-2000:]
