"""Batches from a prepared dataset split, as device tensors, in the order a sampler gives.

Two ways, chosen by the data. A split held in memory is converted to torch once per run (floats
-> float32, integers -> int64) and a batch is an `index_select`, so the per-step cost is one gather
and one host-to-device copy; on a GPU, splits small enough to fit comfortably are moved to the
device once and gathered there. A streamed split (a field read on demand: image files, a memory
map) is read by DataLoader worker processes, one whole batch per task: they decode the batch's
samples, warp them when training asks for augmentation, and hand over 8-bit images as uint8 (a
quarter of float32's bytes); the trainer turns them into float32 in [0, 1] on the device.
Workers persist across epochs, and each reads only the indices it is given, so under torchrun
every rank reads its own shard (the engine's DistributedSampler picks the indices).
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .datasets.core import DataError

RESIDENT_BYTES = 1 << 30  # splits under 1 GiB live on the GPU for the whole run
PREFETCH = 4  # batches each worker keeps ready
M_MMAP_THRESHOLD, MMAP_THRESHOLD = -3, 128 << 10  # glibc's mallopt option and its default value
_heap_bounded = False


def _bound_the_heap() -> None:
    """Keep glibc from moving large allocations onto the heap (once a process, Linux only).

    glibc serves blocks over 128 KiB with their own mmap, but raises that threshold to the size
    of each such block freed. A streamed run frees a float batch (and the worker's uint8 one)
    every step, so after the first few its buffers come from the heap, which fragments: the
    trainer's peak memory over one epoch measured 10-14 MiB in most runs and 26-48 MiB in about
    one in three (tests/training/test_streaming.py's memory test failed on a fresh clone).
    Fixing the threshold at its default stops the adjustment: 14.3-14.7 MiB in all of 16 runs.
    """
    global _heap_bounded
    if _heap_bounded or not sys.platform.startswith("linux"):
        return
    _heap_bounded = True
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to fix
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


class Feeder:
    """Gathers batches of the fields a graph reads from one dataset split.

    Args:
        split: a FieldDataset.
        fields: the fields the graph reads.
        device: where batches go.
        channels_last: give 4-d batches channels_last memory format.
        workers: DataLoader worker processes for a streamed split (0: read in this process).
        augmenter: warps each batch (image fields float32 in [0, 1]); None for none. On a
            streamed split it runs in the workers, on a split in memory on the device.
        seed: seeds each worker's warps (worker i draws from seed + i).
    """

    def __init__(self, split: Any, fields: set[str], device: torch.device,
                 channels_last: bool = False, workers: int = 0, augmenter: Any = None,
                 seed: int = 0) -> None:
        self.split = split
        self.size = len(split)
        self.device = device
        self.channels_last = channels_last
        self.augmenter = augmenter
        self.names = sorted(fields)
        self.streamed = bool(getattr(split, "streamed", False))
        self._loader: Any = None
        if self.streamed:
            _bound_the_heap()
            self.tensors: dict[str, torch.Tensor] = {}
            self.scales = {n: _scale(split.fields[n]) for n in self.names}
            self.workers, self.seed = workers, seed
            return
        self.tensors = {name: _to_tensor(split.fields[name], name) for name in self.names}
        total = sum(t.numel() * t.element_size() for t in self.tensors.values())
        resident = device.type != "cpu" and total < RESIDENT_BYTES
        if resident:
            self.tensors = {k: v.to(device) for k, v in self.tensors.items()}
        self._resident = resident or device.type == "cpu"
        # batches gathered where the tensors live, with nothing else to do: one gather a field
        self._plain = self._resident and not channels_last

    def __len__(self) -> int:
        return self.size

    def batch(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        """The samples at `index` (a 1-d int64 tensor of dataset positions), on the device."""
        if self.streamed:
            return self._finish(read_batch(self.split, self.names, index))
        if self._plain:
            if index.device != self.device:
                index = index.to(self.device)
            return {name: t.index_select(0, index) for name, t in self.tensors.items()}
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

    def epoch(self, chunks: list[torch.Tensor]) -> Iterator[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
        """(index, batch) for each index tensor in `chunks`, warped by the augmenter if any."""
        if not self.streamed:
            for index in chunks:
                batch = self.batch(index)
                yield index, (self.augmenter(batch) if self.augmenter is not None else batch)
            return
        yield from self._stream(chunks, augment=self.augmenter is not None)

    def sequential(self, batch_size: int) -> Iterator[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
        """(index, batch) over the whole split in order, unwarped (evaluation)."""
        chunks = list(torch.arange(self.size).split(batch_size))
        if not self.streamed:
            for index in chunks:
                yield index, self.batch(index)
            return
        yield from self._stream(chunks, augment=False)

    def close(self) -> None:
        """Stop the worker processes (they otherwise live until the feeder is collected)."""
        iterator = getattr(self._loader, "_iterator", None) if self._loader is not None else None
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
        self._loader = None

    def describe_broken(self, index: torch.Tensor) -> str | None:
        """Name the first sample in `index` whose fields hold nan or inf (and its file, if known)."""
        tensors = self.tensors if not self.streamed else \
            {k: v for k, v in self.batch(index).items()}
        local = index if not self.streamed else torch.arange(len(index))
        for name, t in tensors.items():
            if not t.is_floating_point():
                continue
            rows = t.index_select(0, local.to(t.device))
            bad = (~torch.isfinite(rows.reshape(rows.shape[0], -1))).any(1)
            if bool(bad.any()):
                position = int(index[int(bad.nonzero()[0, 0])])
                where = _file_of(self.split, position)
                return (f"sample {position} of field {name!r} contains nan or inf values"
                        + (f" (from {where})" if where else ""))
        return None

    # ---- streamed splits ---------------------------------------------------------------------

    def _stream(self, chunks: list[torch.Tensor],
                augment: bool) -> Iterator[tuple[torch.Tensor, dict[str, torch.Tensor]]]:
        if self.workers == 0:
            reader = BatchReader(self.split, self.names, self.augmenter if augment else None)
            for index in chunks:
                yield self._checked(reader[index])
            return
        loader = self._loader_for(augment)
        loader.sampler.chunks = chunks
        for item in loader:
            yield self._checked(item)

    def _loader_for(self, augment: bool) -> Any:
        if self._loader is None or self._loader.dataset.augmenter is not (self.augmenter if augment else None):
            self.close()
            reader = BatchReader(self.split, self.names, self.augmenter if augment else None)
            self._loader = torch.utils.data.DataLoader(
                reader, batch_size=None, sampler=_Chunks(), num_workers=self.workers,
                persistent_workers=True, prefetch_factor=PREFETCH, worker_init_fn=_seed_worker(self.seed),
                pin_memory=self.device.type == "cuda")
        return self._loader

    def _checked(self, item: tuple[torch.Tensor, dict[str, Any]]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        index, fields = item
        if "__error__" in fields:
            raise DataError(fields["__error__"])
        return index, self._finish(fields)

    def _finish(self, fields: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Host tensors from a reader -> device tensors, 8-bit images as float32 in [0, 1]."""
        out = {}
        for name, t in fields.items():
            t = t.to(self.device, non_blocking=True)
            if t.dtype == torch.uint8 and self.scales.get(name, 1.0) != 1.0:
                t = t.float().div_(1.0 / self.scales[name])
            if self.channels_last and t.dim() == 4:
                t = t.contiguous(memory_format=torch.channels_last)
            out[name] = t
        return out


class BatchReader(torch.utils.data.Dataset):
    """A torch Dataset whose items are whole batches: the samples of one index tensor.

    Runs in DataLoader workers: reads the fields (decoding image files), and with an augmenter
    turns 8-bit images into float32 and warps them there, off the training process's cores.
    A DataError (a broken file) comes back as {"__error__": message}, so the trainer can show
    the one-line message instead of a worker's traceback.
    """

    def __init__(self, split: Any, names: list[str], augmenter: Any = None) -> None:
        self.split, self.names, self.augmenter = split, names, augmenter

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
        try:
            fields = read_batch(self.split, self.names, index)
        except DataError as exc:
            return index, {"__error__": str(exc)}
        if self.augmenter is not None:
            for name in self.augmenter.images:
                t = fields[name]
                if t.dtype == torch.uint8:
                    fields[name] = t.float().div_(1.0 / _scale(self.split.fields[name]))
            fields = self.augmenter(fields)
        return index, fields


def read_batch(split: Any, names: list[str], index: torch.Tensor) -> dict[str, torch.Tensor]:
    """Host tensors of one batch: stored 8-bit images stay uint8, other floats float32, ints int64."""
    rows = index.numpy()
    out = {}
    for name in names:
        array = split.fields[name]
        if isinstance(array, np.ndarray):
            out[name] = _to_tensor(array[rows], name)
        else:
            stored = array.read(rows)
            out[name] = torch.from_numpy(stored) if stored.dtype == np.uint8 and array.scale != 1.0 \
                else _to_tensor(array._as_float(stored) if array.scale != 1.0 else stored, name)
    return out


class _Chunks(torch.utils.data.Sampler):
    """The index tensors of one epoch; the feeder replaces `chunks` before each pass."""

    def __init__(self) -> None:
        self.chunks: list[torch.Tensor] = []

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter(self.chunks)

    def __len__(self) -> int:
        return len(self.chunks)


class _seed_worker:
    """worker_init_fn: each worker draws its own warps (a fork copies the generator's state)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, worker_id: int) -> None:
        info = torch.utils.data.get_worker_info()
        augmenter = getattr(info.dataset, "augmenter", None) if info is not None else None
        if augmenter is not None:
            augmenter.generator.manual_seed(self.seed + 7919 * (worker_id + 1))


def _scale(array: Any) -> float:
    return float(getattr(array, "scale", 1.0))


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
