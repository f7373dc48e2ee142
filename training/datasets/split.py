"""Seeded, stratified choices of samples: the validation split and the `limit` subsample.

Both keep class proportions where there are class labels (largest-remainder quotas per class),
and both are functions of a numpy Generator only, so the same seed gives the same samples.
"""

from __future__ import annotations

import numpy as np


def split_indices(n: int, val_fraction: float, rng: np.random.Generator,
                  labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, val) index arrays; per class when `labels` is given (stratified).

    The validation side holds round(n * val_fraction) samples, shared among the classes in
    proportion to their sizes; every class with at least two samples keeps one on each side
    when val_fraction > 0.
    """
    n_val = round(n * val_fraction) if val_fraction > 0 else 0
    if val_fraction > 0 and n > 1:
        n_val = min(n - 1, max(1, n_val))
    if labels is None:
        order = rng.permutation(n)
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    classes, counts = np.unique(labels, return_counts=True)
    quota = allocate(counts, n_val)
    if val_fraction > 0:
        quota = np.where(counts >= 2, np.clip(quota, 1, counts - 1), quota)
    train_parts, val_parts = [], []
    for cls, k in zip(classes, quota):
        members = rng.permutation(np.flatnonzero(labels == cls))
        val_parts.append(members[:k])
        train_parts.append(members[k:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(val_parts))


def allocate(counts: np.ndarray, total: int) -> np.ndarray:
    """Split `total` among classes in proportion to `counts` (largest remainders get the rest)."""
    exact = counts * (total / max(1, counts.sum()))
    quota = np.floor(exact).astype(np.int64)
    # Stable order: ties go to the earlier class, so the same input gives the same quotas.
    for i in np.argsort(-(exact - quota), kind="stable")[: total - int(quota.sum())]:
        quota[i] += 1
    return quota


def subsample(n: int, labels: np.ndarray | None, limit: int | None,
              rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of at most `limit` samples, keeping class proportions where labelled."""
    if limit is None or limit >= n:
        return np.arange(n)
    if labels is None:
        return np.sort(rng.permutation(n)[:limit])
    classes, counts = np.unique(labels, return_counts=True)
    keep = [rng.permutation(np.flatnonzero(labels == cls))[:k]
            for cls, k in zip(classes, allocate(counts, limit))]
    return np.sort(np.concatenate(keep))
