"""A data section's schema without the data: it must say exactly what loading the data gives.

The designer checks graphs against `describe(section)` on every edit, so a schema that drifts from
what `load_raw` / `prepare` really produce would pass a graph that then fails at Train (or refuse
one that would train). The contract test builds every built-in under several option combinations
and compares field by field and count by count; the loader test does the same on files it writes.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.training.data_helpers import (
    digit_like_images,
    write_csv,
    write_fasta,
    write_idx,
    write_image_folder,
    write_ucr,
)
from training.datasets import (
    DataError,
    builtin_names,
    describe,
    describe_builtin,
    load_raw,
    prepare,
    schema_from_raw,
)

SECTIONS = [
    {"dataset": "digits"},
    {"dataset": "digits", "image_size": 28},
    {"dataset": "digits", "image_size": [16, 12], "limit": 300, "val_fraction": 0.25},
    {"dataset": "iris"},
    {"dataset": "breast_cancer", "val_fraction": 0.1},
    {"dataset": "moons", "n_samples": 101, "noise": 0.2},
    {"dataset": "blobs", "centers": 4, "n_features": 5, "n_samples": 80},
    {"dataset": "dna_motif", "n_samples": 60, "length": 30},
    {"dataset": "dna_motif", "n_samples": 60, "encoding": "onehot", "motif": "ACGT"},
    {"dataset": "cbf", "n_samples": 30},
    {"dataset": "cbf", "n_samples": 30, "transform": "both", "image_size": 16, "length": 64},
    {"dataset": "cbf", "n_samples": 30, "transform": "none"},
    {"dataset": "shapes_seg", "n_samples": 20, "image_size": 24},
    {"dataset": "shapes_seg", "n_samples": 20, "triangles": False},
    {"dataset": "multiomics_synth", "n_samples": 40},
    {"dataset": "multiomics_synth", "n_samples": 40, "rna": 20, "mirna": 8, "num_classes": 4},
    {"dataset": "multiomics_synth", "n_samples": 40, "blocks": {"a": 3, "b": 5}},
    {"dataset": "tokens_synth", "n_samples": 40, "num_classes": 3, "vocab_size": 30, "length": 12},
    {"dataset": "snow_shortcut", "n_samples": 40, "image_size": 16},
    {"dataset": "snow_shortcut", "n_samples": 41, "limit": 30, "train_correlation": 0.9},
    {"dataset": "tokens_synth", "n_samples": 40, "segments": True},
    {"dataset": "translation_synth", "n_samples": 40},
]


def test_every_builtin_is_covered():
    assert {s["dataset"] for s in SECTIONS} == set(builtin_names())


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_the_schema_of_a_builtin_is_what_loading_it_gives(section):
    schema = describe_builtin(section)
    raw = load_raw(section)
    assert schema.fields == {name: raw.info[name] for name in raw.fields}
    assert list(schema.fields) == list(raw.fields)  # same order: the Data panel lists them so
    assert schema.n_samples == len(next(iter(raw.fields.values())))
    assert schema.name == raw.name and schema.builtin
    data = prepare(section, seed=3)
    counts = schema.split_counts(section.get("val_fraction", 0.2), section.get("limit"))
    assert counts == (len(data.train), len(data.val))


@pytest.mark.parametrize("section", [
    {},
    {"dataset": ""},
    {"dataset": "digits", "image_size": 0},
    {"dataset": "digits", "val_fraction": 2},
    {"dataset": "digits", "limit": 1},
    {"dataset": "dna_motif", "motif": "XYZ"},
    {"dataset": "dna_motif", "encoding": "bits"},
    {"dataset": "cbf", "transform": "wavelet"},
    {"dataset": "shapes_seg", "image_size": 8},
    {"dataset": "tokens_synth", "num_classes": 5, "vocab_size": 6},
    {"dataset": "multiomics_synth", "blocks": {"bad name": 3}},
    {"dataset": "blobs", "centers": 3, "n_samples": 4},
    {"dataset": "snow_shortcut", "train_correlation": 1.5},
])
def test_a_bad_section_fails_with_the_message_prepare_gives(section):
    with pytest.raises(DataError) as expected:
        prepare(section)
    with pytest.raises(DataError) as described:
        describe(section)
    assert str(described.value) == str(expected.value)


def test_describing_a_builtin_imports_neither_sklearn_nor_torch():
    code = ("import sys; from training.datasets import describe\n"
            "for name in ('digits', 'iris', 'breast_cancer', 'moons'):\n"
            "    describe({'dataset': name})\n"
            "print(sorted(m for m in ('sklearn', 'torch', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_file_is_named_and_a_file_is_not_described_without_reading(tmp_path):
    assert describe_builtin({"dataset": str(tmp_path / "x.csv")}) is None
    with pytest.raises(DataError, match="no such file"):
        describe({"dataset": "nowhere.csv"}, root=tmp_path)


def _files(tmp_path):
    rng = np.random.default_rng(0)
    csv = write_csv(tmp_path / "t.csv", ["a", "colour", "y"],
                    [[i, ["red", "blue"][i % 2], ["p", "q", "r"][i % 3]] for i in range(12)])
    folder = write_image_folder(tmp_path / "pics", {c: list(digit_like_images(rng, 4, 10))
                                                    for c in ("cat", "dog")})
    npz = tmp_path / "arrays.npz"
    np.savez(npz, x_train=rng.normal(size=(10, 3)).astype(np.float32), y_train=np.arange(10) % 2,
             x_val=rng.normal(size=(4, 3)).astype(np.float32), y_val=np.arange(4) % 2)
    fasta = write_fasta(tmp_path / "s.fa", [(f"s{i} label={i % 2}", "ACGTN"[: 3 + i % 3] * 4)
                                            for i in range(8)])
    ucr = write_ucr(tmp_path / "Toy_TRAIN.tsv", [1, 2] * 5, rng.normal(size=(10, 20)))
    idx = tmp_path / "mnist"
    write_idx(idx / "train-images-idx3-ubyte", digit_like_images(rng, 6))
    write_idx(idx / "train-labels-idx1-ubyte", (np.arange(6) % 3).astype(np.uint8))
    write_idx(idx / "t10k-images-idx3-ubyte", digit_like_images(rng, 3))
    write_idx(idx / "t10k-labels-idx1-ubyte", (np.arange(3) % 3).astype(np.uint8))
    return [
        {"dataset": "t.csv"}, {"dataset": "t.csv", "label": "a", "task": "regression"},
        {"dataset": "pics"}, {"dataset": "pics", "image_size": 6, "channels": 3},
        {"dataset": "arrays.npz"}, {"dataset": "s.fa"}, {"dataset": "s.fa", "encoding": "onehot", "length": 10},
        {"dataset": ucr.name, "transform": "gadf", "image_size": 8}, {"dataset": "mnist", "image_size": 14},
        {"dataset": "mnist", "limit": 5}, {"dataset": str(csv)}, {"dataset": str(folder), "limit": 4},
        {"dataset": str(fasta)},
    ]


def test_the_schema_of_a_users_file_is_what_loading_it_gives(tmp_path):
    for section in _files(tmp_path):
        schema = describe(section, root=tmp_path)
        raw = load_raw(section, tmp_path)
        assert schema == schema_from_raw(raw), section
        assert not schema.builtin
        assert schema.fields == {name: raw.info[name] for name in raw.fields}, section
        data = prepare(section, seed=0, root=tmp_path)
        counts = schema.split_counts(section.get("val_fraction", 0.2), section.get("limit"))
        assert counts == (len(data.train), len(data.val)), section


def test_input_fields_leave_out_labels_and_masks():
    assert describe({"dataset": "shapes_seg"}).input_fields() == ["image"]
    assert describe({"dataset": "dna_motif"}).input_fields() == ["sequence", "sequence_onehot"]
