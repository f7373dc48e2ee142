"""Convolutions, pooling, upsampling and max-unpooling in 1, 2 and 3 dimensions."""

from __future__ import annotations

import math

from ..specs import (
    Inference,
    LayerSpec,
    PoolOrigin,
    PortSpec,
    ShapeError,
    TensorType,
    format_shape,
    register,
)
from ._helpers import (
    IN,
    OUT,
    check_positive,
    expand,
    float_input,
    fmt,
    p_bool,
    p_choice,
    p_float,
    p_int,
    p_ints,
    single,
    spatial_input,
    window_out,
)

_TUPLE_HELP = " (one number, or one per spatial axis)"

# ---- convolution -------------------------------------------------------------------------


def _conv_padding(params, rank, kernel, dilation, stride, type_name):
    padding = params["padding"]
    if padding == "valid":
        return (0,) * rank
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ShapeError(f"{type_name}: padding 'same' needs stride 1 (PyTorch's rule); "
                             "give the padding as a number instead")
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return expand(padding, rank, "padding")


def _conv_infer(rank):
    type_name = f"Conv{rank}d"

    def infer(params, inputs):
        c_in, spatial = spatial_input(single(inputs), rank, type_name)
        k = expand(params["kernel_size"], rank, "kernel_size")
        s = expand(params["stride"], rank, "stride")
        d = expand(params["dilation"], rank, "dilation")
        g, c_out = params["groups"], params["out_channels"]
        if c_in % g or c_out % g:
            raise ShapeError(f"groups={g} must divide both in_channels ({c_in}) and out_channels ({c_out})")
        pad = _conv_padding(params, rank, k, d, s, type_name)
        if params["padding_mode"] == "reflect" and any(pp >= n for pp, n in zip(pad, spatial)):
            raise ShapeError(f"reflect padding {format_shape(pad)} must be smaller than the input "
                             f"{format_shape(spatial)}")
        if params["padding"] == "same":
            out = spatial
        else:
            out = tuple(window_out(n, kk, ss, pp, dd) for n, kk, ss, pp, dd in zip(spatial, k, s, pad, d))
        shape = check_positive((c_out,) + out, type_name, lambda: (
            f"the {format_shape(k)} kernel is larger than the padded input {format_shape(spatial)} "
            "— reduce kernel_size or add padding"))
        count = c_out * (c_in // g) * math.prod(k) + (c_out if params["bias"] else 0)
        return Inference({"out": TensorType(shape)}, count)

    return infer


def _conv_module(rank, transposed=False):
    def module(params, inputs):
        c_in = single(inputs).shape[0]
        name = f"nn.ConvTranspose{rank}d" if transposed else f"nn.Conv{rank}d"
        args = f"{c_in}, {params['out_channels']}, kernel_size={fmt(params['kernel_size'])}"
        for key, default in (("stride", 1), ("padding", 0), ("output_padding", 0),
                             ("dilation", 1), ("groups", 1), ("bias", True), ("padding_mode", "zeros")):
            if key in params and params[key] not in (default, (default,) * rank):
                args += f", {key}={fmt(params[key])}"
        return f"{name}({args})"

    return module


def _conv_params(transposed=False):
    padding_help = ("zeros added around the input" + _TUPLE_HELP +
                    ("; 'same' keeps the size (stride 1), 'valid' adds none" if not transposed else ""))
    params = [
        p_int("out_channels", 16, "number of filters, each producing one output channel"),
        p_ints("kernel_size", 3, "size of each filter's window" + _TUPLE_HELP, minimum=1),
        p_ints("stride", 1, "step between window positions; 2 halves each size" + _TUPLE_HELP, minimum=1),
        p_ints("padding", 0, padding_help, words=() if transposed else ("same", "valid")),
    ]
    if transposed:
        params.append(p_ints("output_padding", 0, "extra size added on one side, to reach an exact "
                             "size when stride > 1" + _TUPLE_HELP))
    params += [
        p_ints("dilation", 1, "spacing between kernel taps; >1 widens the view without more weights"
               + _TUPLE_HELP, minimum=1),
        p_int("groups", 1, "split channels into independent groups (groups = channels: depthwise)"),
        p_bool("bias", True, "learn an offset per output channel"),
    ]
    if not transposed:  # PyTorch's transposed convolutions pad with zeros only
        params.append(p_choice("padding_mode", "zeros", ("zeros", "reflect", "replicate", "circular"),
                               "what the padding holds: zeros, the mirrored border (reflect), the "
                               "repeated edge (replicate) or the opposite side (circular)"))
    return tuple(params)


_CONV_HELP = {
    1: "Slides out_channels learned filters along a sequence (C, L): each filter is a motif detector "
       "— on one-hot DNA, a learned position weight matrix.",
    2: "Slides out_channels learned filters over an image (C, H, W); each output pixel sees a "
       "kernel_size window of every input channel. Stride skips positions; padding keeps borders.",
    3: "Slides learned filters through a volume (C, D, H, W): video or 3-D scans.",
}

for _rank in (1, 2, 3):
    register(LayerSpec(
        type=f"Conv{_rank}d", category="conv", title=f"Conv {_rank}D",
        help=_CONV_HELP[_rank], inputs=IN, outputs=OUT, params=_conv_params(),
        infer=_conv_infer(_rank), module=_conv_module(_rank),
    ))


def _convt_infer(rank):
    type_name = f"ConvTranspose{rank}d"

    def infer(params, inputs):
        c_in, spatial = spatial_input(single(inputs), rank, type_name)
        k = expand(params["kernel_size"], rank, "kernel_size")
        s = expand(params["stride"], rank, "stride")
        d = expand(params["dilation"], rank, "dilation")
        p = expand(params["padding"], rank, "padding")
        op = expand(params["output_padding"], rank, "output_padding")
        g, c_out = params["groups"], params["out_channels"]
        if c_in % g or c_out % g:
            raise ShapeError(f"groups={g} must divide both in_channels ({c_in}) and out_channels ({c_out})")
        if any(o >= max(ss, dd) for o, ss, dd in zip(op, s, d)):
            raise ShapeError("output_padding must be smaller than stride or dilation")
        out = tuple((n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1
                    for n, kk, ss, pp, dd, oo in zip(spatial, k, s, p, d, op))
        shape = check_positive((c_out,) + out, type_name, "padding is too large for this input")
        count = c_in * (c_out // g) * math.prod(k) + (c_out if params["bias"] else 0)
        return Inference({"out": TensorType(shape)}, count)

    return infer


for _rank in (1, 2, 3):
    register(LayerSpec(
        type=f"ConvTranspose{_rank}d", category="conv", title=f"Transposed conv {_rank}D",
        help="The learned upsampling of decoders and generators: each input value stamps a filter "
             "onto a larger output; stride 2 roughly doubles each size.",
        inputs=IN, outputs=OUT, params=_conv_params(transposed=True),
        infer=_convt_infer(_rank), module=_conv_module(_rank, transposed=True),
    ))

# ---- pooling -----------------------------------------------------------------------------


def _pool_windows(params, rank):
    k = expand(params["kernel_size"], rank, "kernel_size")
    s = k if params["stride"] is None else expand(params["stride"], rank, "stride")
    p = expand(params["padding"], rank, "padding")
    if any(pp * 2 > kk for pp, kk in zip(p, k)):
        raise ShapeError(f"padding {format_shape(p)} must be at most half the kernel {format_shape(k)}")
    return k, s, p


def _pool_infer(rank, kind):
    type_name = f"{kind}Pool{rank}d"

    def infer(params, inputs):
        x = single(inputs)
        c, spatial = spatial_input(x, rank, type_name)
        k, s, p = _pool_windows(params, rank)
        out = tuple(window_out(n, kk, ss, pp, 1, params["ceil_mode"])
                    for n, kk, ss, pp in zip(spatial, k, s, p))
        shape = check_positive((c,) + out, type_name, lambda: (
            f"the {format_shape(k)} window is larger than the input {format_shape(spatial)}"))
        outputs = {"out": TensorType(shape)}
        if kind == "Max":
            origin = PoolOrigin("", x.shape, k, s, p)
            outputs["indices"] = TensorType(shape, "int64", "indices", origin)
        return Inference(outputs)

    return infer


def _pool_module(rank, kind):
    def module(params, inputs):
        args = f"kernel_size={fmt(params['kernel_size'])}"
        if params["stride"] is not None and params["stride"] != params["kernel_size"]:
            args += f", stride={fmt(params['stride'])}"
        if params["padding"] not in (0, (0,) * rank):
            args += f", padding={fmt(params['padding'])}"
        if params["ceil_mode"]:
            args += ", ceil_mode=True"
        return f"nn.{kind}Pool{rank}d({args})"

    return module


def _pool_params():
    return (
        p_ints("kernel_size", 2, "window size" + _TUPLE_HELP, minimum=1),
        p_ints("stride", None, "step between windows; empty means the kernel size (no overlap)",
               minimum=1, nullable=True),
        p_ints("padding", 0, "padding on each side" + _TUPLE_HELP),
        p_bool("ceil_mode", False, "round the output size up, so a last partial window counts"),
    )


for _rank in (1, 2, 3):
    register(LayerSpec(
        type=f"MaxPool{_rank}d", category="pool", title=f"Max pool {_rank}D",
        help="Keeps the largest value in each window: halves the resolution with kernel 2, keeps "
             "the strongest response, and tolerates small shifts. Its indices let a MaxUnpool "
             "put values back where they came from.",
        inputs=IN,
        outputs=(PortSpec("out", help="the pooled map"),
                 PortSpec("indices", kind="indices", help="where each maximum came from — wire to a MaxUnpool")),
        params=_pool_params(), infer=_pool_infer(_rank, "Max"), module=_pool_module(_rank, "Max"),
    ))
    register(LayerSpec(
        type=f"AvgPool{_rank}d", category="pool", title=f"Average pool {_rank}D",
        help="Averages each window: a smooth downsampling.",
        inputs=IN, outputs=OUT, params=_pool_params(),
        infer=_pool_infer(_rank, "Avg"), module=_pool_module(_rank, "Avg"),
    ))


def _adaptive_infer(rank, kind="Avg"):
    def infer(params, inputs):
        c, _ = spatial_input(single(inputs), rank, f"Adaptive{kind}Pool{rank}d")
        return Inference({"out": TensorType((c,) + expand(params["output_size"], rank, "output_size"))})

    return infer


_ADAPTIVE_HELP = {
    "Avg": "Averages into a fixed output size whatever the input size — how VGG's classifier "
           "always receives 7×7 maps.",
    "Max": "Keeps each region's largest value, for a fixed output size whatever the input size "
           "(spatial pyramid pooling, detection heads).",
}

for _kind in ("Avg", "Max"):
    for _rank in (1, 2, 3):
        register(LayerSpec(
            type=f"Adaptive{_kind}Pool{_rank}d", category="pool", title=f"Adaptive {_kind.lower()} pool {_rank}D",
            help=_ADAPTIVE_HELP[_kind], inputs=IN, outputs=OUT,
            params=(p_ints("output_size", 1, "size of the output" + _TUPLE_HELP, minimum=1),),
            infer=_adaptive_infer(_rank, _kind),
            module=(lambda r, k: lambda p, i: _adaptive_module(r, k, p, i))(_rank, _kind),
        ))


def _adaptive_module(rank, kind, params, inputs):
    size = expand(params["output_size"], rank, "output_size")
    spatial = single(inputs).shape[1:]
    if kind == "Max" and size != (1,) * rank and all(n % o == 0 for n, o in zip(spatial, size)):
        # the same windows as a plain max pool, which ONNX exports (its adaptive max pool has no op)
        k = tuple(n // o for n, o in zip(spatial, size))
        return f"nn.MaxPool{rank}d(kernel_size={fmt(k)}, stride={fmt(k)})"
    return f"nn.Adaptive{kind}Pool{rank}d({fmt(params['output_size'])})"


def _global_infer(kind):
    def infer(params, inputs):
        x = float_input(single(inputs), f"Global{kind}Pool")
        if x.rank < 2:
            raise ShapeError(f"Global{kind}Pool needs a (C, ...) map with spatial axes; got "
                             f"{format_shape(x.shape)} — it is already one value per channel", "in")
        return Inference({"out": TensorType((x.shape[0],))})

    return infer


register(LayerSpec(
    type="GlobalAvgPool", category="pool", title="Global average pool",
    help="Averages each channel over all positions: (C, ...) -> (C,). Replaces Flatten before the "
         "classifier and works for any input size.",
    inputs=IN, outputs=OUT, params=(), infer=_global_infer("Avg"),
    forward=lambda m, a, p: f"{a['in'][0]}.flatten(2).mean(dim=2)",
))
register(LayerSpec(
    type="GlobalMaxPool", category="pool", title="Global max pool",
    help="Keeps each channel's largest value over all positions: (C, ...) -> (C,). On DNA it asks "
         "'does this motif occur anywhere?'.",
    inputs=IN, outputs=OUT, params=(), infer=_global_infer("Max"),
    forward=lambda m, a, p: f"{a['in'][0]}.flatten(2).amax(dim=2)",
))

# ---- unpooling ---------------------------------------------------------------------------

_UPSAMPLE_MODES = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,), "trilinear": (3,)}


def _infer_upsample(params, inputs):
    x = float_input(single(inputs), "Upsample")
    if x.rank < 2 or x.rank > 4:
        raise ShapeError(f"Upsample needs (C, L), (C, H, W) or (C, D, H, W); got {format_shape(x.shape)}", "in")
    mode = params["mode"]
    if x.rank - 1 not in _UPSAMPLE_MODES[mode]:
        fitting = [m for m, ranks in _UPSAMPLE_MODES.items() if x.rank - 1 in ranks]
        raise ShapeError(f"mode {mode!r} does not fit a {x.rank - 1}-D map; use {' or '.join(fitting)}")
    if params["align_corners"] and mode == "nearest":
        raise ShapeError("align_corners only applies to the interpolating modes (linear, bilinear, trilinear)")
    if params["size"] is not None:
        return Inference({"out": TensorType((x.shape[0],) + expand(params["size"], x.rank - 1, "size"))})
    f = params["scale_factor"]
    # PyTorch floors size × factor; a factor below 1 can shrink an axis to nothing
    shape = (x.shape[0],) + tuple(math.floor(n * f) for n in x.shape[1:])
    why = f"scale_factor {f:g} shrinks {format_shape(x.shape)} to nothing — use a factor of at least 1"
    return Inference({"out": TensorType(check_positive(shape, "Upsample", why))})


def _upsample_module(params, inputs):
    if params["size"] is not None:
        args = f"size={fmt(params['size'])}"
    else:
        f = params["scale_factor"]
        args = f"scale_factor={fmt(int(f) if float(f).is_integer() else f)}"
    extra = ", align_corners=True" if params["align_corners"] else ""
    return f"nn.Upsample({args}, mode={fmt(params['mode'])}{extra})"


register(LayerSpec(
    type="Upsample", category="unpool", title="Upsample",
    help="Enlarges a map by repeating (nearest) or interpolating values — a fixed, weight-free "
         "upsampling for decoders.",
    inputs=IN, outputs=OUT,
    params=(
        p_float(
            "scale_factor", 2.0, "how many times larger each spatial size becomes", 0.01, 64.0),
        p_choice("mode", "nearest", tuple(_UPSAMPLE_MODES), "nearest repeats; (bi/tri)linear interpolates"),
        p_ints("size", None, "the output's spatial size" + _TUPLE_HELP + "; when given it replaces "
               "scale_factor", minimum=1, nullable=True),
        p_bool("align_corners", False, "(bi/tri)linear only: align the corner pixels of input and "
               "output (the older convention of some published networks)"),
    ),
    infer=_infer_upsample, module=_upsample_module,
))


def _unpool_infer(rank):
    type_name = f"MaxUnpool{rank}d"

    def infer(params, inputs):
        x = single(inputs)
        idx = single(inputs, "indices")
        c, spatial = spatial_input(x, rank, type_name)
        if idx.kind != "indices" or idx.pool is None:
            raise ShapeError("'indices' must come from a MaxPool's indices output", "indices")
        if idx.shape != x.shape:
            raise ShapeError(f"the map {format_shape(x.shape)} and the indices {format_shape(idx.shape)} "
                             f"differ: wire the MaxPool{rank}d whose output had this shape", "indices")
        pool = idx.pool
        if len(pool.input_shape) != rank + 1:
            raise ShapeError(f"the indices come from a {len(pool.input_shape) - 1}-D pool", "indices")
        warnings = ()
        k, s, p = _pool_windows(params, rank)
        if (k, s, p) != (pool.kernel_size, pool.stride, pool.padding):
            mine, theirs = _window_words(k, s, p), _window_words(pool.kernel_size, pool.stride, pool.padding)
            target = pool.input_shape[1:]
            # what PyTorch's max_unpool accepts: an output within one stride of (n-1)·s - 2p + k
            natural = tuple((n - 1) * ss - 2 * pp + kk for n, kk, ss, pp in zip(spatial, k, s, p))
            if any(not nat - ss < t < nat + ss for nat, ss, t in zip(natural, s, target)):
                raise ShapeError(f"this unpool's window ({mine}) cannot restore the size {format_shape(target)} "
                                 f"its pool's input had (it gives about {format_shape(natural)}): use the "
                                 f"pool's window ({theirs})")
            warnings = (f"this unpool's window ({mine}) differs from the pool that made its indices "
                        f"({theirs}); use the same",)
        return Inference({"out": TensorType((c,) + pool.input_shape[1:])}, 0, warnings)

    return infer


def _window_words(k, s, p) -> str:
    """'kernel (2, 2), stride (2, 2)', plus the padding when there is one."""
    words = f"kernel {format_shape(k)}, stride {format_shape(s)}"
    return words + (f", padding {format_shape(p)}" if any(p) else "")


def _unpool_module(rank):
    def module(params, inputs):
        args = f"kernel_size={fmt(params['kernel_size'])}"
        if params["stride"] is not None and params["stride"] != params["kernel_size"]:
            args += f", stride={fmt(params['stride'])}"
        if params["padding"] not in (0, (0,) * rank):
            args += f", padding={fmt(params['padding'])}"
        return f"nn.MaxUnpool{rank}d({args})"

    return module


for _rank in (1, 2, 3):
    register(LayerSpec(
        type=f"MaxUnpool{_rank}d", category="unpool", title=f"Max unpool {_rank}D",
        help="The inverse of max pooling in encoder–decoders (SegNet): each value returns to the "
             "position its pool's maximum came from; every other position is zero.",
        inputs=(PortSpec("in", help="the map to enlarge"),
                PortSpec("indices", kind="indices", help="the indices output of the matching MaxPool")),
        outputs=OUT,
        params=(
            p_ints("kernel_size", 2, "window size: the same as the matching pool's", minimum=1),
            p_ints("stride", None, "step: the same as the matching pool's; empty means the kernel size",
                   minimum=1, nullable=True),
            p_ints("padding", 0, "padding: the same as the matching pool's"),
        ),
        infer=_unpool_infer(_rank), module=_unpool_module(_rank),
        forward=lambda m, a, p: f"{m}({a['in'][0]}, {a['indices'][0]})",
    ))
