"""Smoke test: each template trains for two steps on its default data with finite losses, in
the regime its graph implies (supervised, autoencoder, VAE, GAN, segmentation); and lenet, run
in full at its defaults, reaches the accuracy docs/templates.md promises."""

from __future__ import annotations

import math

import pytest

import templates

from .grids import SMALL

training = pytest.importorskip("training")

REGIMES = {"autoencoder": "autoencoder", "vae": "vae", "conv_vae": "vae", "multiomics_vae": "vae",
           "gan": "gan", "dcgan": "gan", "segnet": "segmentation", "seq2seq": "seq2seq",
           "transformer": "seq2seq"}
REGIMES.update(unet="segmentation", pix2pix="gan")  # issue 15
NAMES = [t.name for t in templates.all_templates()]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_two_training_steps_on_the_default_data(name, tmp_path):
    graph = templates.build(name, **SMALL.get(name, {}))
    graph.data["limit"] = 48  # a few samples of the default dataset, for speed
    events: list[dict] = []
    result = training.train(graph, {"max_steps": 2, "epochs": 1, "batch_size": 8, "device": "cpu",
                                    "out": str(tmp_path), "samples": False}, on_event=events.append)
    assert result.ok, (result.error, result.issues)
    assert result.regime == REGIMES.get(name, "supervised")
    steps = [e for e in events if e["type"] == "step"]
    assert len(steps) == 2
    for event in steps:
        assert event["losses"], "a step reports its losses"
        assert all(math.isfinite(v) for v in event["losses"].values()), event["losses"]
    if result.regime == "gan":
        assert {"d_loss", "g_loss"} <= set(steps[0]["losses"])
    if result.regime == "vae":
        assert "kl" in steps[0]["losses"]


@pytest.mark.slow
def test_lenet_at_its_defaults_reads_97_percent_of_the_digits(tmp_path):
    # The whole template run: 15 epochs on digits at 28x28, seed 0 (the default), as
    # `netwright train` runs it. About 4 s of training on a quiet 2-core VM, 1-2 min under load.
    graph = templates.build("lenet")
    result = training.train(graph, {"device": "cpu", "out": str(tmp_path), "samples": False})
    assert result.ok, (result.error, result.issues)
    assert result.epochs == 15
    assert result.final["val_accuracy"] >= 0.97, result.final
