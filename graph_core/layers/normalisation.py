"""Normalisations that do not depend on the batch: GroupNorm (diffusion U-Nets, detection),
InstanceNorm (pix2pix, CycleGAN, style transfer) and LocalResponseNorm (AlexNet and GoogLeNet
as published). PyTorch's argument names and defaults; sizes that follow from the input
(num_channels, num_features) are inferred."""

from __future__ import annotations

from ..specs import Inference, LayerSpec, ShapeError, format_shape, register
from ._helpers import IN, OUT, changed_kwargs, float_input, fmt, p_bool, p_float, p_int, single


def _channels(x, type_name, ranks=(2, 3, 4)):
    if x.rank not in ranks:
        wanted = ", ".join({1: "(C,)", 2: "(C, L)", 3: "(C, H, W)", 4: "(C, D, H, W)"}[r] for r in ranks)
        raise ShapeError(f"{type_name} needs {wanted}; got {format_shape(x.shape)}", "in")
    return x.shape[0]


def _infer_groupnorm(params, inputs):
    x = float_input(single(inputs), "GroupNorm")
    c = _channels(x, "GroupNorm", (1, 2, 3, 4))
    g = params["num_groups"]
    if c % g:
        raise ShapeError(f"num_groups={g} must divide the {c} channels", "in")
    return Inference({"out": x}, 2 * c if params["affine"] else 0)


def _groupnorm_module(params, inputs):
    extra = "" if params["eps"] == 1e-5 else f", eps={fmt(params['eps'])}"
    extra += "" if params["affine"] else ", affine=False"
    return f"nn.GroupNorm({params['num_groups']}, {single(inputs).shape[0]}{extra})"


register(LayerSpec(
    type="GroupNorm", category="normalise", title="Group norm",
    help="Normalises each sample's channels in num_groups groups: like BatchNorm but independent of "
         "the batch, so it works with batches of one. num_groups=1 is LayerNorm over (C, H, W); "
         "num_groups = channels is InstanceNorm.",
    inputs=IN, outputs=OUT,
    params=(p_int("num_groups", 1, "number of channel groups; must divide the channels"),
            p_float("eps", 1e-5, "added to the variance for stability", minimum=1e-12),
            p_bool("affine", True, "learn a scale and shift per channel")),
    infer=_infer_groupnorm, module=_groupnorm_module,
))


def _infer_instancenorm(params, inputs):
    x = float_input(single(inputs), "InstanceNorm")
    c = _channels(x, "InstanceNorm")
    return Inference({"out": x}, 2 * c if params["affine"] else 0)


def _instancenorm_module(params, inputs):
    x = single(inputs)
    extra = changed_kwargs(params, (("eps", 1e-5), ("momentum", 0.1), ("affine", False),
                                    ("track_running_stats", False)))
    return f"nn.InstanceNorm{x.rank - 1}d({x.shape[0]}{extra})"


register(LayerSpec(
    type="InstanceNorm", category="normalise", title="Instance norm",
    help="Normalises each channel of each sample over its own positions: removes per-image contrast, "
         "the norm of style transfer and pix2pix generators. Its rank follows its input.",
    inputs=IN, outputs=OUT,
    params=(p_float("eps", 1e-5, "added to the variance for stability", minimum=1e-12),
            p_float("momentum", 0.1, "how fast running statistics follow (when tracked)", 0.0, 1.0),
            p_bool("affine", False, "learn a scale and shift per channel"),
            p_bool("track_running_stats", False, "keep running statistics for eval mode")),
    infer=_infer_instancenorm, module=_instancenorm_module,
))


def _infer_lrn(params, inputs):
    x = float_input(single(inputs), "LocalResponseNorm")
    _channels(x, "LocalResponseNorm")
    return Inference({"out": x})


def _lrn_module(params, inputs):
    extra = changed_kwargs(params, (("alpha", 1e-4), ("beta", 0.75), ("k", 1.0)))
    return f"nn.LocalResponseNorm({params['size']}{extra})"


register(LayerSpec(
    type="LocalResponseNorm", category="normalise", title="Local response norm",
    help="Divides each value by the activity of `size` neighbouring channels at the same position "
         "(lateral inhibition): AlexNet and GoogLeNet as published, before BatchNorm replaced it.",
    inputs=IN, outputs=OUT,
    params=(p_int("size", 5, "number of neighbouring channels to sum over"),
            p_float("alpha", 1e-4, "multiplicative factor", minimum=0.0),
            p_float("beta", 0.75, "exponent", minimum=0.0),
            p_float("k", 1.0, "additive factor", minimum=0.0)),
    infer=_infer_lrn, module=_lrn_module,
))
