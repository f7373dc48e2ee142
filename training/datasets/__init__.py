"""Datasets as named fields: the built-ins (nothing downloaded) and loaders for the user's files.

    from training.datasets import prepare
    data = prepare({"dataset": "digits", "image_size": 28}, seed=0)
    data.train.fields["image"].shape   # (N, 1, 28, 28) float32 in [0, 1]
    data.info["label"].num_classes     # 10

Field names the templates bind to: image (C, H, W), label (int64 class id; float32 (1,) for
regression), features (F,), sequence (DNA base ids (L,) or one-hot (4, L)), mask (H, W) int64,
omics_<name> (F,), tokens (L,) int64, series (L,). Every failure is a one-line `DataError`.
"""

from __future__ import annotations

from .builtin import builtin_names
from .core import DataError, FieldDataset, FieldInfo, PreparedData, RawData
from .prepare import load_raw, prepare, split_indices
from .series import gramian_angular_field, paa

__all__ = [
    "DataError", "FieldDataset", "FieldInfo", "PreparedData", "RawData",
    "builtin_names", "gramian_angular_field", "load_raw", "paa", "prepare", "split_indices",
]
