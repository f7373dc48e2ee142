"""Datasets as named fields: the built-ins (nothing downloaded) and loaders for the user's files.

    from training.datasets import prepare
    data = prepare({"dataset": "digits", "image_size": 28}, seed=0)
    data.train.fields["image"].shape   # (1438, 1, 28, 28) float32 in [0, 1]
    data.info["label"].num_classes     # 10

The graph file's "data" section names a built-in or a file/folder (relative to the graph file):

| dataset | fields | own keys (defaults) |
|---|---|---|
| digits | image (1, S, S) in [0, 1], label (10) | image_size (8) |
| iris, breast_cancer | features (4,) / (30,), label (3) / (2) | |
| moons, blobs | features (2,) / (n_features,), label | n_samples (1000), noise (0.1); centers (3), n_features (2), cluster_std (1) |
| dna_motif | sequence int64 (L,) or (4, L) one-hot, sequence_onehot (4, L), label (2) | n_samples (2000), length (100), motif, mutations (1), encoding (tokens/embedding/onehot) |
| cbf | series (L,), image (1, S, S) GAF, label (3) | n_samples (900), length (128), transform (gasf/gadf/both/none), image_size (32) |
| shapes_seg | image (1, S, S), mask (S, S) int64 (4), label (4) | n_samples (1000), image_size (32), max_shapes (3), noise (0.05), triangles (true) |
| multiomics_synth | omics_<name> (F,), label (3) | n_samples (1000), num_classes, latent_dim (8), noise (1), <name>: width or blocks {name: width} |
| tokens_synth | tokens int64 (L,), label (2) | n_samples (2000), length (32), vocab_size (20), num_classes (2) |
| snow_shortcut | image (1, S, S), label (husky/wolf), mask (S, S) animal, background (plain/snow); validation shipped | n_samples (1200), image_size (32), train_correlation (1.0), val_correlation (0.5) |
| x.csv | features (F,), label | label (last column; name or index), task (classification/regression), delimiter |
| x.npz | one field per array (NAME_train / NAME_val give the split) | |
| folder of class folders | image (C, H, W) in [0, 1], label | image_size, channels (1/3), stream, workers |
| x.fa / .fasta | sequence (as dna_motif), label | labels (CSV id,label; else "label=" in headers), length, encoding |
| x.tsv (UCR) or folder with NAME_TRAIN.tsv | series (L,), image with a transform, label | transform (none), image_size |
| MNIST IDX file or folder | image (1, 28, 28), label | labels (the labels file), image_size |

Keys for all: val_fraction (0.2), limit (at most this many samples), normalize (true:
standardize features and omics blocks with the training split's statistics), data_seed (0, for
generated sets), format (csv/npz/images/fasta/ucr/idx, when the extension does not say).
Every failure is a one-line `DataError` naming the file and the sample.

Large image folders, IDX files and uncompressed .npz image arrays are streamed (`stream`:
auto/on/off; `workers`: DataLoader processes, default 2): their image field is a `LazyArray`
read per batch (see `lazy.py` and docs/data-at-scale.md).

`describe(section)` gives a `DataSchema` (fields, shapes, dtypes, classes, sample counts) without
building the data: instantly for the built-ins (no scikit-learn import), by reading for files.
"""

from __future__ import annotations

from .builtin import builtin_names
from .core import DataError, FieldDataset, FieldInfo, PreparedData, RawData
from .pipeline import detect_format, load_raw, prepare
from .schema import DataSchema, describe, describe_builtin, schema_from_raw
from .series import gramian_angular_field, paa
from .split import split_indices

__all__ = [
    "DataError", "DataSchema", "FieldDataset", "FieldInfo", "PreparedData", "RawData",
    "builtin_names", "describe", "describe_builtin", "detect_format", "gramian_angular_field",
    "load_raw", "paa", "prepare", "schema_from_raw", "split_indices",
]
