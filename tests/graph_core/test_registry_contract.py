"""The registry contract: every registered node type, checked the same way.

For each type, tests/registry_samples.py builds one small graph around it with default
parameters. That graph must validate without a single issue, survive a JSON round trip
byte for byte, and infer the output shape and parameter count written below — numbers
derived by hand from PyTorch's documented formulas, not copied from graph_core's output.
A new layer type fails here until it has a sample input and an expected result.
"""

from __future__ import annotations

import json

import pytest

import graph_core as gc
from graph_core.layers.generative import judged_sample
from graph_core.specs import DTYPES, PARAM_KINDS, PORT_KINDS
from tests.registry_samples import SAMPLE_INPUTS, all_types, sample_graph

# (output shape of the node under test, its parameter count), with default parameters on the
# sample input. Conv formulas: L_out = (L + 2p - d(k-1) - 1) // s + 1; weights c_out·c_in·k + bias.
EXPECTED: dict[str, tuple[tuple[int, ...], int]] = {
    "Input": ((3, 8), 0),
    "Output": ((5,), 0),  # a head shows what it receives (the sample reconstructs x)
    "Dense": ((64,), 10 * 64 + 64),
    "Embedding": ((12, 8), 16 * 8),
    "OneHot": ((4, 12), 0),
    "Flatten": ((48,), 0),
    "Reshape": ((48,), 0),  # default shape [-1]
    "Concat": ((6, 5), 0),  # dim 1 of two (3, 5)
    "Add": ((6,), 0),
    "Multiply": ((6,), 0),
    "BatchNorm": ((3, 8, 8), 2 * 3),
    "LayerNorm": ((6, 10), 2 * 10),
    "Dropout": ((10,), 0),
    "ReLU": ((10,), 0),
    "LeakyReLU": ((10,), 0),
    "Sigmoid": ((10,), 0),
    "Tanh": ((10,), 0),
    "Softmax": ((10,), 0),
    "LogSoftmax": ((10,), 0),
    "GELU": ((10,), 0),
    "Identity": ((10,), 0),
    # 16 filters of 3 taps per axis, no padding: each size shrinks by 2.
    "Conv1d": ((16, 14), 16 * 3 * 3 + 16),
    "Conv2d": ((16, 10, 10), 16 * 3 * 9 + 16),
    "Conv3d": ((16, 4, 4, 4), 16 * 2 * 27 + 16),
    # (L - 1)·s - 2p + d(k - 1) + output_padding + 1: each size grows by 2.
    "ConvTranspose1d": ((16, 18), 3 * 16 * 3 + 16),
    "ConvTranspose2d": ((16, 14, 14), 3 * 16 * 9 + 16),
    "ConvTranspose3d": ((16, 8, 8, 8), 2 * 16 * 27 + 16),
    "MaxPool1d": ((3, 8), 0),
    "MaxPool2d": ((3, 6, 6), 0),
    "MaxPool3d": ((2, 3, 3, 3), 0),
    "AvgPool1d": ((3, 8), 0),
    "AvgPool2d": ((3, 6, 6), 0),
    "AvgPool3d": ((2, 3, 3, 3), 0),
    "AdaptiveAvgPool1d": ((3, 1), 0),
    "AdaptiveAvgPool2d": ((3, 1, 1), 0),
    "AdaptiveAvgPool3d": ((2, 1, 1, 1), 0),
    "GlobalAvgPool": ((3,), 0),
    "GlobalMaxPool": ((3,), 0),
    "Upsample": ((3, 10, 10), 0),
    "MaxUnpool1d": ((3, 16), 0),
    "MaxUnpool2d": ((3, 12, 12), 0),
    "MaxUnpool3d": ((2, 6, 6, 6), 0),
    "Reparametrisation": ((4,), 0),
    "Discriminator": ((1,), 64 + 1),  # the critic: Flatten (64,) -> Dense(1)
    "Block": ((7,), 10 * 7 + 7),  # the sample block is one Dense(7)
    # issue 15. Activations keep the shape; PReLU learns num_parameters (1) slopes.
    "ReLU6": ((10,), 0), "Hardtanh": ((10,), 0), "SiLU": ((10,), 0), "Hardswish": ((10,), 0),
    "Hardsigmoid": ((10,), 0), "ELU": ((10,), 0), "PReLU": ((10,), 1), "Softplus": ((10,), 0),
    "AdaptiveMaxPool1d": ((3, 1), 0),
    "AdaptiveMaxPool2d": ((3, 1, 1), 0),
    "AdaptiveMaxPool3d": ((2, 1, 1, 1), 0),
    "GroupNorm": ((4, 6, 6), 2 * 4),  # a scale and a shift per channel
    "InstanceNorm": ((3, 8, 8), 0),  # affine=False by default, as in PyTorch
    "LocalResponseNorm": ((6, 5, 5), 0),
    "Dropout2d": ((3, 6, 6), 0),
    "Pad": ((3, 7, 7), 0),  # one on every side of H and W
    "Crop": ((3, 4, 4), 0),  # one off every side of H and W
}
# Sequence models (issue 16), hand-derived. A recurrent layer per direction learns gates·H·(F + H)
# weights and 2·gates·H biases (RNN 1 gate, GRU 3, LSTM 4); attention in_proj 3E²+3E, out_proj E²+E;
# an encoder layer adds its feed-forward d·ff+ff+ff·d+d and two LayerNorms (2d each).
EXPECTED.update({
    "RNN": ((6, 64), 64 * (5 + 64) + 2 * 64),
    "LSTM": ((6, 64), 4 * 64 * (5 + 64) + 8 * 64),
    "GRU": ((6, 64), 3 * 64 * (5 + 64) + 6 * 64),
    "MultiheadAttention": ((6, 8), 4 * 8 * 8 + 4 * 8),  # queries (6, 8) over keys (5, 8)
    "TransformerEncoderLayer": ((6, 8), 288 + (8 * 128 + 128 + 128 * 8 + 8) + 2 * 16),
    "TransformerDecoderLayer": ((6, 8), 2 * 288 + (8 * 128 + 128 + 128 * 8 + 8) + 3 * 16),
    "PositionalEmbedding": ((6, 8), 64 * 8),  # max_len 64 rows of 8
    "PositionalEncoding": ((6, 8), 0),
    "Transpose": ((5, 3), 0),
    "MatMul": ((3, 5), 0),  # (3, 4) @ (4, 5)
    "Select": ((5,), 0),  # the last of 6 positions
})

TYPES = all_types()


def _node_under_test(type_name: str) -> str:
    return {"Input": "x", "Output": "head"}.get(type_name, "node")


def test_the_registry_holds_the_whole_catalogue() -> None:
    catalogue = {
        "Input", "Output", "Dense", "Flatten", "Reshape", "Concat", "Add", "Multiply",
        "BatchNorm", "LayerNorm", "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax",
        "LogSoftmax", "GELU", "Identity", "Upsample", "Embedding", "OneHot",
        "GlobalAvgPool", "GlobalMaxPool", "Reparametrisation", "Discriminator", "Block",
    }
    for rank in (1, 2, 3):
        for kind in ("Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "MaxUnpool"):
            catalogue.add(f"{kind}{rank}d")
    assert catalogue <= set(TYPES), f"missing from the registry: {sorted(catalogue - set(TYPES))}"


def test_every_type_has_a_sample_input_and_an_expected_result() -> None:
    assert set(TYPES) - set(SAMPLE_INPUTS) == set(), "add the new type to tests/registry_samples.py"
    assert set(TYPES) - set(EXPECTED) == set(), "add the new type's expected shape to EXPECTED"


@pytest.mark.parametrize("type_name", TYPES)
def test_defaults_validate_without_issues(type_name: str) -> None:
    issues = gc.validate(sample_graph(type_name))
    assert [str(i) for i in issues] == []


@pytest.mark.parametrize("type_name", TYPES)
def test_json_round_trip_is_exact(type_name: str) -> None:
    graph = sample_graph(type_name)
    text = gc.graph_to_json(graph)
    again = gc.loads_graph(text)
    assert gc.graph_to_json(again) == text
    assert gc.graph_to_dict(again) == gc.graph_to_dict(graph) == json.loads(text)
    assert list(again.nodes) == list(graph.nodes)
    assert again.edges == graph.edges


@pytest.mark.parametrize("type_name", TYPES)
def test_inferred_shape_and_params_of_the_sample(type_name: str) -> None:
    graph = sample_graph(type_name)
    shapes = gc.infer_shapes(graph)
    info = shapes[_node_under_test(type_name)]
    want_shape, want_params = EXPECTED[type_name]
    assert info.error is None
    assert info.output_shape == want_shape
    assert info.params == want_params
    # every node of the sample is fully known: nothing left for the canvas to show as "?"
    assert all(s.known for s in shapes.values())
    assert gc.summarize(graph, shapes).total_params == sum(s.params for s in shapes.values())


@pytest.mark.parametrize("type_name", TYPES)
def test_spec_is_complete(type_name: str) -> None:
    spec = gc.get_spec(type_name)
    assert spec.type == type_name
    assert spec.category in gc.CATEGORIES
    assert len(spec.help) >= 30, "help should explain the concept in a sentence"
    assert spec.display_name
    assert len(set(p.name for p in spec.inputs)) == len(spec.inputs)
    assert len(set(p.name for p in spec.outputs)) == len(spec.outputs)
    for port in spec.inputs + spec.outputs:
        assert port.kind in PORT_KINDS
        assert port.help, f"port {port.name} has no help"
    if type_name not in ("Input", "Block"):
        assert spec.inputs, "only Input (and Block, whose ports come from its block) take no wires"
    if type_name not in ("Output", "Block"):
        assert spec.outputs
    names = [p.name for p in spec.params]
    assert len(set(names)) == len(names)
    for p in spec.params:
        assert p.kind in PARAM_KINDS
        assert p.help, f"parameter {p.name} has no help"
        assert p.check(p.default) is not None or p.nullable
        if p.kind == "choice":
            assert p.default in p.choices
        if p.minimum is not None and p.kind in ("int", "float") and p.default is not None:
            assert p.default >= p.minimum
        if p.maximum is not None and p.default is not None:
            assert p.default <= p.maximum
    assert spec.resolve({}) == {p.name: p.check(p.default) for p in spec.params}


def test_sizes_that_follow_from_the_wiring_are_never_parameters() -> None:
    inferred = {"in_features", "in_channels", "num_features", "normalized_shape"}
    for spec in gc.all_specs():
        assert inferred.isdisjoint(p.name for p in spec.params), spec.type


def test_pytorch_parameter_names() -> None:
    def names(t: str) -> list[str]:
        return [p.name for p in gc.get_spec(t).params]

    assert names("Conv2d") == ["out_channels", "kernel_size", "stride", "padding", "dilation",
                               "groups", "bias", "padding_mode"]
    assert "output_padding" in names("ConvTranspose2d")
    assert names("MaxPool2d") == ["kernel_size", "stride", "padding", "ceil_mode"]
    assert names("Dense") == ["out_features", "bias"]
    assert names("Dropout") == ["p"]
    assert names("LeakyReLU") == ["negative_slope"]
    assert names("Upsample") == ["scale_factor", "mode", "size", "align_corners"]
    assert names("Embedding")[:3] == ["num_embeddings", "embedding_dim", "padding_idx"]
    assert [p.name for p in gc.get_spec("MaxPool2d").outputs] == ["out", "indices"]
    assert gc.get_spec("MaxPool2d").output_port("indices").kind == "indices"
    assert gc.get_spec("MaxUnpool2d").input_port("indices").kind == "indices"
    assert [p.name for p in gc.get_spec("Reparametrisation").inputs] == ["mu", "logvar"]
    assert [p.name for p in gc.get_spec("Discriminator").inputs] == ["real", "fake", "condition"]
    assert gc.get_spec("Discriminator").input_port("condition").optional  # a plain GAN leaves it unwired
    assert gc.get_spec("Concat").input_port("in").multi
    assert gc.get_spec("Input").param("dtype").choices == DTYPES


def test_the_layers_of_real_architectures_take_pytorch_names_and_defaults() -> None:
    def defaults(t: str) -> dict:
        return gc.get_spec(t).defaults()

    assert defaults("BatchNorm") == {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True}
    assert defaults("InstanceNorm") == {"eps": 1e-5, "momentum": 0.1, "affine": False,
                                        "track_running_stats": False}
    assert defaults("GroupNorm") == {"num_groups": 1, "eps": 1e-5, "affine": True}
    assert defaults("LocalResponseNorm") == {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0}
    assert defaults("Hardtanh") == {"min_val": -1.0, "max_val": 1.0}
    assert defaults("ELU") == {"alpha": 1.0}
    assert defaults("PReLU") == {"num_parameters": 1, "init": 0.25}
    assert defaults("Softplus") == {"beta": 1.0, "threshold": 20.0}
    assert defaults("Dropout2d") == {"p": 0.5}
    assert defaults("Conv2d")["padding_mode"] == "zeros"
    assert gc.get_spec("Conv2d").param("padding_mode").choices == ("zeros", "reflect", "replicate", "circular")
    assert defaults("Upsample")["size"] is None and defaults("Upsample")["align_corners"] is False
    assert defaults("Pad") == {"padding": 1, "mode": "constant", "value": 0.0}
    assert defaults("AdaptiveMaxPool2d") == {"output_size": 1}


def test_register_refuses_a_duplicate_type() -> None:
    before = gc.all_specs()
    spec = gc.get_spec("ReLU")
    with pytest.raises(ValueError, match="'ReLU' is already registered"):
        gc.register(spec)
    assert gc.all_specs() == before
    assert gc.get_spec("ReLU") is spec


def test_register_refuses_a_bad_default_or_kind() -> None:
    relu = gc.get_spec("ReLU")
    bad_default = gc.LayerSpec(type="_BadDefault", category="activation", help="x", inputs=relu.inputs,
                               outputs=relu.outputs, infer=relu.infer,
                               params=(gc.ParamSpec("n", "int", -3, "n", minimum=1),))
    with pytest.raises(gc.ParamError, match="n: must be at least 1; got -3"):
        gc.register(bad_default)
    bad_kind = gc.LayerSpec(type="_BadKind", category="activation", help="x", inputs=relu.inputs,
                            outputs=relu.outputs, infer=relu.infer,
                            params=(gc.ParamSpec("n", "slider", 1, "n"),))
    with pytest.raises(ValueError, match="unknown parameter kind 'slider'"):
        gc.register(bad_kind)
    assert not gc.has_spec("_BadDefault") and not gc.has_spec("_BadKind")


def test_unknown_type_names_itself() -> None:
    with pytest.raises(KeyError, match="unknown node type 'Conv4d'"):
        gc.get_spec("Conv4d")


# issue 15, pix2pix: a Discriminator with its `condition` wired judges concat(condition, sample);
# the sample critic is Flatten -> Dense(1), so its weights grow with the pair's channels.
@pytest.mark.parametrize(("onehot", "pair", "params"), [
    (False, (2 + 1, 8, 8), 3 * 64 + 1),  # a float (2, 8, 8) condition beside a (1, 8, 8) sample
    (True, (3 + 1, 8, 8), 4 * 64 + 1),  # an int (8, 8) mask one-hot over 3 classes beside it
])
def test_a_conditional_discriminator_judges_the_pair(onehot, pair, params):
    from tests.registry_samples import conditional_gan_graph

    g = conditional_gan_graph(onehot)
    assert gc.validate(g) == []
    shapes = gc.infer_shapes(g)
    assert shapes["node"].outputs["score"].shape == (1,)
    assert shapes["node"].params == params
    assert judged_sample(shapes["node"].inputs).shape == pair
    text = gc.graph_to_json(g)
    assert gc.graph_to_json(gc.loads_graph(text)) == text  # the condition wire survives the file


def test_a_condition_that_does_not_line_up_is_refused_on_its_port():
    from tests.registry_samples import conditional_gan_graph

    g = conditional_gan_graph()
    g.nodes["cond"].params["shape"] = [2, 7, 8]
    (issue,) = gc.errors(gc.validate(g))
    assert (issue.node, issue.port) == ("node", "condition")
    assert "(2, 7, 8) must have the sample's size (8, 8)" in issue.message
    g = conditional_gan_graph()
    g.nodes["cond"].params.update({"shape": [8, 8], "dtype": "int64"})  # a mask not yet one-hot
    (issue,) = gc.errors(gc.validate(g))
    assert issue.port == "condition" and "through a OneHot" in issue.message


def test_a_condition_must_be_data_the_training_loop_can_hand_over():
    from tests.registry_samples import conditional_gan_graph

    g = conditional_gan_graph()
    g.nodes["cond_relu"] = gc.Node("cond_relu", "ReLU", {})
    g.edges = [e for e in g.edges if e.dst != ("node", "condition")]
    g.edges += [gc.Edge(("cond", "out"), ("cond_relu", "in")), gc.Edge(("cond_relu", "out"), ("node", "condition"))]
    issues = gc.errors(gc.validate(g))
    assert [(i.node, i.port, i.code) for i in issues] == [("node", "condition", "gan")]
    assert "straight from a data Input (or through one OneHot)" in issues[0].message
