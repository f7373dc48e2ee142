"""Dense, embedding, shape, normalisation and activation layers."""

from __future__ import annotations

import math

from ..specs import (
    Inference,
    LayerSpec,
    ParamSpec,
    PortSpec,
    ShapeError,
    TensorType,
    format_shape,
    register,
)
from ._helpers import IN, OUT, changed_kwargs, float_input, fmt, p_bool, p_float, p_int, single

# ---- dense -------------------------------------------------------------------------------


def _infer_dense(params, inputs):
    x = single(inputs)
    if x.dtype != "float32":
        raise ShapeError(f"Dense needs float input; got {x.dtype} token ids — add an Embedding or OneHot first", "in")
    if x.rank == 0:
        raise ShapeError("Dense needs at least one feature axis", "in")
    n_in, n_out = x.shape[-1], params["out_features"]
    warnings = ()
    if x.rank > 1 and not x.sequence:
        warnings = (f"Dense on {format_shape(x.shape)} mixes only the last axis ({n_in}); add a "
                    "Flatten before it to connect every value",)
    count = n_in * n_out + (n_out if params["bias"] else 0)
    return Inference({"out": TensorType(x.shape[:-1] + (n_out,), sequence=x.sequence)}, count, warnings)


register(LayerSpec(
    type="Dense", category="dense", title="Dense (fully connected)",
    help="Every output neuron is a weighted sum of every input plus a bias: y = Wx + b. "
         "A perceptron is one Dense neuron; stacking them with activations gives an MLP.",
    inputs=IN, outputs=OUT,
    params=(
        p_int("out_features", 64, "number of neurons (outputs)"),
        p_bool("bias", True, "learn an offset b for each neuron"),
    ),
    infer=_infer_dense,
    module=lambda p, i: f"nn.Linear({single(i).shape[-1]}, {p['out_features']}"
                        f"{'' if p['bias'] else ', bias=False'})",
))

# ---- embedding ---------------------------------------------------------------------------


def _infer_embedding(params, inputs):
    x = single(inputs)
    if x.dtype != "int64":
        raise ShapeError(f"Embedding needs int64 token ids; got {x.dtype} — set the Input's dtype to int64", "in")
    if params["padding_idx"] is not None and params["padding_idx"] >= params["num_embeddings"]:
        raise ShapeError("padding_idx must be smaller than num_embeddings")
    d = params["embedding_dim"]
    shape = (d,) + x.shape if params["channels_first"] else x.shape + (d,)
    return Inference({"out": TensorType(shape, sequence=not params["channels_first"])},
                     params["num_embeddings"] * d)


def _embedding_forward(module, args, params):
    call = f"{module}({args['in'][0]})"
    return f"{call}.movedim(-1, 1)" if params["channels_first"] else call


register(LayerSpec(
    type="Embedding", category="embedding", title="Embedding",
    help="A learned lookup table: each token id picks a row of embedding_dim numbers. "
         "Similar tokens end up with similar vectors — the dense alternative to one-hot.",
    inputs=(PortSpec("in", help="int64 token ids"),), outputs=OUT,
    params=(
        p_int("num_embeddings", 16, "vocabulary size: ids run from 0 to num_embeddings - 1"),
        p_int("embedding_dim", 8, "length of each token's vector"),
        p_int("padding_idx", None, "an id whose vector stays zero (padding); empty for none",
              minimum=0, nullable=True),
        p_bool("channels_first", False,
               "give (embedding_dim, L) instead of (L, embedding_dim), ready for Conv1d"),
    ),
    infer=_infer_embedding,
    module=lambda p, i: f"nn.Embedding({p['num_embeddings']}, {p['embedding_dim']}"
                        f"{'' if p['padding_idx'] is None else ', padding_idx=' + fmt(p['padding_idx'])})",
    forward=_embedding_forward,
))


def _infer_onehot(params, inputs):
    x = single(inputs)
    if x.dtype != "int64":
        raise ShapeError(f"OneHot needs int64 class indices; got {x.dtype} — set the Input's dtype to int64", "in")
    return Inference({"out": TensorType((params["num_classes"],) + x.shape)})


register(LayerSpec(
    type="OneHot", category="embedding", title="One-hot",
    help="Turns each index into a vector of zeros with a single 1: DNA's A, C, G, T become 4 "
         "channels, so a sequence of length L becomes a (4, L) image for Conv1d.",
    inputs=(PortSpec("in", help="int64 indices"),), outputs=OUT,
    params=(p_int("num_classes", 4, "number of distinct symbols (4 for DNA)"),),
    infer=_infer_onehot,
    forward=lambda m, a, p: (f"F.one_hot({a['in'][0]}, {p['num_classes']}).movedim(-1, 1).float()"),
))

# ---- shape -------------------------------------------------------------------------------


def _infer_flatten(params, inputs):
    x = single(inputs)
    return Inference({"out": TensorType((math.prod(x.shape),), x.dtype)})


register(LayerSpec(
    type="Flatten", category="shape", title="Flatten",
    help="Lays a (C, H, W) feature map out as one long vector of C·H·W values, "
         "so Dense layers can follow convolutions.",
    inputs=IN, outputs=OUT, params=(), infer=_infer_flatten,
    module=lambda p, i: "nn.Flatten()",
))


def _infer_reshape(params, inputs):
    x = single(inputs)
    target = list(params["shape"])
    total = math.prod(x.shape)
    known = math.prod(s for s in target if s != -1)
    if -1 in target:
        if total % known:
            raise ShapeError(f"cannot reshape {format_shape(x.shape)} ({total} values) into "
                             f"{format_shape(tuple(target))}")
        target[target.index(-1)] = total // known
    if math.prod(target) != total:
        raise ShapeError(f"cannot reshape {format_shape(x.shape)} ({total} values) into "
                         f"{format_shape(tuple(target))} ({math.prod(target)} values)")
    return Inference({"out": TensorType(tuple(target), x.dtype)})


register(LayerSpec(
    type="Reshape", category="shape", title="Reshape",
    help="Rearranges the same values into a new shape (batch axis excluded); one size may be -1 "
         "to be worked out. Use it to turn a Dense output back into a (C, H, W) map.",
    inputs=IN, outputs=OUT,
    params=(ParamSpec("shape", "shape", (-1,), "new shape without the batch axis; one -1 allowed",
                      minimum=-1),),
    infer=_infer_reshape,
    forward=lambda m, a, p: f"{a['in'][0]}.reshape({a['in'][0]}.size(0), {', '.join(str(s) for s in p['shape'])})",
))


def _infer_concat(params, inputs):
    xs = list(inputs.get("in") or ())
    if len(xs) < 1:
        raise ShapeError("needs at least one wire on 'in'", "in")
    rank = xs[0].rank
    if any(x.rank != rank for x in xs):
        raise ShapeError("Concat needs inputs of the same rank; got "
                         + ", ".join(format_shape(x.shape) for x in xs), "in")
    dim = params["dim"]
    axis = dim - 1 if dim > 0 else rank + dim
    if dim == 0 or not 0 <= axis < rank:
        raise ShapeError(f"dim {dim} is not a feature axis of {format_shape(xs[0].shape)} "
                         f"(dim 0 is the batch; use 1..{rank} or a negative dim)")
    for x in xs[1:]:
        if any(a != b for k, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if k != axis):
            raise ShapeError(f"Concat along dim {dim} needs the other sizes equal; got "
                             + ", ".join(format_shape(x.shape) for x in xs) + _concat_way_out(xs, axis), "in")
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return Inference({"out": TensorType(tuple(shape), xs[0].dtype, sequence=all(x.sequence for x in xs))})


def _concat_way_out(xs, axis):
    """When only spatial sizes differ (a U-Net whose input size a pool could not halve evenly),
    say how to make them meet: a divisible input size, a Crop of the larger or a Pad of the smaller."""
    big = max(xs, key=lambda x: math.prod(x.shape))
    small = min(xs, key=lambda x: math.prod(x.shape))
    diff = [b - a for a, b in zip(small.shape, big.shape)][1:]
    if axis != 0 or small.rank < 3 or any(d < 0 for d in diff):  # image and volume maps
        return ""
    sides = tuple(v for d in reversed(diff) for v in (0, d))  # F.pad order: last axis first
    return (f" — a pool met an odd size: make the input size divisible by 2 to the number of pools (16 "
            f"for four), or add a Crop with crop={list(sides)} on the {format_shape(big.shape)} input, or a "
            f"Pad with padding={list(sides)} on the {format_shape(small.shape)} input")


register(LayerSpec(
    type="Concat", category="shape", title="Concat",
    help="Joins several tensors along one axis (dim counts the batch as 0, like PyTorch): "
         "dim=1 stacks channels or features — how multi-omics encoders are fused.",
    inputs=(PortSpec("in", multi=True, help="tensors to join, in wire order"),), outputs=OUT,
    params=(p_int("dim", 1, "axis to join along; the batch is 0", minimum=None),),
    infer=_infer_concat,
    forward=lambda m, a, p: f"torch.cat([{', '.join(a['in'])}], dim={p['dim']})",
))


def _broadcast(xs, what):
    if not xs:
        raise ShapeError("needs at least one wire on 'in'", "in")
    rank = max(x.rank for x in xs)
    shape = [1] * rank
    for x in xs:
        padded = (1,) * (rank - x.rank) + x.shape
        for k, s in enumerate(padded):
            if s != 1 and shape[k] not in (1, s):
                raise ShapeError(f"{what} needs matching shapes; got "
                                 + ", ".join(format_shape(y.shape) for y in xs), "in")
            shape[k] = max(shape[k], s)
    return Inference({"out": TensorType(tuple(shape), sequence=any(x.sequence and x.rank == rank for x in xs))})


register(LayerSpec(
    type="Add", category="shape", title="Add",
    help="Adds tensors element by element — the skip connection of a residual network.",
    inputs=(PortSpec("in", multi=True, help="tensors of the same shape"),), outputs=OUT, params=(),
    infer=lambda p, i: _broadcast(list(i.get("in") or ()), "Add"),
    forward=lambda m, a, p: " + ".join(a["in"]),
))

register(LayerSpec(
    type="Multiply", category="shape", title="Multiply",
    help="Multiplies tensors element by element — gating and attention weights.",
    inputs=(PortSpec("in", multi=True, help="tensors of the same shape"),), outputs=OUT, params=(),
    infer=lambda p, i: _broadcast(list(i.get("in") or ()), "Multiply"),
    forward=lambda m, a, p: " * ".join(a["in"]),
))

# ---- normalise ---------------------------------------------------------------------------


def _infer_batchnorm(params, inputs):
    x = float_input(single(inputs), "BatchNorm")
    if x.rank not in (1, 2, 3, 4):
        raise ShapeError(f"BatchNorm needs (C,), (C, L), (C, H, W) or (C, D, H, W); got {format_shape(x.shape)}", "in")
    c = x.shape[0]
    return Inference({"out": x}, 2 * c if params["affine"] else 0)


def _batchnorm_module(params, inputs):
    x = single(inputs)
    rank = max(1, x.rank - 1)
    extra = "" if params["eps"] == 1e-5 else f", eps={fmt(params['eps'])}"
    if params["momentum"] != 0.1:
        extra += f", momentum={fmt(params['momentum'])}"
    extra += "" if params["affine"] else ", affine=False"
    extra += "" if params["track_running_stats"] else ", track_running_stats=False"
    return f"nn.BatchNorm{rank}d({x.shape[0]}{extra})"


register(LayerSpec(
    type="BatchNorm", category="normalise", title="Batch norm",
    help="Normalises each channel to zero mean and unit variance over the batch, then rescales: "
         "deep networks train faster and tolerate larger learning rates. Its rank follows its input.",
    inputs=IN, outputs=OUT,
    params=(
        p_float("eps", 1e-5, "added to the variance for stability (torchvision's GoogLeNet, "
                "Inception and EfficientNet use 1e-3)", minimum=1e-12),
        p_float("momentum", 0.1, "how fast the running statistics follow the batches", 0.0, 1.0),
        p_bool("affine", True, "learn a scale and shift per channel"),
        p_bool("track_running_stats", True, "keep running statistics for eval mode; off: always "
               "normalise with the current batch's"),
    ),
    infer=_infer_batchnorm, module=_batchnorm_module,
))


def _infer_layernorm(params, inputs):
    x = float_input(single(inputs), "LayerNorm")
    k = params["dims"]
    if k > x.rank:
        raise ShapeError(f"cannot normalise the last {k} axes of {format_shape(x.shape)}")
    n = math.prod(x.shape[x.rank - k:])
    return Inference({"out": x}, 2 * n if params["elementwise_affine"] else 0)


register(LayerSpec(
    type="LayerNorm", category="normalise", title="Layer norm",
    help="Normalises each sample over its last axes (independent of the batch) — the norm of transformers.",
    inputs=IN, outputs=OUT,
    params=(
        p_int("dims", 1, "how many trailing axes to normalise over"),
        p_bool("elementwise_affine", True, "learn a scale and shift per value"),
        p_float("eps", 1e-5, "added to the variance for stability (BERT's own files use 1e-12)", minimum=1e-12),
    ),
    infer=_infer_layernorm,
    module=lambda p, i: (f"nn.LayerNorm({fmt(single(i).shape[single(i).rank - p['dims']:])}"
                         f"{changed_kwargs(p, (('eps', 1e-5), ('elementwise_affine', True)))})"),
))

register(LayerSpec(
    type="Dropout", category="normalise", title="Dropout",
    help="While training, zeroes each value with probability p (and scales the rest up): the "
         "network cannot rely on any single neuron, which fights overfitting. Off in eval mode.",
    inputs=IN, outputs=OUT,
    params=(p_float("p", 0.5, "probability of dropping a value", 0.0, 1.0),),
    infer=lambda p, i: Inference({"out": float_input(single(i), "Dropout")}),
    module=lambda p, i: f"nn.Dropout(p={fmt(p['p'])})",
))

# ---- activations -------------------------------------------------------------------------


def _same(params, inputs):
    return Inference({"out": single(inputs)})


def _float(type_name):
    """Activations that compute with real numbers (exp, tanh, ...) refuse integer ids."""

    def infer(params, inputs):
        return Inference({"out": float_input(single(inputs), type_name)})

    return infer


def _dim_check(type_name):
    def infer(params, inputs):
        x = float_input(single(inputs), type_name)
        dim = params["dim"]
        if dim == 0 or not -x.rank <= dim <= x.rank:
            raise ShapeError(f"dim {dim} is not a feature axis of {format_shape(x.shape)} (the batch is 0)")
        return Inference({"out": x})

    return infer


def _activation(type_name, title, help, module, params=(), infer=None):
    register(LayerSpec(type=type_name, category="activation", title=title, help=help,
                       inputs=IN, outputs=OUT, params=params, infer=infer or _float(type_name),
                       module=module))


_activation("ReLU", "ReLU", "max(0, x): passes positives, zeroes negatives. The default hidden "
            "activation: cheap, and its gradient does not vanish for positive inputs.",
            lambda p, i: "nn.ReLU()", infer=_same)
_activation("LeakyReLU", "Leaky ReLU", "Like ReLU but lets a small slope through for negatives, "
            "so no neuron dies; the usual choice inside GAN discriminators.",
            lambda p, i: f"nn.LeakyReLU({fmt(p['negative_slope'])})",
            (p_float("negative_slope", 0.2, "slope for negative inputs", 0.0, 1.0),))
_activation("Sigmoid", "Sigmoid", "Squashes to (0, 1): a probability for a yes/no question "
            "(logistic regression). Leave it out before a bce head — the loss applies it.",
            lambda p, i: "nn.Sigmoid()")
_activation("Tanh", "Tanh", "Squashes to (-1, 1); centred at zero. The usual last layer of a GAN "
            "generator whose images are scaled to [-1, 1].", lambda p, i: "nn.Tanh()")
_activation("Softmax", "Softmax", "Turns N scores into N probabilities that sum to 1. Leave it "
            "out before a cross-entropy head — the loss applies it.",
            lambda p, i: f"nn.Softmax(dim={p['dim']})",
            (p_int("dim", 1, "axis that sums to 1; the batch is 0", minimum=None),), _dim_check("Softmax"))
_activation("LogSoftmax", "Log-softmax", "The logarithm of softmax, computed stably.",
            lambda p, i: f"nn.LogSoftmax(dim={p['dim']})",
            (p_int("dim", 1, "axis to normalise; the batch is 0", minimum=None),), _dim_check("LogSoftmax"))
_activation("GELU", "GELU", "A smooth ReLU (x·Φ(x)) used by transformers.", lambda p, i: "nn.GELU()")
_activation("Identity", "Identity", "Passes its input through unchanged: the identity output of "
            "a regression, or a placeholder.", lambda p, i: "nn.Identity()", infer=_same)
