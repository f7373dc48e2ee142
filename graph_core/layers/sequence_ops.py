"""The plumbing sequence models need: Transpose (swap two axes), MatMul (a matrix product per
sample: attention by hand) and Select (one position of an axis: the last time step, the [CLS]
token). Axes count the batch as 0, like PyTorch's `dim`."""

from __future__ import annotations

from ..specs import Inference, LayerSpec, PortSpec, ShapeError, TensorType, format_shape, register
from ._helpers import OUT, p_int, single


def _axis(dim: int, rank: int, type_name: str, shape: tuple[int, ...], what: str = "dim") -> int:
    """The index into a shape without the batch axis, of PyTorch's `dim` (the batch is 0)."""
    axis = dim - 1 if dim > 0 else rank + dim
    if dim == 0 or not 0 <= axis < rank:
        raise ShapeError(f"{type_name}: {what} {dim} is not a feature axis of {format_shape(shape)} "
                         f"(the batch is 0; use 1..{rank} or a negative {what})", "in")
    return axis


def _infer_transpose(params, inputs):
    x = single(inputs)
    a = _axis(params["dim0"], x.rank, "Transpose", x.shape, "dim0")
    b = _axis(params["dim1"], x.rank, "Transpose", x.shape, "dim1")
    shape = list(x.shape)
    shape[a], shape[b] = shape[b], shape[a]
    # swapping (C, L) to (L, C) makes a sequence of feature vectors
    return Inference({"out": TensorType(tuple(shape), x.dtype, sequence=x.rank == 2)})


register(LayerSpec(
    type="Transpose", category="sequence", title="Transpose",
    help="Swaps two axes (the batch is 0): a (C, L) map from OneHot or Conv1d becomes the (L, C) "
         "sequence a recurrent or attention layer reads, and back.",
    inputs=(PortSpec("in", help="the tensor whose axes are swapped"),), outputs=OUT,
    params=(p_int("dim0", 1, "first axis to swap; the batch is 0", minimum=None),
            p_int("dim1", 2, "second axis to swap", minimum=None)),
    infer=_infer_transpose,
    forward=lambda m, a, p: f"{a['in'][0]}.transpose({p['dim0']}, {p['dim1']})",
))


def _infer_matmul(params, inputs):
    a, b = single(inputs, "a"), single(inputs, "b")
    for t, port in ((a, "a"), (b, "b")):
        if t.dtype != "float32":
            raise ShapeError(f"MatMul needs float input on '{port}'; got {t.dtype}", port)
        if t.rank < 2:
            raise ShapeError(f"MatMul needs a matrix (n, k) or more per sample on '{port}'; got "
                             f"{format_shape(t.shape)} — add a Reshape", port)
    if a.shape[-1] != b.shape[-2]:
        raise ShapeError(f"MatMul of {format_shape(a.shape)} and {format_shape(b.shape)}: a's last size "
                         f"({a.shape[-1]}) must equal b's second-to-last ({b.shape[-2]}) — add a Transpose", "b")
    lead_a, lead_b = a.shape[:-2], b.shape[:-2]
    rank = max(len(lead_a), len(lead_b))
    lead = []
    for x, y in zip((1,) * (rank - len(lead_a)) + lead_a, (1,) * (rank - len(lead_b)) + lead_b):
        if x != y and 1 not in (x, y):
            raise ShapeError(f"MatMul cannot broadcast {format_shape(a.shape)} with {format_shape(b.shape)}", "b")
        lead.append(max(x, y))
    return Inference({"out": TensorType(tuple(lead) + (a.shape[-2], b.shape[-1]), sequence=a.sequence)})


register(LayerSpec(
    type="MatMul", category="sequence", title="MatMul",
    help="The matrix product of each sample's a (n, k) and b (k, m), giving (n, m): attention written "
         "out by hand is softmax(Q·Kᵀ)·V, two MatMuls around a Softmax.",
    inputs=(PortSpec("a", help="left matrix (…, n, k)"), PortSpec("b", help="right matrix (…, k, m)")),
    outputs=OUT, params=(), infer=_infer_matmul,
    forward=lambda m, a, p: f"torch.matmul({a['a'][0]}, {a['b'][0]})",
))


def _infer_select(params, inputs):
    x = single(inputs)
    axis = _axis(params["dim"], x.rank, "Select", x.shape)
    size, index = x.shape[axis], params["index"]
    if not -size <= index < size:
        raise ShapeError(f"Select: index {index} is outside an axis of size {size} "
                         f"(use 0..{size - 1}, or -1 for the last)")
    return Inference({"out": TensorType(x.shape[:axis] + x.shape[axis + 1:], x.dtype)})


def _select_forward(module, args, params):
    dim = params["dim"]
    if dim > 0:
        return f"{args['in'][0]}[{':, ' * dim}{params['index']}]"
    return f"{args['in'][0]}.select({dim}, {params['index']})"


register(LayerSpec(
    type="Select", category="sequence", title="Select",
    help="Keeps one position of an axis and drops the axis: index -1 of the sequence axis is a "
         "recurrent layer's last step, index 0 a BERT encoder's [CLS] token — one vector that "
         "stands for the whole sequence.",
    inputs=(PortSpec("in", help="a tensor with the axis to pick from"),), outputs=OUT,
    params=(p_int("dim", 1, "the axis to pick from (the batch is 0; 1 is the sequence axis of (L, F))",
                  minimum=None),
            p_int("index", -1, "the position: 0 the first, -1 the last", minimum=None)),
    infer=_infer_select, forward=_select_forward,
))
