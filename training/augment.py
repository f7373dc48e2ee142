"""Data augmentation of image fields: small random affine warps of training batches.

A network that has seen every training digit a dozen times starts to memorise them (LeNet on
digits reaches 100 % training accuracy by epoch 11). Warping each training batch a little —
a shift of a pixel or two, a few degrees of rotation, a few percent of scale — shows it a new
variant of every sample each epoch, so it learns the strokes instead. Only the training split is
warped; validation samples are seen as they are.

A warp is drawn per sample and applied on the batch's device with `affine_grid` and
`grid_sample`: bilinear for image fields, nearest for the masks of the same size (so a
segmentation mask moves with its image and keeps whole class ids). Draws come from a generator
seeded from the run's seed, so the same seed gives the same run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class WarpRange:
    """How far a random warp may go; each draw is uniform within +-the given amount."""

    shift: float  # fraction of the image's width / height
    degrees: float
    scale: float  # relative: 0.1 means 0.9x..1.1x


# The ranges each `augment` setting stands for. "shift" moves by up to 1/14 of the image
# (2 pixels at 28x28); "affine" adds up to 10 degrees of rotation and 10 % of scale, the
# ranges of the classic MNIST augmentation that keep a 6 a 6.
RANGES = {"shift": WarpRange(shift=1 / 14, degrees=0.0, scale=0.0),
          "affine": WarpRange(shift=1 / 14, degrees=10.0, scale=0.1)}


def image_fields(info: Mapping[str, Any], fields: set[str]) -> tuple[list[str], list[str]]:
    """The fields to warp: (images (C, H, W), masks (H, W) of the same size as an image).

    Args:
        info: field name -> FieldInfo, as `prepare` reports it.
        fields: the fields the graph reads.
    """
    images = sorted(n for n in fields if n in info and info[n].kind == "image"
                    and len(info[n].shape) == 3)
    sizes = {tuple(info[n].shape[1:]) for n in images}
    masks = sorted(n for n in fields if n in info and info[n].kind == "mask"
                   and tuple(info[n].shape) in sizes)
    return images, masks


class ImageAugmenter:
    """Warps the image fields of training batches; `__call__` returns the warped batch.

    Args:
        mode: a key of RANGES ("shift" or "affine").
        images: float fields shaped (N, C, H, W) in a batch.
        masks: integer fields shaped (N, H, W) that follow the images' warp.
        seed: seeds the draws (derived from the run's seed and the process's rank).
        channels_last: keep the warped images in channels_last memory format.
    """

    def __init__(self, mode: str, images: list[str], masks: list[str], seed: int,
                 channels_last: bool = False) -> None:
        self.range = RANGES[mode]
        self.images, self.masks = images, masks
        self.channels_last = channels_last
        self.generator = torch.Generator().manual_seed(seed)

    def __getstate__(self) -> dict[str, Any]:
        # A torch.Generator pickles its state as a tensor, which multiprocessing hands to a
        # spawned DataLoader worker through shared memory, and the worker died mapping it
        # (spawn is the default on macOS and Windows). Its state travels as plain bytes.
        state = dict(self.__dict__)
        state["generator"] = self.generator.get_state().numpy().tobytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        generator = torch.Generator()
        generator.set_state(torch.frombuffer(bytearray(state.pop("generator")), dtype=torch.uint8))
        self.__dict__.update(state)
        self.generator = generator

    def __call__(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self.images:
            return batch
        first = batch[self.images[0]]
        theta = self.draw(first.shape[0]).to(first.device)
        out = dict(batch)
        for name in self.images:
            x = batch[name]
            grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
            y = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
            out[name] = y.contiguous(memory_format=torch.channels_last) if self.channels_last else y
        for name in self.masks:
            m = batch[name]
            shape = [m.shape[0], 1, *m.shape[1:]]
            grid = F.affine_grid(theta, shape, align_corners=False)
            # grid_sample pads with 0, which is the background class of every mask we ship.
            warped = F.grid_sample(m.unsqueeze(1).float(), grid, mode="nearest", padding_mode="zeros",
                                   align_corners=False)
            out[name] = warped.squeeze(1).round().to(m.dtype)
        return out

    def draw(self, n: int) -> torch.Tensor:
        """n random affine matrices (n, 2, 3) in affine_grid's normalised coordinates.

        A matrix maps output coordinates to input ones, so it is the inverse of the warp the
        samples undergo; the ranges are symmetric, which makes that distinction moot.
        """
        r = self.range

        def uniform(amount: float) -> torch.Tensor:
            return (torch.rand(n, generator=self.generator) * 2 - 1) * amount

        angle = uniform(math.radians(r.degrees))
        scale = 1 + uniform(r.scale)
        # normalised coordinates span 2 units across the image
        tx, ty = uniform(2 * r.shift), uniform(2 * r.shift)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        return torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
