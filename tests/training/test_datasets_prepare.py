"""prepare(): the seeded split, the limit, normalisation from the training split, paths, errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.training.data_helpers import write_csv
from training.datasets import DataError, FieldDataset, load_raw, prepare


def _ids(data, field="features"):
    """Rows of a field as hashable tuples, to compare which samples landed where."""
    return {tuple(row.ravel().tolist()) for row in data.fields[field]}


def test_same_seed_same_split_and_other_seed_another():
    # moons: continuous features, so no two samples share a row.
    a = prepare({"dataset": "moons", "normalize": False}, seed=3)
    b = prepare({"dataset": "moons", "normalize": False}, seed=3)
    c = prepare({"dataset": "moons", "normalize": False}, seed=4)
    np.testing.assert_array_equal(a.val.fields["features"], b.val.fields["features"])
    assert _ids(a.val) != _ids(c.val)
    # A different seed splits the same samples differently; it does not change the data.
    assert _ids(a.train) | _ids(a.val) == _ids(c.train) | _ids(c.val)
    assert not _ids(a.train) & _ids(a.val)


def test_val_fraction_and_stratification():
    data = prepare({"dataset": "digits", "val_fraction": 0.25}, seed=1)
    total = 1797
    assert len(data.val) == round(total * 0.25)
    assert len(data.train) + len(data.val) == total
    all_counts = np.bincount(load_raw({"dataset": "digits"}).fields["label"])
    val_counts = np.bincount(data.val.fields["label"], minlength=10)
    np.testing.assert_allclose(val_counts, all_counts * 0.25, atol=1)


def test_small_classes_keep_a_sample_on_each_side():
    path_rows = [[i, "rare" if i < 2 else "common"] for i in range(20)]
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(Path(tmp) / "t.csv", ["x", "y"], path_rows)
        data = prepare({"dataset": str(path), "val_fraction": 0.1})
    assert sorted(set(data.train.fields["label"].tolist())) == [0, 1]
    assert sorted(set(data.val.fields["label"].tolist())) == [0, 1]


def test_val_fraction_zero_leaves_an_empty_validation_set():
    data = prepare({"dataset": "iris", "val_fraction": 0})
    assert len(data.train) == 150 and len(data.val) == 0
    assert data.val.fields["features"].shape == (0, 4)


def test_limit_keeps_class_balance_and_is_seeded():
    a = prepare({"dataset": "digits", "limit": 200}, seed=0)
    b = prepare({"dataset": "digits", "limit": 200}, seed=0)
    assert len(a.train) + len(a.val) == 200
    counts = np.bincount(np.concatenate([a.train.fields["label"], a.val.fields["label"]]))
    assert counts.min() >= 18 and counts.max() <= 22
    np.testing.assert_array_equal(a.train.fields["image"], b.train.fields["image"])


def test_features_are_standardized_with_training_statistics_only():
    raw = load_raw({"dataset": "breast_cancer"}).fields["features"]
    data = prepare({"dataset": "breast_cancer"}, seed=2)
    train, val = data.train.fields["features"], data.val.fields["features"]
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-3)
    mean, std = data.normalization["features"]
    # Undoing the stored statistics gives back the raw rows, and those statistics are the
    # training rows' own (the validation rows did not move them).
    restored_train = train * std + mean
    restored_val = val * std + mean
    raw_rows = {tuple(np.round(r, 2)) for r in raw}
    assert {tuple(np.round(r, 2)) for r in restored_val} <= raw_rows
    np.testing.assert_allclose(mean, restored_train.mean(axis=0), rtol=1e-4)
    assert not np.allclose(mean, raw.mean(axis=0), rtol=1e-4)
    assert abs(val.mean()) > 1e-4


def test_normalize_false_and_images_left_in_unit_range():
    raw = prepare({"dataset": "iris", "normalize": False})
    assert raw.normalization == {}
    assert raw.train.fields["features"].min() >= 0.0
    digits = prepare({"dataset": "digits"})
    assert "image" not in digits.normalization
    assert digits.train.fields["image"].min() == 0.0 and digits.train.fields["image"].max() == 1.0


def test_omics_blocks_are_each_standardized():
    data = prepare({"dataset": "multiomics_synth", "n_samples": 200})
    assert set(data.normalization) == {"omics_rna", "omics_methylation", "omics_protein"}


def test_relative_paths_resolve_against_the_graph_folder(tmp_path, monkeypatch):
    write_csv(tmp_path / "data" / "t.csv", ["a", "y"], [[i, i % 2] for i in range(10)])
    data = prepare({"dataset": "data/t.csv"}, root=tmp_path)
    assert data.source == str(tmp_path / "data" / "t.csv")
    monkeypatch.chdir(tmp_path / "data")
    assert len(prepare({"dataset": "t.csv"}).train) == 8


def test_field_dataset_indexing_and_batches():
    data = prepare({"dataset": "moons", "n_samples": 50})
    ds = data.train
    sample = ds[0]
    assert set(sample) == {"features", "label"} and sample["features"].shape == (2,)
    batch = ds.batch([0, 2, 4])
    assert batch["features"].shape == (3, 2) and batch["label"].shape == (3,)
    np.testing.assert_array_equal(batch["features"][1], ds[2]["features"])
    with pytest.raises(IndexError):
        ds[len(ds)]
    with pytest.raises(DataError, match="different numbers of samples"):
        FieldDataset({"a": np.zeros(3), "b": np.zeros(4)})


def test_field_dataset_works_with_a_torch_data_loader():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    ds = prepare({"dataset": "digits", "limit": 40}).train
    batch = next(iter(DataLoader(ds, batch_size=8)))
    assert batch["image"].shape == (8, 1, 8, 8) and batch["image"].dtype == torch.float32
    assert batch["label"].dtype == torch.int64


def test_describe_lists_fields():
    text = prepare({"dataset": "shapes_seg", "n_samples": 20}).describe()
    assert "shapes_seg: 16 train, 4 validation samples" in text
    assert "mask: mask [32, 32] int64, 4 classes" in text


@pytest.mark.parametrize(("section", "message"), [
    ({}, "no dataset given"),
    ({"dataset": "mnistt"}, "unknown dataset 'mnistt': not a built-in .*digits.* and no such file"),
    ({"dataset": "iris", "val_fraction": "lots"}, r"iris: 'val_fraction' must be a number"),
    ({"dataset": "iris", "val_fraction": 0.95}, "at most 0.9"),
    ({"dataset": "iris", "limit": 1}, "'limit' must be at least 2"),
    ({"dataset": "iris", "normalize": "yes"}, "'normalize' must be true or false"),
    ({"dataset": "digits", "image_size": [8]}, "'image_size' must be a positive size"),
    ({"dataset": "cbf", "transform": "fft"}, "'transform' must be one of gasf, gadf, both, none"),
    ({"dataset": "moons", "n_samples": 2.5}, "'n_samples' must be an integer"),
])
def test_bad_sections_are_one_line_data_errors(section, message):
    with pytest.raises(DataError, match=message) as caught:
        prepare(section)
    assert "\n" not in str(caught.value)


def test_unknown_file_type_and_unreadable_folder(tmp_path):
    (tmp_path / "model.h5").write_bytes(b"\x89HDF")
    with pytest.raises(DataError, match="unknown file type '.h5'; set \"format\""):
        prepare({"dataset": "model.h5"}, root=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="cannot tell what this folder holds"):
        prepare({"dataset": "empty"}, root=tmp_path)
    with pytest.raises(DataError, match=r"empty: cannot read .*Is a directory"):
        prepare({"dataset": "empty", "format": "csv"}, root=tmp_path)


def test_an_unforeseen_loader_failure_is_still_one_data_error_line(tmp_path, monkeypatch):
    import training.datasets.pipeline as pipeline

    path = write_csv(tmp_path / "t.csv", ["a", "y"], [[1, 0], [2, 1]])

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(pipeline, "load_csv", broken)
    with pytest.raises(DataError, match=r"t\.csv: cannot read it as csv \(KeyError: 'surprise'\)") \
            as caught:
        prepare({"dataset": str(path)})
    assert isinstance(caught.value.__cause__, KeyError)
