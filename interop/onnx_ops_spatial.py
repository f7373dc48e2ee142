"""The importer's table, spatial part: convolutions, pooling, global pools and padding.

Entries register themselves in `interop.onnx_ops.OPS` through its `rule` decorator.
"""

from __future__ import annotations

import numpy as np

import graph_core as gc

from .onnx_build import PendingPad, Unmappable, attributes
from .onnx_ops import rule


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
        indices = kind == "Max" and b.output_used(node, 1)
        if indices and (node.output[1] in b.graph_outputs
                        or any(u.op_type != "MaxUnpool" for u in b.consumers.get(node.output[1], []))):
            raise Unmappable("its Indices output is used by more than a MaxUnpool; MaxPool's indices "
                             "feed only a MaxUnpool")
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
        if indices:  # ONNX counts them over the whole tensor, PyTorch per map: each pair agrees
            b.values[node.output[1]] = b.port(b.values[node.output[0]], "indices")

    return convert


rule("MaxPool", ("MaxPool1d", "MaxPool2d", "MaxPool3d"), "symmetric pads, ceil_mode; Indices "
     "wired to a MaxUnpool; dilation refused")(_pool("Max"))


@rule("MaxUnpool", ("MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"), "the Indices of a mapped MaxPool; "
      "output_shape absent, constant or from Shape, and one other than that pool's input is refused; "
      "torch.onnx's ScatterND decomposition of an unpool (2-D, 3-D) is read back as one")
def _max_unpool(b, node):
    a = attributes(node)
    x, idx = b.value(node.input[0]), b.value(node.input[1])
    kernel = tuple(a["kernel_shape"])
    rank = len(kernel)
    strides = tuple(a.get("strides") or (1,) * rank)
    params = {"kernel_size": _compact(kernel), "stride": _compact(strides),
              "padding": _compact(_symmetric(a.get("pads", ()), rank))}
    v = b.add(node, f"MaxUnpool{rank}d", params, {"in": [x], "indices": [idx]})
    wanted = b.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if wanted is not None and tuple(int(s) for s in np.asarray(wanted).reshape(-1)[1:]) != v.shape:
        raise Unmappable(f"output_shape {list(np.asarray(wanted).reshape(-1))} differs from the input of the "
                         "pool that made the indices")
    b.set_output(node, v)
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
    a, x, spatial = _spatial_reduction(b, node, "averages", "only a mean over every spatial axis "
                                       "maps (a global average pool)")
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
    a, x, _ = _spatial_reduction(b, node, "takes the maximum", "only every spatial axis maps "
                                 "(a global max pool)")
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


def _spatial_reduction(b, node, verb: str, only: str):
    """A Reduce* node's attributes, input and spatial axes, refused unless it reduces over every
    spatial axis (axes as an attribute, or as an input from opset 18)."""
    a = attributes(node)
    x = b.value(node.input[0])
    axes = list(a.get("axes", []))
    if b.opset >= 18 and len(node.input) > 1:
        axes = [int(v) for v in b.need_const(node, 1, "axes").reshape(-1)]
    spatial = set(range(2, x.rank))
    if sorted(v % x.rank for v in axes) != sorted(spatial) or not spatial:
        raise Unmappable(f"{verb} over axes {axes}; {only}")
    return a, x, spatial
