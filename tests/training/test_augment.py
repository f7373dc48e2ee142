"""The `augment` setting's warps: bounded, seeded, images and masks moved together."""

from __future__ import annotations

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
