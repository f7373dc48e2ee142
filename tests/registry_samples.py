"""One small, valid graph around each registered node type, with default parameters.

Shared by the registry contract tests (graph_core: validation, JSON round trip, inference;
codegen: compiled shapes and parameter counts equal the inferred ones). A new layer type
without an entry here fails the contract test on purpose: say what input it takes.
"""

from __future__ import annotations

import graph_core as gc
from graph_core import Edge, Graph, Node

# The input each node type is tried on: (shape, dtype), batch axis excluded.
SAMPLE_INPUTS: dict[str, tuple[tuple[int, ...], str]] = {
    "Input": ((3, 8), "float32"),
    "Output": ((5,), "float32"),
    "Dense": ((10,), "float32"),
    "Embedding": ((12,), "int64"),
    "OneHot": ((12,), "int64"),
    "Flatten": ((3, 4, 4), "float32"),
    "Reshape": ((3, 4, 4), "float32"),
    "Concat": ((3, 5), "float32"),
    "Add": ((6,), "float32"),
    "Multiply": ((6,), "float32"),
    "BatchNorm": ((3, 8, 8), "float32"),
    "LayerNorm": ((6, 10), "float32"),
    "Dropout": ((10,), "float32"),
    "GlobalAvgPool": ((3, 8, 8), "float32"),
    "GlobalMaxPool": ((3, 6), "float32"),
    "Upsample": ((3, 5, 5), "float32"),
    "Reparametrisation": ((4,), "float32"),
    "Discriminator": ((1, 8, 8), "float32"),
    "Block": ((10,), "float32"),
}
_SPATIAL = {1: (3, 16), 2: (3, 12, 12), 3: (2, 6, 6, 6)}
for _rank, _shape in _SPATIAL.items():
    for _kind in ("Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "MaxUnpool"):
        SAMPLE_INPUTS[f"{_kind}{_rank}d"] = (_shape, "float32")
for _act in ("ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "GELU", "Identity"):
    SAMPLE_INPUTS[_act] = ((10,), "float32")
# issue 15: the layers of real architectures (mobilenet, pix2pix, U-Net, AlexNet as published)
for _act in ("ReLU6", "Hardtanh", "SiLU", "Hardswish", "Hardsigmoid", "ELU", "PReLU", "Softplus"):
    SAMPLE_INPUTS[_act] = ((10,), "float32")
for _rank, _shape in _SPATIAL.items():
    SAMPLE_INPUTS[f"AdaptiveMaxPool{_rank}d"] = (_shape, "float32")
SAMPLE_INPUTS.update({
    "GroupNorm": ((4, 6, 6), "float32"),
    "InstanceNorm": ((3, 8, 8), "float32"),
    "LocalResponseNorm": ((6, 5, 5), "float32"),
    "Dropout2d": ((3, 6, 6), "float32"),
    "Pad": ((3, 5, 5), "float32"),
    "Crop": ((3, 6, 6), "float32"),
})

# Sequence models (issue 16): sequences are (L, F); the second input of a two-input node
# (MultiheadAttention's key/value, a decoder's memory, MatMul's b) is in SECOND_INPUTS.
SAMPLE_INPUTS.update({
    "RNN": ((6, 5), "float32"), "LSTM": ((6, 5), "float32"), "GRU": ((6, 5), "float32"),
    "MultiheadAttention": ((6, 8), "float32"), "TransformerEncoderLayer": ((6, 8), "float32"),
    "TransformerDecoderLayer": ((6, 8), "float32"), "PositionalEmbedding": ((6, 8), "float32"),
    "PositionalEncoding": ((6, 8), "float32"), "Transpose": ((3, 5), "float32"),
    "MatMul": ((3, 4), "float32"), "Select": ((6, 5), "float32"),
})
SECOND_INPUTS: dict[str, tuple[str, tuple[int, ...], tuple[str, ...]]] = {
    "MultiheadAttention": ("memory", (5, 8), ("key", "value")),
    "TransformerDecoderLayer": ("memory", (5, 8), ("memory",)),
    "MatMul": ("y", (4, 5), ("b",)),
}
FIRST_PORT = {"MultiheadAttention": "query", "MatMul": "a"}


def sample_graph(type_name: str) -> Graph:
    """Input(s) -> one node of `type_name` with default params -> Output (loss none or mse)."""
    shape, dtype = SAMPLE_INPUTS[type_name]
    g = Graph(name=f"sample_{type_name.lower()}")
    _add(g, "x", "Input", {"shape": list(shape), "dtype": dtype})
    if type_name in ("Input", "Output"):
        _add(g, "head", "Output", {"loss": "mse", "target": "input:x"})
        _wire(g, "x", "head")
        return g
    if type_name == "Reparametrisation":
        _add(g, "logvar", "Input", {"shape": list(shape)})
        _add(g, "node", type_name, {})
        _wire(g, "x", "node", dst_port="mu")
        _wire(g, "logvar", "node", dst_port="logvar")
        _add(g, "head", "Output", {"loss": "none"})
        _wire(g, "node", "head", src_port="z")
        return g
    if type_name == "Discriminator":
        return _gan_graph(shape)
    if type_name == "Block":
        block = Graph(name="mlp")
        _add(block, "features", "Input", {"shape": []})
        _add(block, "hidden", "Dense", {"out_features": 7})
        _add(block, "result", "Output", {"loss": "none"})
        _wire(block, "features", "hidden")
        _wire(block, "hidden", "result")
        g.blocks["mlp"] = block
        _add(g, "node", "Block", {"block": "mlp"})
        _wire(g, "x", "node", dst_port="features")
        _add(g, "head", "Output", {"loss": "none"})
        _wire(g, "node", "head", src_port="result")
        return g
    if type_name.startswith("MaxUnpool"):
        rank = type_name[-2]
        _add(g, "pool", f"MaxPool{rank}d", {})
        _wire(g, "x", "pool")
        _add(g, "node", type_name, {})
        _wire(g, "pool", "node")
        _wire(g, "pool", "node", src_port="indices", dst_port="indices")
    elif type_name in SECOND_INPUTS:
        other, other_shape, ports = SECOND_INPUTS[type_name]
        _add(g, other, "Input", {"shape": list(other_shape)})
        _add(g, "node", type_name, {})
        _wire(g, "x", "node", dst_port=FIRST_PORT.get(type_name, "in"))
        for port in ports:
            _wire(g, other, "node", dst_port=port)
    else:
        _add(g, "node", type_name, {})
        _wire(g, "x", "node")
        if type_name in ("Concat", "Add", "Multiply"):
            _add(g, "y", "Input", {"shape": list(shape)})
            _wire(g, "y", "node")
    _add(g, "head", "Output", {"loss": "none"})
    _wire(g, "node", "head")
    return g


def _gan_graph(shape: tuple[int, ...]) -> Graph:
    g = Graph(name="sample_gan")
    critic = Graph(name="critic")
    _add(critic, "sample", "Input", {"shape": []})
    _add(critic, "flat", "Flatten", {})
    _add(critic, "score", "Dense", {"out_features": 1})
    _add(critic, "verdict", "Output", {"loss": "bce"})
    _wire(critic, "sample", "flat")
    _wire(critic, "flat", "score")
    _wire(critic, "score", "verdict")
    g.blocks["critic"] = critic
    _add(g, "noise", "Input", {"shape": [4], "source": "noise"})
    _add(g, "grow", "Dense", {"out_features": int(__import__("math").prod(shape))})
    _add(g, "shape_it", "Reshape", {"shape": list(shape)})
    _add(g, "x", "Input", {"shape": list(shape), "field": "image"})
    _add(g, "node", "Discriminator", {"block": "critic"})
    _wire(g, "noise", "grow")
    _wire(g, "grow", "shape_it")
    _wire(g, "shape_it", "node", dst_port="fake")
    _wire(g, "x", "node", dst_port="real")
    # reorder so the data Input comes first, like a user would draw it
    g.nodes = {k: g.nodes[k] for k in ("x", "noise", "grow", "shape_it", "node")}
    return g


def _add(g: Graph, nid: str, type_name: str, params: dict) -> None:
    g.nodes[nid] = Node(nid, type_name, params)


def _wire(g: Graph, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> None:
    g.edges.append(Edge((src, src_port), (dst, dst_port)))


def all_types() -> list[str]:
    return [s.type for s in gc.all_specs()]


# issue 15, pix2pix: a Discriminator whose `condition` port is wired judges concat(condition,
# sample). The condition is a float Input (2, 8, 8), or an int mask one-hot encoded (3 classes).
def conditional_gan_graph(onehot: bool = False, shape: tuple[int, ...] = (1, 8, 8)) -> Graph:
    g = _gan_graph(shape)
    if onehot:
        _add(g, "cond", "Input", {"shape": list(shape[1:]), "dtype": "int64", "field": "mask"})
        _add(g, "cond_onehot", "OneHot", {"num_classes": 3})
        _wire(g, "cond", "cond_onehot")
        _wire(g, "cond_onehot", "node", dst_port="condition")
    else:
        _add(g, "cond", "Input", {"shape": [2, *shape[1:]], "field": "cond"})
        _wire(g, "cond", "node", dst_port="condition")
    return g
