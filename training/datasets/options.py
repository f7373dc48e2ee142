"""What a graph's "data" section may hold, as ParamSpecs: each built-in's own options, the keys of
the file formats, and the keys common to all. The designer builds its Data form from these.

Defaults are the ones the builders and loaders use when a key is absent; a nullable option with
default None means "the loader decides" (e.g. a folder's images keep their own size). `blocks`
of `multiomics_synth` (a mapping) is not offered: it has no one-field editor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph_core import ParamSpec

from .series import TRANSFORMS

ENCODINGS = ("tokens", "embedding", "onehot")
FORMAT_CHOICES = ("csv", "npz", "images", "fasta", "ucr", "idx")


def _p(name: str, kind: str, default: Any, help_text: str, **extra: Any) -> ParamSpec:
    return ParamSpec(name, kind, default, help_text, **extra)


def _samples(default: int, minimum: int = 2) -> ParamSpec:
    return _p("n_samples", "int", default, "how many samples to generate", minimum=minimum)


BUILTIN_OPTIONS: dict[str, tuple[ParamSpec, ...]] = {
    "digits": (_p("image_size", "ints", 8, "side of the square images in pixels (the originals "
                  "are 8x8; 28 suits LeNet)", minimum=1),),
    "iris": (),
    "breast_cancer": (),
    "moons": (_samples(1000, 4),
              _p("noise", "float", 0.1, "spread of the points around the half circles", minimum=0.0)),
    "blobs": (_samples(1000, 2),
              _p("centers", "int", 3, "number of clusters (the classes)", minimum=1),
              _p("n_features", "int", 2, "dimensions of each point", minimum=1),
              _p("cluster_std", "float", 1.0, "spread of each cluster", minimum=0.0)),
    "dna_motif": (_samples(2000),
                  _p("length", "int", 100, "bases per sequence", minimum=8),
                  _p("motif", "text", "TGACGTCA", "the planted motif that makes a sequence positive"),
                  _p("mutations", "int", 1, "bases of the motif changed at random in each copy",
                     minimum=0),
                  _p("encoding", "choice", "tokens", "field 'sequence' as base ids (tokens, "
                     "embedding) or one-hot (4, L)", choices=ENCODINGS)),
    "cbf": (_samples(900, 3),
            _p("length", "int", 128, "points per series", minimum=16),
            _p("transform", "choice", "gasf", "series to image: Gramian angular summation / "
               "difference field, both as two channels, or none", choices=TRANSFORMS),
            _p("image_size", "int", 32, "side of the series images in pixels", minimum=2)),
    "shapes_seg": (_samples(1000, 1),
                   _p("image_size", "int", 32, "side of the images in pixels", minimum=12),
                   _p("max_shapes", "int", 3, "at most this many shapes per image", minimum=1),
                   _p("noise", "float", 0.05, "pixel noise added to the images", minimum=0.0),
                   _p("triangles", "bool", True, "include triangles (a fourth class)")),
    "multiomics_synth": (_samples(1000),
                         _p("num_classes", "int", 3, "number of subtypes (classes)", minimum=2),
                         _p("latent_dim", "int", 8, "hidden factors the blocks share", minimum=1),
                         _p("noise", "float", 1.0, "noise added to every block", minimum=0.0)),
    "tokens_synth": (_samples(2000),
                     _p("length", "int", 32, "tokens per sequence", minimum=4),
                     _p("vocab_size", "int", 20, "distinct token ids", minimum=6),
                     _p("num_classes", "int", 2, "number of classes", minimum=2),
                     _p("segments", "bool", False, "add BERT-style segment ids (first half 0, "
                        "second half 1) as field 'segments'")),
    "translation_synth": (_samples(4000, 4),),
    "snow_shortcut": (_samples(1200, 8),
                      _p("image_size", "int", 32, "side of the images in pixels", minimum=12),
                      _p("train_correlation", "float", 1.0, "fraction of training images whose "
                         "background goes with the class (wolf: snow)", minimum=0.0, maximum=1.0),
                      _p("val_correlation", "float", 0.5, "the same in validation (0.5: the "
                         "background says nothing)", minimum=0.0, maximum=1.0)),
}

_IMAGE_SIZE = _p("image_size", "ints", None, "resize every image to this side (or height, width); "
                 "empty: keep the files' size", minimum=1, nullable=True)
_STREAM = (_p("stream", "choice", "auto", "read the images from disk batch by batch (on), decode "
               "them all into memory first (off), or decide by size (auto: on when the decoded "
               "images would take more than 512 MB or a quarter of free memory)",
               choices=("auto", "on", "off")),
           _p("workers", "int", 2, "processes that decode streamed batches while the model trains "
              "(0: decode in the training process)", minimum=0, maximum=64))
FILE_OPTIONS: dict[str, tuple[ParamSpec, ...]] = {
    "csv": (_p("label", "text", "", "the label column's name (empty: the last column)"),
            _p("task", "choice", "classification", "classes, or a number to predict",
               choices=("classification", "regression")),
            _p("delimiter", "text", "", "column separator (empty: guessed from the file)")),
    "npz": _STREAM,
    "images": (_IMAGE_SIZE,
               _p("channels", "int", None, "1 (grayscale) or 3 (RGB); empty: from the first image",
                  minimum=1, maximum=3, nullable=True), *_STREAM),
    "fasta": (_p("labels", "text", "", "a CSV of id,label (empty: 'label=' in the headers)"),
              _p("length", "int", None, "bases per sequence (empty: the longest)", minimum=1,
                 nullable=True),
              _p("encoding", "choice", "tokens", "base ids or one-hot", choices=ENCODINGS)),
    "ucr": (_p("transform", "choice", "none", "series to image (Gramian angular field) or none",
               choices=TRANSFORMS),
            _p("image_size", "int", None, "side of the series images (empty: up to 32)",
               minimum=2, nullable=True)),
    "idx": (_p("labels", "text", "", "the labels file (empty: found beside the images)"),
            _IMAGE_SIZE, *_STREAM),
}
FORMAT_OPTION = _p("format", "text", "", "what the file holds when its extension does not say "
                   f"({', '.join(FORMAT_CHOICES)}; empty: from the extension)")

COMMON_OPTIONS: tuple[ParamSpec, ...] = (
    _p("val_fraction", "float", 0.2, "share of the samples held out for validation", minimum=0.0,
       maximum=0.9),
    _p("limit", "int", None, "use at most this many samples, for quick runs (empty: all)",
       minimum=2, nullable=True),
    _p("normalize", "bool", True, "standardise tabular and omics fields with the training "
       "split's mean and spread"),
    _p("data_seed", "int", 0, "seed of the generated built-ins (not of training)", minimum=0),
)
# Empty text means "not set" for these: the loaders take None, not "".
EMPTY_MEANS_UNSET = frozenset({"label", "delimiter", "labels", "format"})


def dataset_options(section: dict[str, Any], root: Path | None = None) -> tuple[ParamSpec, ...]:
    """The dataset's own options for a data section: a built-in's, or its file format's.

    Args:
        section: the graph's data section (its "dataset" and, for files, "format").
        root: the folder a relative file path is taken from (the graph file's).

    Returns:
        The specs in form order; () for no dataset. For a file whose format cannot be told yet
        (a path that does not exist), the keys of every format.
    """
    name = str(section.get("dataset") or "").strip()
    if not name:
        return ()
    if name.lower() in BUILTIN_OPTIONS:
        return BUILTIN_OPTIONS[name.lower()]
    kind = file_format(section, root)
    if kind is None:
        merged: dict[str, ParamSpec] = {}
        for specs in FILE_OPTIONS.values():
            for spec in specs:
                merged.setdefault(spec.name, spec)
        return (*merged.values(), FORMAT_OPTION)
    return (*FILE_OPTIONS[kind], FORMAT_OPTION)


def file_format(section: dict[str, Any], root: Path | None = None) -> str | None:
    """The loader a file dataset uses ("csv", ...), or None when it cannot be told yet."""
    from .core import DataError, resolve_path
    from .pipeline import detect_format

    given = str(section.get("format") or "").lower()
    if given in FORMAT_CHOICES:
        return given
    path = resolve_path(str(section.get("dataset") or ""), root)
    if not path.exists():
        return None
    try:
        return detect_format(path)
    except (DataError, OSError):
        return None


def all_option_names() -> set[str]:
    """Every key a data section may hold besides "dataset"."""
    names = {spec.name for specs in (*BUILTIN_OPTIONS.values(), *FILE_OPTIONS.values())
             for spec in specs}
    return names | {spec.name for spec in COMMON_OPTIONS} | {FORMAT_OPTION.name}

