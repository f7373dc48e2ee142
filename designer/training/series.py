"""Metric curves as numpy buffers: what the live plots draw, fed from the engine's event dicts.

Step events append to per-metric step series, epoch events to per-metric epoch series. Each
point keeps two x coordinates, the global step and the fractional epoch, so the plots can switch
their x axis without recomputing anything. Buffers grow by doubling up to `capacity` points and
then keep the newest `capacity` (a ring), so a week-long run never grows memory without bound.
No Qt here: the store is plain data, tested on its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DEFAULT_CAPACITY = 1 << 20  # about a million points per curve before the oldest are dropped


class Series:
    """One curve: x by step, x by epoch, y, and an exponential moving average of y.

    Args:
        capacity: the most points kept; older points are dropped beyond it.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._data = np.empty((4, 256), dtype=np.float64)  # rows: step, epoch, y, smoothed
        self._start = 0  # first live column once the buffer runs as a ring
        self._n = 0
        self._alpha = 0.0  # smoothing: 0 = none, 0.99 = very smooth
        self._ema: float | None = None
        self.version = 0  # bumped on every change, so a plot redraws only what changed

    def __len__(self) -> int:
        return self._n

    def append(self, step: float, epoch: float, value: float) -> None:
        """Add one point; non-finite values are kept out of the smoothing (drawn as gaps)."""
        if self._start + self._n >= self._data.shape[1]:
            self._make_room()
        col = self._start + self._n
        smoothed = value
        if math.isfinite(value):
            self._ema = value if self._ema is None else self._alpha * self._ema + (1 - self._alpha) * value
            smoothed = self._ema
        self._data[:, col] = (step, epoch, value, smoothed)
        self._n += 1
        self.version += 1

    def set_smoothing(self, alpha: float) -> None:
        """Recompute the moving average for a new factor (0 <= alpha < 1) over all points."""
        alpha = min(max(float(alpha), 0.0), 0.999)
        if alpha == self._alpha:
            return
        self._alpha = alpha
        y = self.y
        self._data[3, self._start:self._start + self._n] = ema(y, alpha)
        finite = y[np.isfinite(y)]
        self._ema = float(self._data[3, self._start + self._n - 1]) if len(finite) else None
        self.version += 1

    @property
    def steps(self) -> np.ndarray:
        return self._data[0, self._start:self._start + self._n]

    @property
    def epochs(self) -> np.ndarray:
        return self._data[1, self._start:self._start + self._n]

    @property
    def y(self) -> np.ndarray:
        return self._data[2, self._start:self._start + self._n]

    @property
    def smoothed(self) -> np.ndarray:
        return self._data[3, self._start:self._start + self._n]

    def x(self, axis: str) -> np.ndarray:
        """The x coordinates for `axis` "step" or "epoch"."""
        return self.epochs if axis == "epoch" else self.steps

    def last(self) -> float | None:
        return float(self.y[-1]) if self._n else None

    def _make_room(self) -> None:
        if self._n >= self.capacity:
            # ring: drop the oldest eighth at once, so the copy below happens rarely
            drop = max(1, self.capacity // 8)
            self._start += drop
            self._n -= drop
        if self._start:
            live = self._data[:, self._start:self._start + self._n].copy()
            self._data[:, :self._n] = live
            self._start = 0
        if self._n >= self._data.shape[1]:
            grown = np.empty((4, min(self._data.shape[1] * 2, self.capacity)), dtype=np.float64)
            grown[:, :self._n] = self._data[:, :self._n]
            self._data = grown


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average that skips non-finite values (they stay as they are).

    Pure numpy, block by block: within a block of B points the average is one matrix product
    with the lower-triangular weights (1 - alpha) * alpha**(i - j), plus the previous block's
    last value carried in by alpha**(i + 1). 100,000 points take a few milliseconds, on the GUI
    thread, without importing scipy (a third of a second the first time).
    """
    out = np.array(values, dtype=np.float64, copy=True)
    if alpha <= 0 or len(out) == 0:
        return out
    finite = np.isfinite(out)
    y = out[finite]
    if len(y):
        out[finite] = _ema_finite(y, alpha)
    return out


_BLOCK = 256


def _ema_finite(y: np.ndarray, alpha: float) -> np.ndarray:
    n = min(_BLOCK, len(y))
    i = np.arange(n)
    lag = i[:, None] - i[None, :]
    weights = np.where(lag >= 0, (1 - alpha) * alpha ** np.maximum(lag, 0), 0.0)
    carry = alpha ** (i + 1)
    out = np.empty_like(y)
    previous = y[0]  # start from the first value, as the incremental average does
    for start in range(0, len(y), n):
        block = y[start:start + n]
        k = len(block)
        smoothed = weights[:k, :k] @ block + carry[:k] * previous
        out[start:start + k] = smoothed
        previous = smoothed[-1]
    out[0] = y[0]
    return out


class MetricStore:
    """Every curve of one run, keyed like `train/loss` (per step) or `val/accuracy` (per epoch).

    Keys: `train/<name>` for step figures, `epoch_train/<name>` and `val/<name>` for the
    training and validation figures of each finished epoch.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self.series: dict[str, Series] = {}
        self.smoothing = 0.0
        self.steps = 0
        self.epochs_done = 0

    def get(self, key: str) -> Series | None:
        return self.series.get(key)

    def add_event(self, event: dict[str, Any]) -> bool:
        """Take one engine event; True when it added points."""
        kind = event.get("type")
        if kind == "step":
            step = float(event.get("step") or 0)
            done = event.get("epoch_step") or 0
            per = event.get("epoch_steps") or 1
            epoch = float(event.get("epoch") or 1) - 1 + done / per
            for name, value in (event.get("losses") or {}).items():
                self._add(f"train/{name}", step, epoch, value)
            self.steps = int(step)
            return True
        if kind == "epoch":
            step = float(event.get("step") or 0)
            epoch = float(event.get("epoch") or 0)
            train = event.get("train") or {}
            for name, value in {**(train.get("losses") or {}), **(train.get("metrics") or {})}.items():
                self._add(f"epoch_train/{name}", step, epoch, value)
            for name, value in {**(event.get("losses") or {}), **(event.get("metrics") or {})}.items():
                self._add(f"val/{name}", step, epoch, value)
            self.epochs_done = int(epoch)
            return True
        return False

    def add_history(self, steps: list[dict[str, Any]], epochs: list[dict[str, Any]]) -> None:
        """Fill from a run directory's steps.jsonl and epochs.jsonl rows (a recorded run)."""
        per_epoch: dict[int, int] = {}
        for row in steps:
            per_epoch[int(row.get("epoch", 1))] = per_epoch.get(int(row.get("epoch", 1)), 0) + 1
        seen: dict[int, int] = {}
        for row in steps:
            e = int(row.get("epoch", 1))
            seen[e] = seen.get(e, 0) + 1
            losses = {k: v for k, v in row.items() if k not in ("step", "epoch", "lr", "throughput")}
            self.add_event({"type": "step", "step": row.get("step"), "epoch": e, "losses": losses,
                            "epoch_step": seen[e], "epoch_steps": per_epoch[e]})
        for row in epochs:
            train = {k[6:]: v for k, v in row.items() if k.startswith("train_")}
            val = {k[4:]: v for k, v in row.items() if k.startswith("val_")}
            self.add_event({"type": "epoch", "step": row.get("step"), "epoch": row.get("epoch"),
                            "losses": val, "train": {"losses": train}})

    def set_smoothing(self, alpha: float) -> None:
        """Smooth the per-step curves (epoch points are already averages)."""
        self.smoothing = alpha
        for key, s in self.series.items():
            if key.startswith("train/"):
                s.set_smoothing(alpha)

    def _add(self, key: str, step: float, epoch: float, value: Any) -> None:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = Series(self.capacity)
            if key.startswith("train/"):
                s.set_smoothing(self.smoothing)
        s.append(step, epoch, v)
