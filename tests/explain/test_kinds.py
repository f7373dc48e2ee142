"""Every method on every input kind and regime: image, DNA, series as images, tables, a GAN's
Discriminator, a segmentation pixel, a VAE's classifier head; the figures are written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import graph_core as gc
from explain import METHODS, ExplainError, explain, load_subject, render

from .conftest import trained


def _subject(run):
    path, run_dir = run
    return load_subject(gc.load_graph(path), run_dir, root=path.parent)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_explains_a_lenet_digit_as_a_heatmap(lenet_run, method, tmp_path):
    subject = _subject(lenet_run)
    e = explain(subject, method, sample=2, target=3)
    assert e.kind == "image" and e.target == 3 and e.target_name == "3"
    assert e.attribution.shape == (1, 16, 16) and np.isfinite(e.attribution).all()
    assert np.abs(e.attribution).sum() > 0
    assert len(e.deletion.by_attribution) == len(e.deletion.fractions) == 21
    assert e.deletion.fractions[0] == 0 and e.deletion.fractions[-1] == 1
    if method == "gradcam":
        assert e.layer == "conv2"  # the last convolution by default
    png = tmp_path / "e.png"
    render(e, png)
    with Image.open(png) as img:
            assert img.size[0] > 800 and len(np.unique(np.asarray(img.convert("L")))) > 50


def test_gradcam_reads_the_convolution_the_user_picks(lenet_run):
    subject = _subject(lenet_run)
    first = explain(subject, "gradcam", sample=0, layer="conv1")
    last = explain(subject, "gradcam", sample=0)
    assert first.layer == "conv1" and last.layer == "conv2"
    assert not np.allclose(first.attribution, last.attribution)
    with pytest.raises(ExplainError, match="conv1, conv2"):
        explain(subject, "gradcam", sample=0, layer="fc3")


def test_a_wrong_target_or_sample_is_one_clear_line(lenet_run):
    subject = _subject(lenet_run)
    with pytest.raises(ExplainError, match="classes run from 0 to 9"):
        explain(subject, "saliency", sample=0, target=10)
    with pytest.raises(ExplainError, match="no such class"):
        explain(subject, "saliency", sample=0, target="eleven")
    with pytest.raises(ExplainError, match="samples"):
        explain(subject, "saliency", sample=100_000)


def test_dna_is_a_logo_over_the_one_hot_bases(dna_run, tmp_path):
    subject = _subject(dna_run)
    assert subject.onehot_classes == 4  # int64 ids through OneHot, explained as one-hot floats
    i = int(np.flatnonzero(subject.data.val.fields["label"] == 1)[0])
    e = explain(subject, "occlusion", sample=i, target="motif")
    assert e.kind == "dna" and e.attribution.shape == (4, 100)
    bases = e.extras["bases"]
    ids = subject.data.val.fields["sequence"][i]
    assert bases == "".join("ACGT"[b] for b in ids)
    start, stop = e.extras["motif_span"]
    assert stop - start == 8
    # only the observed base of each position carries attribution
    assert np.all(e.attribution[e.input == 0] == 0)
    render(e, tmp_path / "logo.png")
    assert (tmp_path / "logo.png").stat().st_size > 10_000


def test_a_gaf_image_is_mapped_back_onto_its_series(tmp_path_factory):
    run = trained(tmp_path_factory, "timeseries_gaf", {"n_samples": 90}, {"image_size": 16}, max_steps=4)
    e = explain(_subject(run), "integrated_gradients", sample=1)
    assert e.kind == "series_image" and e.attribution.shape == (1, 16, 16)
    series, weights = e.extras["series"], e.extras["series_attribution"]
    assert series.shape == weights.shape == (128,)
    # the whole image's attribution is shared out over the time points
    assert weights.sum() == pytest.approx(e.attribution.sum(), rel=1e-4)
    render(e, tmp_path_factory.mktemp("gaf") / "gaf.png")
    # a series from a CSV file becomes its GAF image the way the dataset makes it
    from explain.inputs import read_input

    subject = _subject(run)
    csv = tmp_path_factory.mktemp("series") / "s.csv"
    series = subject.data.val.fields["series"][1]
    csv.write_text("value\n" + ",".join(f"{v:.6f}" for v in series) + "\n")
    values = read_input(subject, csv)
    assert np.allclose(values["image"], subject.data.val.fields["image"][1], atol=1e-4)
    from_file = explain(subject, "integrated_gradients", values=values)
    assert from_file.kind == "series_image" and from_file.sample is None
    assert from_file.probability == pytest.approx(e.probability, abs=1e-4)


def test_a_table_is_a_bar_per_named_feature(tmp_path_factory):
    run = trained(tmp_path_factory, "softmax_regression", max_steps=5)
    e = explain(_subject(run), "lime", sample=0)
    assert e.kind == "features" and e.attribution.shape == (4,)
    assert e.extras["feature_names"][0] == "sepal length (cm)"
    assert e.target_name in ("setosa", "versicolor", "virginica")
    render(e, tmp_path_factory.mktemp("iris") / "bars.png")


@pytest.mark.parametrize("name", ["gan", "dcgan"])
def test_a_discriminator_says_what_makes_a_sample_look_fake(tmp_path_factory, name):
    run = trained(tmp_path_factory, name, max_steps=3)
    subject = _subject(run)
    assert subject.class_names == ["fake", "real"]
    e = explain(subject, "integrated_gradients", sample=0)
    assert e.target_name == "fake"  # the default question for a Discriminator
    p_fake = e.probability
    real = explain(subject, "saliency", sample=0, target="real")
    assert real.probability == pytest.approx(1 - p_fake, abs=1e-5)
    if name == "dcgan":
        cam = explain(subject, "gradcam", sample=0)
        assert cam.layer.startswith("disc") or "/" in cam.layer


def test_a_segmentation_head_explains_one_pixel(tmp_path_factory):
    run = trained(tmp_path_factory, "segnet", {"n_samples": 40}, {"image_size": 16, "depth": 2,
                                                                   "base_channels": 4}, max_steps=3)
    subject = _subject(run)
    centre = explain(subject, "saliency", sample=0)
    corner = explain(subject, "saliency", sample=0, pixel=(0, 0))
    assert centre.pixel == (8, 8) and corner.pixel == (0, 0)
    assert centre.target_name in ("background", "circle", "square", "triangle")
    assert not np.allclose(centre.attribution, corner.attribution)
    with pytest.raises(ExplainError, match="outside"):
        explain(subject, "saliency", sample=0, pixel=(16, 0))


def test_a_vae_classifier_head_is_explained_on_one_omics_block(tmp_path_factory):
    run = trained(tmp_path_factory, "multiomics_vae", {"n_samples": 60}, max_steps=3)
    subject = _subject(run)
    e = explain(subject, "integrated_gradients", sample=0)
    assert subject.head.node == "class_head"
    assert e.kind == "features" and e.attribution.shape == (200,)  # the first block, rna
    assert e.target_name.startswith("subtype_")


def test_an_autoencoder_alone_has_nothing_to_explain(tmp_path_factory):
    path, run_dir = trained(tmp_path_factory, "autoencoder", max_steps=2)
    with pytest.raises(ExplainError, match="classifier"):
        load_subject(gc.load_graph(path), run_dir)


def test_token_ids_through_an_embedding_are_explained_per_token(tmp_path_factory):
    run = trained(tmp_path_factory, "embedding_classifier", {"n_samples": 400}, epochs=6)
    subject = _subject(run)
    assert subject.embeddings == ["embed"] and subject.onehot_classes == 50
    val = subject.data.val.fields
    i = 0
    e = explain(subject, "integrated_gradients", sample=i)
    assert e.kind == "tokens" and e.attribution.shape == (50, 20)
    assert e.extras["tokens"] == [int(t) for t in val["tokens"][i]]
    # the hooked lookup gives the network's own scores for the ids
    import torch

    with torch.no_grad():
        ids = torch.as_tensor(val["tokens"][i : i + 1])
        direct = torch.softmax(subject.net(ids), dim=1)[0, e.target]
    assert e.probability == pytest.approx(float(direct), abs=1e-5)
    # tokens_synth: marker tokens 1..2K decide the class; each weighs more than a filler token
    per_position = np.abs(e.attribution).sum(0)
    markers = (val["tokens"][i] >= 1) & (val["tokens"][i] <= 4)
    assert per_position[markers].mean() > 2 * per_position[~markers].mean()
    render(e, tmp_path_factory.mktemp("tokens") / "tokens.png")
