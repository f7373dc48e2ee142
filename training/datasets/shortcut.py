"""`snow_shortcut`: the husky-vs-wolf lesson (Ribeiro, Singh, Guestrin 2016) as a built-in dataset.

Each image shows one small animal, a "husky" (a round blob) or a "wolf" (a diamond), on a
background that is either "snow" (bright, speckled) or "plain" (dark, smooth). In the training
split every wolf stands in snow and every husky on plain ground (`train_correlation` 1.0), so
the background alone predicts the class perfectly and is far easier to see than the animal's
shape; in the validation split (shipped by the source, not a random split) the background is
drawn independently of the class (`val_correlation` 0.5). A network that learned the shortcut
has high training accuracy and validation accuracy near chance, and its explanations put the
attribution on the background.

Fields: `image` (1, S, S) float32 in [0, 1]; `label` (husky, wolf); `mask` (S, S) int64, 1 on
the animal (to measure where attribution falls); `background` (plain, snow).
Options: n_samples (1200 training images; the validation split has a quarter as many),
image_size (32), train_correlation (1.0), val_correlation (0.5).
"""

from __future__ import annotations

import numpy as np

from .core import FieldInfo, Options, RawData, label_info

ANIMALS = ["husky", "wolf"]
BACKGROUNDS = ["plain", "snow"]


def shortcut_fields(size: int) -> dict[str, FieldInfo]:
    """The FieldInfos of snow_shortcut (shared with its static description in schema.py)."""
    return {"image": FieldInfo((1, size, size), "float32", None, None, "image"),
            "label": label_info(2, ANIMALS),
            "mask": FieldInfo((size, size), "int64", 2, ["background", "animal"], "mask"),
            "background": label_info(2, BACKGROUNDS)}


def shortcut_options(opts: Options) -> tuple[int, int, float, float]:
    """(n_samples, image_size, train_correlation, val_correlation), checked."""
    return (opts.integer("n_samples", 1200, minimum=8), opts.integer("image_size", 32, minimum=12),
            opts.number("train_correlation", 1.0, maximum=1.0), opts.number("val_correlation", 0.5, maximum=1.0))


def make_snow_shortcut(opts: Options, data_seed: int) -> RawData:
    """Animals on backgrounds that go with the class in training and not in validation."""
    n, size, train_corr, val_corr = shortcut_options(opts)
    rng = np.random.default_rng(data_seed)
    train = _split(rng, n, size, train_corr)
    val = _split(rng, max(2, n // 4), size, val_corr)
    return RawData("snow_shortcut", train, shortcut_fields(size), val, source="snow_shortcut")


def _split(rng: np.random.Generator, n: int, size: int, correlation: float) -> dict[str, np.ndarray]:
    labels = np.arange(n, dtype=np.int64) % 2
    rng.shuffle(labels)
    # With probability `correlation` the background is the class's own (wolf: snow, husky: plain).
    agrees = rng.random(n) < correlation
    backgrounds = np.where(agrees, labels, 1 - labels).astype(np.int64)
    images = np.empty((n, 1, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    for i in range(n):
        images[i, 0] = _background(rng, size, bool(backgrounds[i]))
        radius = rng.uniform(size * 0.14, size * 0.2)
        cy, cx = rng.uniform(radius + 1, size - radius - 1, size=2)
        if labels[i] == 1:  # wolf: a diamond
            inside = np.abs(yy - cy) + np.abs(xx - cx) <= radius * 1.25
        else:  # husky: a round blob
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius * radius
        masks[i][inside] = 1
        images[i, 0][inside] = rng.uniform(0.45, 0.6) + rng.normal(0.0, 0.04, size=int(inside.sum()))
    np.clip(images, 0.0, 1.0, out=images)
    return {"image": images, "label": labels, "mask": masks, "background": backgrounds}


def _background(rng: np.random.Generator, size: int, snow: bool) -> np.ndarray:
    if not snow:
        return rng.uniform(0.15, 0.3) + rng.normal(0.0, 0.02, size=(size, size))
    flakes = (rng.random((size, size)) < 0.25) * rng.uniform(0.15, 0.3, size=(size, size))
    return rng.uniform(0.7, 0.8) + flakes - 0.1 + rng.normal(0.0, 0.05, size=(size, size))
