"""Time series: the cylinder-bell-funnel generator, UCR-format files, and series-as-images.

The Gramian Angular Field turns a series into an image a 2-D CNN can read: rescale to [-1, 1],
take phi = arccos(x), then GASF[i, j] = cos(phi_i + phi_j) and GADF[i, j] = sin(phi_i - phi_j).
Piecewise aggregate approximation (PAA) first shortens the series to `image_size` points, so
the image is (1, S, S). Written in numpy (no pyts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .core import DataError, FieldInfo, Options, RawData, encode_labels, label_info

TRANSFORMS = ("gasf", "gadf", "both", "none")
CBF_CLASSES = ["cylinder", "bell", "funnel"]


def paa(series: np.ndarray, segments: int) -> np.ndarray:
    """Piecewise aggregate approximation: (N, L) -> (N, segments), each the mean of its segment.

    Segment k covers indices floor(k L / S) .. floor((k + 1) L / S); when segments > L the
    series is linearly interpolated instead (there is nothing to average).
    """
    n, length = series.shape
    if segments == length:
        return series.astype(np.float32)
    if segments > length:
        grid = np.linspace(0, length - 1, segments)
        return np.stack([np.interp(grid, np.arange(length), row) for row in series]).astype(np.float32)
    bounds = (np.arange(segments + 1) * length) // segments
    sums = np.concatenate([np.zeros((n, 1)), np.cumsum(series, axis=1, dtype=np.float64)], axis=1)
    return ((sums[:, bounds[1:]] - sums[:, bounds[:-1]]) / np.diff(bounds)).astype(np.float32)


def gramian_angular_field(series: np.ndarray, method: str = "gasf") -> np.ndarray:
    """(N, L) series -> (N, L, L) GASF or GADF images with values in [-1, 1].

    Each series is min-max rescaled to [-1, 1] on its own (a flat series becomes zeros).
    """
    lo = series.min(axis=1, keepdims=True)
    span = series.max(axis=1, keepdims=True) - lo
    scaled = np.where(span > 0, 2.0 * (series - lo) / np.where(span > 0, span, 1.0) - 1.0, 0.0)
    x = np.clip(scaled, -1.0, 1.0)
    sin = np.sqrt(np.clip(1.0 - x * x, 0.0, 1.0))
    # cos(a + b) = cos a cos b - sin a sin b; sin(a - b) = sin a cos b - cos a sin b.
    if method == "gasf":
        field = x[:, :, None] * x[:, None, :] - sin[:, :, None] * sin[:, None, :]
    elif method == "gadf":
        field = sin[:, :, None] * x[:, None, :] - x[:, :, None] * sin[:, None, :]
    else:
        raise ValueError(f"unknown Gramian angular field {method!r}")
    return field.astype(np.float32)


def series_images(series: np.ndarray, transform: str, image_size: int) -> np.ndarray | None:
    """The `image` field for a transform: (N, C, S, S) with C = 2 for "both"; None for "none"."""
    if transform == "none":
        return None
    short = paa(series, image_size)
    methods = ("gasf", "gadf") if transform == "both" else (transform,)
    return np.stack([gramian_angular_field(short, m) for m in methods], axis=1)


def make_cbf(opts: Options, data_seed: int) -> RawData:
    """Cylinder-bell-funnel series (Saito 1994), 3 balanced classes, and their GAF images.

    With t = 1..L, a ~ U[L/8, L/4], b - a ~ U[L/4, 3L/4], eta, eps(t) ~ N(0, 1):
    cylinder (6 + eta) 1[a,b](t) + eps(t); bell the same times (t - a)/(b - a); funnel times
    (b - t)/(b - a). Fields: `series` (L,), `image` (1, S, S) unless transform is "none", `label`.
    Options: n_samples (900), length (128), transform (gasf|gadf|both|none, default gasf),
    image_size (32).
    """
    n = opts.integer("n_samples", 900, minimum=3)
    length = opts.integer("length", 128, minimum=16)
    transform = opts.choice("transform", "gasf", TRANSFORMS)
    image_size = opts.integer("image_size", 32, minimum=2)
    rng = np.random.default_rng(data_seed)
    labels = np.arange(n, dtype=np.int64) % 3
    rng.shuffle(labels)
    t = np.arange(1, length + 1, dtype=np.float64)[None, :]
    a = rng.uniform(length / 8, length / 4, size=(n, 1))
    b = a + rng.uniform(length / 4, 3 * length / 4, size=(n, 1))
    height = 6.0 + rng.normal(size=(n, 1))
    window = ((t >= a) & (t <= b)).astype(np.float64)
    ramp = np.select([labels[:, None] == 1, labels[:, None] == 2],
                     [(t - a) / (b - a), (b - t) / (b - a)], default=1.0)
    series = (height * window * ramp + rng.normal(size=(n, length))).astype(np.float32)
    return _series_data("cbf", series, labels, CBF_CLASSES, transform, image_size, None, "cbf")


def _series_data(name: str, series: np.ndarray, labels: np.ndarray, class_names: list[str],
                 transform: str, image_size: int, val: tuple[np.ndarray, np.ndarray] | None,
                 source: str) -> RawData:
    def fields_of(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        out = {"series": x}
        images = series_images(x, transform, image_size)
        if images is not None:
            out["image"] = images
        out["label"] = y
        return out

    info = {"series": FieldInfo((series.shape[1],), "float32", None, None, "series")}
    if transform != "none":
        channels = 2 if transform == "both" else 1
        info["image"] = FieldInfo((channels, image_size, image_size), "float32", None, None, "image")
    info["label"] = label_info(len(class_names), class_names)
    val_fields = fields_of(*val) if val is not None else None
    return RawData(name, fields_of(series, labels), info, val_fields, source=source)


def load_ucr(path: Path, opts: Options) -> RawData:
    """UCR-archive series: one per line, the class label first, then the values.

    `path` is one file (tab, comma or space separated) or a folder holding NAME_TRAIN.tsv and
    NAME_TEST.tsv (the test file becomes the validation split). Missing values (NaN, as in the
    variable-length sets) are filled from the neighbouring values.
    Options: transform (none|gasf|gadf|both, default none), image_size (32, at most the length).
    """
    test_path = None
    if path.is_dir():
        trains = sorted(path.glob("*_TRAIN*"))
        if not trains:
            raise DataError(f"{path}: no NAME_TRAIN.tsv file in this folder")
        path = trains[0]
        candidate = path.with_name(path.name.replace("_TRAIN", "_TEST"))
        test_path = candidate if candidate.exists() else None
    raw_labels, series, lines = _read_ucr_file(path)
    val = val_lines = None
    if test_path is not None:
        val_labels, val_series, val_lines = _read_ucr_file(test_path)
        if val_series.shape[1] != series.shape[1]:
            raise DataError(f"{test_path}: series of length {val_series.shape[1]}, but "
                            f"{path.name} has length {series.shape[1]}")
        ids, names = encode_labels(raw_labels + val_labels, str(path))
        labels, val = ids[: len(raw_labels)], (val_series, ids[len(raw_labels):])
    else:
        labels, names = encode_labels(raw_labels, str(path))
    transform = opts.choice("transform", "none", TRANSFORMS)
    image_size = opts.integer("image_size", min(32, series.shape[1]), minimum=2)
    name = path.name.split("_TRAIN")[0].rsplit(".", 1)[0]
    data = _series_data(name, series, labels, names, transform, image_size, val, str(path))
    data.sources = [f"{path} line {n}" for n in lines]
    if val_lines is not None:
        data.val_sources = [f"{test_path} line {n}" for n in val_lines]
    return data


def _read_ucr_file(path: Path) -> tuple[list[str], np.ndarray, list[int]]:
    """Labels, series (N, L) and the line number of each series."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    labels: list[str] = []
    rows: list[np.ndarray] = []
    numbers: list[int] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").split()
        try:
            values = np.array([float(v) for v in parts[1:]], dtype=np.float64)
        except ValueError as exc:
            raise DataError(f"{path}: line {line_no}: not a number ({exc})") from exc
        if rows and len(values) != len(rows[0]):
            raise DataError(f"{path}: line {line_no}: series of length {len(values)}, "
                            f"expected {len(rows[0])} like the first line")
        if len(values) < 2:
            raise DataError(f"{path}: line {line_no}: a label and at least 2 values expected")
        labels.append(parts[0])
        rows.append(_fill_nan(values, path, line_no))
        numbers.append(line_no)
    if not rows:
        raise DataError(f"{path}: no series found (empty file)")
    return labels, np.stack(rows).astype(np.float32), numbers


def _fill_nan(values: np.ndarray, path: Path, line_no: int) -> np.ndarray:
    finite = np.isfinite(values)
    if finite.all():
        return values
    if not finite.any():
        raise DataError(f"{path}: line {line_no}: the series has no finite value")
    index = np.arange(len(values))
    return np.interp(index, index[finite], values[finite])


def looks_like_ucr(path: Path) -> bool:
    """A UCR folder (NAME_TRAIN.tsv inside), or a file whose first line is all numbers."""
    if path.is_dir():
        return any(path.glob("*_TRAIN*"))
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline()
        [float(v) for v in first.replace(",", " ").split()]
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return bool(first.strip())
