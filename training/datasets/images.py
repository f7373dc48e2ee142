"""Images from the user's files: one folder per class (via Pillow) and MNIST-style IDX files.

Both produce the fields `image` (C, H, W) float32 in [0, 1] and `label` (int64 class ids).
MNIST's files ship their own split (train-* and t10k-*), which is used as the validation set
when both are present. `resize_images` is shared with the built-in digits.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .core import DataError, FieldInfo, Options, RawData, label_info
from .lazy import ImageFiles, MappedArray, stream_decision, workers_option
from .split import subsample

# progress(stage, done, total): how far a long first pass has got (total None: not known yet)
Progress = Callable[[str, int, "int | None"], None]

# Without an explicit image_size, larger images are refused: 10,000 photos of 3000x4000 pixels
# as float32 would not fit in memory, so the user chooses the size the network reads.
MAX_DEFAULT_SIDE = 512
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

# IDX type byte -> big-endian numpy dtype (the format's own table).
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize (N, C, H, W) float32 images to (N, C, *size) with Pillow's bilinear filter."""
    from PIL import Image

    n, c, h, w = images.shape
    if (h, w) == tuple(size):
        return images
    out = np.empty((n, c, size[0], size[1]), dtype=np.float32)
    for i in range(n):
        for ch in range(c):
            plane = Image.fromarray(np.ascontiguousarray(images[i, ch], dtype=np.float32))
            # Pillow's (width, height) order; BILINEAR antialiases when shrinking.
            out[i, ch] = np.asarray(plane.resize((size[1], size[0]), Image.Resampling.BILINEAR))
    return out


def load_image_folder(path: Path, opts: Options, progress: Progress | None = None) -> RawData:
    """A folder with one sub-folder per class, each holding image files.

    A first pass lists the files and reads each one's header (size and mode, no pixels), so a
    broken file is named before training and `progress` hears how far it got. Then the images
    are decoded into memory as float32, or, when the folder is large (see `lazy.stream_decision`),
    kept as an `ImageFiles` field that DataLoader workers decode batch by batch.

    Options: image_size (int or [H, W]; default the first image's size), channels (1 or 3;
    default 1 when the first image is grayscale, else 3), stream (auto/on/off), workers.
    """
    report = progress or _no_progress
    classes = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[tuple[Path, int]] = []
    for class_id, name in enumerate(classes):
        for file in sorted((path / name).iterdir()):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                files.append((file, class_id))
        report("listing files", len(files), None)
    if not files:
        raise DataError(f"{path}: no images found (expected one sub-folder per class holding "
                        f"{', '.join(IMAGE_SUFFIXES[:3])} ... files)")
    limit = opts.get("limit")
    if limit is not None and opts.integer("limit", 0, minimum=2) < len(files):
        # Read only the images that will be used: a photo folder can be large.
        ids = np.array([class_id for _, class_id in files])
        files = [files[i] for i in subsample(len(files), ids, int(limit), np.random.default_rng(0))]
    first_mode, first_size = _read_headers([f for f, _ in files], report)
    channels = opts.integer("channels", 1 if first_mode in ("1", "L", "LA", "I", "I;16", "F") else 3,
                            minimum=1, maximum=3)
    if channels == 2:
        raise DataError(f"{path}: 'channels' must be 1 (grayscale) or 3 (RGB)")
    size = opts.size2d("image_size", None)
    if size is None:
        size = (first_size[1], first_size[0])
        if max(size) > MAX_DEFAULT_SIDE:
            raise DataError(f"{files[0][0]}: images are {first_size[0]}x{first_size[1]} pixels; set "
                            "\"image_size\" in the data section (e.g. 64 or 224) to resize them")
    workers_option(opts)
    names = [str(file) for file, _ in files]
    lazy = ImageFiles(names, channels, size)
    if stream_decision(opts, lazy.decoded_nbytes):
        images = lazy
    else:
        images = np.empty((len(files), channels, size[0], size[1]), dtype=np.float32)
        for index, (file, _) in enumerate(files):
            images[index] = _read_image(file, index, channels, size)
            if index % 500 == 499:
                report("decoding images", index + 1, len(files))
    labels = np.array([class_id for _, class_id in files], dtype=np.int64)
    info = {"image": FieldInfo((channels, size[0], size[1]), "float32", None, None, "image"),
            "label": label_info(len(classes), classes)}
    return RawData(path.name, {"image": images, "label": labels}, info, source=str(path),
                   sources=names)


def _read_headers(files: list[Path], report: Progress) -> tuple[str, tuple[int, int]]:
    """Open every file's header (no pixels): a broken file fails here, named with its index.

    Returns the first image's mode and (width, height).
    """
    from PIL import Image, UnidentifiedImageError

    first: tuple[str, tuple[int, int]] | None = None
    every = max(1, min(1000, len(files) // 20))
    for index, file in enumerate(files):
        try:
            with Image.open(file) as image:
                if first is None:
                    image.load()  # the first one whole: its mode after decoding decides channels
                    first = (image.mode, image.size)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise DataError(f"{file}: sample {index} is not a readable image ({exc})") from exc
        if index % every == every - 1 or index == len(files) - 1:
            report("reading headers", index + 1, len(files))
    assert first is not None
    return first


def _no_progress(stage: str, done: int, total: int | None) -> None:
    return None


def _open_image(file: Path, index: int):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(file)
        image.load()
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"{file}: sample {index} is not a readable image ({exc})") from exc
    return image


def _read_image(file: Path, index: int, channels: int, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    image = _open_image(file, index).convert("L" if channels == 1 else "RGB")
    if (image.height, image.width) != size:
        image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (raw or gzip) as a numpy array in native byte order."""
    try:
        opener = gzip.open if _is_gzip(path) else open
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read the IDX file ({exc})") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header or ndim == 0:
        raise DataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(data) - header < expected:
        complete = (len(data) - header) // max(1, dtype.itemsize * int(np.prod(dims[1:])))
        raise DataError(f"{path}: truncated at sample {complete}: expected {expected} bytes of data "
                        f"for {dims[0]} samples, found {len(data) - header}")
    array = np.frombuffer(data, dtype=dtype, count=int(np.prod(dims)), offset=header)
    return array.reshape(dims).astype(dtype.newbyteorder("="))


def idx_header(path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, dims, data offset) of an uncompressed IDX file, reading its header only."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
                raise DataError(f"{path}: not an IDX file (bad magic number)")
            raw_dims = handle.read(4 * head[3])
    except OSError as exc:
        raise DataError(f"{path}: cannot read the IDX file ({exc})") from exc
    if head[3] == 0 or len(raw_dims) < 4 * head[3]:
        raise DataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{head[3]}I", raw_dims)
    dtype = np.dtype(_IDX_TYPES[head[2]])
    offset = 4 + 4 * head[3]
    expected = int(np.prod(dims)) * dtype.itemsize
    if size - offset < expected:
        complete = (size - offset) // max(1, dtype.itemsize * int(np.prod(dims[1:])))
        raise DataError(f"{path}: truncated at sample {complete}: expected {expected} bytes of data "
                        f"for {dims[0]} samples, found {size - offset}")
    return dtype, dims, offset


def _idx_images(path: Path, opts: Options) -> np.ndarray | MappedArray:
    """An IDX images file: memory-mapped when it is large and stored raw, else read whole."""
    if not _is_gzip(path) and opts.get("image_size") is None:
        dtype, dims, offset = idx_header(path)
        if len(dims) in (3, 4) and stream_decision(opts, int(np.prod(dims)) * 4):
            return MappedArray(path, offset, dtype, dims, channels_last=len(dims) == 4,
                               scale=1 / 255 if dtype == np.uint8 else 1.0)
    return read_idx(path)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def load_idx(path: Path, opts: Options, root: Path | None) -> RawData:
    """MNIST IDX files: a folder holding train-images/train-labels (and t10k-*), or one images file.

    With an images file, its labels file is the `labels` option or the sibling whose name has
    "labels"/"idx1" in place of "images"/"idx3". Option image_size resizes the images.
    """
    if path.is_dir():
        train_images = _find_idx(path, ("train", "images"))
        fields = _idx_pair(train_images, _idx_images(train_images, opts),
                           _find_idx(path, ("train", "labels")))
        test_images = _find_idx(path, ("t10k", "images"), required=False)
        test_labels = _find_idx(path, ("t10k", "labels"), required=False)
    else:
        # The images file is read first, so a broken one is reported before a missing label file.
        train_images, images = path, _idx_images(path, opts)
        fields = _idx_pair(path, images, opts.path("labels", root) or _sibling_labels(path))
        test_images = test_labels = None
    val_fields = None
    if test_images and test_labels:
        val_fields = _idx_pair(test_images, _idx_images(test_images, opts), test_labels)
    if val_fields is not None and val_fields["image"].shape[1:] != fields["image"].shape[1:]:
        raise DataError(f"{test_images}: images of shape {list(val_fields['image'].shape[1:])} "
                        f"differ from {train_images}'s {list(fields['image'].shape[1:])}")
    size = opts.size2d("image_size", None)
    if size is not None:
        # e.g. 32 for the classic LeNet-5 input; both splits alike.
        for split in (fields, val_fields) if val_fields is not None else (fields,):
            split["image"] = np.clip(resize_images(split["image"], size), 0.0, 1.0)
    labels = fields["label"] if val_fields is None else np.concatenate(
        [fields["label"], val_fields["label"]])
    num_classes = int(labels.max()) + 1 if len(labels) else 0
    info = {"image": FieldInfo(tuple(fields["image"].shape[1:]), "float32", None, None, "image"),
            "label": label_info(num_classes)}
    return RawData(path.name, fields, info, val_fields, source=str(path),
                   sources=_numbered(train_images, len(fields["label"])),
                   val_sources=None if val_fields is None else _numbered(test_images,
                                                                        len(val_fields["label"])))


def _numbered(path: Path, count: int) -> list[str]:
    return [f"{path} sample {i}" for i in range(count)]


def _idx_pair(images_path: Path, images: np.ndarray | MappedArray,
              labels_path: Path) -> dict[str, np.ndarray | MappedArray]:
    labels = read_idx(labels_path)
    stored_rank = len(images.stored_shape) if isinstance(images, MappedArray) else images.ndim
    if stored_rank not in (3, 4):
        raise DataError(f"{images_path}: expected images of shape (N, H, W), found {list(images.shape)}")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected one label per sample, found shape {list(labels.shape)}")
    if len(images) != len(labels):
        raise DataError(f"{labels_path}: {len(labels)} labels for {len(images)} images in "
                        f"{images_path.name}")
    if len(labels) and labels.min() < 0:
        bad = int(np.argmin(labels))
        raise DataError(f"{labels_path}: sample {bad} has a negative label {int(labels[bad])}")
    if isinstance(images, MappedArray):  # already served as (C, H, W), scaled when read
        return {"image": images, "label": labels.astype(np.int64)}
    # (N, H, W) grayscale -> (N, 1, H, W); (N, H, W, C) colour -> (N, C, H, W).
    images = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    return {"image": images.astype(np.float32) / np.float32(scale), "label": labels.astype(np.int64)}


def _find_idx(folder: Path, words: tuple[str, ...], required: bool = True) -> Path | None:
    matches = sorted(p for p in folder.iterdir()
                     if p.is_file() and all(w in p.name.lower() for w in words))
    if not matches:
        if required:
            raise DataError(f"{folder}: no IDX file named like '{'-'.join(words)}-idx...-ubyte[.gz]'")
        return None
    return matches[0]


def _sibling_labels(images_path: Path) -> Path:
    name = images_path.name.replace("images", "labels").replace("idx3", "idx1")
    candidate = images_path.with_name(name)
    if name == images_path.name or not candidate.exists():
        raise DataError(f"{images_path}: no labels file found next to it; name it with 'labels' "
                        "in place of 'images' or set \"labels\" in the data section")
    return candidate


def looks_like_idx(path: Path) -> bool:
    """True for a file or folder that holds IDX data (by name, as MNIST ships it)."""
    if path.is_dir():
        return any("idx" in p.name.lower() and "ubyte" in p.name.lower() for p in path.iterdir())
    name = path.name.lower()
    return "ubyte" in name or name.endswith((".idx", ".idx.gz"))
