"""Sample grids: tensors of images (or masks) tiled into one RGB uint8 picture for a PNG.

Images are scaled per grid (min..max -> 0..255), which suits both tanh generators and
standardised data; class masks get a fixed palette so a class keeps its colour across epochs.
"""

from __future__ import annotations

import numpy as np

_PALETTE = np.array([
    (20, 20, 20), (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128),
], dtype=np.uint8)


def is_image_shape(shape: tuple[int, ...]) -> bool:
    """Whether samples of this shape (no batch axis) can be drawn: (H, W) or (1|3, H, W)."""
    return len(shape) == 2 or (len(shape) == 3 and shape[0] in (1, 3))


def to_rgb(batch: np.ndarray) -> np.ndarray:
    """(N, C, H, W) or (N, H, W) floats -> (N, H, W, 3) uint8, scaled over the whole batch."""
    x = np.asarray(batch, dtype=np.float32)
    if x.ndim == 3:
        x = x[:, None]
    x = np.nan_to_num(x)
    lo, hi = float(x.min()), float(x.max())
    x = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    x = (x * 255).round().astype(np.uint8).transpose(0, 2, 3, 1)
    return np.repeat(x, 3, axis=3) if x.shape[3] == 1 else x


def masks_to_rgb(masks: np.ndarray) -> np.ndarray:
    """(N, H, W) class ids -> (N, H, W, 3) palette colours."""
    return _PALETTE[np.asarray(masks, dtype=np.int64) % len(_PALETTE)]


def tile(images: np.ndarray, columns: int = 8, pad: int = 1, scale: int = 1) -> np.ndarray:
    """(N, H, W, 3) uint8 -> one grid picture, `columns` wide, optionally enlarged `scale` times."""
    n, h, w, _ = images.shape
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
        h, w = h * scale, w * scale
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    grid = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, 3), 255, dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[i]
    return grid


def upscale_for(h: int) -> int:
    """An integer enlargement that makes tiny samples (8x8 digits) visible: about 32 px."""
    return max(1, 32 // max(h, 1))
