"""What a graph costs to run: multiply-accumulates (MACs) of one forward pass of one sample, and
the memory its activations take at a batch size — per node and in total, in plain arithmetic.

MACs count the multiplications of the layers that hold weights or mix values (convolutions,
transposed convolutions, Dense, and what later layer types register), as torchvision's
published "GFLOPS" do; element-wise layers (activations, norms, pools, Add) are left out, as
there. Activation memory is every node output's size at the batch size, in bytes (float32 and
int64 alike take what their dtype takes): what a training step keeps for its backward pass, at
most. Blocks and Discriminators cost what their sub-graph costs on the tensors they receive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .graph import Graph
from .layers.generative import judged_sample
from .shapes import NodeShapes, infer_shapes
from .specs import TensorType, format_count, get_spec, has_spec

_BYTES = {"float32": 4, "int64": 8}

# type -> MACs of one sample, from the resolved params, the input tensors and the output tensors.
MacFn = Callable[[Mapping, Mapping[str, Sequence[TensorType]], Mapping[str, TensorType | None]], int]
MAC_RULES: dict[str, MacFn] = {}


@dataclass(frozen=True)
class NodeCost:
    """One node's cost: MACs of one forward of one sample, and its outputs' bytes at the batch size."""

    macs: int
    activation_bytes: int


def register_macs(type_name: str, rule: MacFn) -> None:
    """Say how many multiply-accumulates a layer type does (types not registered count 0)."""
    MAC_RULES[type_name] = rule


def graph_costs(graph: Graph, shapes: Mapping[str, NodeShapes] | None = None,
                batch_size: int = 1) -> dict[str, NodeCost | None]:
    """Per node id its cost, or None where its shapes are not known (an error, unwired)."""
    shapes = infer_shapes(graph) if shapes is None else shapes
    return {nid: _node_cost(graph, nid, shapes[nid], batch_size, 0) for nid in graph.nodes}


def total_macs(costs: Mapping[str, NodeCost | None]) -> int:
    return sum(c.macs for c in costs.values() if c is not None)


def total_activation_bytes(costs: Mapping[str, NodeCost | None]) -> int:
    return sum(c.activation_bytes for c in costs.values() if c is not None)


def format_macs(macs: int) -> str:
    """1.81 G, 15.5 M, 640 — the way papers and torchvision quote them (an absurd count, from a
    file no machine could run, as format_count writes it: never a float overflow)."""
    if macs >= 10**15:
        return format_count(macs)
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if macs >= size:
            return f"{macs / size:.3g} {unit}"
    return str(macs)


def format_bytes(n: int) -> str:
    if n >= 2**50:
        return f"{format_count(n)} B"
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def _node_cost(graph: Graph, nid: str, info: NodeShapes, batch: int, depth: int) -> NodeCost | None:
    if not info.known:
        return None
    node = graph.nodes[nid]
    outs = [t for t in info.outputs.values() if t is not None]
    activation = batch * sum(math.prod(t.shape) * _BYTES.get(t.dtype, 4) for t in outs)
    if node.type in ("Block", "Discriminator") and depth < 16:
        macs = _block_macs(graph, node, info, depth)
    elif node.type in MAC_RULES and has_spec(node.type):
        macs = MAC_RULES[node.type](get_spec(node.type).resolve(node.params), info.inputs, info.outputs)
    else:
        macs = 0
    return NodeCost(int(macs), int(activation))


def _block_macs(graph: Graph, node, info: NodeShapes, depth: int) -> int:
    default = "block" if node.type == "Block" else "discriminator"
    block = graph.blocks.get(str(node.params.get("block", default)))
    if block is None:
        return 0
    inner_inputs = [n.id for n in block.nodes_of_type("Input")]
    if node.type == "Discriminator":
        # the block costs what it does on what it receives: the sample, or the (condition, sample) pair
        feed = {inner_inputs[0]: judged_sample(info.inputs)} if inner_inputs and info.inputs.get("fake") else {}
    else:
        feed = {port: wires[0] for port, wires in info.inputs.items() if wires}
    inner = infer_shapes(block, graph.blocks, feed)
    return sum(c.macs for nid in block.nodes
               if (c := _node_cost(block, nid, inner[nid], 1, depth + 1)) is not None)


# ---- the rules of the built-in layers --------------------------------------------------------


def _conv_macs(params, inputs, outputs) -> int:
    x, y = inputs["in"][0], outputs["out"]
    kernel = _kernel(params["kernel_size"], x.rank - 1)
    return math.prod(y.shape) * (x.shape[0] // params["groups"]) * kernel


def _conv_transpose_macs(params, inputs, outputs) -> int:
    x, y = inputs["in"][0], outputs["out"]
    kernel = _kernel(params["kernel_size"], x.rank - 1)
    return math.prod(x.shape) * (y.shape[0] // params["groups"]) * kernel


def _dense_macs(params, inputs, outputs) -> int:
    return math.prod(inputs["in"][0].shape) * params["out_features"]


def _kernel(size, rank: int) -> int:
    return size ** rank if isinstance(size, int) else math.prod(size)


for _rank in (1, 2, 3):
    register_macs(f"Conv{_rank}d", _conv_macs)
    register_macs(f"ConvTranspose{_rank}d", _conv_transpose_macs)
register_macs("Dense", _dense_macs)
