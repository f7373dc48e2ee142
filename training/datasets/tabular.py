"""Tables and arrays from the user's files: CSV (with a header) and NPZ.

CSV: every column but the label becomes part of `features` (float32 (F,)); numeric columns as
they are, text columns one-hot encoded (one feature per category, sorted). The label column is
chosen by "label" (a header name or a 0-based index; default the last column); text labels become
class ids with the texts as class names, and with "task": "regression" the label is a float32
(1,) target. NPZ: each array is a field under its own name; arrays named NAME_train / NAME_val
(or _test) give the split.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import numpy as np

from .core import KINDS, DataError, FieldInfo, Options, RawData, encode_labels, label_info
from .lazy import MappedArray, stored_npz_members, stream_decision

_MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


def load_csv(path: Path, opts: Options) -> RawData:
    """A CSV file with a header row -> `features` and `label` (see the module docstring)."""
    header, rows, line_numbers = _read_rows(path, opts)
    label_col = _label_column(header, opts.get("label"), path)
    task = opts.choice("task", "classification", ("classification", "regression"))
    feature_cols = [i for i in range(len(header)) if i != label_col]
    if not feature_cols:
        raise DataError(f"{path}: no feature columns besides the label column '{header[label_col]}'")
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for col in feature_cols:
        block, block_names = _encode_column(path, header[col], [row[col] for row in rows], line_numbers)
        blocks.append(block)
        names.extend(block_names)
    features = np.concatenate(blocks, axis=1).astype(np.float32)
    raw_labels = [row[label_col] for row in rows]
    if task == "regression":
        labels = _numeric_column(path, header[label_col], raw_labels, line_numbers)
        label_field = labels.astype(np.float32)[:, None]
        label_desc = FieldInfo((1,), "float32", None, None, "label")
    else:
        _no_missing(path, header[label_col], raw_labels, line_numbers)
        label_field, class_names = encode_labels(raw_labels, f"{path}: column '{header[label_col]}'")
        label_desc = label_info(len(class_names), class_names)
    info = {"features": FieldInfo((features.shape[1],), "float32", None, None, "features", names),
            "label": label_desc}
    return RawData(path.stem, {"features": features, "label": label_field}, info, source=str(path),
                   sources=[f"{path} line {line_no}" for line_no in line_numbers])


def _read_rows(path: Path, opts: Options) -> tuple[list[str], list[list[str]], list[int]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    delimiter = opts.get("delimiter")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(text.splitlines(), delimiter=str(delimiter))
    lines = [(n, row) for n, row in enumerate(reader, start=1) if any(c.strip() for c in row)]
    if len(lines) < 2:
        raise DataError(f"{path}: expected a header row and at least one data row")
    header = [h.strip() for h in lines[0][1]]
    rows = []
    for line_no, row in lines[1:]:
        if len(row) != len(header):
            raise DataError(f"{path}: line {line_no}: {len(row)} columns, the header has "
                            f"{len(header)}")
        rows.append([c.strip() for c in row])
    return header, rows, [line_no for line_no, _ in lines[1:]]


def _label_column(header: list[str], choice: object, path: Path) -> int:
    if choice is None:
        return len(header) - 1
    if isinstance(choice, int) and not isinstance(choice, bool):
        if -len(header) <= choice < len(header):
            return choice % len(header)
        raise DataError(f"{path}: label column {choice} out of range for {len(header)} columns")
    if str(choice) in header:
        return header.index(str(choice))
    raise DataError(f"{path}: no column named '{choice}' for the label (columns: "
                    f"{', '.join(header)})")


def _encode_column(path: Path, name: str, values: list[str],
                   lines: list[int] | None = None) -> tuple[np.ndarray, list[str]]:
    """One CSV column as (N, k) floats: numbers as one feature, text one-hot over its categories.

    A column of numbers with a stray word or two is refused with the line: one-hot encoding it
    would silently turn one feature into one per distinct number.
    """
    numbers = _try_numbers(values)
    if numbers is None:
        stray = [(k, v) for k, v in enumerate(values) if not _is_number(v)]
        if len(stray) <= max(2, len(values) // 20) and len(values) - len(stray) >= 2 * len(stray) + 3:
            k, v = stray[0]
            line = f"line {lines[k]}: " if lines else ""
            raise DataError(f"{path}: {line}column '{name}' holds numbers but also {v!r}; correct it "
                            f"or leave it empty (missing values become the column mean)")
    if numbers is not None:
        if np.isnan(numbers).any():
            # Missing numbers: use the column mean so one gap does not drop the row.
            fill = np.nanmean(numbers) if np.isfinite(numbers).any() else 0.0
            numbers = np.where(np.isnan(numbers), fill, numbers)
        return numbers[:, None], [name]
    categories = sorted(set(values))
    lookup = {c: i for i, c in enumerate(categories)}
    onehot = np.zeros((len(values), len(categories)), dtype=np.float32)
    onehot[np.arange(len(values)), [lookup[v] for v in values]] = 1.0
    return onehot, [f"{name}={c}" for c in categories]


def _is_number(value: str) -> bool:
    if value.lower() in _MISSING:
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _try_numbers(values: list[str]) -> np.ndarray | None:
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if v.lower() in _MISSING:
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)
        except ValueError:
            return None
    return out


def _numeric_column(path: Path, name: str, values: list[str], lines: list[int]) -> np.ndarray:
    for line_no, v in zip(lines, values):
        try:
            float(v)
        except ValueError:
            raise DataError(f"{path}: line {line_no}: regression target '{name}' is not a number: "
                            f"{v!r}") from None
    return np.array([float(v) for v in values])


def _no_missing(path: Path, name: str, values: list[str], lines: list[int]) -> None:
    for line_no, v in zip(lines, values):
        if v.lower() in _MISSING:
            raise DataError(f"{path}: line {line_no}: the label '{name}' is missing")


def load_npz(path: Path, opts: Options) -> RawData:
    """An .npz archive: arrays become fields by name (see the module docstring).

    Image arrays stored uncompressed (np.savez, not savez_compressed) are memory-mapped instead
    of read when the data section streams (option stream; auto: when they are large).
    """
    mapped = _mapped_images(path, opts)
    arrays = _read_npz(path, skip=set(mapped))
    arrays.update(mapped)
    class_names = arrays.pop("class_names", None)
    train: dict[str, np.ndarray] = {}
    val: dict[str, np.ndarray] = {}
    for key, array in arrays.items():
        match = re.fullmatch(r"(.+)_(train|val|valid|validation|test)", key)
        if match:
            (train if match.group(2) == "train" else val)[match.group(1)] = array
        else:
            train[key] = array
    if not train:
        raise DataError(f"{path}: the archive holds no arrays")
    if val and set(val) != set(train):
        raise DataError(f"{path}: the validation arrays ({', '.join(sorted(val))}) do not match the "
                        f"training arrays ({', '.join(sorted(train))})")
    info: dict[str, FieldInfo] = {}
    for name in train:
        both = [train[name]] + ([val[name]] if val else [])
        if any(a.ndim == 0 for a in both):
            raise DataError(f"{path}: array '{name}' is a scalar; every field needs a sample axis")
        if val and train[name].shape[1:] != val[name].shape[1:]:
            raise DataError(f"{path}: '{name}' samples are {list(train[name].shape[1:])} in the "
                            f"training arrays but {list(val[name].shape[1:])} in the validation ones")
        converted, info[name] = _npz_field(path, name, both, class_names)
        train[name] = converted[0]
        if val:
            val[name] = converted[1]
    for split, which in ((train, ""), (val, "validation ")):
        counts = {name: len(a) for name, a in split.items()}
        if len(set(counts.values())) > 1:
            detail = ", ".join(f"{k}: {v}" for k, v in counts.items())
            raise DataError(f"{path}: {which}arrays have different numbers of samples ({detail})")
    counts = {name: len(a) for name, a in train.items()}
    n_val = len(next(iter(val.values()))) if val else 0
    return RawData(path.stem, train, info, val or None, source=str(path),
                   sources=[f"{path} sample {i}" for i in range(counts[next(iter(train))])],
                   val_sources=[f"{path} validation sample {i}" for i in range(n_val)] if val else None)


def _read_npz(path: Path, skip: set[str] | None = None) -> dict[str, np.ndarray]:
    try:
        # allow_pickle=False: an archive must never run code when loaded.
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files if key not in (skip or ())}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc})") from exc


def _mapped_images(path: Path, opts: Options) -> dict[str, MappedArray]:
    """The archive's image arrays as memory maps, when the section streams them; else {}."""
    try:
        stored = stored_npz_members(path)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return {}  # _read_npz reports an unreadable archive
    images = {key: (offset, dtype, shape) for key, (offset, dtype, shape) in stored.items()
              if len(shape) in (3, 4) and dtype.kind in "uif"
              and _npz_kind(key, np.empty((0,) * len(shape), dtype)) == "image"}
    decoded = sum(int(np.prod(shape)) * 4 for _, _, shape in images.values())
    if not images or not stream_decision(opts, decoded):
        return {}
    return {key: MappedArray(path, offset, dtype, shape, scale=1 / 255 if dtype == np.uint8 else 1.0,
                             add_channel=False)
            for key, (offset, dtype, shape) in images.items()}


def _npz_field(path: Path, name: str, arrays: list[np.ndarray],
               class_names: np.ndarray | None) -> tuple[list[np.ndarray], FieldInfo]:
    """Cast one field to float32/int64 and describe it; the kind comes from its name or rank."""
    sample_shape = tuple(arrays[0].shape[1:])
    if isinstance(arrays[0], MappedArray):  # scaled to float32 in [0, 1] as it is read
        return arrays, FieldInfo(sample_shape, "float32", None, None, "image")
    kind = _npz_kind(name, arrays[0])
    if arrays[0].dtype.kind in "US" and arrays[0].ndim == 1:
        # Text class names as labels: ids in sorted order, the texts become class names.
        ids, names = encode_labels(np.concatenate(arrays).tolist(), f"{path}: '{name}'")
        parts = np.split(ids, np.cumsum([len(a) for a in arrays])[:-1])
        return parts, label_info(len(names), names)
    integer = arrays[0].dtype.kind in "biu"
    if kind == "image" and integer:
        # 8-bit pixels become [0, 1] like every other image source.
        scale = np.float32(255.0 if arrays[0].dtype == np.uint8 else 1.0)
        return [a.astype(np.float32) / scale for a in arrays], FieldInfo(sample_shape, "float32",
                                                                        None, None, kind)
    if integer and kind == "features":
        kind = "tokens"
    if integer or kind in ("label", "mask", "tokens"):
        whole = np.concatenate(arrays)
        if whole.dtype.kind == "f" and not np.all(whole == np.round(whole)):
            return [a.astype(np.float32) for a in arrays], FieldInfo(sample_shape, "float32",
                                                                    None, None, kind)
        if whole.size and whole.min() < 0:
            raise DataError(f"{path}: '{name}' holds negative ids; class ids and tokens start at 0")
        count = int(whole.max()) + 1 if whole.size else 0
        names = None
        if kind == "label":
            names = [str(c) for c in class_names] if class_names is not None else \
                [str(i) for i in range(count)]
            count = max(count, len(names))
        return [a.astype(np.int64) for a in arrays], FieldInfo(sample_shape, "int64", count, names,
                                                              kind)
    if arrays[0].dtype.kind != "f":
        raise DataError(f"{path}: array '{name}' has dtype {arrays[0].dtype}; numbers expected")
    return [a.astype(np.float32) for a in arrays], FieldInfo(sample_shape, "float32", None, None, kind)


def _npz_kind(name: str, array: np.ndarray) -> str:
    base = name.lower()
    if base in KINDS:
        return base
    if base.startswith("omics_"):
        return "features"
    if base in ("y", "target", "targets", "labels"):
        return "label"
    rank = array.ndim - 1
    if rank == 0:
        return "label" if array.dtype.kind in "biu" else "features"
    return {1: "features", 2: "image", 3: "image"}.get(rank, "features")
