"""Loaders for the user's own files, on small files written in tmp_path: what loads, what fails."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.training.data_helpers import (
    digit_like_images,
    write_csv,
    write_fasta,
    write_idx,
    write_image_folder,
    write_text,
    write_ucr,
)
from training.datasets import DataError, load_raw, prepare


def raw(path, **options):
    return load_raw({"dataset": str(path), **options})


# ---------------------------------------------------------------- CSV

def test_csv_numeric_and_categorical_columns_with_a_text_label(tmp_path):
    path = write_csv(tmp_path / "flowers.csv", ["length", "colour", "width", "species"], [
        [1.0, "red", 0.5, "rose"], [2.0, "blue", 1.5, "iris"], [3.0, "red", 2.5, "tulip"],
        [4.0, "white", 3.5, "iris"]])
    data = raw(path)
    # colour one-hot over its sorted categories: blue, red, white.
    np.testing.assert_array_equal(data.fields["features"], [
        [1, 0, 1, 0, 0.5], [2, 1, 0, 0, 1.5], [3, 0, 1, 0, 2.5], [4, 0, 0, 1, 3.5]])
    assert data.info["features"].class_names is None
    assert data.info["features"].column_names == ["length", "colour=blue", "colour=red",
                                                 "colour=white", "width"]
    assert data.info["label"].class_names == ["iris", "rose", "tulip"]
    assert data.fields["label"].tolist() == [1, 0, 2, 0]
    assert data.name == "flowers"


def test_csv_label_column_by_name_or_index_and_other_delimiters(tmp_path):
    rows = [[1, 5.0, 0.1], [0, 6.0, 0.2], [1, 7.0, 0.3]]
    path = write_csv(tmp_path / "t.csv", ["y", "a", "b"], rows, delimiter=";")
    by_name = raw(path, label="y")
    by_index = raw(path, label=0)
    for data in (by_name, by_index):
        assert data.fields["label"].tolist() == [1, 0, 1]
        np.testing.assert_allclose(data.fields["features"], [[5, 0.1], [6, 0.2], [7, 0.3]])


def test_csv_labels_that_are_not_class_ids_are_mapped(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["x", "grade"], [[1, 10], [2, 2], [3, 10], [4, 3]])
    data = raw(path)
    assert data.info["label"].class_names == ["2", "3", "10"]
    assert data.fields["label"].tolist() == [2, 0, 2, 1]


def test_csv_regression_target(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["x", "price"], [[1, 1.5], [2, 2.25], [3, 0.5]])
    with pytest.raises(DataError, match="regression"):
        raw(path)
    data = raw(path, task="regression")
    assert data.info["label"].shape == (1,) and data.info["label"].dtype == "float32"
    assert data.info["label"].num_classes is None
    np.testing.assert_allclose(data.fields["label"][:, 0], [1.5, 2.25, 0.5])


def test_csv_missing_numbers_take_the_column_mean(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["a", "b", "y"], [[1, "", 0], [3, 4, 1], ["NA", 6, 0]])
    np.testing.assert_allclose(raw(path).fields["features"], [[1, 5], [3, 4], [2, 6]])


def test_csv_errors_name_the_file_and_line(tmp_path):
    path = write_text(tmp_path / "bad.csv", "a,b,y\n1,2,0\n3,4\n5,6,1\n")
    with pytest.raises(DataError, match=r"bad\.csv: line 3: 2 columns, the header has 3"):
        raw(path)
    path = write_csv(tmp_path / "t.csv", ["a", "y"], [[1, 0], [2, ""]])
    with pytest.raises(DataError, match=r"line 3: the label 'y' is missing"):
        raw(path)
    with pytest.raises(DataError, match="no column named 'species'.*columns: a, y"):
        raw(path, label="species")
    with pytest.raises(DataError, match="header row and at least one data row"):
        raw(write_text(tmp_path / "empty.csv", "a,b\n"))


# ---------------------------------------------------------------- NPZ

def test_npz_arrays_become_fields_with_kinds(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, image=rng.integers(0, 256, (10, 1, 6, 6), dtype=np.uint8),
             label=np.arange(10) % 3, omics_rna=rng.normal(size=(10, 7)),
             tokens=rng.integers(0, 9, (10, 5)), class_names=np.array(["a", "b", "c"]))
    data = raw(path)
    assert set(data.fields) == {"image", "label", "omics_rna", "tokens"}
    assert data.fields["image"].dtype == np.float32 and data.fields["image"].max() <= 1.0
    np.testing.assert_allclose(data.fields["image"][3, 0, 0, 0],
                               np.load(path)["image"][3, 0, 0, 0] / 255)
    assert data.info["label"].class_names == ["a", "b", "c"]
    assert data.info["omics_rna"].kind == "features" and data.info["omics_rna"].shape == (7,)
    assert data.info["tokens"].dtype == "int64" and data.info["tokens"].num_classes <= 9


def test_npz_named_splits_are_kept(tmp_path):
    path = tmp_path / "split.npz"
    np.savez(path, x_train=np.ones((8, 3)), label_train=np.arange(8) % 2,
             x_test=np.zeros((4, 3)), label_test=np.arange(4) % 2)
    data = prepare({"dataset": str(path), "normalize": False})
    assert len(data.train) == 8 and len(data.val) == 4
    assert (data.val.fields["x"] == 0).all()


def test_npz_text_labels_become_classes(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, features=np.ones((4, 2)), label=np.array(["dog", "cat", "dog", "bird"]))
    data = raw(path)
    assert data.info["label"].class_names == ["bird", "cat", "dog"]
    assert data.fields["label"].tolist() == [2, 1, 2, 0]


def test_npz_errors(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, image=np.zeros((5, 2, 2)), label=np.zeros(4, dtype=int))
    with pytest.raises(DataError, match=r"bad\.npz: arrays have different numbers of samples "
                                        r"\(image: 5, label: 4\)"):
        raw(path)
    uneven = tmp_path / "uneven.npz"
    np.savez(uneven, x_train=np.zeros((4, 2)), y_train=np.zeros(4), x_val=np.zeros((3, 2)),
             y_val=np.zeros(2))
    with pytest.raises(DataError, match=r"uneven\.npz: validation arrays have different numbers"):
        raw(uneven)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataError, match="objects.npz: not a readable .npz archive"):
        raw(pickled)
    broken = write_text(tmp_path / "broken.npz", "not a zip")
    with pytest.raises(DataError, match="broken.npz"):
        raw(broken)


# ---------------------------------------------------------------- image folders

def test_image_folder_grayscale_with_resize(tmp_path):
    rng = np.random.default_rng(1)
    root = write_image_folder(tmp_path / "imgs", {"cat": list(digit_like_images(rng, 3, 20)),
                                                  "dog": list(digit_like_images(rng, 2, 20))})
    data = raw(root, image_size=12)
    assert data.fields["image"].shape == (5, 1, 12, 12)
    assert data.fields["label"].tolist() == [0, 0, 0, 1, 1]
    assert data.info["label"].class_names == ["cat", "dog"]
    assert data.fields["image"].min() >= 0.0 and data.fields["image"].max() <= 1.0
    same = raw(root)
    first = np.asarray(Image.open(root / "cat" / "img_000.png"))
    np.testing.assert_allclose(same.fields["image"][0, 0], first / 255.0, atol=1e-6)


def test_image_folder_rgb_and_channel_choice(tmp_path):
    rng = np.random.default_rng(2)
    colour = [rng.integers(0, 256, (8, 10, 3), dtype=np.uint8) for _ in range(2)]
    root = write_image_folder(tmp_path / "rgb", {"a": colour, "b": colour}, suffix=".jpg")
    data = raw(root)
    assert data.info["image"].shape == (3, 8, 10)
    assert raw(root, channels=1).fields["image"].shape == (4, 1, 8, 10)


def test_image_folder_broken_image_names_file_and_index(tmp_path):
    rng = np.random.default_rng(3)
    root = write_image_folder(tmp_path / "imgs", {"a": list(digit_like_images(rng, 2, 8))})
    write_text(root / "a" / "img_999.png", "this is not a png")
    with pytest.raises(DataError, match=r"img_999\.png: sample 2 is not a readable image"):
        raw(root)


def test_empty_image_folder_is_an_error(tmp_path):
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="no images found"):
        raw(tmp_path / "imgs")


# ---------------------------------------------------------------- FASTA

def test_fasta_labels_in_headers(tmp_path):
    path = write_fasta(tmp_path / "seqs.fa", [("s1 label=1", "ACGTAC"), ("s2 label=0", "acgu"),
                                              ("s3 label=1", "ACGTACGNNA")], width=4)
    data = raw(path)
    seq = data.fields["sequence"]
    assert seq.shape == (3, 10) and seq.dtype == np.int64
    assert seq[0].tolist() == [0, 1, 2, 3, 0, 1, 4, 4, 4, 4]  # padded with 4 (N)
    assert seq[1, :4].tolist() == [0, 1, 2, 3]  # lower case, U read as T
    assert seq[2, 7:9].tolist() == [4, 4]
    assert data.info["sequence"].num_classes == 5
    assert data.fields["label"].tolist() == [1, 0, 1]


def test_fasta_with_a_labels_file_and_onehot(tmp_path):
    write_fasta(tmp_path / "seqs.fasta", [("a", "ACGT"), ("b", "TTTT"), ("c", "GGCC")])
    write_text(tmp_path / "labels.csv", "id,label\na,bound\nb,unbound\nc,bound\n")
    data = load_raw({"dataset": "seqs.fasta", "labels": "labels.csv", "encoding": "onehot"},
                    root=tmp_path)
    assert data.info["label"].class_names == ["bound", "unbound"]
    assert data.fields["label"].tolist() == [0, 1, 0]
    onehot = data.fields["sequence"]
    assert onehot.shape == (3, 4, 4) and onehot.dtype == np.float32
    assert onehot[1].argmax(axis=0).tolist() == [3, 3, 3, 3]


def test_fasta_length_option_cuts_and_pads(tmp_path):
    path = write_fasta(tmp_path / "s.fa", [("a label=0", "ACGTACGT"), ("b label=1", "AC")])
    seq = raw(path, length=4).fields["sequence"]
    assert seq.tolist() == [[0, 1, 2, 3], [0, 1, 4, 4]]


def test_fasta_errors_name_the_line(tmp_path):
    path = write_text(tmp_path / "bad.fa", ">a label=1\nACGT\n>b label=0\nAC1T\n")
    with pytest.raises(DataError, match=r"bad\.fa: line 4, column 3: '1' is not a DNA base"):
        raw(path)
    path = write_text(tmp_path / "nolabel.fa", ">a label=1\nACGT\n>b\nACGT\n")
    with pytest.raises(DataError, match="line 3: sequence 'b' has no label"):
        raw(path)
    path = write_fasta(tmp_path / "s.fa", [("a", "ACGT"), ("b", "ACGT")])
    write_text(tmp_path / "l.csv", "a,1\n")
    with pytest.raises(DataError, match=r"l\.csv: no label for sequence 'b' \(line 3 of s\.fa\)"):
        raw(path, labels=str(tmp_path / "l.csv"))
    with pytest.raises(DataError, match="labels file not found"):
        raw(path, labels=str(tmp_path / "missing.csv"))


# ---------------------------------------------------------------- UCR

def test_ucr_file_with_gaf(tmp_path):
    rng = np.random.default_rng(4)
    series = rng.normal(size=(6, 40))
    path = write_ucr(tmp_path / "Wave_TRAIN.tsv", [1, 2, 1, 2, 2, 1], series)
    data = raw(path, transform="gadf", image_size=10)
    np.testing.assert_allclose(data.fields["series"], series, atol=1e-5)
    assert data.fields["label"].tolist() == [0, 1, 0, 1, 1, 0]
    assert data.info["label"].class_names == ["1", "2"]
    assert data.fields["image"].shape == (6, 1, 10, 10)
    assert data.name == "Wave"


def test_ucr_folder_uses_the_test_file_for_validation(tmp_path):
    rng = np.random.default_rng(5)
    write_ucr(tmp_path / "ucr" / "Wave_TRAIN.tsv", [-1, 1] * 5, rng.normal(size=(10, 16)))
    write_ucr(tmp_path / "ucr" / "Wave_TEST.tsv", [1, -1, 1], rng.normal(size=(3, 16)))
    data = prepare({"dataset": str(tmp_path / "ucr")})
    assert len(data.train) == 10 and len(data.val) == 3
    assert data.val.fields["label"].tolist() == [1, 0, 1]
    assert "image" not in data.info


def test_ucr_missing_values_are_filled_and_bad_lines_named(tmp_path):
    path = write_text(tmp_path / "s.tsv", "1\t1.0\tNaN\t3.0\n2\t4.0\t5.0\tNaN\n")
    np.testing.assert_allclose(raw(path).fields["series"], [[1, 2, 3], [4, 5, 5]])
    path = write_text(tmp_path / "r.tsv", "1\t1.0\t2.0\t3.0\n2\t4.0\t5.0\n")
    with pytest.raises(DataError, match=r"r\.tsv: line 2: series of length 2, expected 3"):
        raw(path)
    path = write_text(tmp_path / "x.tsv", "1\t1.0\t2.0\n2\t4.0\toops\n")
    with pytest.raises(DataError, match=r"x\.tsv: line 2: not a number"):
        raw(path, format="ucr")


# ---------------------------------------------------------------- MNIST IDX

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_folder_with_its_own_test_split(tmp_path, gz):
    rng = np.random.default_rng(6)
    ext = ".gz" if gz else ""
    images = digit_like_images(rng, 12)
    write_idx(tmp_path / "m" / f"train-images-idx3-ubyte{ext}", images, gz)
    write_idx(tmp_path / "m" / f"train-labels-idx1-ubyte{ext}", (np.arange(12) % 10).astype(np.uint8), gz)
    write_idx(tmp_path / "m" / f"t10k-images-idx3-ubyte{ext}", digit_like_images(rng, 5), gz)
    write_idx(tmp_path / "m" / f"t10k-labels-idx1-ubyte{ext}", np.arange(5, dtype=np.uint8), gz)
    data = prepare({"dataset": str(tmp_path / "m")})
    assert data.info["image"].shape == (1, 28, 28)
    assert data.info["label"].num_classes == 10
    assert len(data.train) == 12 and len(data.val) == 5
    np.testing.assert_allclose(data.train.fields["image"][:, 0], images / 255.0, atol=1e-6)
    resized = prepare({"dataset": str(tmp_path / "m"), "image_size": 32})
    assert resized.train.fields["image"].shape[1:] == resized.val.fields["image"].shape[1:] \
        == resized.info["image"].shape == (1, 32, 32)


def test_mnist_images_file_finds_its_labels(tmp_path):
    rng = np.random.default_rng(7)
    path = write_idx(tmp_path / "fashion-images-idx3-ubyte", digit_like_images(rng, 4, 8))
    with pytest.raises(DataError, match="no labels file found"):
        raw(path)
    write_idx(tmp_path / "fashion-labels-idx1-ubyte", np.array([3, 1, 4, 1], dtype=np.uint8))
    data = raw(path)
    assert data.fields["label"].tolist() == [3, 1, 4, 1]
    assert data.fields["image"].shape == (4, 1, 8, 8)
    assert raw(path, image_size=12).fields["image"].shape == (4, 1, 12, 12)


def test_idx_errors(tmp_path):
    rng = np.random.default_rng(8)
    images = write_idx(tmp_path / "a-images-idx3-ubyte", digit_like_images(rng, 3, 4))
    write_idx(tmp_path / "a-labels-idx1-ubyte", np.array([1, 2], dtype=np.uint8))
    with pytest.raises(DataError, match="2 labels for 3 images"):
        raw(images)
    truncated = tmp_path / "t-images-idx3-ubyte"
    truncated.write_bytes(images.read_bytes()[:-20])
    write_idx(tmp_path / "t-labels-idx1-ubyte", np.array([1, 2, 3], dtype=np.uint8))
    with pytest.raises(DataError, match=r"t-images-idx3-ubyte: truncated at sample 1"):
        raw(truncated)
    junk = write_text(tmp_path / "j-images-idx3-ubyte", "hello world")
    with pytest.raises(DataError, match="not an IDX file"):
        raw(junk, format="idx")


# ---------------------------------------------------------------- where each sample came from

def test_samples_from_files_remember_their_file_and_line(tmp_path):
    csv_path = write_text(tmp_path / "t.csv", "a,y\n1,0\n\n2,1\n3,0\n4,1\n5,0\n")
    data = prepare({"dataset": str(csv_path), "val_fraction": 0, "normalize": False})
    assert data.train.sources == [f"{csv_path} line {n}" for n in (2, 4, 5, 6, 7)]
    # Row "2,1" sits on line 4 because of the blank line; its source says so after a split too.
    split = prepare({"dataset": str(csv_path), "val_fraction": 0.4, "normalize": False}, seed=1)
    for part in (split.train, split.val):
        for i, value in enumerate(part.fields["features"][:, 0]):
            assert part.source_of(i) == data.train.sources[int(value) - 1]
    rng = np.random.default_rng(9)
    root = write_image_folder(tmp_path / "imgs", {"a": list(digit_like_images(rng, 2, 8))})
    images = prepare({"dataset": str(root), "val_fraction": 0})
    assert images.train.sources == [str(root / "a" / "img_000.png"), str(root / "a" / "img_001.png")]
    fasta = write_fasta(tmp_path / "s.fa", [("a label=0", "ACGT"), ("b label=1", "ACGT")])
    assert raw(fasta).sources == [f"{fasta} line 1", f"{fasta} line 3"]
    assert prepare({"dataset": "iris"}).train.sources is None


def test_nan_in_an_array_names_the_sample(tmp_path):
    features = np.ones((6, 3))
    features[4, 1] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, features=features, label=np.arange(6) % 2)
    with pytest.raises(DataError, match=r"nan\.npz sample 4: field 'features' holds NaN"):
        prepare({"dataset": str(path)})


def test_image_folder_reads_only_limit_images_and_refuses_huge_defaults(tmp_path, monkeypatch):
    rng = np.random.default_rng(10)
    root = write_image_folder(tmp_path / "imgs", {"a": list(digit_like_images(rng, 6, 8)),
                                                  "b": list(digit_like_images(rng, 6, 8))})
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda path, *a, **k: opened.append(path) or real_open(path))
    data = prepare({"dataset": str(root), "limit": 4, "val_fraction": 0.5})
    assert len(set(opened)) == 4
    monkeypatch.undo()
    assert len(data.train) == 2 and len(data.val) == 2
    assert sorted(np.concatenate([data.train.fields["label"], data.val.fields["label"]])) \
        == [0, 0, 1, 1]
    big = write_image_folder(tmp_path / "big", {"a": [np.zeros((600, 700), dtype=np.uint8)]})
    with pytest.raises(DataError, match=r"images are 700x600 pixels; set \"image_size\""):
        raw(big)
    assert raw(big, image_size=[30, 35]).fields["image"].shape == (1, 1, 30, 35)
