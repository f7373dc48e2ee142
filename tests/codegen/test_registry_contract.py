"""The registry contract, codegen's half: for every node type (and every template), the
compiled module's output shapes equal the inferred shapes and its parameter count equals the
inferred count."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import graph_core as gc
import templates
from codegen import compile_graph
from codegen.onnx_export import example_inputs
from codegen.source import int_input_high
from tests.registry_samples import all_types, sample_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _check_graph(g: gc.Graph) -> None:
    shapes = gc.infer_shapes(g)
    model = compile_graph(g).eval()
    inputs = example_inputs(model.generated.input_types, 2, int_input_high(g), seed=0)
    seen: dict[str, tuple] = {}
    for nid, attr in _plain_calls(model).items():
        def hook(module, args, output, nid=nid):
            first = output[0] if isinstance(output, tuple) else output
            seen[nid] = tuple(first.shape[1:])
        model.get_submodule(attr).register_forward_hook(hook)
    with torch.no_grad():
        result = model(*inputs)
    # every node that owns a module produced the shape inference promised
    assert seen.keys() == _plain_calls(model).keys()
    for nid, shape in seen.items():
        assert shape == shapes[nid].output_shape, nid
    heads = list(g.nodes_of_type("Output"))
    if len(heads) > 1:
        assert list(result) == [h.id for h in heads]
        got = {k: tuple(v.shape[1:]) for k, v in result.items()}
    elif heads:
        got = {heads[0].id: tuple(result.shape[1:])}
    else:  # a GAN without heads returns the discriminator's score
        disc = next(g.nodes_of_type("Discriminator"))
        got = {disc.id: tuple(result.shape[1:])}
        assert got[disc.id] == shapes[disc.id].outputs["score"].shape
        heads = []
    for h in heads:
        assert got[h.id] == shapes[h.id].output_shape, h.id
    summary = gc.summarize(g, shapes)
    assert sum(p.numel() for p in model.parameters()) == summary.total_params
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == summary.trainable_params


def _plain_calls(model) -> dict[str, str]:
    """Nodes whose forward line is just their module's call (`x = self.m(...)`), so the module's
    output is the node's output (an Embedding with channels_first moves an axis afterwards)."""
    lines = model.generated.source.splitlines()
    plain = {}
    for lineno, nid in model.generated.line_to_node.items():
        code = lines[lineno - 1].split("  #")[0].strip()
        expr = code.partition(" = ")[2]
        if expr.startswith("self.") and expr.endswith(")") and ")." not in expr and nid in model.node_modules:
            plain[nid] = model.node_modules[nid]
    return plain


@pytest.mark.parametrize("type_name", all_types())
def test_compiled_shapes_and_counts_match_inference(type_name):
    _check_graph(sample_graph(type_name))


def _template_names() -> list[str]:
    return [t.name if hasattr(t, "name") else t["name"] for t in templates.catalog()]


@pytest.mark.parametrize("name", _template_names())
def test_every_template_compiles_to_its_inferred_shapes(name):
    _check_graph(templates.build(name))


def test_frozen_nodes_count_as_not_trainable():
    g = sample_graph("Conv2d")
    g.nodes["node"].frozen = True
    _check_graph(g)
    assert not any(p.requires_grad for p in compile_graph(g).parameters())


def test_vgg16_example_has_torchvisions_parameter_count():
    g = gc.load_graph(EXAMPLES / "vgg16.json")
    model = compile_graph(g)
    assert sum(p.numel() for p in model.parameters()) == 138_357_544
    assert model.fc6.in_features == 25088


def test_vgg_style_network_runs_at_32_pixels():
    g = templates.build("vgg")
    model = compile_graph(g).eval()
    image = torch.randn(2, *model.generated.input_types[0].shape)
    with torch.no_grad():
        out = model(image)
    assert out.shape[0] == 2 and torch.isfinite(out).all()


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_non_default_parameters_compile_to_inferred_shapes(rank):
    from . import graphs

    _check_graph(graphs.variety(rank))
