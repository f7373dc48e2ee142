"""Batches from a prepared dataset split, as device tensors, in the order a sampler gives.

Fields are converted to torch once per run (floats -> float32, integers -> int64); a batch is an
`index_select`, so the per-step cost is one gather and one host-to-device copy. On a GPU, splits
small enough to fit comfortably are moved to the device once and gathered there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

RESIDENT_BYTES = 1 << 30  # splits under 1 GiB live on the GPU for the whole run


class Feeder:
    """Gathers batches of the fields a graph reads from one dataset split."""

    def __init__(self, split: Any, fields: set[str], device: torch.device,
                 channels_last: bool = False) -> None:
        self.split = split
        self.size = len(split)
        self.device = device
        self.channels_last = channels_last
        self.tensors = {name: _to_tensor(split.fields[name], name) for name in sorted(fields)}
        total = sum(t.numel() * t.element_size() for t in self.tensors.values())
        resident = device.type != "cpu" and total < RESIDENT_BYTES
        if resident:
            self.tensors = {k: v.to(device) for k, v in self.tensors.items()}
        self._resident = resident or device.type == "cpu"

    def __len__(self) -> int:
        return self.size

    def batch(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        """The samples at `index` (a 1-d int64 tensor of dataset positions), on the device."""
        out = {}
        for name, t in self.tensors.items():
            b = t.index_select(0, index.to(t.device))
            if not self._resident:
                b = b.pin_memory().to(self.device, non_blocking=True) if self.device.type == "cuda" \
                    else b.to(self.device)
            if self.channels_last and b.dim() == 4:
                b = b.contiguous(memory_format=torch.channels_last)
            out[name] = b
        return out

    def describe_broken(self, index: torch.Tensor) -> str | None:
        """Name the first sample in `index` whose fields hold nan or inf (and its file, if known)."""
        for name, t in self.tensors.items():
            if not t.is_floating_point():
                continue
            rows = t.index_select(0, index.to(t.device))
            bad = (~torch.isfinite(rows.reshape(rows.shape[0], -1))).any(1)
            if bool(bad.any()):
                position = int(index[int(bad.nonzero()[0, 0])])
                where = _file_of(self.split, position)
                return (f"sample {position} of field {name!r} contains nan or inf values"
                        + (f" (from {where})" if where else ""))
        return None


def _to_tensor(array: Any, name: str) -> torch.Tensor:
    a = np.asarray(array)
    if a.dtype.kind == "f":
        a = a.astype(np.float32, copy=False)
    elif a.dtype.kind in "iub":
        a = a.astype(np.int64, copy=False)
    else:
        raise TypeError(f"field {name!r} holds {a.dtype} values, which cannot be trained on")
    return torch.from_numpy(np.ascontiguousarray(a))


def _file_of(split: Any, position: int) -> str | None:
    """The source file of one sample, for datasets that record where samples came from."""
    for attr in ("files", "sources", "paths"):
        names = getattr(split, attr, None)
        if names is not None and position < len(names):
            return str(names[position])
    return None
