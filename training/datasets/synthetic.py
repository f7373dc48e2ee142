"""Synthetic built-ins generated in numpy from a seed: DNA motifs, shapes, multi-omics, tokens.

Each teaches one concept of the course and is small and quick to learn, so a CPU run shows the
idea within seconds: a planted motif a convolution can find, shapes with per-pixel masks for an
encoder-decoder, omics blocks that share a latent factor (so integrating them helps), and token
sequences whose class depends on which tokens occur (for an embedding classifier).
"""

from __future__ import annotations

import re

import numpy as np

from .core import DataError, FieldInfo, Options, RawData, label_info

DNA_ALPHABET = "ACGT"
SHAPE_CLASSES = ("background", "circle", "square", "triangle")


def dna_onehot(ids: np.ndarray) -> np.ndarray:
    """(N, L) base ids 0..3 (4 = unknown) -> (N, 4, L) float32 one-hot; unknown is all zeros."""
    onehot = (ids[:, None, :] == np.arange(4)[None, :, None]).astype(np.float32)
    return onehot


def make_dna_motif(opts: Options, data_seed: int) -> RawData:
    """Random ACGT sequences, half carrying a planted motif; label 1 when planted.

    Fields: `sequence` as int64 base ids (L,) (A=0, C=1, G=2, T=3), or one-hot (4, L) float32 when
    encoding is "onehot"; `sequence_onehot` (4, L) always; `label` (2 classes).
    Options: n_samples (2000), length (100), motif ("TGACGTCA"), mutations (1: each planted
    copy has up to this many random substitutions), encoding (tokens|embedding|onehot).
    """
    n = opts.integer("n_samples", 2000, minimum=2)
    motif = str(opts.get("motif", "TGACGTCA")).upper()
    if not motif or any(base not in DNA_ALPHABET for base in motif):
        raise DataError(f"dna_motif: 'motif' must be a non-empty string of A, C, G, T, got {motif!r}")
    length = opts.integer("length", 100, minimum=len(motif))
    mutations = opts.integer("mutations", 1, minimum=0, maximum=len(motif))
    encoding = opts.choice("encoding", "tokens", ("tokens", "embedding", "onehot"))
    rng = np.random.default_rng(data_seed)
    ids = rng.integers(0, 4, size=(n, length), dtype=np.int64)
    labels = np.zeros(n, dtype=np.int64)
    labels[rng.permutation(n)[: n // 2]] = 1
    motif_ids = np.array([DNA_ALPHABET.index(b) for b in motif], dtype=np.int64)
    for i in np.flatnonzero(labels):
        copy = motif_ids.copy()
        for pos in rng.choice(len(motif), size=rng.integers(0, mutations + 1), replace=False):
            # A substitution always changes the base (shift by 1..3 modulo 4).
            copy[pos] = (copy[pos] + rng.integers(1, 4)) % 4
        start = rng.integers(0, length - len(motif) + 1)
        ids[i, start:start + len(motif)] = copy
    onehot = dna_onehot(ids)
    onehot_info = FieldInfo((4, length), "float32", None, None, "sequence")
    if encoding == "onehot":
        sequence, seq_info = onehot, onehot_info
    else:
        sequence, seq_info = ids, FieldInfo((length,), "int64", 4, list(DNA_ALPHABET), "sequence")
    fields = {"sequence": sequence, "sequence_onehot": onehot, "label": labels}
    info = {"sequence": seq_info, "sequence_onehot": onehot_info,
            "label": label_info(2, ["background", "motif"])}
    return RawData("dna_motif", fields, info, source="dna_motif")


def make_shapes_seg(opts: Options, data_seed: int) -> RawData:
    """Noisy grayscale images with circles, squares and triangles, and their per-pixel masks.

    Fields: `image` (1, S, S) float32 in [0, 1]; `mask` (S, S) int64 with 0 = background,
    1 = circle, 2 = square, 3 = triangle; `label` the class of the largest shape.
    Options: n_samples (1000), image_size (32), max_shapes (3), noise (0.05),
    triangles (true; false leaves 3 classes).
    """
    n = opts.integer("n_samples", 1000, minimum=1)
    size = opts.integer("image_size", 32, minimum=12)
    max_shapes = opts.integer("max_shapes", 3, minimum=1)
    noise = opts.number("noise", 0.05)
    classes = SHAPE_CLASSES if opts.flag("triangles", True) else SHAPE_CLASSES[:3]
    rng = np.random.default_rng(data_seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    images = np.empty((n, 1, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    labels = np.zeros(n, dtype=np.int64)
    for i in range(n):
        images[i, 0] = rng.uniform(0.0, 0.3)
        largest = 0
        for _ in range(rng.integers(1, max_shapes + 1)):
            shape_class = int(rng.integers(1, len(classes)))
            inside = _place_shape(rng, shape_class, size, yy, xx, masks[i])
            if inside is None:
                continue
            masks[i][inside] = shape_class
            images[i, 0][inside] = rng.uniform(0.55, 1.0)
            if inside.sum() > largest:
                largest, labels[i] = int(inside.sum()), shape_class
        images[i, 0] += rng.normal(0.0, noise, size=(size, size)).astype(np.float32)
    np.clip(images, 0.0, 1.0, out=images)
    info = {"image": FieldInfo((1, size, size), "float32", None, None, "image"),
            "mask": FieldInfo((size, size), "int64", len(classes), list(classes), "mask"),
            "label": label_info(len(classes), list(classes))}
    return RawData("shapes_seg", {"image": images, "mask": masks, "label": labels}, info,
                   source="shapes_seg")


def _place_shape(rng: np.random.Generator, shape_class: int, size: int, yy: np.ndarray,
                 xx: np.ndarray, occupied: np.ndarray) -> np.ndarray | None:
    """A boolean mask for one shape that does not touch those already drawn (None if no room)."""
    for _ in range(10):
        # Radii of 5 to 9 pixels on 32x32: big enough that edges do not dominate the IoU.
        r = rng.uniform(size * 0.15, size * 0.27)
        cy, cx = rng.uniform(r, size - r, size=2)
        if shape_class == 1:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        elif shape_class == 2:
            half = r * 0.85
            inside = (np.abs(yy - cy) <= half) & (np.abs(xx - cx) <= half)
        else:
            # Upward triangle: apex at top, base at bottom; |x - cx| shrinks towards the apex.
            rel = (yy - (cy - r)) / (2 * r)
            inside = (rel >= 0) & (rel <= 1) & (np.abs(xx - cx) <= rel * r)
        grown = inside | np.roll(inside, 1, 0) | np.roll(inside, -1, 0) | np.roll(inside, 1, 1) \
            | np.roll(inside, -1, 1)
        if inside.sum() >= 4 and not (occupied[grown] > 0).any():
            return inside
    return None


# Options of multiomics_synth that are not block widths (every other integer key names a block).
_OMICS_OPTIONS = {"dataset", "format", "n_samples", "num_classes", "latent_dim", "noise",
                  "data_seed", "val_fraction", "limit", "normalize", "blocks"}
_DEFAULT_BLOCKS = {"rna": 200, "methylation": 100, "protein": 50}


def make_multiomics(opts: Options, data_seed: int) -> RawData:
    """Correlated omics blocks generated from one latent factor, with classes set by the latent.

    Fields: one `omics_<name>` (float32 (F,)) per block, by default rna (200), methylation (100,
    beta values in [0, 1]) and protein (50), and `label`. Blocks are named by integer keys of
    the section ({"rna": 200, "mirna": 80}, as the multiomics template writes them) or by a
    "blocks" object. With several blocks each is noisy and sees only part of the latent
    factors; together they pin the latent down, which is what an integration model should show.
    Options: n_samples (1000), num_classes (3), latent_dim (8), noise (1.0).
    """
    n = opts.integer("n_samples", 1000, minimum=2)
    num_classes = opts.integer("num_classes", 3, minimum=2)
    latent_dim = opts.integer("latent_dim", 8, minimum=1)
    noise = opts.number("noise", 1.0)
    widths = _omics_widths(opts)
    rng = np.random.default_rng(data_seed)
    latent = rng.normal(size=(n, latent_dim))
    labels = np.argmax(latent @ rng.normal(size=(latent_dim, num_classes)), axis=1).astype(np.int64)
    # Each block sees all but every k-th latent factor (all of them together), and has its own
    # noise level, so one block alone cannot pin the class down and integration pays off.
    k = min(len(widths), 3)
    fields: dict[str, np.ndarray] = {}
    info: dict[str, FieldInfo] = {}
    for b, (name, width) in enumerate(widths.items()):
        loading = rng.normal(size=(latent_dim, width)) / np.sqrt(latent_dim)
        if k >= 2 and latent_dim >= k:
            loading[np.arange(latent_dim) % k == b % k] = 0.0
        block_noise = (1.0, 1.5, 2.0)[b % 3]
        block = latent @ loading + noise * block_noise * rng.normal(size=(n, width))
        if "methyl" in name:
            block = 1.0 / (1.0 + np.exp(-block))
        fields[f"omics_{name}"] = block.astype(np.float32)
        info[f"omics_{name}"] = FieldInfo((width,), "float32", None, None, "features")
    fields["label"] = labels
    info["label"] = label_info(num_classes, [f"subtype_{chr(65 + k)}" for k in range(num_classes)]
                               if num_classes <= 26 else None)
    return RawData("multiomics_synth", fields, info, source="multiomics_synth")


def _omics_widths(opts: Options) -> dict[str, int]:
    given = opts.get("blocks")
    if given is None:
        given = {key: value for key, value in opts.section.items() if key not in _OMICS_OPTIONS
                 and isinstance(value, int) and not isinstance(value, bool)}
    if not isinstance(given, dict):
        raise DataError(f"{opts.where}: 'blocks' must map block names to widths, got {given!r}")
    if not given:
        return dict(_DEFAULT_BLOCKS)
    block_opts = Options(given, opts.where)
    widths = {}
    for name in given:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(name)):
            raise DataError(f"{opts.where}: omics block name {name!r} must be a word (letters, "
                            "digits, _)")
        widths[str(name)] = block_opts.integer(name, 1, minimum=1)
    return widths


def make_tokens(opts: Options, data_seed: int) -> RawData:
    """Token sequences whose class is given by which marker tokens occur in them.

    Tokens 1 + 2c and 2 + 2c mark class c (one to three occurrences at random places); the
    remaining ids above the markers are filler; 0 is reserved for padding and never used.
    Fields: `tokens` int64 (L,), `label`. Options: n_samples (2000), length (32),
    vocab_size (20), num_classes (2), segments (false: true adds BERT-style `segments` ids).
    """
    n = opts.integer("n_samples", 2000, minimum=2)
    length = opts.integer("length", 32, minimum=4)
    num_classes = opts.integer("num_classes", 2, minimum=2)
    vocab = opts.integer("vocab_size", 20, minimum=2 * num_classes + 2)
    rng = np.random.default_rng(data_seed)
    first_filler = 2 * num_classes + 1
    tokens = rng.integers(first_filler, vocab, size=(n, length), dtype=np.int64)
    labels = rng.integers(0, num_classes, size=n, dtype=np.int64)
    for i in range(n):
        count = rng.integers(1, 4)
        positions = rng.choice(length, size=count, replace=False)
        tokens[i, positions] = 1 + 2 * labels[i] + rng.integers(0, 2, size=count)
    info = {"tokens": FieldInfo((length,), "int64", vocab, None, "tokens"),
            "label": label_info(num_classes)}
    fields = {"tokens": tokens, "label": labels}
    if opts.flag("segments", False):  # BERT's sentence A / sentence B ids: first half 0, second 1
        fields["segments"] = np.broadcast_to(np.arange(length) >= length // 2, (n, length)).astype(np.int64)
        info["segments"] = FieldInfo((length,), "int64", 2, None, "tokens")
    return RawData("tokens_synth", fields, info, source="tokens_synth")
