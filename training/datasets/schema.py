"""What a data section will produce, without producing it: fields, shapes, dtypes, classes, counts.

The designer checks a graph against its data on every edit, so it needs each field's shape and
class count in microseconds, not the seconds generating or reading the data takes (scikit-learn
alone takes about a second to import). The built-ins are described statically here, honouring
their options exactly as their builders parse them (same keys, same defaults, same DataError for a
bad value); a contract test keeps the two in step. Files must be read to be described, so
`describe` reads them (call it off the GUI thread) and `describe_builtin` returns None for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .core import DataError, FieldInfo, Options, RawData, label_info, named_section
from .series import CBF_CLASSES, TRANSFORMS
from .shortcut import shortcut_fields, shortcut_options
from .split import allocate
from .synthetic import DNA_ALPHABET, SHAPE_CLASSES, _omics_widths

_IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
_CANCER_BASES = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
                 "concave points", "symmetry", "fractal dimension"]
_CANCER_COLUMNS = ([f"mean {b}" for b in _CANCER_BASES] + [f"{b} error" for b in _CANCER_BASES]
                   + [f"worst {b}" for b in _CANCER_BASES])
# Keys every data section may hold whatever the dataset (see the package docstring).
COMMON_KEYS = ("dataset", "format", "val_fraction", "limit", "normalize", "data_seed")


@dataclass(frozen=True)
class DataSchema:
    """The fields of a dataset and how many samples it has, before any split.

    Attributes:
        name: the dataset's name (built-in name or file stem), as messages use it.
        fields: per field, what one sample holds (in the order the source produces them).
        n_samples: samples the source gives (after an image folder's `limit`), before the split.
        n_val_shipped: size of a validation split the source ships itself (MNIST's t10k, UCR's
            _TEST), else None: a random split of `val_fraction` is taken instead.
        source: the built-in name or the file it came from.
        builtin: True for a built-in (described without generating it).
        label_counts: samples per class of the `label` field the split is stratified by, where
            known (generated sets whose classes are drawn at random leave it None).
    """

    name: str
    fields: dict[str, FieldInfo]
    n_samples: int
    n_val_shipped: int | None = None
    source: str = ""
    builtin: bool = False
    label_counts: tuple[int, ...] | None = None

    def split_counts(self, val_fraction: float = 0.2, limit: int | None = None) -> tuple[int, int]:
        """(train, validation) sample counts `prepare` gives with these settings.

        Exact where the class sizes are known (`label_counts`); otherwise a stratified split
        can differ by a sample or two when a class is too small to give validation its share.
        """
        if self.n_val_shipped is not None:
            train_limit = limit and max(1, round(limit * (1 - val_fraction)))
            train = min(self.n_samples, train_limit) if train_limit else self.n_samples
            val_limit = limit and max(1, limit - train)
            return train, min(self.n_val_shipped, val_limit) if val_limit else self.n_val_shipped
        keep = min(self.n_samples, limit) if limit else self.n_samples
        n_val = round(keep * val_fraction) if val_fraction > 0 else 0
        if val_fraction > 0 and keep > 1:
            n_val = min(keep - 1, max(1, n_val))
        if self.label_counts is not None and len(self.label_counts) and sum(self.label_counts) == self.n_samples:
            # What split_indices does per class: quotas, then one sample each side where it can.
            counts = np.array([c for c in self.label_counts if c > 0], dtype=np.int64)
            if limit and limit < self.n_samples:
                counts = allocate(counts, limit)
                counts = counts[counts > 0]
            quota = allocate(counts, n_val)
            if val_fraction > 0:
                quota = np.where(counts >= 2, np.clip(quota, 1, counts - 1), quota)
            n_val = int(quota.sum())
        return keep - n_val, n_val

    def input_fields(self) -> list[str]:
        """Fields a network reads (not labels or masks), in the source's order."""
        return [name for name, fi in self.fields.items() if fi.kind not in ("label", "mask")]


def describe(section: Mapping[str, Any] | None, root: Path | None = None) -> DataSchema:
    """The schema of the dataset a data section names; reads files (slow: not on a GUI thread).

    Raises:
        DataError: exactly what `prepare` would raise for this section.
    """
    schema = describe_builtin(section)
    if schema is not None:
        return schema
    from .pipeline import load_raw  # a file must be read to be described

    section = dict(section or {})
    if isinstance(section.get("dataset"), os.PathLike):
        section["dataset"] = os.fspath(section["dataset"])
    return schema_from_raw(load_raw(section, root))


def describe_builtin(section: Mapping[str, Any] | None) -> DataSchema | None:
    """The schema of a built-in, computed from its options alone (fast); None for a file.

    Raises:
        DataError: no dataset named, or an option the builder would refuse.
    """
    section, name = named_section(section, _BUILTINS)
    opts = Options(section, name)
    common_options(opts)
    describer = _BUILTINS.get(name.lower())
    if describer is None:
        return None
    opts.integer("data_seed", 0)
    fields, count, *rest = describer(opts)
    # A describer may add the label counts, then the size of a validation split it ships.
    classes = tuple(rest[0]) if rest and rest[0] is not None else None
    shipped = rest[1] if len(rest) > 1 else None
    return DataSchema(name.lower(), fields, count, shipped, name.lower(), True, classes)


def common_options(opts: Options) -> tuple[float, int | None]:
    """(val_fraction, limit) checked as `prepare` checks them."""
    val_fraction = opts.number("val_fraction", 0.2, minimum=0.0, maximum=0.9)
    limit = None if opts.get("limit") is None else opts.integer("limit", 0, minimum=2)
    return val_fraction, limit


def schema_from_raw(raw: RawData) -> DataSchema:
    """The schema of data already loaded (what a file gives)."""
    n = len(next(iter(raw.fields.values()))) if raw.fields else 0
    n_val = len(next(iter(raw.val_fields.values()))) if raw.val_fields else None
    fields = {name: raw.info[name] for name in raw.fields}
    label, fi = raw.fields.get("label"), raw.info.get("label")
    counts = None
    if label is not None and fi is not None and fi.dtype == "int64" and fi.shape == () and n_val is None:
        counts = tuple(int(c) for c in np.bincount(label)) if len(label) else ()
    return DataSchema(raw.name, fields, n, n_val, raw.source or raw.name, False, counts)


def builtin_schema_names() -> list[str]:
    """The built-ins this module can describe (every built-in)."""
    return list(_BUILTINS)


# ---- the built-ins, option by option as their builders read them ------------------------------

# Options -> (fields, sample count[, samples per class when the builder fixes them]).
Describer = Callable[[Options], tuple]
_DIGIT_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


def _digits(opts: Options) -> tuple:
    size = opts.size2d("image_size", 8)
    return ({"image": FieldInfo((1, *size), "float32", None, None, "image"), "label": label_info(10)},
            1797, _DIGIT_COUNTS)


def _table(columns: list[str], classes: list[str], per_class: tuple[int, ...]) -> Describer:
    def describe_table(opts: Options) -> tuple:
        return ({"features": FieldInfo((len(columns),), "float32", None, None, "features", columns),
                 "label": label_info(len(classes), classes)}, sum(per_class), per_class)

    return describe_table


def _moons(opts: Options) -> tuple:
    n = opts.integer("n_samples", 1000, minimum=4)
    opts.number("noise", 0.1)
    return ({"features": FieldInfo((2,), "float32", None, None, "features"), "label": label_info(2)},
            n, (n // 2, n - n // 2))


def _blobs(opts: Options) -> tuple:
    centers = opts.integer("centers", 3, minimum=1)
    n = opts.integer("n_samples", 1000, minimum=centers * 2)
    width = opts.integer("n_features", 2, minimum=1)
    opts.number("cluster_std", 1.0)
    per_center = tuple(n // centers + (1 if k < n % centers else 0) for k in range(centers))
    return ({"features": FieldInfo((width,), "float32", None, None, "features"),
             "label": label_info(centers)}, n, per_center)


def _dna_motif(opts: Options) -> tuple:
    n = opts.integer("n_samples", 2000, minimum=2)
    motif = str(opts.get("motif", "TGACGTCA")).upper()
    if not motif or any(base not in DNA_ALPHABET for base in motif):
        raise DataError(f"dna_motif: 'motif' must be a non-empty string of A, C, G, T, got {motif!r}")
    length = opts.integer("length", 100, minimum=len(motif))
    opts.integer("mutations", 1, minimum=0, maximum=len(motif))
    encoding = opts.choice("encoding", "tokens", ("tokens", "embedding", "onehot"))
    onehot = FieldInfo((4, length), "float32", None, None, "sequence")
    sequence = onehot if encoding == "onehot" else FieldInfo((length,), "int64", 4, list(DNA_ALPHABET),
                                                             "sequence")
    return ({"sequence": sequence, "sequence_onehot": onehot,
             "label": label_info(2, ["background", "motif"])}, n, (n - n // 2, n // 2))


def _cbf(opts: Options) -> tuple:
    n = opts.integer("n_samples", 900, minimum=3)
    length = opts.integer("length", 128, minimum=16)
    transform = opts.choice("transform", "gasf", TRANSFORMS)
    size = opts.integer("image_size", 32, minimum=2)
    fields = {"series": FieldInfo((length,), "float32", None, None, "series")}
    if transform != "none":
        fields["image"] = FieldInfo((2 if transform == "both" else 1, size, size), "float32", None,
                                    None, "image")
    fields["label"] = label_info(3, CBF_CLASSES)
    return fields, n, tuple(len(range(k, n, 3)) for k in range(3))


def _shapes_seg(opts: Options) -> tuple:
    n = opts.integer("n_samples", 1000, minimum=1)
    size = opts.integer("image_size", 32, minimum=12)
    opts.integer("max_shapes", 3, minimum=1)
    opts.number("noise", 0.05)
    classes = list(SHAPE_CLASSES if opts.flag("triangles", True) else SHAPE_CLASSES[:3])
    return {"image": FieldInfo((1, size, size), "float32", None, None, "image"),
            "mask": FieldInfo((size, size), "int64", len(classes), classes, "mask"),
            "label": label_info(len(classes), classes)}, n


def _multiomics(opts: Options) -> tuple:
    n = opts.integer("n_samples", 1000, minimum=2)
    num_classes = opts.integer("num_classes", 3, minimum=2)
    opts.integer("latent_dim", 8, minimum=1)
    opts.number("noise", 1.0)
    fields = {f"omics_{name}": FieldInfo((width,), "float32", None, None, "features")
              for name, width in _omics_widths(opts).items()}
    fields["label"] = label_info(num_classes, [f"subtype_{chr(65 + k)}" for k in range(num_classes)]
                                 if num_classes <= 26 else None)
    return fields, n


def _tokens(opts: Options) -> tuple:
    n = opts.integer("n_samples", 2000, minimum=2)
    length = opts.integer("length", 32, minimum=4)
    num_classes = opts.integer("num_classes", 2, minimum=2)
    vocab = opts.integer("vocab_size", 20, minimum=2 * num_classes + 2)
    fields = {"tokens": FieldInfo((length,), "int64", vocab, None, "tokens"), "label": label_info(num_classes)}
    if opts.flag("segments", False):
        fields["segments"] = FieldInfo((length,), "int64", 2, None, "tokens")
    return fields, n


def _translation(opts: Options) -> tuple:
    from .translation import MAX_SOURCE, MAX_TARGET, toy_vocabularies

    source, target = toy_vocabularies()
    return {"source": FieldInfo((MAX_SOURCE,), "int64", len(source), source, "tokens"),
            "target": FieldInfo((MAX_TARGET,), "int64", len(target), target, "tokens")}, \
        opts.integer("n_samples", 4000, minimum=4)


def _snow_shortcut(opts: Options) -> tuple:
    n, size, _, _ = shortcut_options(opts)
    return shortcut_fields(size), n, (n - n // 2, n // 2), max(2, n // 4)


_BUILTINS: dict[str, Describer] = {
    "digits": _digits,
    "iris": _table(_IRIS_COLUMNS, ["setosa", "versicolor", "virginica"], (50, 50, 50)),
    "breast_cancer": _table(_CANCER_COLUMNS, ["malignant", "benign"], (212, 357)),
    "moons": _moons,
    "blobs": _blobs,
    "dna_motif": _dna_motif,
    "cbf": _cbf,
    "shapes_seg": _shapes_seg,
    "multiomics_synth": _multiomics,
    "tokens_synth": _tokens,
    "snow_shortcut": _snow_shortcut,
    "translation_synth": _translation,
}
