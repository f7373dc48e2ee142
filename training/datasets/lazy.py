"""Fields read on demand: image files decoded per batch, and memory-mapped arrays.

A folder of 50,000 photos at 224x224 is 30 GB as float32, more than most machines hold, so a
large dataset keeps only what describes it in memory (file names, labels) and its image field is a
`LazyArray`: it has a shape and a storage dtype like a numpy array, `take` makes a subset without
reading anything, and `read(indices)` decodes just those samples, as uint8 where they are images
(a quarter of float32's size on their way from a DataLoader worker to the model). Indexing it
(`field[i]`, `field[:8]`, `np.asarray(field)`) gives what an in-memory field would: float32 in
[0, 1], so code written for small data still works on a sample or a few.

`stream_decision` is the policy: stream when the data section says "stream": "on", or when it
says "auto" (the default) and the decoded float32 size exceeds `STREAM_BYTES` or a quarter of the
memory this process may use (free memory, or its RLIMIT_AS).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .core import DataError, Options

STREAM_CHOICES = ("auto", "on", "off")
STREAM_BYTES = 512 << 20  # above this decoded size "auto" streams even on a large machine
DEFAULT_WORKERS = 2


class LazyArray:
    """A field whose samples are read when asked for; see the module docstring.

    Subclasses give `_read_rows(rows)` (storage dtype, in the order asked) for positions of the
    underlying source; this class keeps the index that `take` composes.

    Attributes:
        shape: (samples, *sample shape), like a numpy array's.
        dtype: the storage dtype `read` returns (uint8 for 8-bit images).
        scale: multiply stored values by this to get the float32 values training sees (1/255 for
            8-bit images, 1 for float data).
    """

    def __init__(self, sample_shape: tuple[int, ...], dtype: Any, scale: float,
                 rows: np.ndarray) -> None:
        self.sample_shape = tuple(sample_shape)
        self.dtype = np.dtype(dtype)
        self.scale = float(scale)
        self.rows = np.asarray(rows, dtype=np.int64)

    # ---- the numpy-like surface ---------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.rows), *self.sample_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.sample_shape)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def decoded_nbytes(self) -> int:
        """Bytes the whole field would take decoded as float32."""
        return int(np.prod(self.shape, dtype=np.int64)) * 4

    def take(self, indices: Sequence[int] | np.ndarray) -> LazyArray:
        """The samples at `indices`, still unread."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.rows = self.rows[np.asarray(indices, dtype=np.int64)]
        return clone

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """The samples at `indices`, stacked, in the storage dtype."""
        return self._read_rows(self.rows[np.asarray(indices, dtype=np.int64)])

    def __getitem__(self, key: Any) -> np.ndarray:
        """float32 sample(s), as an in-memory field would give them."""
        if isinstance(key, (int, np.integer)):
            return self._as_float(self.read([int(key) % max(len(self), 1)]))[0]
        positions = np.arange(len(self))[key]
        return self._as_float(self.read(positions))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)

    def _as_float(self, stored: np.ndarray) -> np.ndarray:
        if self.scale == 1.0:
            return stored.astype(np.float32)
        # divide, as the in-memory loaders do, so both paths give the same floats
        return stored.astype(np.float32) / np.float32(1.0 / self.scale)

    def _read_rows(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={list(self.shape)}, dtype={self.dtype})"


class ImageFiles(LazyArray):
    """Image files decoded with Pillow on demand to uint8 (C, H, W), resized to `size`."""

    def __init__(self, files: Sequence[str], channels: int, size: tuple[int, int]) -> None:
        super().__init__((channels, size[0], size[1]), np.uint8, 1.0 / 255.0, np.arange(len(files)))
        self.files = np.asarray([str(f) for f in files], dtype=object)
        self.channels, self.size = channels, tuple(size)

    def _read_rows(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), *self.sample_shape), dtype=np.uint8)
        for i, row in enumerate(rows):
            out[i] = decode_image(self.files[row], int(row), self.channels, self.size)
        return out


class MappedArray(LazyArray):
    """Samples of an uncompressed array inside a file, memory-mapped (IDX files, .npy in .npz).

    Only the path, offset, dtype and shape are kept, so a DataLoader worker (forked or spawned)
    maps the file itself instead of receiving a copy of the data.

    Args:
        path: the file.
        offset: byte offset of the first sample.
        dtype: the stored dtype (big-endian for IDX is converted when read).
        stored_shape: the array's shape in the file, samples first.
        channels_last: samples are stored (H, W, C) and are served (C, H, W).
        scale: see LazyArray.
        add_channel: serve (H, W) samples as (1, H, W), as the IDX loader does.
    """

    def __init__(self, path: Path, offset: int, dtype: Any, stored_shape: tuple[int, ...],
                 channels_last: bool = False, scale: float = 1.0, add_channel: bool = True) -> None:
        sample = tuple(stored_shape[1:])
        if channels_last:
            sample = (sample[2], sample[0], sample[1])
        elif len(sample) == 2 and add_channel:  # (H, W) grayscale -> (1, H, W)
            sample = (1, *sample)
        native = np.dtype(dtype).newbyteorder("=")
        super().__init__(sample, native, scale, np.arange(stored_shape[0]))
        self.path, self.offset, self.file_dtype = str(path), int(offset), np.dtype(dtype)
        self.stored_shape, self.channels_last = tuple(stored_shape), channels_last
        self._map: np.memmap | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_map": None}

    def _mapped(self) -> np.memmap:
        if self._map is None or getattr(self, "_pid", None) != os.getpid():
            self._map = np.memmap(self.path, dtype=self.file_dtype, mode="r", offset=self.offset,
                                  shape=self.stored_shape)
            self._pid = os.getpid()
        return self._map

    def _read_rows(self, rows: np.ndarray) -> np.ndarray:
        # sorted reads walk the file forwards; then put the samples back in the order asked
        order = np.argsort(rows, kind="stable")
        data = np.empty((len(rows), *self.stored_shape[1:]), dtype=self.dtype)
        data[order] = self._mapped()[rows[order]]
        if self.channels_last:
            data = data.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(data.reshape(len(rows), *self.sample_shape))


def stored_npz_members(path: Path) -> dict[str, tuple[int, np.dtype, tuple[int, ...]]]:
    """The arrays of an .npz archive stored without compression, as (offset, dtype, shape) of their
    data in the file: what a memory map needs. Compressed, Fortran-ordered or object arrays are
    left out (they must be read whole)."""
    import struct
    import zipfile

    found: dict[str, tuple[int, np.dtype, tuple[int, ...]]] = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                continue
            handle.seek(info.header_offset)
            local = handle.read(30)
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            handle.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(handle)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(handle)
            if not fortran and not dtype.hasobject and len(shape) >= 1:
                found[info.filename[:-4]] = (handle.tell(), dtype, tuple(shape))
    return found


def decode_image(file: str | Path, index: int, channels: int, size: tuple[int, int]) -> np.ndarray:
    """One image file as uint8 (channels, *size); a broken file is a DataError naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            if image.format == "JPEG" and (image.height, image.width) != tuple(size):
                # decode at the nearest larger scale JPEG allows: 4-8x less work for photos
                image.draft("L" if channels == 1 else "RGB", (size[1], size[0]))
            image = image.convert("L" if channels == 1 else "RGB")
            if (image.height, image.width) != tuple(size):
                image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"{file}: sample {index} is not a readable image ({exc})") from exc
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def stream_option(opts: Options) -> str:
    """The section's "stream" setting: auto (the default), on or off (true/false also read)."""
    value = opts.get("stream", "auto")
    if isinstance(value, bool):
        return "on" if value else "off"
    return opts.choice("stream", "auto", STREAM_CHOICES)


def workers_option(opts: Options) -> int:
    """DataLoader worker processes that decode a streamed dataset (0: decode in the trainer)."""
    return opts.integer("workers", DEFAULT_WORKERS, minimum=0, maximum=64)


def stream_decision(opts: Options, decoded_bytes: int) -> bool:
    """True when a field of `decoded_bytes` (as float32) should be read on demand."""
    mode = stream_option(opts)
    if mode != "auto":
        return mode == "on"
    return decoded_bytes > min(STREAM_BYTES, memory_budget() // 4)


def memory_budget() -> int:
    """Bytes this process may still use: free memory, capped by its address-space limit."""
    budget = 1 << 62
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        try:
            with open("/proc/self/statm") as handle:
                used = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            used = 0
        budget = max(0, soft - used)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    budget = min(budget, int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    return budget


def is_lazy(array: Any) -> bool:
    return isinstance(array, LazyArray)
