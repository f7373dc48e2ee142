"""pix2pix: a conditional GAN — the U-Net generator reads the mask (not noise), the PatchGAN
scores every patch, and the L1 head joins the generator's loss."""

from __future__ import annotations

import math

import pytest

import graph_core as gc
import templates

training = pytest.importorskip("training")


def test_the_generator_reads_the_mask_and_the_discriminator_scores_patches():
    graph = templates.build("pix2pix")
    assert gc.validate(graph) == []
    shapes = gc.infer_shapes(graph)
    assert shapes["onehot"].output_shape == (4, 32, 32)
    assert shapes["painted"].output_shape == (1, 32, 32)
    assert shapes["discriminator"].outputs["score"].shape == (1, 6, 6)  # 36 patches, 34 pixels each
    norms = [n for n in graph.nodes.values() if n.type == "InstanceNorm"]
    assert len(norms) == 4 and all(n.params["affine"] for n in norms)
    assert graph.nodes["l1"].params == {"loss": "l1", "target": "image", "weight": 100.0}


@pytest.mark.slow
def test_pix2pix_trains_mask_to_image_on_shapes_seg(tmp_path):
    graph = templates.build("pix2pix", base_channels=8)
    graph.data["limit"] = 96
    events: list[dict] = []
    result = training.train(graph, {"epochs": 2, "batch_size": 16, "device": "cpu", "out": str(tmp_path)},
                            on_event=events.append)
    assert result.ok and result.regime == "gan", (result.error, result.issues)
    steps = [e for e in events if e["type"] == "step"]
    first, last = steps[0]["losses"], steps[-1]["losses"]
    assert all(math.isfinite(v) for v in last.values())
    # the generator's loss holds the L1 term (×100): far above the adversarial term alone, and falling
    assert first["g_loss"] > 10 and last["g_loss"] < first["g_loss"]
    samples = [e for e in events if e["type"] == "samples"]
    assert samples and samples[-1]["kind"] == "generated"
