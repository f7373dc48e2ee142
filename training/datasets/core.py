"""The data model every source produces: named fields of equal length, described by `FieldInfo`.

A dataset is a dict of numpy arrays with the sample axis first (`image`, `label`, `sequence`,
`mask`, `omics_rna`, ...). Input nodes read a field by name and Output heads compare with one, so
the engine needs only this shape of data, whatever the source. Sources return a `RawData`
(all samples, optionally with their own validation split); `prepare()` turns it into a
`PreparedData` with train and validation `FieldDataset`s. Every failure a user can cause is a
`DataError` with a one-line message that names the file and the sample.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("image", "label", "mask", "sequence", "tokens", "features", "series")
DTYPES = ("float32", "int64")
MAX_IMAGE_SIDE = 16384
"""The largest image side a dataset option may ask for (a resize past it never trains)."""


class DataError(Exception):
    """A dataset cannot be built: missing or unreadable file, broken sample, bad option.

    The message is one line and names the file and, where one is at fault, the sample index or
    line number, so the CLI and the designer can show it as it is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@dataclass(frozen=True)
class FieldInfo:
    """What one field holds, per sample (the sample axis excluded).

    Attributes:
        shape: shape of one sample, e.g. (1, 28, 28) for an image or () for a class index.
        dtype: "float32" or "int64".
        num_classes: number of classes for labels and masks, vocabulary size for token ids,
            None for measurements.
        class_names: display names of the classes (labels and masks), else None.
        kind: one of image, label, mask, sequence, tokens, features, series.
        column_names: for tabular features, the name of each feature (CSV header, one-hot
            columns as "colour=red"); else None.
    """

    shape: tuple[int, ...]
    dtype: str
    num_classes: int | None = None
    class_names: list[str] | None = None
    kind: str = "features"
    column_names: list[str] | None = None


class FieldDataset:
    """Samples as named numpy arrays of equal length; indexable like a torch Dataset.

    `ds[i]` gives one sample as a dict of arrays (torch's default collate stacks these into
    tensors), `ds.batch(indices)` gives a whole batch at once without a per-sample loop.
    For data read from files, `sources[i]` says where sample i came from ("x.csv line 7",
    an image's path), so a fault found later can name it; None for generated data.
    """

    def __init__(self, fields: Mapping[str, np.ndarray],
                 sources: Sequence[str] | np.ndarray | None = None) -> None:
        lengths = {name: len(array) for name, array in fields.items()}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{name}: {n}" for name, n in lengths.items())
            raise DataError(f"fields have different numbers of samples ({detail})")
        self.fields: dict[str, np.ndarray] = dict(fields)
        self._length = next(iter(lengths.values()), 0)
        self.sources: list[str] | None = None if sources is None else list(sources)
        if self.sources is not None and len(self.sources) != self._length:
            raise DataError(f"{len(self.sources)} sample sources for {self._length} samples")

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        if not -self._length <= index < self._length:
            raise IndexError(f"sample {index} out of range for {self._length} samples")
        return {name: array[index] for name, array in self.fields.items()}

    def batch(self, indices: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """Stacked samples at `indices`: each field's array indexed along the sample axis
        (a field read on demand is read here, as float32)."""
        idx = np.asarray(indices, dtype=np.int64)
        return {name: array[idx] for name, array in self.fields.items()}

    def subset(self, indices: Sequence[int] | np.ndarray) -> FieldDataset:
        """A new dataset holding only the samples at `indices` (copies; a field read on demand
        stays unread, only its index is taken)."""
        idx = np.asarray(indices, dtype=np.int64)
        sources = None if self.sources is None else [self.sources[i] for i in idx]
        fields = {name: array.take(idx) if hasattr(array, "take") and not isinstance(array, np.ndarray)
                  else array[idx] for name, array in self.fields.items()}
        return FieldDataset(fields, sources)

    @property
    def streamed(self) -> bool:
        """True when a field is read on demand (from files or a memory map), not held in memory."""
        return any(not isinstance(a, np.ndarray) for a in self.fields.values())

    def source_of(self, index: int) -> str | None:
        """Where sample `index` came from, or None for generated data."""
        return None if self.sources is None else self.sources[index]

    def __repr__(self) -> str:
        names = ", ".join(self.fields)
        return f"FieldDataset({self._length} samples: {names})"


@dataclass
class PreparedData:
    """A dataset ready for training: seeded train/validation split, normalised from train only.

    Attributes:
        name: the dataset's name (built-in name or file name).
        train: the training samples.
        val: the validation samples (may be empty when val_fraction is 0).
        info: per field, what one sample holds.
        normalization: per standardized field, the (mean, std) computed on the training split,
            to apply to new samples at inference time.
        source: the built-in name or the resolved path it came from.
    """

    name: str
    train: FieldDataset
    val: FieldDataset
    info: dict[str, FieldInfo]
    normalization: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    source: str = ""

    @property
    def field_names(self) -> list[str]:
        """The field names, in the order the source produced them."""
        return list(self.info)

    def describe(self) -> str:
        """One line per field, for the CLI and the designer's data panel."""
        lines = [f"{self.name}: {len(self.train)} train, {len(self.val)} validation samples"]
        for name, fi in self.info.items():
            classes = f", {fi.num_classes} classes" if fi.num_classes else ""
            lines.append(f"  {name}: {fi.kind} {list(fi.shape)} {fi.dtype}{classes}")
        return "\n".join(lines)


@dataclass
class RawData:
    """What a source produces before splitting: all samples and what they are.

    Attributes:
        name: dataset name.
        fields: arrays with the sample axis first, already in their final dtype.
        info: per field, its `FieldInfo` (shape excludes the sample axis).
        val_fields: a validation split the source ships itself (MNIST's t10k, UCR's _TEST),
            used instead of a random split when present.
        source: where it came from, for messages.
        sources: per sample of `fields`, where it came from (file and line); None if generated.
        val_sources: the same for `val_fields`.
    """

    name: str
    fields: dict[str, np.ndarray]
    info: dict[str, FieldInfo]
    val_fields: dict[str, np.ndarray] | None = None
    source: str = ""
    sources: list[str] | None = None
    val_sources: list[str] | None = None

    def __post_init__(self) -> None:
        for split in (self.fields, self.val_fields or {}):
            for name, array in split.items():
                fi = self.info.get(name)
                if fi is None:
                    raise DataError(f"{self.source or self.name}: field '{name}' has no description")
                if tuple(array.shape[1:]) != tuple(fi.shape):
                    raise DataError(
                        f"{self.source or self.name}: field '{name}' has samples of shape "
                        f"{list(array.shape[1:])}, expected {list(fi.shape)}")
        FieldDataset(self.fields, self.sources)  # raises on unequal sample counts
        if self.val_fields is not None:
            FieldDataset(self.val_fields, self.val_sources)


class Options:
    """Typed access to a data section, so a wrong value is a DataError naming the key."""

    def __init__(self, section: Mapping[str, Any], where: str) -> None:
        self.section = dict(section)
        self.where = where

    def get(self, key: str, default: Any = None) -> Any:
        """The raw value of `key`, or `default`."""
        return self.section.get(key, default)

    def integer(self, key: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        """An int option within [minimum, maximum]."""
        value = self.section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise DataError(f"{self.where}: '{key}' must be an integer, got {value!r}")
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise DataError(f"{self.where}: '{key}' must be at least {minimum}{upper}, got {value}")
        return int(value)

    def number(self, key: str, default: float, minimum: float = 0.0,
               maximum: float | None = None) -> float:
        """A float option within [minimum, maximum]."""
        value = self.section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise DataError(f"{self.where}: '{key}' must be a number, got {value!r}")
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise DataError(f"{self.where}: '{key}' must be at least {minimum}{upper}, got {value}")
        return float(value)

    def choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        """A string option from `choices` (case-insensitive)."""
        allowed = tuple(choices)
        value = self.section.get(key, default)
        text = str(value).lower() if value is not None else default
        if text not in allowed:
            raise DataError(f"{self.where}: '{key}' must be one of {', '.join(allowed)}, got {value!r}")
        return text

    def flag(self, key: str, default: bool) -> bool:
        """A boolean option."""
        value = self.section.get(key, default)
        if not isinstance(value, bool):
            raise DataError(f"{self.where}: '{key}' must be true or false, got {value!r}")
        return value

    def size2d(self, key: str, default: int | tuple[int, int] | None) -> tuple[int, int] | None:
        """An image size: one int (square) or [height, width]; None when absent and no default."""
        value = self.section.get(key)
        if value is None:  # absent, or written as null: the default
            value = default
        if value is None:
            return None
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = (value, value)
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
                or min(value) < 1 or max(value) > MAX_IMAGE_SIDE):
            raise DataError(f"{self.where}: '{key}' must be a positive size or [height, width] "
                            f"(at most {MAX_IMAGE_SIDE} a side), got {value!r}")
        return int(value[0]), int(value[1])

    def path(self, key: str, root: Path | None) -> Path | None:
        """A file option resolved against `root`; None when absent."""
        value = self.section.get(key)
        if value is None:
            return None
        return resolve_path(str(value), root)


def named_section(section: Mapping[str, Any] | None, builtins: Iterable[str]) -> tuple[dict[str, Any], str]:
    """A copy of a data section with its dataset as text, and that name.

    Raises:
        DataError: the section names no dataset (the message lists `builtins`).
    """
    section = dict(section or {})
    if isinstance(section.get("dataset"), os.PathLike):
        section["dataset"] = os.fspath(section["dataset"])
    name = section.get("dataset")
    if not isinstance(name, str) or not name.strip():
        raise DataError("data: no dataset given; set \"dataset\" to a built-in "
                        f"({', '.join(builtins)}) or a file path")
    return section, name


def resolve_path(text: str, root: Path | None) -> Path:
    """`text` as a path: `~` expanded, relative paths taken from `root` (the graph's folder)."""
    path = Path(text).expanduser()
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    return path


def label_info(num_classes: int, class_names: Sequence[str] | None = None) -> FieldInfo:
    """The FieldInfo of an int64 class-index label."""
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    return FieldInfo((), "int64", num_classes, names, "label")


def encode_labels(values: Sequence[Any], where: str) -> tuple[np.ndarray, list[str]]:
    """Class values (strings or numbers) -> int64 ids and class names.

    Integers that are exactly 0..K-1 keep their values; anything else (1..K, -1/1, strings) maps
    its sorted distinct values to 0..K-1 (numbers sorted numerically, so "2" < "10"), keeping the
    originals as class names.
    """
    texts = [str(v).strip() for v in values]
    numbers = _as_numbers(texts)
    if numbers is not None and np.all(numbers == np.round(numbers)):
        ints = numbers.astype(np.int64)
        distinct = np.unique(ints)
        if np.array_equal(distinct, np.arange(len(distinct))):
            return ints, [str(i) for i in range(len(distinct))]
        names = [str(int(v)) for v in distinct]
        return np.searchsorted(distinct, ints).astype(np.int64), names
    if numbers is not None:
        raise DataError(f"{where}: labels are fractional numbers; set \"task\": \"regression\" to "
                        "regress them")
    names = sorted(set(texts))
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup[t] for t in texts], dtype=np.int64), names


def _as_numbers(texts: Sequence[str]) -> np.ndarray | None:
    try:
        return np.array([float(t) for t in texts], dtype=np.float64)
    except ValueError:
        return None
