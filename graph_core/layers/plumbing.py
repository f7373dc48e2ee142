"""Pad and Crop: sizes made to fit. Pad adds a border (constant, reflect, replicate or circular;
asymmetric sides allowed), Crop removes one — the valid-convolution U-Net crops each skip
connection to the size of the upsampled map before joining them.

Both take the amounts in `torch.nn.functional.pad`'s order: (left, right) for the last axis,
then (top, bottom) for the one before, and so on; one number means every spatial axis, both
sides. Crop compiles to a constant pad by the negative amounts, which PyTorch and ONNX define
as removing them.
"""

from __future__ import annotations

from ..specs import Inference, LayerSpec, ShapeError, TensorType, format_shape, register
from ._helpers import IN, OUT, check_positive, fmt, p_choice, p_float, p_ints, single

_MODULES = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad",
            "circular": "CircularPad"}
_ORDER_HELP = ("one number for every spatial axis and side, or (left, right[, top, bottom[, front, back]]) "
               "as in F.pad: the last axis first")


def sides(amount, x: TensorType, type_name: str) -> tuple[int, ...]:
    """The amounts as a flat F.pad tuple (last axis first) for input `x`."""
    if isinstance(amount, int):
        axes = max(1, x.rank - 1)
        if axes > 3:
            raise ShapeError(f"{type_name} works on up to 3 spatial axes; got {format_shape(x.shape)}", "in")
        return (amount,) * (2 * axes)
    if len(amount) % 2 or len(amount) > 6:
        raise ShapeError(f"{type_name} needs 2, 4 or 6 numbers (a pair per axis, last axis first); got {len(amount)}")
    if len(amount) // 2 > x.rank:
        raise ShapeError(f"{type_name} gives {len(amount) // 2} axes amounts but {format_shape(x.shape)} has "
                         f"{x.rank} axes", "in")
    return tuple(amount)


def resized(x: TensorType, pad: tuple[int, ...], type_name: str, why: str) -> TensorType:
    shape = list(x.shape)
    for k in range(len(pad) // 2):
        shape[-1 - k] += pad[2 * k] + pad[2 * k + 1]
    return TensorType(check_positive(shape, type_name, why), x.dtype)


def _infer_pad(params, inputs):
    x = single(inputs)
    pad = sides(params["padding"], x, "Pad")
    mode = params["mode"]
    if mode != "constant":
        if x.rank - 1 not in (1, 2, 3) or len(pad) != 2 * (x.rank - 1):
            raise ShapeError(f"{mode} padding needs a (C, L), (C, H, W) or (C, D, H, W) input with a pair of "
                             f"amounts for every spatial axis; got {format_shape(x.shape)} and {len(pad)} amounts")
        if x.dtype != "float32":
            raise ShapeError(f"{mode} padding needs float input", "in")
    if mode == "reflect":
        for k in range(len(pad) // 2):
            if max(pad[2 * k], pad[2 * k + 1]) >= x.shape[-1 - k]:
                raise ShapeError(f"reflect padding must be smaller than the axis it pads: "
                                 f"{max(pad[2 * k], pad[2 * k + 1])} on size {x.shape[-1 - k]}")
    return Inference({"out": resized(x, pad, "Pad", "")})


def _pad_module(params, inputs):
    x = single(inputs)
    pad = sides(params["padding"], x, "Pad")
    name = f"nn.{_MODULES[params['mode']]}{len(pad) // 2}d"
    if params["mode"] == "constant":
        return f"{name}({fmt(pad)}, {fmt(params['value'])})"
    return f"{name}({fmt(pad)})"


register(LayerSpec(
    type="Pad", category="shape", title="Pad",
    help="Adds a border around a map: zeros or a constant, the mirrored image (reflect — no hard "
         "edge for the next convolution to see), the repeated edge (replicate) or the opposite "
         "side (circular). Sides may differ: (0, 1, 0, 1) adds one column right and one row below.",
    inputs=IN, outputs=OUT,
    params=(p_ints("padding", 1, _ORDER_HELP),
            p_choice("mode", "constant", tuple(_MODULES), "what the border holds"),
            p_float("value", 0.0, "the constant, for mode constant")),
    infer=_infer_pad, module=_pad_module,
))


def _infer_crop(params, inputs):
    x = single(inputs)
    cut = sides(params["crop"], x, "Crop")
    why = f"cropping {fmt(cut)} removes more than {format_shape(x.shape)} holds"
    return Inference({"out": resized(x, tuple(-c for c in cut), "Crop", why)})


def _crop_module(params, inputs):
    x = single(inputs)
    cut = sides(params["crop"], x, "Crop")
    return f"nn.ConstantPad{len(cut) // 2}d({fmt(tuple(-c for c in cut))}, 0.0)"


register(LayerSpec(
    type="Crop", category="shape", title="Crop",
    help="Removes a border: the original U-Net's valid convolutions shrink every map, so each skip "
         "connection is cropped to the size of the upsampled map it joins. Sides may differ: "
         "(0, 1, 0, 1) removes the last column and row.",
    inputs=IN, outputs=OUT,
    params=(p_ints("crop", 1, "how much to remove: " + _ORDER_HELP),),
    infer=_infer_crop, module=_crop_module,
))
