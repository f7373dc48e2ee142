"""Writers for the small data files the dataset tests load: CSV, images, IDX, FASTA, UCR.

Each writes real files in the format a user would bring (written here independently of the
loaders, from the formats' definitions), so a loader test checks what a user would notice.
Also `data_issues`: the data check a graph being edited gets, as the designer runs it.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D}


def write_text(path: Path, text: str) -> Path:
    """Write `text` to `path` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]],
              delimiter: str = ",") -> Path:
    """A CSV file with a header row."""
    lines = [delimiter.join(header)] + [delimiter.join(str(c) for c in row) for row in rows]
    return write_text(path, "\n".join(lines) + "\n")


def write_image_folder(root: Path, classes: dict[str, list[np.ndarray]], suffix: str = ".png") -> Path:
    """One sub-folder per class; each array (H, W) or (H, W, 3) uint8 becomes one image file."""
    from PIL import Image

    for name, images in classes.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, array in enumerate(images):
            Image.fromarray(array).save(folder / f"img_{i:03d}{suffix}")
    return root


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """An IDX file: magic 0, 0, type code, ndim; big-endian uint32 dims; big-endian data."""
    header = bytes([0, 0, IDX_TYPE_CODES[array.dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def write_fasta(path: Path, records: Sequence[tuple[str, str]], width: int = 60) -> Path:
    """A FASTA file from (header text, sequence) pairs, sequences wrapped at `width`."""
    lines = []
    for header, seq in records:
        lines.append(f">{header}")
        lines.extend(seq[i:i + width] for i in range(0, len(seq), width))
    return write_text(path, "\n".join(lines) + "\n")


def write_ucr(path: Path, labels: Sequence[object], series: np.ndarray) -> Path:
    """A UCR-format TSV: the label first, then the values, tab separated, no header."""
    lines = ["\t".join([str(label)] + [f"{v:.6g}" for v in row]) for label, row in zip(labels, series)]
    return write_text(path, "\n".join(lines) + "\n")


def digit_like_images(rng: np.random.Generator, n: int, size: int = 28) -> np.ndarray:
    """(n, size, size) uint8 noise images, different per sample."""
    return rng.integers(0, 256, size=(n, size, size), dtype=np.uint8)


def data_issues(graph):
    """`check_data` of `graph` against its data section's schema (or the reason it has none)."""
    from training.binding import check_data
    from training.datasets import DataError, describe

    try:
        schema, problem = describe(graph.data), None
    except DataError as exc:
        schema, problem = None, str(exc)
    return check_data(graph, schema, problem=problem)
