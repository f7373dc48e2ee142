"""Faithfulness: does removing what a method calls important actually change the decision?

The deletion curve (Petsiuk, Das, Saenko 2018, "RISE") removes the input's units (pixels,
positions, features; see `methods.unit_map`) most-attributed first, in `STEPS` equal slices,
and records the explained class's probability after each slice. A faithful map makes the
probability fall fast, so the area under the curve is small. The same curve for random orders
(the mean of `RANDOM_ORDERS` orders) is the yardstick: a method whose area is not below the
random one's explains nothing about this decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .methods import unit_map

STEPS = 20
RANDOM_ORDERS = 5
# Areas closer than this share of the random one are a tie: 0.987 against 0.987 is not "faster".
TIE = 0.01


@dataclass
class DeletionCurve:
    """Probability of the explained class against the fraction of units removed.

    Attributes:
        fractions: 0 .. 1, STEPS + 1 values.
        by_attribution: the probability, most-attributed units removed first.
        random: the mean probability over random orders.
        area: area under `by_attribution` (trapezoids over fractions); lower is more faithful.
        random_area: the same for `random`.
    """

    fractions: list[float]
    by_attribution: list[float]
    random: list[float]
    area: float
    random_area: float

    @property
    def faster_than_random(self) -> bool:
        """True when the attribution order's area is below the random one's by more than a tie."""
        return self.area < self.random_area - TIE * max(abs(self.random_area), abs(self.area))

    def to_dict(self) -> dict:
        return {"fractions": self.fractions, "by_attribution": self.by_attribution, "random": self.random,
                "area": self.area, "random_area": self.random_area}


def deletion_curve(probability: torch.nn.Module | object, x: torch.Tensor, attribution: np.ndarray,
                   target: int, seed: int = 0) -> DeletionCurve:
    """The deletion curve of one explanation.

    Args:
        probability: callable (N, ...) -> (N, K) class probabilities.
        x: the explained input (1, ...).
        attribution: same shape as x without the batch axis.
        target: the class whose probability is followed.
        seed: for the random orders.
    """
    units = unit_map(tuple(x.shape[1:]))
    count = int(units.max()) + 1
    score = np.zeros(count)
    np.add.at(score, units.ravel(), attribution.ravel())
    rng = np.random.default_rng(seed)
    # Ties (a zero gradient over many units) are broken at random, not by position.
    ranked = np.lexsort((rng.random(count), -score))
    orders = [ranked] + [rng.permutation(count) for _ in range(RANDOM_ORDERS)]
    cuts = np.round(np.linspace(0, count, STEPS + 1)).astype(int)
    batch = []
    for order in orders:
        rank = np.empty(count, dtype=np.int64)
        rank[order] = np.arange(count)
        element_rank = torch.as_tensor(rank[units])
        for cut in cuts:
            batch.append(torch.where(element_rank < int(cut), torch.zeros_like(x[0]), x[0]))
    with torch.no_grad():
        probs = probability(torch.stack(batch))[:, target].float().numpy()
    curves = probs.reshape(len(orders), len(cuts))
    fractions = (cuts / count).tolist()
    random_mean = curves[1:].mean(axis=0)
    return DeletionCurve(fractions, curves[0].tolist(), random_mean.tolist(),
                         float(np.trapezoid(curves[0], fractions)), float(np.trapezoid(random_mean, fractions)))
