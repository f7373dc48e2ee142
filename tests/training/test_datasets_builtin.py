"""The built-in datasets: what each field holds, the options, and that the data means something."""

from __future__ import annotations

import numpy as np
import pytest

from training.datasets import builtin_names, gramian_angular_field, load_raw, paa, prepare


def everything(section: dict) -> dict[str, np.ndarray]:
    """All samples of a built-in, before any split."""
    return load_raw(section).fields


def test_catalogue_lists_every_builtin():
    assert builtin_names() == ["digits", "iris", "breast_cancer", "moons", "blobs", "dna_motif",
                               "cbf", "shapes_seg", "multiomics_synth", "tokens_synth", "snow_shortcut",
                               "translation_synth"]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_prepares_with_fields_matching_their_info(name):
    data = prepare({"dataset": name, "limit": 60})
    assert data.name == name
    assert len(data.train) + len(data.val) == 60
    for split in (data.train, data.val):
        assert set(split.fields) == set(data.info)
        for field, array in split.fields.items():
            info = data.info[field]
            assert array.shape[1:] == info.shape, field
            assert array.dtype == np.dtype(info.dtype), field
    if name == "translation_synth":  # parallel text: two token fields with their vocabularies
        for field in ("source", "target"):
            info = data.info[field]
            assert info.kind == "tokens" and len(info.class_names) == info.num_classes
            assert data.train.fields[field].max() < info.num_classes
        return
    label = data.info["label"]
    assert label.kind == "label" and label.num_classes >= 2
    assert len(label.class_names) == label.num_classes
    assert data.train.fields["label"].max() < label.num_classes


@pytest.mark.parametrize("name", ["dna_motif", "cbf", "shapes_seg", "multiomics_synth",
                                  "tokens_synth", "moons", "blobs"])
def test_generated_builtins_are_deterministic_in_data_seed(name):
    section = {"dataset": name, "n_samples": 40}
    first, again = everything(section), everything(section)
    other = everything({**section, "data_seed": 1})
    for field in first:
        np.testing.assert_array_equal(first[field], again[field])
    assert any(not np.array_equal(first[f], other[f]) for f in first if f != "label")


def test_digits_are_sklearn_digits_scaled_to_unit_range():
    from sklearn.datasets import load_digits

    fields = everything({"dataset": "digits"})
    assert fields["image"].shape == (1797, 1, 8, 8)
    assert fields["image"].min() == 0.0 and fields["image"].max() == 1.0
    np.testing.assert_allclose(fields["image"][:, 0] * 16, load_digits().images, atol=1e-5)
    assert np.bincount(fields["label"]).tolist() == np.bincount(load_digits().target).tolist()


@pytest.mark.parametrize("size", [16, 28, 32])
def test_digits_resize_keeps_the_drawing(size):
    small = everything({"dataset": "digits"})["image"][:50]
    big = everything({"dataset": "digits", "image_size": size})["image"][:50]
    assert big.shape == (50, 1, size, size)
    assert big.min() >= 0.0 and big.max() <= 1.0
    # Shrinking the big image back by block averaging gives back roughly the original strokes.
    from PIL import Image

    back = np.stack([np.asarray(Image.fromarray(b[0]).resize((8, 8), Image.Resampling.BOX))
                     for b in big])
    corr = np.corrcoef(back.ravel(), small[:, 0].ravel())[0, 1]
    assert corr > 0.9


@pytest.mark.parametrize(("name", "features", "classes", "total"),
                         [("iris", 4, ["setosa", "versicolor", "virginica"], 150),
                          ("breast_cancer", 30, ["malignant", "benign"], 569)])
def test_sklearn_tables(name, features, classes, total):
    data = prepare({"dataset": name})
    assert data.info["features"].shape == (features,)
    assert data.info["label"].class_names == classes
    assert len(data.train) + len(data.val) == total


def test_moons_and_blobs_honour_their_options():
    moons = prepare({"dataset": "moons", "n_samples": 100, "val_fraction": 0.5})
    assert len(moons.train) == 50 and moons.info["features"].shape == (2,)
    blobs = load_raw({"dataset": "blobs", "n_samples": 120, "centers": 4, "n_features": 5})
    assert blobs.fields["features"].shape == (120, 5)
    assert blobs.info["label"].num_classes == 4
    assert sorted(set(blobs.fields["label"].tolist())) == [0, 1, 2, 3]


def _best_match(ids: np.ndarray, motif: np.ndarray) -> int:
    """Fewest mismatches between `motif` and any window of `ids`."""
    windows = np.lib.stride_tricks.sliding_window_view(ids, len(motif))
    return int((windows != motif).sum(axis=1).min())


def test_dna_motif_plants_the_motif_in_exactly_the_positives():
    fields = everything({"dataset": "dna_motif", "n_samples": 200, "length": 60})
    seq, label = fields["sequence"], fields["label"]
    assert seq.shape == (200, 60) and seq.dtype == np.int64
    assert set(np.unique(seq).tolist()) == {0, 1, 2, 3}
    assert label.sum() == 100
    motif = np.array(["ACGT".index(b) for b in "TGACGTCA"])
    mismatches = np.array([_best_match(s, motif) for s in seq])
    assert (mismatches[label == 1] <= 1).all()
    # A random 60-mer holds the 8-mer with <= 1 mismatch with probability ~1%.
    assert (mismatches[label == 0] <= 1).mean() < 0.05


def test_dna_motif_onehot_encoding_matches_the_ids():
    ids = everything({"dataset": "dna_motif", "n_samples": 20, "length": 30})
    data = load_raw({"dataset": "dna_motif", "n_samples": 20, "length": 30, "encoding": "onehot"})
    onehot = data.fields["sequence"]
    assert data.info["sequence"].shape == (4, 30) and onehot.dtype == np.float32
    assert (onehot.sum(axis=1) == 1).all()
    np.testing.assert_array_equal(onehot.argmax(axis=1), ids["sequence"])
    np.testing.assert_array_equal(ids["sequence_onehot"], onehot)


def test_dna_motif_refuses_a_motif_that_is_not_dna():
    from training.datasets import DataError

    with pytest.raises(DataError, match="motif"):
        prepare({"dataset": "dna_motif", "motif": "ACGZ"})


def test_cbf_classes_have_their_shapes():
    fields = everything({"dataset": "cbf", "n_samples": 300, "transform": "none"})
    series, label = fields["series"], fields["label"]
    assert series.shape == (300, 128) and "image" not in fields
    assert np.bincount(label).tolist() == [100, 100, 100]
    mean = {c: series[label == c].mean(axis=0) for c in range(3)}
    # Bells rise towards their end, funnels fall from their start, cylinders are flat on top.
    assert mean[1].argmax() > mean[2].argmax() + 20
    assert mean[0][40:60].mean() > 4.0
    assert series[:, :10].mean() == pytest.approx(0.0, abs=0.2)


@pytest.mark.parametrize(("transform", "channels"), [("gasf", 1), ("gadf", 1), ("both", 2)])
def test_cbf_images_are_gramian_fields_of_the_shortened_series(transform, channels):
    fields = everything({"dataset": "cbf", "n_samples": 9, "transform": transform,
                         "image_size": 16})
    images = fields["image"]
    assert images.shape == (9, channels, 16, 16)
    assert images.min() >= -1.0 and images.max() <= 1.0
    first = "gadf" if transform == "gadf" else "gasf"
    expected = gramian_angular_field(paa(fields["series"], 16), first)
    np.testing.assert_allclose(images[:, 0], expected, atol=1e-6)


def test_cbf_default_image_is_one_by_32_by_32():
    data = prepare({"dataset": "cbf", "limit": 30})
    assert data.info["image"].shape == (1, 32, 32)


def test_gramian_angular_fields_follow_their_definition():
    x = np.array([[0.0, 2.0, 1.0, 4.0]])
    scaled = 2 * (x - 0) / 4 - 1
    phi = np.arccos(scaled[0])
    gasf = gramian_angular_field(x, "gasf")[0]
    gadf = gramian_angular_field(x, "gadf")[0]
    np.testing.assert_allclose(gasf, np.cos(phi[:, None] + phi[None, :]), atol=1e-6)
    np.testing.assert_allclose(gadf, np.sin(phi[:, None] - phi[None, :]), atol=1e-6)
    np.testing.assert_allclose(np.diag(gadf), 0.0, atol=1e-6)
    np.testing.assert_allclose(gasf, gasf.T, atol=1e-6)


def test_paa_averages_segments():
    np.testing.assert_allclose(paa(np.arange(6.0)[None], 3), [[0.5, 2.5, 4.5]])
    # 7 points into 3 segments: [0, 2), [2, 4), [4, 7).
    np.testing.assert_allclose(paa(np.arange(7.0)[None], 3), [[0.5, 2.5, 5.0]])
    assert paa(np.arange(4.0)[None], 8).shape == (1, 8)


def test_shapes_seg_masks_mark_the_bright_shapes():
    data = load_raw({"dataset": "shapes_seg", "n_samples": 40})
    image, mask, label = data.fields["image"], data.fields["mask"], data.fields["label"]
    assert image.shape == (40, 1, 32, 32) and mask.shape == (40, 32, 32)
    assert data.info["mask"].num_classes == 4
    assert data.info["mask"].class_names == ["background", "circle", "square", "triangle"]
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert set(np.unique(mask).tolist()) == {0, 1, 2, 3}
    for i in range(40):
        assert (mask[i] > 0).any()
        assert image[i, 0][mask[i] > 0].mean() > image[i, 0][mask[i] == 0].mean() + 0.2
        areas = np.bincount(mask[i].ravel(), minlength=4)[1:]
        assert areas[label[i] - 1] == areas.max()


def test_shapes_seg_look_like_their_class():
    mask = everything({"dataset": "shapes_seg", "n_samples": 60, "max_shapes": 1})["mask"]
    fill = {1: [], 2: [], 3: []}
    for m in mask:
        ys, xs = np.nonzero(m)
        box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        fill[int(m.max())].append(len(ys) / box)
    # A square fills its bounding box, a circle about pi/4 of it, a triangle about half.
    assert np.mean(fill[2]) > 0.95
    assert 0.7 < np.mean(fill[1]) < 0.85
    assert 0.4 < np.mean(fill[3]) < 0.65


def test_shapes_seg_without_triangles_has_three_classes():
    data = load_raw({"dataset": "shapes_seg", "n_samples": 30, "triangles": False})
    assert data.info["mask"].num_classes == 3
    assert data.fields["mask"].max() == 2


def test_multiomics_blocks_are_informative_and_integration_helps():
    from sklearn.linear_model import LogisticRegression

    data = prepare({"dataset": "multiomics_synth", "rna": 60, "methylation": 40, "protein": 20})
    assert [data.info[f].shape for f in ("omics_rna", "omics_methylation", "omics_protein")] == \
        [(60,), (40,), (20,)]
    tr, va = data.train.fields, data.val.fields

    def accuracy(names):
        x = np.concatenate([tr[n] for n in names], axis=1)
        xv = np.concatenate([va[n] for n in names], axis=1)
        return LogisticRegression(max_iter=500, C=0.1).fit(x, tr["label"]).score(xv, va["label"])

    blocks = ["omics_rna", "omics_methylation", "omics_protein"]
    together = accuracy(blocks)
    assert together > 0.7
    assert together > max(accuracy([b]) for b in blocks) + 0.03


def test_tokens_class_is_given_by_its_marker_tokens():
    data = load_raw({"dataset": "tokens_synth", "n_samples": 100, "length": 16})
    tokens, label = data.fields["tokens"], data.fields["label"]
    assert tokens.shape == (100, 16) and data.info["tokens"].num_classes == 20
    assert tokens.min() >= 1 and tokens.max() < 20
    for seq, cls in zip(tokens, label):
        markers = set(seq[seq <= 4].tolist())
        assert markers and markers <= {1 + 2 * cls, 2 + 2 * cls}


def test_multiomics_blocks_are_named_by_the_section_like_the_template_writes_them():
    data = load_raw({"dataset": "multiomics_synth", "n_samples": 30, "rna": 12, "mirna": 5,
                     "num_classes": 4})
    assert [f for f in data.fields] == ["omics_rna", "omics_mirna", "label"]
    assert data.info["omics_mirna"].shape == (5,)
    assert data.info["label"].num_classes == 4
    explicit = load_raw({"dataset": "multiomics_synth", "n_samples": 30,
                         "blocks": {"atac": 7}})
    assert set(explicit.fields) == {"omics_atac", "label"}
    default = load_raw({"dataset": "multiomics_synth", "n_samples": 30})
    assert [default.info[f].shape for f in ("omics_rna", "omics_methylation", "omics_protein")] \
        == [(200,), (100,), (50,)]
    methylation = default.fields["omics_methylation"]
    assert methylation.min() >= 0.0 and methylation.max() <= 1.0


def test_snow_shortcut_ties_the_background_to_the_class_in_training_only():
    data = prepare({"dataset": "snow_shortcut", "n_samples": 200, "image_size": 24})
    train, val = data.train.fields, data.val.fields
    assert len(data.val) == 50  # shipped by the source: a quarter of n_samples
    assert np.array_equal(train["background"], train["label"])  # every training wolf in snow
    agree = float(np.mean(val["background"] == val["label"]))
    assert 0.3 < agree < 0.7  # in validation the background says (almost) nothing
    snow = train["image"][train["background"] == 1]
    plain = train["image"][train["background"] == 0]
    assert snow.mean() > plain.mean() + 0.3
    # the animal's mask covers a small part of each picture, and both classes have one
    share = train["mask"].reshape(len(data.train), -1).mean(axis=1)
    assert share.min() > 0.02 and share.max() < 0.25
    assert data.info["label"].class_names == ["husky", "wolf"]
