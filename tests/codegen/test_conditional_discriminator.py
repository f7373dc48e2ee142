"""A conditional Discriminator (pix2pix) in code: the generated forward stacks the condition beside
the sample before the discriminator, the compiled block counts the pair's channels, the full
model's ONNX export is still the generator's and the discriminator's own export takes the pair."""

from __future__ import annotations

import onnxruntime as ort
import pytest
import torch

import graph_core as gc
import templates
from codegen import compile_graph, export_onnx, generate_source, load_weights, save_weights
from codegen.onnx_export import TOLERANCE
from tests.registry_samples import conditional_gan_graph, sample_graph

from .test_registry_contract import _check_graph


@pytest.mark.parametrize("onehot", [False, True])
def test_compiled_pair_critic_matches_inferred_shapes_and_counts(onehot):
    g = conditional_gan_graph(onehot)
    _check_graph(g)  # the registry contract's check: every shape and the parameter count
    model = compile_graph(g)
    channels = 3 if onehot else 2
    assert model.discriminator.score.in_features == (channels + 1) * 8 * 8
    assert sum(p.numel() for p in model.discriminator.parameters()) == gc.infer_shapes(g)["node"].params


def test_the_generated_forward_reads_the_pair():
    source = generate_source(conditional_gan_graph(onehot=True)).source
    assert "condition_shape = (3, 8, 8)  # the discriminator judges concat(condition, sample)" in source
    assert "cond_onehot = F.one_hot(cond, 3).movedim(-1, 1).float()  # (3, 8, 8)" in source
    pair = "pair = torch.cat([cond_onehot, shape_it], dim=1)  # (4, 8, 8): the condition beside the sample"
    assert pair in source
    assert source.index(pair) < source.index("node = self.discriminator(pair)")
    # a plain GAN's code is as before: no pair, no condition_shape
    plain = generate_source(sample_graph("Discriminator")).source
    assert "torch.cat" not in plain and "condition_shape" not in plain
    assert "node = self.discriminator(shape_it)" in plain


def test_pix2pix_forward_pairs_the_generators_own_one_hot_mask():
    """The condition is the generator's own OneHot: it runs inside self.generator and is computed
    once more in the GAN's forward, for the discriminator."""
    g = templates.build("pix2pix", base_channels=4)
    code = generate_source(g)
    lines = code.source.splitlines()
    forward = lines[[k for k, line in enumerate(lines) if line.startswith("class Pix2pix(")][0]:]
    body = "\n".join(forward)
    assert "onehot = F.one_hot(mask, 4).movedim(-1, 1).float()  # (4, 32, 32)" in body
    assert "pair = torch.cat([onehot, painted], dim=1)  # (5, 32, 32): the condition beside the sample" in body
    assert "self.discriminator(pair)" in body
    assert '"""The generator of Pix2pix: mask -> one sample.' in code.source
    model = compile_graph(g).eval()
    mask = torch.randint(0, 4, (2, 32, 32))
    seen = {}
    model.discriminator.d_conv1.register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0]))
    with torch.no_grad():
        painted = model(torch.rand(2, 1, 32, 32), mask)
    assert model.discriminator.d_conv1.in_channels == 4 + 1
    assert torch.equal(seen["x"][:, :4].argmax(1), mask) and torch.equal(seen["x"][:, 4:], painted)


@pytest.mark.parametrize("direction", ["mask_to_image", "image_to_mask"])
def test_pix2pix_exports_its_generator_and_its_pair_discriminator(tmp_path, direction):
    g = templates.build("pix2pix", direction=direction, base_channels=4)
    full = export_onnx(g, tmp_path / "model.onnx")  # a GAN's model is its generator
    generator = export_onnx(g, tmp_path / "g.onnx", part="generator")
    reads = (32, 32) if direction == "mask_to_image" else (1, 32, 32)
    assert [s[1:] for _, s, _ in full.inputs] == [s[1:] for _, s, _ in generator.inputs] == [reads]
    assert full.max_abs_diff <= TOLERANCE and generator.max_abs_diff <= TOLERANCE
    disc = export_onnx(g, tmp_path / "d.onnx", part="discriminator")
    assert [(n, s[1:]) for n, s, _ in disc.inputs] == [("sample", (5, 32, 32))]  # 4 + 1 channels
    assert disc.max_abs_diff <= TOLERANCE
    session = ort.InferenceSession(str(tmp_path / "d.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1:] == [5, 32, 32]


def test_pix2pix_graph_and_weights_survive_save_and_load(tmp_path):
    g = templates.build("pix2pix", base_channels=4)
    gc.save_graph(g, tmp_path / "p2p.json")
    again = gc.load_graph(tmp_path / "p2p.json")
    assert gc.graph_to_json(again) == gc.graph_to_json(g)
    assert again.edges_into("discriminator", "condition")[0].src == ("onehot", "out")
    model = compile_graph(g)
    save_weights(model, tmp_path / "w.safetensors")
    reloaded = compile_graph(again)
    load_weights(reloaded, tmp_path / "w.safetensors")
    pair = torch.rand(2, 5, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.discriminator(pair), reloaded.discriminator(pair))
