"""What the results panel is computed from (designer.training.analysis): real short runs of the
templates, then the figures a user reads — confusion counts, latent maps, decoded grids, maps."""

from __future__ import annotations

import numpy as np
import pytest

import templates
from designer.training.analysis import RunAnalyser, decoder_graph_from
from graph_core import Edge
from training import prepare, train


def trained(name: str, tmp_path, **params):
    g = templates.build(name, **params)
    g.data["limit"] = 128
    result = train(g, {"epochs": 1, "batch_size": 32, "out": str(tmp_path / name), "samples": False})
    assert result.status == "completed", result.error
    analyser = RunAnalyser(g, g.data, seed=0)
    analyser.load(result.last_checkpoint)
    return g, analyser


def test_confusion_matrix_counts_every_validation_sample_once(tmp_path):
    g, analyser = trained("softmax_regression", tmp_path)
    results = analyser.results(epoch=1)
    val = prepare(g.data).val
    labels = val.fields["label"]
    matrix = results.confusion
    assert matrix.sum() == len(val)
    assert matrix.sum(axis=1).tolist() == np.bincount(labels, minlength=len(matrix)).tolist()  # rows = truth
    assert results.accuracy == pytest.approx(np.trace(matrix) / matrix.sum())


def test_a_wide_latent_is_mapped_by_pca_and_decoded_across_the_plane(tmp_path):
    _, analyser = trained("vae", tmp_path, latent_dim=6)
    results = analyser.results(epoch=1)
    latent = results.latent
    assert latent.points.shape == (analyser.count, 2)
    assert latent.method.startswith("PCA of the 6-D latent (") and "% of the variance" in latent.method
    assert latent.labels is not None and set(latent.labels) <= set(range(10))
    grid = results.latent_grid
    side = 9 * 32 + 10  # nine 8x8 digits enlarged to 32 px, one-pixel gaps
    assert grid.shape == (side, side, 3) and grid.dtype == np.uint8
    assert grid.std() > 0  # not a blank picture


def test_an_autoencoder_maps_its_narrowest_layer(tmp_path):
    _, analyser = trained("autoencoder", tmp_path)
    results = analyser.results(epoch=1)
    assert results.latent.method == "2-D latent"
    assert results.latent_grid is not None


def test_feature_maps_and_kernels_of_a_transposed_convolution(tmp_path):
    _, analyser = trained("dcgan", tmp_path)
    assert analyser.conv_nodes() == ["gen_deconv1", "gen_deconv2"]
    maps = analyser.feature_maps("gen_deconv1", sample=2)
    assert "32×8×8 activations" in maps.description
    assert "kernels 32×64×4×4" in maps.description  # one tile per output channel
    same = analyser.feature_maps("gen_deconv1", sample=2)
    assert np.array_equal(maps.activations, same.activations)  # a sample's noise is fixed


def test_no_decoder_when_a_skip_connection_bypasses_the_code():
    g = templates.build("autoencoder")
    latent = "latent" if "latent" in g.nodes else next(n for n in g.nodes if "lat" in n)
    assert decoder_graph_from(g, latent) is not None
    g.edges.append(Edge(("enc_relu", "out"), ("dec_relu", "in")))  # a second wire from before the code
    assert decoder_graph_from(g, latent) is None
