"""The importer's table: each ONNX operator maps to registry nodes through one small entry.

An entry is an `OpRule`: the ONNX op type, the node types it can become, a line for the docs
(docs/import.md is generated from this table), and a converter `fn(builder, node)` that reads
the node's attributes and inputs and adds nodes through `Builder.add`. A converter raises
`Unmappable` with the reason when a node falls outside what the registry can express.
Adding a mapping is adding one entry. This module holds the table, activations, dense and
element-wise entries and normalisation; onnx_ops_spatial (convolution, pooling, padding),
onnx_ops_shape (reshaping, embedding, resizing) and onnx_ops_more (layers of the second wave,
registered when the registry has them) add theirs on import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import graph_core as gc

from .onnx_build import Builder, Unmappable, Value, attributes, axis_of

if TYPE_CHECKING:
    import onnx

Converter = Callable[[Builder, "onnx.NodeProto"], None]


@dataclass(frozen=True)
class OpRule:
    """One ONNX operator's mapping.

    Attributes:
        op: the ONNX op type.
        nodes: registry node types it can become (empty: it becomes no node of its own).
        note: one line for docs/import.md: when it maps, and what is folded or refused.
        convert: adds the nodes for one ONNX node.
    """

    op: str
    nodes: tuple[str, ...]
    note: str
    convert: Converter


OPS: dict[str, OpRule] = {}


def rule(op: str, nodes: tuple[str, ...] | str, note: str) -> Callable[[Converter], Converter]:
    """Register the decorated converter as the mapping of `op`."""
    def register(fn: Converter) -> Converter:
        if op in OPS:
            raise ValueError(f"ONNX op {op} is already mapped")
        OPS[op] = OpRule(op, (nodes,) if isinstance(nodes, str) else tuple(nodes), note, fn)
        return fn

    return register


def same(op: str, type_name: str, note: str = "", params: Callable[[dict], dict] | None = None) -> None:
    """An element-wise operator that becomes one parameter-light node of the same shape."""
    def convert(b: Builder, node: onnx.NodeProto) -> None:
        p = params(attributes(node)) if params else {}
        b.set_output(node, b.add(node, type_name, p, [b.value(node.input[0])]))

    rule(op, type_name, note or "one to one")(convert)


# ---- activations ---------------------------------------------------------------------------

same("Relu", "ReLU")
same("Sigmoid", "Sigmoid")
same("Tanh", "Tanh")
same("LeakyRelu", "LeakyReLU", "alpha becomes negative_slope",
     lambda a: {"negative_slope": float(a.get("alpha", 0.01))})


@rule("Gelu", "GELU", "approximate='none' (opset 20, or the Div-Erf-Add-Mul-Mul pattern older "
      "exporters write, fused into one node); tanh approximation refused")
def _gelu(b, node):
    if attributes(node).get("approximate", "none") != "none":
        raise Unmappable("the tanh approximation of GELU has no node")
    b.set_output(node, b.add(node, "GELU", {}, [b.value(node.input[0])]))


def _softmax_like(type_name):
    def convert(b, node):
        x = b.value(node.input[0])
        axis = axis_of(attributes(node).get("axis", -1 if b.opset >= 13 else 1), x.rank)
        if b.opset < 13 and int(np.prod(x.shape[axis:])) != 1:
            raise Unmappable(f"before opset 13, {node.op_type} normalises over every axis from "
                             f"{axis} on together; no node does that")
        b.set_output(node, b.add(node, type_name, {"dim": axis}, [x]))

    return convert


rule("Softmax", "Softmax", "axis becomes dim (before opset 13: only when it is the last axis)")(
    _softmax_like("Softmax"))
rule("LogSoftmax", "LogSoftmax", "as Softmax")(_softmax_like("LogSoftmax"))


@rule("Identity", (), "the output is the input (no node)")
def _identity(b, node):
    b.set_output(node, b.value(node.input[0]))


@rule("Dropout", "Dropout", "ratio becomes p; a used mask output is refused")
def _dropout(b, node):
    if b.output_used(node, 1):
        raise Unmappable("its mask output is used; Dropout has no mask port")
    a = attributes(node)
    ratio = a.get("ratio", 0.5)
    if b.opset >= 12:
        given = b.const(node.input[1]) if len(node.input) > 1 else None
        ratio = 0.5 if given is None else float(given)
    b.set_output(node, b.add(node, "Dropout", {"p": float(ratio)}, [b.value(node.input[0])]))


# ---- dense ---------------------------------------------------------------------------------


@rule("Gemm", "Dense", "transB, alpha and beta are folded into the weights; transA is refused")
def _gemm(b, node):
    a = attributes(node)
    if a.get("transA", 0):
        raise Unmappable("transA=1 multiplies by the transposed input; Dense multiplies the input itself")
    x = b.value(node.input[0])
    w = b.need_const(node, 1, "B matrix").astype(np.float32)
    weight = (w if a.get("transB", 0) else w.T) * float(a.get("alpha", 1.0))
    out = weight.shape[0]
    if x.shape[-1:] != (weight.shape[1],):
        raise Unmappable(f"B has {weight.shape[1]} rows but the input has {x.shape[-1:]} features")
    tensors = {"weight": weight}
    c = b.const(node.input[2]) if len(node.input) > 2 else None
    if len(node.input) > 2 and node.input[2] and c is None:
        raise Unmappable("its C term is computed by the network; Dense needs a constant bias")
    if c is not None:
        tensors["bias"] = _bias(c * float(a.get("beta", 1.0)), out)
    v = b.add(node, "Dense", {"out_features": out, "bias": "bias" in tensors}, [x], tensors)
    b.set_output(node, v)


_HAS_MATMUL = gc.has_spec("MatMul")


@rule("MatMul", ("Dense", "MatMul") if _HAS_MATMUL else "Dense",
      "input times a constant matrix; an Add of a constant vector right after becomes the Dense's "
      "bias (MatMul + Add -> Dense)" + ("; two layer outputs become MatMul" if _HAS_MATMUL else ""))
def _matmul(b, node):
    x = b.value(node.input[0])
    if _HAS_MATMUL and node.input[1] in b.values:
        from .onnx_ops_more import matmul_node

        matmul_node(b, node)
        return
    w = b.need_const(node, 1, "second operand")
    if w.ndim != 2:
        raise Unmappable(f"multiplies by a rank-{w.ndim} constant; Dense needs a matrix")
    if x.shape[-1] != w.shape[0]:
        raise Unmappable(f"the matrix has {w.shape[0]} rows but the input has {x.shape[-1]} features")
    tensors = {"weight": w.T.astype(np.float32)}
    bias_add = _fusable_bias(b, node, w.shape[1])
    if bias_add is not None:
        tensors["bias"] = bias_add[1]
    v = b.add(node, "Dense", {"out_features": int(w.shape[1]), "bias": bias_add is not None}, [x], tensors)
    b.set_output(node, v)
    if bias_add is not None:
        b.values[bias_add[0].output[0]] = v  # the Add is done: the driver skips it


def _fusable_bias(b, node, out):
    users = b.consumers.get(node.output[0], [])
    if len(users) != 1 or users[0].op_type != "Add" or node.output[0] in b.graph_outputs:
        return None
    add = users[0]
    other = add.input[1] if add.input[0] == node.output[0] else add.input[0]
    c = b.const(other)
    if c is None or c.size not in (1, out) or c.ndim > 1 and c.shape[-1] != out and c.size != 1:
        return None
    return add, _bias(c, out)


def _bias(c, out):
    c = np.asarray(c, dtype=np.float32)
    if c.size == 1:
        return np.full(out, float(c.reshape(-1)[0]), np.float32)
    if c.size != out:
        raise Unmappable(f"its bias has {c.size} values for {out} outputs")
    return c.reshape(out)


# ---- element-wise ---------------------------------------------------------------------------


def _merge(type_name, what):
    def convert(b, node):
        names = [n for n in node.input if n]
        if type_name == "Add" and len(names) == 2 and sum(b.const(n) is not None for n in names) == 1:
            from .onnx_ops_attention import positions

            if positions(b, node, names):
                return
        if any(b.const(n) is not None for n in names):
            raise Unmappable(f"{what} a constant tensor; Netwright's {type_name} combines layer outputs only")
        xs = [b.value(n) for n in names]
        if len({x.rank for x in xs}) != 1:
            raise Unmappable(f"broadcasts tensors of different ranks ({', '.join(str(x.type) for x in xs)})")
        b.set_output(node, b.add(node, type_name, {}, xs) if len(xs) > 1 else xs[0])

    return convert


rule("Add", ("Add", "PositionalEmbedding", "PositionalEncoding"),
     "two layer outputs (a skip connection); a constant after MatMul is fused into the Dense; a "
     "constant (L, E) table added to a sequence becomes PositionalEncoding when it holds the "
     "sinusoids, otherwise a PositionalEmbedding that learns it")(_merge("Add", "adds"))
rule("Sum", "Add", "any number of layer outputs")(_merge("Add", "adds"))
rule("Mul", "Multiply", "two layer outputs (gating)")(_merge("Multiply", "multiplies by"))


@rule("Concat", "Concat", "axis becomes dim (the batch axis is refused)")
def _concat(b, node):
    if any(b.const(n) is not None for n in node.input):
        raise Unmappable("joins a constant tensor; Concat joins layer outputs only")
    xs = [b.value(n) for n in node.input]
    dim = axis_of(attributes(node)["axis"], xs[0].rank)
    b.set_output(node, b.add(node, "Concat", {"dim": dim}, xs))


# ---- normalisation ---------------------------------------------------------------------------


_BN_HAS_EPS = "eps" in {p.name for p in gc.get_spec("BatchNorm").params}


@rule("BatchNormalization", "BatchNorm", "inference form; epsilon becomes "
      + ("eps" if _BN_HAS_EPS else "part of the running variance")
      + ", momentum m becomes 1 - m; spatial=0 (opset < 9) refused")
def _batchnorm(b, node):
    a = attributes(node)
    if not a.get("spatial", 1):
        raise Unmappable("spatial=0 normalises each position separately; BatchNorm normalises channels")
    if any(b.output_used(node, k) for k in range(1, len(node.output))):
        raise Unmappable("its training outputs (running statistics) are used")
    x = b.value(node.input[0])
    scale, bias, mean, var = (b.need_const(node, k, w) for k, w in
                              ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")))
    eps = float(a.get("epsilon", 1e-5))
    params = {"momentum": min(max(1.0 - float(a.get("momentum", 0.9)), 0.0), 1.0)}
    tensors = {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var}
    if _BN_HAS_EPS:
        params["eps"] = eps
    else:  # BatchNorm computes (x - mean) / sqrt(var + 1e-5): another epsilon moves into var
        tensors["running_var"] = var.astype(np.float64) + eps - 1e-5
    v = b.add(node, "BatchNorm", params, [x], tensors)
    b.set_output(node, v)


_LN_HAS_EPS = "eps" in {p.name for p in gc.get_spec("LayerNorm").params}


@rule("LayerNormalization", "LayerNorm", "over the trailing axes from axis on; epsilon "
      + ("becomes eps" if _LN_HAS_EPS else "1e-5 only"))
def _layernorm(b, node):
    a = attributes(node)
    x = b.value(node.input[0])
    axis = axis_of(a.get("axis", -1), x.rank)
    eps = float(a.get("epsilon", 1e-5))
    params = {"dims": x.rank - axis}
    if abs(eps - 1e-5) > 1e-9 and _LN_HAS_EPS:  # float32's 1e-5 is the default: nothing to say
        params["eps"] = eps
    elif abs(eps - 1e-5) > 1e-9:
        raise Unmappable(f"epsilon {a['epsilon']} differs from LayerNorm's 1e-5")
    scale = b.need_const(node, 1, "scale")
    bias = b.const(node.input[2]) if len(node.input) > 2 else None
    tensors = {"weight": scale, "bias": bias if bias is not None else np.zeros_like(scale)}
    b.set_output(node, b.add(node, "LayerNorm", params, [x], tensors))


def mapped_node_types() -> set[str]:
    """Every registry type some rule can produce (the docs list them)."""
    return {t for r in OPS.values() for t in r.nodes if gc.has_spec(t)}


__all__ = ["OPS", "OpRule", "Value", "mapped_node_types", "rule"]

# The rest of the table registers itself on import; the second wave's mappings only once their
# node types exist.
from . import onnx_ops_more, onnx_ops_recurrent, onnx_ops_shape, onnx_ops_spatial  # noqa: E402, F401
