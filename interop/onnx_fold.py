"""Constant folding: ONNX nodes whose inputs are all known are evaluated with numpy.

Exporters write shape arithmetic (`x.view(x.size(0), -1)` becomes Shape -> Gather ->
Unsqueeze -> Concat -> Reshape), Constant nodes, and reshaped initializers. None of these is a
layer, so the importer evaluates them here and keeps only the result. A model's batch size is
not known at import time: `Shape` of a tensor gives BATCH in its first place, a marker that
survives Gather, Concat, Unsqueeze and Cast, and that a Reshape reads as "keep the batch".
Only the operators listed in FOLDERS are evaluated; nothing in the file is ever executed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

BATCH = 2**31 - 1  # stands for the unknown batch size inside folded shape vectors
MAX_ELEMENTS = 1 << 26  # a folded constant larger than any layer's weights is a hostile file


class FoldError(ValueError):
    """A constant node cannot be evaluated; the message says why."""


Folder = Callable[[Sequence[Any], dict[str, Any], int], list[np.ndarray]]
FOLDERS: dict[str, Folder] = {}


def folder(*ops: str) -> Callable[[Folder], Folder]:
    def register(fn: Folder) -> Folder:
        for op in ops:
            FOLDERS[op] = fn
        return fn

    return register


def fold(op: str, inputs: Sequence[np.ndarray | None], attrs: dict[str, Any], opset: int) -> list[np.ndarray]:
    """Evaluate one constant node; raises FoldError for an operator or case not handled."""
    try:
        return FOLDERS[op](inputs, attrs, opset)
    except FoldError:
        raise
    except (ValueError, IndexError, TypeError, KeyError, OverflowError) as exc:
        raise FoldError(f"cannot evaluate this constant {op}: {exc}") from None


def tensor_to_array(tensor: Any) -> np.ndarray:
    """A TensorProto as a numpy array (raw bytes are read without any code from the file)."""
    from onnx import numpy_helper

    return np.array(numpy_helper.to_array(tensor))


# ---- the folders ---------------------------------------------------------------------------


@folder("Constant")
def _constant(inputs, attrs, opset):
    if "value" in attrs:
        return [tensor_to_array(attrs["value"])]
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
        if key in attrs:
            return [np.array(attrs[key], dtype=dtype)]
    for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
        if key in attrs:
            return [np.array(list(attrs[key]), dtype=dtype)]
    raise FoldError("Constant without a dense value (sparse or string constants are not supported)")


@folder("ConstantOfShape")
def _constant_of_shape(inputs, attrs, opset):
    shape = [int(s) for s in np.asarray(inputs[0]).reshape(-1)]
    if BATCH in shape:
        raise FoldError("ConstantOfShape of a batch-sized tensor has no fixed value")
    value = tensor_to_array(attrs["value"]).reshape(-1) if "value" in attrs else np.zeros(1, np.float32)
    return [np.full(_bounded(shape), value[0], dtype=value.dtype)]


@folder("Identity")
def _identity(inputs, attrs, opset):
    return [np.asarray(inputs[0])]


@folder("Cast")
def _cast(inputs, attrs, opset):
    from onnx import helper

    return [np.asarray(inputs[0]).astype(helper.tensor_dtype_to_np_dtype(attrs["to"]))]


@folder("CastLike")
def _cast_like(inputs, attrs, opset):
    return [np.asarray(inputs[0]).astype(np.asarray(inputs[1]).dtype)]


@folder("Gather")
def _gather(inputs, attrs, opset):
    data, idx = np.asarray(inputs[0]), np.asarray(inputs[1]).astype(np.int64)
    return [np.take(data, idx, axis=attrs.get("axis", 0))]


def _axes(inputs, attrs, opset, since):
    if opset >= since and len(inputs) > 1 and inputs[1] is not None:
        return [int(a) for a in np.asarray(inputs[1]).reshape(-1)]
    return [int(a) for a in attrs.get("axes", [])]


@folder("Unsqueeze")
def _unsqueeze(inputs, attrs, opset):
    x = np.asarray(inputs[0])
    axes = _axes(inputs, attrs, opset, 13)
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        x = np.expand_dims(x, a)
    return [x]


@folder("Squeeze")
def _squeeze(inputs, attrs, opset):
    x = np.asarray(inputs[0])
    axes = _axes(inputs, attrs, opset, 13)
    return [np.squeeze(x, axis=tuple(a % x.ndim for a in axes)) if axes else np.squeeze(x)]


@folder("Concat")
def _concat(inputs, attrs, opset):
    return [np.concatenate([np.asarray(i) for i in inputs], axis=attrs["axis"])]


@folder("Reshape")
def _reshape(inputs, attrs, opset):
    x, shape = np.asarray(inputs[0]), [int(s) for s in np.asarray(inputs[1]).reshape(-1)]
    if not attrs.get("allowzero", 0):
        shape = [x.shape[k] if s == 0 else s for k, s in enumerate(shape)]
    return [x.reshape(shape)]


@folder("Flatten")
def _flatten(inputs, attrs, opset):
    x = np.asarray(inputs[0])
    axis = attrs.get("axis", 1) % max(x.ndim, 1)
    return [x.reshape(int(np.prod(x.shape[:axis])), -1)]


@folder("Transpose")
def _transpose(inputs, attrs, opset):
    perm = attrs.get("perm")
    return [np.transpose(np.asarray(inputs[0]), perm if perm else None)]


@folder("Slice")
def _slice(inputs, attrs, opset):
    x = np.asarray(inputs[0])
    if opset < 10:
        starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    else:
        starts, ends = inputs[1].reshape(-1), inputs[2].reshape(-1)
        axes = inputs[3].reshape(-1) if len(inputs) > 3 and inputs[3] is not None else None
        steps = inputs[4].reshape(-1) if len(inputs) > 4 and inputs[4] is not None else None
    axes = list(range(len(starts))) if axes is None else axes
    index = [slice(None)] * x.ndim
    for k, axis in enumerate(axes):
        step = int(steps[k]) if steps is not None else 1
        index[int(axis)] = slice(int(starts[k]), int(ends[k]), step)
    return [x[tuple(index)]]


@folder("Split")
def _split(inputs, attrs, opset):
    x = np.asarray(inputs[0])
    axis = int(attrs.get("axis", 0))
    given = inputs[1] if opset >= 13 and len(inputs) > 1 and inputs[1] is not None else attrs.get("split")
    if given is None or len(np.asarray(given).reshape(-1)) == 0:
        parts = int(attrs.get("num_outputs", 0))
        if parts < 1 or x.shape[axis] % parts:
            raise FoldError("Split without sizes needs num_outputs that divides the axis")
        return list(np.split(x, parts, axis=axis))
    sizes = [int(s) for s in np.asarray(given).reshape(-1)]
    if sum(sizes) != x.shape[axis] or any(s < 0 for s in sizes):
        raise FoldError(f"split sizes {sizes} do not add up to the axis ({x.shape[axis]})")
    return list(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@folder("Shape")
def _shape(inputs, attrs, opset):
    shape = np.array(np.asarray(inputs[0]).shape, dtype=np.int64)
    return [shape[attrs.get("start", 0):attrs.get("end", None)]]


@folder("Size")
def _size(inputs, attrs, opset):
    return [np.array(np.asarray(inputs[0]).size, dtype=np.int64)]


@folder("Range")
def _range(inputs, attrs, opset):
    start, limit, delta = (np.asarray(i).item() for i in inputs)
    if delta == 0:
        raise FoldError("Range with step 0")
    _bounded([max(0, int(np.ceil((limit - start) / delta)))])
    return [np.arange(start, limit, delta, dtype=np.asarray(inputs[0]).dtype)]


_BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Pow": np.power,
           "Equal": np.equal, "Less": np.less, "Greater": np.greater, "Max": np.maximum,
           "Min": np.minimum}


def _make_binary(fn):
    def run(inputs, attrs, opset):
        a = np.asarray(inputs[0])
        _refuse_batch(a, inputs[1])
        out = fn(a, np.asarray(inputs[1]))
        return [out.astype(a.dtype) if out.dtype != np.bool_ else out]

    return run


for _op, _fn in _BINARY.items():
    FOLDERS[_op] = _make_binary(_fn)


@folder("Trilu")
def _trilu(inputs, attrs, opset):
    x = np.asarray(inputs[0])
    k = int(np.asarray(inputs[1]).reshape(-1)[0]) if len(inputs) > 1 and inputs[1] is not None else 0
    return [np.triu(x, k) if attrs.get("upper", 1) else np.tril(x, k)]


@folder("Mod")
def _mod(inputs, attrs, opset):
    a, b = np.asarray(inputs[0]), np.asarray(inputs[1])
    _refuse_batch(a, b)
    if np.any(b == 0):
        raise FoldError("Mod by zero")
    return [(np.fmod(a, b) if attrs.get("fmod", 0) else np.mod(a, b)).astype(a.dtype)]


@folder("Div")
def _div(inputs, attrs, opset):
    a, b = np.asarray(inputs[0]), np.asarray(inputs[1])
    _refuse_batch(a, b)
    if np.issubdtype(a.dtype, np.integer):
        return [(a // b).astype(a.dtype)]
    return [(a / b).astype(a.dtype)]


_UNARY = {"Neg": np.negative, "Sqrt": np.sqrt, "Floor": np.floor, "Ceil": np.ceil, "Abs": np.abs,
          "Reciprocal": np.reciprocal, "Exp": np.exp, "Log": np.log, "Not": np.logical_not}
for _op, _fn in _UNARY.items():
    FOLDERS[_op] = (lambda fn: lambda inputs, attrs, opset: [fn(np.asarray(inputs[0]))])(_fn)


@folder("Where")
def _where(inputs, attrs, opset):
    return [np.where(*(np.asarray(i) for i in inputs))]


@folder("Expand")
def _expand(inputs, attrs, opset):
    x, shape = np.asarray(inputs[0]), [int(s) for s in np.asarray(inputs[1]).reshape(-1)]
    if BATCH in shape:
        raise FoldError("expanding a constant to the batch size has no fixed value")
    return [x * np.ones(_bounded(shape), dtype=x.dtype)]


def _refuse_batch(a: np.ndarray, b: Any) -> None:
    # Arithmetic on the batch marker would silently produce a wrong fixed size.
    for arr in (a, np.asarray(b)):
        if np.issubdtype(arr.dtype, np.integer) and np.any(arr == BATCH):
            raise FoldError("computes with the batch size, which is not known until a batch arrives")


def _bounded(shape: Sequence[int]) -> list[int]:
    """The shape, or FoldError when it is negative or too large to be a real constant."""
    shape = [int(s) for s in shape]
    if any(s < 0 for s in shape) or int(np.prod(shape, dtype=np.float64)) > MAX_ELEMENTS:
        raise FoldError(f"a constant of shape {shape} is larger than any model needs")
    return shape
