"""A sample read from the user's file, shaped like the explained field (`--input PATH`).

| file | read as |
|---|---|
| .png .jpg .jpeg .bmp .gif | an image, converted to the field's channels (1 grey, 3 RGB), resized, in [0, 1] |
| .npy | the field's array as is (one sample, no batch axis) |
| .txt .fa .fasta | DNA letters (lines starting with '>' skipped), for a sequence field |
| .csv | one row of numbers (a header line is skipped), standardised like the training data |

A time-series GAF model reads a .csv or .txt of numbers as a series and turns it into the
image the way the dataset did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .subject import ExplainError, Subject

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def read_input(subject: Subject, path: str | Path) -> dict[str, np.ndarray]:
    """The fields of one sample read from `path` (only the explained field, plus `series`)."""
    path = Path(path)
    if not path.is_file():
        raise ExplainError(f"--input {path}: no such file")
    info = subject.data.info[subject.field]
    suffix = path.suffix.lower()
    try:
        if suffix in IMAGE_SUFFIXES:
            value = _image(path, info.shape)
        elif suffix == ".npy":
            value = np.load(path, allow_pickle=False)
        elif suffix in (".txt", ".fa", ".fasta") and info.kind == "sequence":
            value = _dna(path, info)
        elif suffix in (".csv", ".txt"):
            numbers = _numbers(path)
            if info.kind == "image" and "series" in subject.data.info:
                return _series_sample(subject, numbers)
            value = numbers
        else:
            raise ExplainError(f"--input {path}: unknown kind of file (use .png, .npy, .txt, .fa or .csv)")
    except (OSError, ValueError) as exc:
        raise ExplainError(f"--input {path}: cannot read ({exc})") from None
    value = np.asarray(value)
    if tuple(value.shape) != tuple(info.shape):
        raise ExplainError(f"--input {path}: a sample of shape {list(value.shape)}, but the model reads "
                           f"'{subject.field}' of shape {list(info.shape)}")
    if subject.field in subject.data.normalization and suffix != ".npy":
        mean, std = subject.data.normalization[subject.field]
        value = (value - mean) / std
    dtype = np.int64 if info.dtype == "int64" else np.float32
    return {subject.field: value.astype(dtype)}


def _image(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    from PIL import Image

    channels, height, width = shape
    with Image.open(path) as img:
        img = img.convert("L" if channels == 1 else "RGB").resize((width, height), Image.Resampling.BILINEAR)
        array = np.asarray(img, dtype=np.float32) / 255.0
    return array[None] if channels == 1 else np.transpose(array, (2, 0, 1))


def _dna(path: Path, info) -> np.ndarray:
    text = "".join(line.strip() for line in path.read_text().splitlines() if not line.startswith(">")).upper()
    ids = np.array(["ACGT".find(ch) for ch in text], dtype=np.int64)
    ids[ids < 0] = 4  # unknown bases: an all-zero one-hot column
    if len(info.shape) == 2:
        return (ids[None, :] == np.arange(4)[:, None]).astype(np.float32)
    return ids


def _numbers(path: Path) -> np.ndarray:
    rows = [line for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        try:
            return np.array([float(v) for v in row.replace(",", " ").split()], dtype=np.float32)
        except ValueError:
            continue  # a header line
    raise ValueError("no row of numbers")


def _series_sample(subject: Subject, series: np.ndarray) -> dict[str, np.ndarray]:
    from training.datasets.series import series_images

    data = subject.graph.data
    transform = str(data.get("transform", "gasf"))
    size = subject.data.info[subject.field].shape[-1]
    image = series_images(series[None].astype(np.float32), transform, size)
    if image is None:
        raise ExplainError("the model reads no Gramian angular field image")
    return {subject.field: image[0], "series": series.astype(np.float32)}
