"""`prepare()`: a graph file's "data" section -> a seeded train/validation split, ready to train.

The section names a built-in (`{"dataset": "digits", "image_size": 28}`) or a file or folder
(`{"dataset": "data/flowers"}`; relative to the graph file's folder), whose kind follows from its
extension or layout unless "format" says it. Common keys: val_fraction (0.2), limit (at most this
many samples, for quick runs), normalize (true: standardize tabular and omics fields with the
training split's mean and std), data_seed (generated built-ins; default 0). The split is
stratified by label where there is one, and the same seed gives the same split.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .builtin import BUILTINS
from .core import (
    DataError,
    FieldDataset,
    FieldInfo,
    Options,
    PreparedData,
    RawData,
    named_section,
    resolve_path,
)
from .fasta import load_fasta
from .images import Progress, load_idx, load_image_folder, looks_like_idx
from .series import load_ucr, looks_like_ucr
from .split import split_indices, subsample
from .tabular import load_csv, load_npz
from .translation import load_parallel

FORMATS = ("csv", "npz", "images", "fasta", "ucr", "idx", "parallel")
_FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas", ".ffn")


def prepare(data_section: Mapping[str, Any] | None, seed: int = 0,
            root: Path | None = None, progress: Progress | None = None) -> PreparedData:
    """Build the dataset a graph's data section describes, split and normalised.

    Args:
        data_section: the graph file's "data" object, e.g. {"dataset": "cbf", "transform": "gasf"}.
        seed: seeds the subsample (limit) and the validation split.
        root: folder that relative paths are resolved against (the graph file's folder);
            the current directory when None.
        progress: called as progress(stage, done, total) while a large source is scanned
            (an image folder's listing and header pass).

    Returns:
        The prepared data: train and val FieldDatasets, per-field info, normalisation stats.

    Raises:
        DataError: unknown dataset, missing or unreadable file, broken sample, bad option.
    """
    section, name = named_section(data_section, BUILTINS)
    opts = Options(section, name)
    val_fraction = opts.number("val_fraction", 0.2, minimum=0.0, maximum=0.9)
    limit = section.get("limit")
    limit = None if limit is None else opts.integer("limit", 0, minimum=2)
    raw = load_raw(section, root, progress)
    return split_and_normalize(raw, seed, val_fraction, limit, opts.flag("normalize", True))


def load_raw(section: Mapping[str, Any], root: Path | None = None,
             progress: Progress | None = None) -> RawData:
    """All samples of the dataset a section names, before any split (a built-in or a file)."""
    name = str(section.get("dataset", ""))
    opts = Options(section, name)
    builder = BUILTINS.get(name.lower())
    if builder is not None:
        seed = opts.integer("data_seed", 0)
        return _guarded(f"{name}: cannot generate it", lambda: builder(opts, seed))
    path = resolve_path(name, root)
    try:
        if not path.exists():
            raise DataError(f"unknown dataset '{name}': not a built-in ({', '.join(BUILTINS)}) and no "
                            f"such file: {path}")
        kind = opts.choice("format", "", FORMATS) if "format" in section else detect_format(path)
    except OSError as exc:  # e.g. a folder on the way that this user may not enter
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    loaders = {"csv": lambda: load_csv(path, opts), "npz": lambda: load_npz(path, opts),
               "images": lambda: load_image_folder(path, opts, progress),
               "fasta": lambda: load_fasta(path, opts, root), "ucr": lambda: load_ucr(path, opts),
               "idx": lambda: load_idx(path, opts, root), "parallel": lambda: load_parallel(path, opts)}
    raw = _guarded(f"{path}: cannot read it as {kind}", loaders[kind])
    if not raw.fields or min(len(a) for a in raw.fields.values()) == 0:
        # an empty file would otherwise reach the graph check as "0 classes" and offer
        # "set out_features to 0", itself invalid
        raise DataError(f"{path}: holds no samples")
    return raw


def _guarded(where: str, load: Callable[[], RawData]) -> RawData:
    """Run a loader; anything it did not foresee still reaches the user as one DataError line.

    The original exception stays chained (`__cause__`) for a log's traceback.
    """
    try:
        return load()
    except DataError:
        raise
    except OSError as exc:
        raise DataError(f"{where} ({exc.strerror or exc})") from exc
    except Exception as exc:
        raise DataError(f"{where} ({type(exc).__name__}: {exc})") from exc


def detect_format(path: Path) -> str:
    """The loader for a path, from its extension or, for a folder, what it holds."""
    if path.is_dir():
        if looks_like_idx(path):
            return "idx"
        if looks_like_ucr(path):
            return "ucr"
        if any(p.is_dir() for p in path.iterdir()):
            return "images"
        raise DataError(f"{path}: cannot tell what this folder holds (expected one sub-folder per "
                        "class of images, MNIST IDX files, or NAME_TRAIN.tsv); set \"format\"")
    name = path.name.lower()
    suffix = path.suffix.lower()
    if name.endswith(".gz"):
        suffix = Path(name[:-3]).suffix
    if suffix == ".npz":
        return "npz"
    if suffix in _FASTA_SUFFIXES:
        return "fasta"
    if looks_like_idx(path):
        return "idx"
    if suffix in (".tsv", ".txt", "") or "_train" in name:
        # UCR files carry no header, so a first line of numbers tells them from a table.
        return "ucr" if looks_like_ucr(path) else "csv"
    if suffix == ".csv":
        return "csv"
    raise DataError(f"{path}: unknown file type '{suffix}'; set \"format\" to one of "
                    f"{', '.join(FORMATS)}")


def split_and_normalize(raw: RawData, seed: int, val_fraction: float, limit: int | None,
                        normalize: bool) -> PreparedData:
    """Subsample, split (or keep the source's own split) and standardize from train only."""
    rng = np.random.default_rng(seed)
    everything = FieldDataset(raw.fields, raw.sources)
    _check_finite(everything, raw.source or raw.name)
    labels = _stratum(raw.fields, raw.info)
    if raw.val_fields is not None:
        shipped = FieldDataset(raw.val_fields, raw.val_sources)
        _check_finite(shipped, raw.source or raw.name)
        train_limit = limit and max(1, round(limit * (1 - val_fraction)))
        train = _take(everything, subsample(len(everything), labels, train_limit, rng))
        val_limit = limit and max(1, limit - len(train))
        val = _take(shipped, subsample(len(shipped), _stratum(raw.val_fields, raw.info),
                                        val_limit, rng))
    else:
        keep = subsample(len(everything), labels, limit, rng)
        train_idx, val_idx = split_indices(len(keep), val_fraction, rng,
                                           None if labels is None else labels[keep])
        train, val = everything.subset(keep[train_idx]), everything.subset(keep[val_idx])
    if not len(train):
        raise DataError(f"{raw.source or raw.name}: no training samples left after the split")
    stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if normalize:
        for name, fi in raw.info.items():
            if fi.kind == "features" and fi.dtype == "float32":
                stats[name] = _standardize(train.fields, val.fields, name)
    info = {name: raw.info[name] for name in raw.fields}
    return PreparedData(raw.name, train, val, info, stats, raw.source or raw.name)


def _take(data: FieldDataset, indices: np.ndarray) -> FieldDataset:
    """The samples at sorted `indices`; all of them without a copy (MNIST is 200 MB as floats)."""
    return data if len(indices) == len(data) else data.subset(indices)


def _check_finite(data: FieldDataset, where: str) -> None:
    """A NaN or infinity in a float field is a broken sample: name it before training starts."""
    for name, array in data.fields.items():
        # a field read on demand is checked batch by batch as training reads it
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f" or not len(array):
            continue
        bad = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
        if bad.any():
            index = int(np.argmax(bad))
            origin = data.source_of(index) or f"{where} sample {index}"
            raise DataError(f"{origin}: field '{name}' holds NaN or infinite values "
                            f"({int(bad.sum())} broken samples in all)")


def _stratum(fields: Mapping[str, np.ndarray], info: Mapping[str, FieldInfo]) -> np.ndarray | None:
    """The class labels to stratify by: the `label` field when it is one class id per sample."""
    fi = info.get("label")
    if fi is None or fi.dtype != "int64" or fi.shape != () or "label" not in fields:
        return None
    return fields["label"]


def _standardize(train: dict[str, np.ndarray], val: dict[str, np.ndarray],
                 name: str) -> tuple[np.ndarray, np.ndarray]:
    """Standardize field `name` in place with the training split's statistics; returns them."""
    mean = train[name].mean(axis=0).astype(np.float32)
    std = train[name].std(axis=0).astype(np.float32)
    # A constant column would divide by zero; leave it centred instead.
    std = np.where(std > 1e-8, std, np.float32(1.0)).astype(np.float32)
    train[name] = ((train[name] - mean) / std).astype(np.float32)
    if name in val:
        val[name] = ((val[name] - mean) / std).astype(np.float32)
    return mean, std
