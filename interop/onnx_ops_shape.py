"""The importer's table, shape part: Flatten, Reshape, Squeeze/Unsqueeze, Cast, Transpose,
embedding look-ups, one-hot, and resizing.

Entries register themselves in `interop.onnx_ops.OPS` through its `rule` decorator.
"""

from __future__ import annotations

import numpy as np

import graph_core as gc
from graph_core import TensorType

from .onnx_build import Unmappable, Value, attributes, axis_of
from .onnx_fold import BATCH
from .onnx_ops import rule


@rule("Flatten", ("Flatten", "Reshape"), "axis 1 becomes Flatten; a later axis a Reshape")
def _flatten(b, node):
    x = b.value(node.input[0])
    axis = axis_of(attributes(node).get("axis", 1), x.rank + 1)
    shape = list(x.shape[: axis - 1]) + [int(np.prod(x.shape[axis - 1:]))]
    _reshape_to(b, node, x, shape)


@rule("Reshape", ("Flatten", "Reshape"), "a constant target shape (folded shape arithmetic "
      "included) that keeps the batch axis; to one axis it becomes Flatten")
def _reshape(b, node):
    from .onnx_ops_recurrent import relayout_reshape

    target = [int(v) for v in b.need_const(node, 1, "target shape").reshape(-1)]
    if relayout_reshape(b, node, target):
        return
    x = b.value(node.input[0])
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
    from .onnx_ops_recurrent import relayout_squeeze

    axes = _axes(b, node)
    if relayout_squeeze(b, node, axes):
        return
    x = b.value(node.input[0])
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


@rule("Slice", (), "only all of a recurrent layer's final state (h[0:layers], as PyTorch passes an "
      "encoder's state to a decoder): no node; other slices of layer outputs are refused")
def _slice(b, node):
    from .onnx_ops_recurrent import state_slice

    a = attributes(node)
    if b.opset < 10:
        starts, ends, axes = a.get("starts", []), a.get("ends", []), a.get("axes")
    else:
        starts, ends = (b.need_const(node, k, what).reshape(-1) for k, what in ((1, "starts"), (2, "ends")))
        axes = b.const(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        steps = b.const(node.input[4]) if len(node.input) > 4 and node.input[4] else None
        if steps is not None and np.any(np.asarray(steps) != 1):
            raise Unmappable("slices with a step; no node does that")
    axes = list(range(len(starts))) if axes is None else [int(v) for v in np.asarray(axes).reshape(-1)]
    if not state_slice(b, node, [int(v) for v in starts], [int(v) for v in ends], axes):
        raise Unmappable("slices a layer output; no Netwright node does that (only all of a recurrent "
                         "layer's final state maps)")


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


_HAS_SELECT = gc.has_spec("Select")


@rule("Gather", ("Embedding", "Select") if _HAS_SELECT else "Embedding",
      "rows of a constant table picked by int64 ids (axis 0): an Embedding"
      + ("; one constant index of a layer output's axis: Select" if _HAS_SELECT else ""))
def _gather(b, node):
    index = b.const(node.input[1])
    if _HAS_SELECT and node.input[0] in b.values and index is not None and np.asarray(index).ndim == 0:
        x = b.value(node.input[0])
        dim = axis_of(attributes(node).get("axis", 0), x.rank)
        b.set_output(node, b.add(node, "Select", {"dim": dim, "index": int(index)}, [x]))
        return
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
    from .onnx_ops_recurrent import relayout

    given = attributes(node).get("perm")
    if given and relayout(b, node, [int(p) for p in given]):
        return
    x = b.value(node.input[0])
    perm = [int(p) for p in (given or reversed(range(x.rank)))]
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
_ALIGN_CORNERS = "align_corners" in {p.name for p in gc.get_spec("Upsample").params}


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
    elif mode in ("linear", "bilinear") and coord == "align_corners" and _ALIGN_CORNERS:
        params = {"scale_factor": factor, "mode": _LINEAR.get(x.rank - 2, "linear"), "align_corners": True}
    else:
        raise Unmappable(f"mode {mode} with coordinate_transformation_mode {coord} has no Upsample mode")
    b.set_output(node, b.add(node, "Upsample", params, [x]))


rule("Resize", "Upsample", "one scale for every spatial axis; nearest (asymmetric, floor) or "
     "linear (half_pixel" + (", or align_corners" if _ALIGN_CORNERS else "") + "); sizes become a scale")(_resize)
rule("Upsample", "Upsample", "the opset 7-9 form of Resize")(_resize)


