"""Mappings onto the second wave of layers (ReLU6, SiLU, Hardswish, ELU, PReLU, Softplus,
GroupNorm, InstanceNorm, LocalResponseNorm, Pad, Transpose, MatMul of two tensors).

Each entry is registered only when the registry holds every node type it produces, so the
importer (and docs/import.md, generated from the table) follows the registry as layers land.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import graph_core as gc

from .onnx_build import Builder, Unmappable, attributes, axis_of
from .onnx_ops import OPS, Converter, rule


def rule_if(op: str, nodes: tuple[str, ...] | str, note: str) -> Callable[[Converter], Converter]:
    """`rule`, when every node type in `nodes` is registered; otherwise leave the op unmapped."""
    wanted = (nodes,) if isinstance(nodes, str) else nodes
    if all(gc.has_spec(t) for t in wanted) and op not in OPS:
        return rule(op, nodes, note)
    return lambda fn: fn


def _one(type_name: str, params: Callable[[Builder, object], dict] | None = None) -> Converter:
    def convert(b: Builder, node) -> None:
        p = params(b, node) if params else {}
        b.set_output(node, b.add(node, type_name, p, [b.value(node.input[0])]))

    return convert


# ---- activations ---------------------------------------------------------------------------


def _clip_bounds(b: Builder, node) -> tuple[float | None, float | None]:
    a = attributes(node)
    if b.opset < 11:
        return a.get("min"), a.get("max")
    low = b.const(node.input[1]) if len(node.input) > 1 and node.input[1] else None
    high = b.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    for k, given in ((1, low), (2, high)):
        if len(node.input) > k and node.input[k] and given is None:
            raise Unmappable("its bounds are computed by the network")
    return (None if low is None else float(low)), (None if high is None else float(high))


@rule_if("Clip", ("ReLU6", "Hardtanh", "ReLU"), "[0, 6] becomes ReLU6, [0, ∞) ReLU, other bounds Hardtanh")
def _clip(b, node):
    low, high = _clip_bounds(b, node)
    x = b.value(node.input[0])
    if low == 0.0 and high == 6.0:
        v = b.add(node, "ReLU6", {}, [x])
    elif low == 0.0 and high is None:
        v = b.add(node, "ReLU", {}, [x])
    elif low is not None and high is not None:
        v = b.add(node, "Hardtanh", {"min_val": low, "max_val": high}, [x])
    else:
        raise Unmappable(f"clips to [{low}, {high}]; only both bounds, or [0, ∞), map")
    b.set_output(node, v)


rule_if("HardSwish", "Hardswish", "one to one")(_one("Hardswish"))
rule_if("Elu", "ELU", "alpha kept")(_one("ELU", lambda b, n: {"alpha": float(attributes(n).get("alpha", 1.0))}))
rule_if("Softplus", "Softplus", "beta 1 (ONNX has no beta)")(_one("Softplus"))


@rule_if("Swish", "SiLU", "alpha 1; also x * Sigmoid(x), which exporters write for SiLU, is fused into it")
def _swish(b, node):
    if float(attributes(node).get("alpha", 1.0)) != 1.0:
        raise Unmappable("Swish with alpha other than 1 has no node")
    b.set_output(node, b.add(node, "SiLU", {}, [b.value(node.input[0])]))


@rule_if("HardSigmoid", "Hardsigmoid", "alpha 1/6 and beta 0.5 (PyTorch's), others refused")
def _hard_sigmoid(b, node):
    a = attributes(node)
    if abs(a.get("alpha", 0.2) - 1 / 6) > 1e-6 or abs(a.get("beta", 0.5) - 0.5) > 1e-6:
        raise Unmappable(f"alpha {a.get('alpha', 0.2)} and beta {a.get('beta', 0.5)} differ from Hardsigmoid's 1/6, 0.5")
    b.set_output(node, b.add(node, "Hardsigmoid", {}, [b.value(node.input[0])]))


@rule_if("PRelu", "PReLU", "a constant slope: one shared, or one per channel")
def _prelu(b, node):
    x = b.value(node.input[0])
    slope = b.need_const(node, 1, "slope").astype(np.float32)
    n = int(slope.size)
    if n != 1 and (n != x.shape[0] or slope.reshape(-1).shape[0] != int(np.prod(slope.shape))):
        raise Unmappable(f"a slope of shape {list(slope.shape)}; PReLU learns one or one per channel")
    b.set_output(node, b.add(node, "PReLU", {"num_parameters": n}, [x], {"weight": slope.reshape(n)}))


# ---- normalisation ---------------------------------------------------------------------------


@rule_if("InstanceNormalization", "InstanceNorm", "epsilon becomes eps; scale and bias are learned")
def _instance_norm(b, node):
    x = b.value(node.input[0])
    scale, bias = b.need_const(node, 1, "scale"), b.need_const(node, 2, "bias")
    params = {"eps": float(attributes(node).get("epsilon", 1e-5)), "affine": True}
    b.set_output(node, b.add(node, "InstanceNorm", params, [x], {"weight": scale, "bias": bias}))


@rule_if("GroupNormalization", "GroupNorm", "num_groups and epsilon kept; opset 18's per-group scale "
         "is spread over each group's channels")
def _group_norm(b, node):
    a = attributes(node)
    x = b.value(node.input[0])
    groups = int(a["num_groups"])
    scale, bias = b.need_const(node, 1, "scale"), b.need_const(node, 2, "bias")
    channels = x.shape[0]
    if scale.size == groups and groups != channels:
        scale, bias = np.repeat(scale, channels // groups), np.repeat(bias, channels // groups)
    params = {"num_groups": groups, "eps": float(a.get("epsilon", 1e-5)), "affine": True}
    b.set_output(node, b.add(node, "GroupNorm", params, [x], {"weight": scale, "bias": bias}))


@rule_if("LRN", "LocalResponseNorm", "size, alpha, beta kept; bias becomes k")
def _lrn(b, node):
    a = attributes(node)
    params = {"size": int(a["size"]), "alpha": float(a.get("alpha", 1e-4)), "beta": float(a.get("beta", 0.75)),
              "k": float(a.get("bias", 1.0))}
    b.set_output(node, b.add(node, "LocalResponseNorm", params, [b.value(node.input[0])]))


# ---- shape -----------------------------------------------------------------------------------

PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad_node(b: Builder, node, x, pads: list[int], mode: str, value: float) -> None:
    """A Pad (or, for negative amounts, a Crop) node from ONNX pads [begin..., end...]."""
    rank = x.rank
    if any(pads[:1]) or any(pads[rank:rank + 1]):
        raise Unmappable(f"pads the batch axis ({pads})")
    begin, end = pads[1:rank], pads[rank + 1:]
    amounts = [v for k in reversed(range(rank - 1)) for v in (begin[k], end[k])]
    while len(amounts) > 2 and amounts[-2:] == [0, 0]:
        amounts = amounts[:-2]  # F.pad order: trailing pairs of zeros (leading axes) may go
    if all(v <= 0 for v in amounts) and any(amounts) and gc.has_spec("Crop"):
        b.set_output(node, b.add(node, "Crop", {"crop": [-v for v in amounts]}, [x]))
        return
    if any(v < 0 for v in amounts):
        raise Unmappable(f"pads {pads} both add and remove")
    params = {"padding": amounts, "mode": PAD_MODES[mode], "value": value}
    b.set_output(node, b.add(node, "Pad", params, [x]))


def transpose_nodes(b: Builder, node, x, perm: list[int]) -> None:
    """A permutation that keeps the batch first, as a chain of Transpose (swap) nodes."""
    if perm[0] != 0:
        raise Unmappable(f"moves the batch axis (perm {perm})")
    current, v, step = list(range(len(perm))), x, 0
    for k in range(1, len(perm)):
        if current[k] != perm[k]:
            j = current.index(perm[k])
            current[k], current[j] = current[j], current[k]
            step += 1
            v = b.add(node, "Transpose", {"dim0": k, "dim1": j}, [v], suffix="" if step == 1 else f"_{step}")
    b.set_output(node, v)


def matmul_node(b: Builder, node) -> None:
    """MatMul of two layer outputs."""
    a, c = b.value(node.input[0]), b.value(node.input[1])
    b.set_output(node, b.add(node, "MatMul", {}, {"a": [a], "b": [c]}))


def axis_checked(axis: int, rank: int) -> int:
    return axis_of(axis, rank)
