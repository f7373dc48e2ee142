"""The importer's table: each ONNX operator maps to registry nodes through one small entry.

An entry is an `OpRule`: the ONNX op type, the node types it can become, a line for the docs
(docs/import.md is generated from this table), and a converter `fn(builder, node)` that reads
the node's attributes and inputs and adds nodes through `Builder.add`. A converter raises
`Unmappable` with the reason when a node falls outside what the registry can express.
Adding a mapping is adding one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

import graph_core as gc
from graph_core import TensorType

from .onnx_build import Builder, PendingPad, Unmappable, Value, attributes, axis_of
from .onnx_fold import BATCH

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
        if any(b.const(n) is not None for n in names):
            raise Unmappable(f"{what} a constant tensor; Netwright's {type_name} combines layer outputs only")
        xs = [b.value(n) for n in names]
        if len({x.rank for x in xs}) != 1:
            raise Unmappable(f"broadcasts tensors of different ranks ({', '.join(str(x.type) for x in xs)})")
        b.set_output(node, b.add(node, type_name, {}, xs) if len(xs) > 1 else xs[0])

    return convert


rule("Add", "Add", "two layer outputs (a skip connection); a constant after MatMul is fused "
     "into the Dense")(_merge("Add", "adds"))
rule("Sum", "Add", "any number of layer outputs")(_merge("Add", "adds"))
rule("Mul", "Multiply", "two layer outputs (gating)")(_merge("Multiply", "multiplies by"))


@rule("Concat", "Concat", "axis becomes dim (the batch axis is refused)")
def _concat(b, node):
    if any(b.const(n) is not None for n in node.input):
        raise Unmappable("joins a constant tensor; Concat joins layer outputs only")
    xs = [b.value(n) for n in node.input]
    dim = axis_of(attributes(node)["axis"], xs[0].rank)
    b.set_output(node, b.add(node, "Concat", {"dim": dim}, xs))


# ---- convolution and pooling ----------------------------------------------------------------


def _symmetric(pads, rank, what="pads"):
    pads = list(pads) or [0] * (2 * rank)
    begin, end = pads[:rank], pads[rank:]
    if begin != end:
        raise Unmappable(f"{what} {pads} pad the two sides differently; Netwright's padding is "
                         "the same on both sides")
    return tuple(int(p) for p in begin)


def _auto_pad(a, kernel, dilation, strides):
    mode = a.get("auto_pad", "NOTSET")
    if mode == "VALID":
        return (0,) * len(kernel)
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(s != 1 for s in strides) or any(t % 2 for t in total):
            raise Unmappable(f"auto_pad {mode} with stride {strides} pads unevenly; give explicit pads")
        return tuple(t // 2 for t in total)
    return None


def _windows(a, rank):
    strides = tuple(a.get("strides") or (1,) * rank)
    dilation = tuple(a.get("dilations") or (1,) * rank)
    return strides, dilation


def _padded_input(b, name, rank):
    """The input of a conv or average pool and extra padding from a Pad folded into it."""
    pending = b.pending_pads.get(name)
    if pending is not None:
        return pending.source, pending.pads
    return b.value(name), (0,) * rank


def _compact(values):
    values = tuple(int(v) for v in values)
    return values[0] if len(set(values)) == 1 else list(values)


@rule("Conv", ("Conv1d", "Conv2d", "Conv3d"), "rank from the kernel; symmetric pads or auto_pad "
      "(SAME with stride 1); a zero Pad before it is folded into its padding")
def _conv(b, node):
    a = attributes(node)
    w = b.need_const(node, 1, "weight")
    rank = w.ndim - 2
    if rank not in (1, 2, 3):
        raise Unmappable(f"a {rank}-D convolution has no node (1-D to 3-D only)")
    x, extra = _padded_input(b, node.input[0], rank)
    kernel = tuple(a.get("kernel_shape") or w.shape[2:])
    strides, dilation = _windows(a, rank)
    pads = _auto_pad(a, kernel, dilation, strides) or _symmetric(a.get("pads", ()), rank)
    pads = tuple(p + e for p, e in zip(pads, extra))
    groups = int(a.get("group", 1))
    tensors = {"weight": w}
    bias = b.const(node.input[2]) if len(node.input) > 2 else None
    if len(node.input) > 2 and node.input[2] and bias is None:
        raise Unmappable("its bias is computed by the network; Conv needs a constant bias")
    if bias is not None and not b.from_file(node.input[2]) and not np.any(bias):
        bias = None  # zeros computed by the exporter for a conv without bias (torch.export)
    if bias is not None:
        tensors["bias"] = bias
    params = {"out_channels": int(w.shape[0]), "kernel_size": _compact(kernel), "stride": _compact(strides),
              "padding": _compact(pads), "dilation": _compact(dilation), "groups": groups,
              "bias": bias is not None}
    b.set_output(node, b.add(node, f"Conv{rank}d", params, [x], tensors))


@rule("ConvTranspose", ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
      "symmetric pads, output_padding; output_shape and auto_pad are refused")
def _conv_transpose(b, node):
    a = attributes(node)
    if a.get("output_shape") or a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise Unmappable("output_shape/auto_pad size the output implicitly; give pads and output_padding")
    w = b.need_const(node, 1, "weight")
    rank = w.ndim - 2
    x = b.value(node.input[0])
    strides, dilation = _windows(a, rank)
    groups = int(a.get("group", 1))
    bias = b.const(node.input[2]) if len(node.input) > 2 else None
    tensors = {"weight": w, **({"bias": bias} if bias is not None else {})}
    params = {"out_channels": int(w.shape[1]) * groups, "kernel_size": _compact(w.shape[2:]),
              "stride": _compact(strides), "padding": _compact(_symmetric(a.get("pads", ()), rank)),
              "output_padding": _compact(a.get("output_padding") or (0,) * rank),
              "dilation": _compact(dilation), "groups": groups, "bias": bias is not None}
    b.set_output(node, b.add(node, f"ConvTranspose{rank}d", params, [x], tensors))


def _pool(kind):
    def convert(b, node):
        a = attributes(node)
        if kind == "Max" and b.output_used(node, 1):
            raise Unmappable("its Indices output is used; MaxPool's indices feed only a MaxUnpool")
        kernel = tuple(a["kernel_shape"])
        rank = len(kernel)
        x, extra = _padded_input(b, node.input[0], rank) if kind == "Avg" else (b.value(node.input[0]), (0,) * rank)
        strides, dilation = _windows(a, rank)
        if any(d != 1 for d in dilation):
            raise Unmappable("dilated pooling has no node")
        pads = _auto_pad(a, kernel, dilation, strides) or _symmetric(a.get("pads", ()), rank)
        if kind == "Avg" and any(pads) and not a.get("count_include_pad", 0):
            raise Unmappable("count_include_pad=0 leaves the padding out of each average; Netwright's "
                             "AvgPool counts it")
        pads = tuple(p + e for p, e in zip(pads, extra))
        params = {"kernel_size": _compact(kernel), "stride": _compact(strides), "padding": _compact(pads),
                  "ceil_mode": bool(a.get("ceil_mode", 0))}
        b.set_output(node, b.add(node, f"{kind}Pool{rank}d", params, [x]))

    return convert


rule("MaxPool", ("MaxPool1d", "MaxPool2d", "MaxPool3d"), "symmetric pads, ceil_mode; dilation "
     "and a used Indices output are refused")(_pool("Max"))
rule("AveragePool", ("AvgPool1d", "AvgPool2d", "AvgPool3d"), "as MaxPool; padding needs "
     "count_include_pad=1 (what PyTorch writes); a zero Pad before it is folded")(_pool("Avg"))


@rule("GlobalAveragePool", ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"),
      "output_size 1, keeping ONNX's (C, 1, 1)")
def _global_avg(b, node):
    x = b.value(node.input[0])
    rank = x.type.rank - 1
    if rank not in (1, 2, 3):
        raise Unmappable(f"pools a rank-{x.rank} tensor; 1-D to 3-D maps only")
    b.set_output(node, b.add(node, f"AdaptiveAvgPool{rank}d", {"output_size": 1}, [x]))


_HAS_ADAPTIVE_MAX = gc.has_spec("AdaptiveMaxPool2d")


@rule("GlobalMaxPool", ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d") if _HAS_ADAPTIVE_MAX
      else ("GlobalMaxPool", "Reshape"),
      "output_size 1, keeping ONNX's (C, 1, 1)" if _HAS_ADAPTIVE_MAX
      else "GlobalMaxPool, then a Reshape to ONNX's (C, 1, 1)")
def _global_max(b, node):
    x = b.value(node.input[0])
    if _HAS_ADAPTIVE_MAX and x.type.rank - 1 in (1, 2, 3):
        b.set_output(node, b.add(node, f"AdaptiveMaxPool{x.type.rank - 1}d", {"output_size": 1}, [x]))
        return
    pooled = b.add(node, "GlobalMaxPool", {}, [x])
    ones = [x.shape[0]] + [1] * (x.type.rank - 1)
    b.set_output(node, b.add(node, "Reshape", {"shape": ones}, [pooled], suffix="_keepdims"))


@rule("ReduceMean", ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "GlobalAvgPool"),
      "over every spatial axis: a global average pool (keepdims=1 keeps (C, 1, 1))")
def _reduce_mean(b, node):
    a = attributes(node)
    x = b.value(node.input[0])
    axes = list(a.get("axes", []))
    if b.opset >= 18 and len(node.input) > 1:
        axes = [int(v) for v in b.need_const(node, 1, "axes").reshape(-1)]
    spatial = set(range(2, x.rank))
    if sorted(v % x.rank for v in axes) != sorted(spatial) or not spatial:
        raise Unmappable(f"averages over axes {axes}; only a mean over every spatial axis maps "
                         "(a global average pool)")
    if a.get("keepdims", 1):
        b.set_output(node, b.add(node, f"AdaptiveAvgPool{len(spatial)}d", {"output_size": 1}, [x]))
    else:
        b.set_output(node, b.add(node, "GlobalAvgPool", {}, [x]))


def _pad(b, node):
    """A zero Pad that the Conv or AveragePool reading it absorbs (no node of its own)."""
    a = attributes(node)
    if a.get("mode", "constant") != "constant":
        raise Unmappable(f"mode {a['mode']!r} has no node yet (the Pad layer will)")
    if b.opset < 11:
        pads, value = list(a.get("pads", a.get("paddings", []))), float(a.get("value", 0.0))
    else:
        pads = [int(p) for p in b.need_const(node, 1, "pads").reshape(-1)]
        given = b.const(node.input[2]) if len(node.input) > 2 else None
        value = 0.0 if given is None else float(np.asarray(given).reshape(-1)[0])
    x = b.value(node.input[0])
    rank = x.rank
    if len(node.input) > 3 and node.input[3]:
        raise Unmappable("pads only some axes (the axes input); give pads for every axis")
    if value != 0.0 or any(pads[:2]) or any(pads[rank:rank + 2]):
        raise Unmappable(f"pads {pads} with value {value}; only zero padding of the spatial axes folds "
                         "into a convolution")
    spatial = _symmetric(pads[2:rank] + pads[rank + 2:], rank - 2)
    users = b.consumers.get(node.output[0], [])
    if not users or any(u.op_type not in ("Conv", "AveragePool") for u in users):
        raise Unmappable("only a Pad that feeds convolutions or average pools folds into them; "
                         "there is no Pad node yet")
    b.pending_pads[node.output[0]] = PendingPad(x, spatial)


_HAS_PAD = gc.has_spec("Pad")


@rule("ReduceMax", ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "GlobalMaxPool")
      if _HAS_ADAPTIVE_MAX else ("GlobalMaxPool", "Reshape"),
      "over every spatial axis: a global max pool (keepdims=1 keeps (C, 1, 1))")
def _reduce_max(b, node):
    a = attributes(node)
    x = b.value(node.input[0])
    axes = list(a.get("axes", []))
    if b.opset >= 18 and len(node.input) > 1:
        axes = [int(v) for v in b.need_const(node, 1, "axes").reshape(-1)]
    spatial = set(range(2, x.rank))
    if sorted(v % x.rank for v in axes) != sorted(spatial) or not spatial:
        raise Unmappable(f"takes the maximum over axes {axes}; only every spatial axis maps (a global max pool)")
    if a.get("keepdims", 1):
        _global_max(b, node)
    else:
        b.set_output(node, b.add(node, "GlobalMaxPool", {}, [x]))


@rule("Pad", ("Pad", "Crop") if _HAS_PAD else (),
      "constant zero padding, the same on both sides of each spatial axis, is folded into the Conv "
      "or AveragePool that reads it (pads as attribute before opset 11)"
      + ("; any other becomes Pad (constant, reflect, edge -> replicate, wrap -> circular), "
         "negative amounts Crop" if _HAS_PAD else ""))
def _pad_rule(b, node):
    try:
        _pad(b, node)
    except Unmappable:
        if not _HAS_PAD:
            raise
        from .onnx_ops_more import PAD_MODES, pad_node

        x = b.value(node.input[0])
        a = attributes(node)
        mode = a.get("mode", "constant")
        if mode not in PAD_MODES:
            raise Unmappable(f"mode {mode!r} has no Pad mode") from None
        if b.opset < 11:
            pads, value = list(a.get("pads", a.get("paddings", []))), float(a.get("value", 0.0))
        else:
            if len(node.input) > 3 and node.input[3]:
                raise Unmappable("pads only some axes (the axes input); give pads for every axis") from None
            pads = [int(p) for p in b.need_const(node, 1, "pads").reshape(-1)]
            given = b.const(node.input[2]) if len(node.input) > 2 else None
            value = 0.0 if given is None else float(np.asarray(given).reshape(-1)[0])
        pad_node(b, node, x, [int(p) for p in pads], mode, value)


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


@rule("LayerNormalization", "LayerNorm", "over the trailing axes from axis on; epsilon 1e-5 only")
def _layernorm(b, node):
    a = attributes(node)
    x = b.value(node.input[0])
    axis = axis_of(a.get("axis", -1), x.rank)
    if abs(float(a.get("epsilon", 1e-5)) - 1e-5) > 1e-9:
        raise Unmappable(f"epsilon {a['epsilon']} differs from LayerNorm's 1e-5")
    scale = b.need_const(node, 1, "scale")
    bias = b.const(node.input[2]) if len(node.input) > 2 else None
    tensors = {"weight": scale, "bias": bias if bias is not None else np.zeros_like(scale)}
    b.set_output(node, b.add(node, "LayerNorm", {"dims": x.rank - axis}, [x], tensors))


# ---- shape ---------------------------------------------------------------------------------


@rule("Flatten", ("Flatten", "Reshape"), "axis 1 becomes Flatten; a later axis a Reshape")
def _flatten(b, node):
    x = b.value(node.input[0])
    axis = axis_of(attributes(node).get("axis", 1), x.rank + 1)
    shape = list(x.shape[: axis - 1]) + [int(np.prod(x.shape[axis - 1:]))]
    _reshape_to(b, node, x, shape)


@rule("Reshape", ("Flatten", "Reshape"), "a constant target shape (folded shape arithmetic "
      "included) that keeps the batch axis; to one axis it becomes Flatten")
def _reshape(b, node):
    x = b.value(node.input[0])
    target = [int(v) for v in b.need_const(node, 1, "target shape").reshape(-1)]
    if not attributes(node).get("allowzero", 0):
        target = [(x.shape[k - 1] if k else BATCH) if s == 0 and k < x.rank else s
                  for k, s in enumerate(target)]
    total = int(np.prod(x.shape))
    rest = target[1:]
    keeps_batch = bool(target) and target[0] in (BATCH, b.batch) and BATCH not in rest
    infers_batch = bool(target) and target[0] == -1 and -1 not in rest and int(np.prod(rest)) == total
    if not (keeps_batch or infers_batch):
        raise Unmappable(f"reshapes to {target}, which does not keep the batch axis first")
    _reshape_to(b, node, x, rest)


@rule("Squeeze", ("Reshape", "Flatten"), "of a layer output: a Reshape (axes from attribute or input)")
def _squeeze(b, node):
    x = b.value(node.input[0])
    axes = _axes(b, node)
    full = (1,) + x.shape
    drop = {axis_of(v, x.rank) for v in axes} if axes else {k for k, s in enumerate(full) if s == 1 and k}
    _reshape_to(b, node, x, [s for k, s in enumerate(x.shape, start=1) if k not in drop])


@rule("Unsqueeze", "Reshape", "of a layer output: a Reshape")
def _unsqueeze(b, node):
    x = b.value(node.input[0])
    axes = _axes(b, node)
    rank = x.rank + len(axes)
    shape = list((None,) + x.shape)
    for v in sorted(axis_of(v, rank) for v in axes):
        shape.insert(v, 1)
    _reshape_to(b, node, x, shape[1:])


def _axes(b, node):
    if b.opset >= 13 and len(node.input) > 1 and node.input[1]:
        return [int(v) for v in b.need_const(node, 1, "axes").reshape(-1)]
    return list(attributes(node).get("axes", []))


def _reshape_to(b, node, x, shape):
    shape = [int(s) for s in shape]
    if tuple(shape) == x.shape:
        b.set_output(node, x)
    elif len(shape) == 1 and shape[0] in (-1, int(np.prod(x.shape))):
        b.set_output(node, b.add(node, "Flatten", {}, [x]))
    else:
        b.set_output(node, b.add(node, "Reshape", {"shape": shape}, [x]))


@rule("Cast", (), "to float32 of a float32 tensor: no node; anything else refused")
def _cast(b, node):
    from onnx import TensorProto

    x = b.value(node.input[0])
    to = attributes(node)["to"]
    if (to, x.type.dtype) not in ((TensorProto.FLOAT, "float32"), (TensorProto.INT64, "int64")):
        raise Unmappable(f"changes {x.type.dtype} to ONNX type {to}; Netwright tensors keep their type")
    b.set_output(node, x)


# ---- embedding and resizing ------------------------------------------------------------------


@rule("Gather", "Embedding", "rows of a constant table picked by int64 ids (axis 0): an Embedding")
def _gather(b, node):
    table = b.need_const(node, 0, "table")
    ids = b.value(node.input[1])
    if attributes(node).get("axis", 0) != 0 or table.ndim != 2 or ids.type.dtype != "int64":
        raise Unmappable("only picking rows of a 2-D constant table by int64 ids maps (an Embedding)")
    params = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1])}
    b.set_output(node, b.add(node, "Embedding", params, [ids], {"weight": table}))


_HAS_TRANSPOSE = gc.has_spec("Transpose")


@rule("Transpose", ("Transpose",) if _HAS_TRANSPOSE else (),
      "swapping the last two axes right after an Embedding becomes its channels_first; "
      + ("any other permutation that keeps the batch first becomes Transpose swaps" if _HAS_TRANSPOSE
         else "other permutations wait for the Transpose node"))
def _transpose(b, node):
    x = b.value(node.input[0])
    perm = [int(p) for p in (attributes(node).get("perm") or reversed(range(x.rank)))]
    made = b.graph.nodes.get(x.node)
    only_reader = len(b.consumers.get(node.input[0], [])) == 1 and node.input[0] not in b.graph_outputs
    if (made is None or made.type != "Embedding" or made.params.get("channels_first") or not only_reader
            or perm != [0, 2, 1]):
        if _HAS_TRANSPOSE:
            from .onnx_ops_more import transpose_nodes

            transpose_nodes(b, node, x, perm)
            return
        raise Unmappable(f"permutes axes {perm}; there is no Transpose node yet")
    made.params["channels_first"] = True
    spec = gc.get_spec("Embedding")
    ids = TensorType(x.shape[:-1], "int64")
    out = spec.infer(spec.resolve(made.params), {"in": [ids]}).outputs["out"]
    b.set_output(node, Value(x.node, x.port, out))


@rule("OneHot", "OneHot", "int64 ids, values [0, 1], the class axis at 1 (channels first); also the "
      "Unsqueeze-Equal-Cast-Transpose-Cast chain torch.export writes for F.one_hot")
def _one_hot(b, node):
    ids = b.value(node.input[0])
    depth = int(np.asarray(b.need_const(node, 1, "depth")).reshape(-1)[0])
    values = b.need_const(node, 2, "values").reshape(-1)
    axis = attributes(node).get("axis", -1)
    if ids.type.dtype != "int64" or list(values) != [0, 1] or values.dtype.kind != "f":
        raise Unmappable("only int64 ids with off/on values 0 and 1 (as floats) map to OneHot")
    if (axis % (ids.rank + 1)) != 1:
        raise Unmappable(f"puts the classes on axis {axis}; OneHot puts them first (axis 1)")
    b.set_output(node, b.add(node, "OneHot", {"num_classes": depth}, [ids]))


_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _resize(b, node):
    a = attributes(node)
    x = b.value(node.input[0])
    mode = a.get("mode", "nearest")
    if node.op_type == "Upsample":
        scales = a.get("scales") if b.opset < 9 else b.need_const(node, 1, "scales")
        coord = "asymmetric"
    else:
        at = {10: 1}.get(b.opset, 2)
        scales = b.const(node.input[at]) if len(node.input) > at and node.input[at] else None
        sizes = b.const(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        if (scales is None or np.asarray(scales).size == 0) and sizes is not None:
            full = (1,) + x.shape
            scales = [float(s) / float(n) for s, n in zip(np.asarray(sizes).reshape(-1)[1:], full)]
            scales = [1.0] + scales
        coord = a.get("coordinate_transformation_mode", "half_pixel" if b.opset >= 11 else "asymmetric")
    if scales is None:
        raise Unmappable("its scales or sizes are computed by the network")
    scales = [float(s) for s in np.asarray(scales).reshape(-1)]
    if scales[:2] != [1.0, 1.0] or len(set(scales[2:])) != 1:
        raise Unmappable(f"scales {scales} differ between axes; Upsample scales every spatial axis alike")
    factor = scales[2]
    if mode == "nearest":
        nearest = a.get("nearest_mode", "round_prefer_floor")
        exact = coord == "asymmetric" and (nearest == "floor" or node.op_type == "Upsample" or factor == 2.0)
        if not exact:
            raise Unmappable(f"nearest with {coord}/{nearest} picks other pixels than Upsample's nearest")
        params = {"scale_factor": factor, "mode": "nearest"}
    elif mode in ("linear", "bilinear") and coord in ("half_pixel", "pytorch_half_pixel"):
        params = {"scale_factor": factor, "mode": _LINEAR.get(x.rank - 2, "linear")}
    else:
        raise Unmappable(f"mode {mode} with coordinate_transformation_mode {coord} has no Upsample mode")
    b.set_output(node, b.add(node, "Upsample", params, [x]))


rule("Resize", "Upsample", "one scale for every spatial axis; nearest (asymmetric, floor) or "
     "linear (half_pixel); sizes become a scale")(_resize)
rule("Upsample", "Upsample", "the opset 7-9 form of Resize")(_resize)


def mapped_node_types() -> set[str]:
    """Every registry type some rule can produce (the docs list them)."""
    return {t for r in OPS.values() for t in r.nodes if gc.has_spec(t)}


__all__ = ["OPS", "OpRule", "Value", "mapped_node_types", "rule"]

# The second wave's mappings register themselves when their node types exist.
from . import onnx_ops_more  # noqa: E402, F401
