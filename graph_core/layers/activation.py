"""More activations, with PyTorch's names and defaults: the clamps of mobile networks (ReLU6,
Hardtanh, Hardswish, Hardsigmoid), the smooth ones (SiLU, ELU, Softplus) and PReLU, whose
negative slope is learned. Each keeps its input's shape."""

from __future__ import annotations

from ..specs import Inference, LayerSpec, ShapeError, register
from ._helpers import IN, OUT, float_input, fmt, kwargs, p_float, p_int, single


def _float(type_name):
    def infer(params, inputs):
        return Inference({"out": float_input(single(inputs), type_name)})

    return infer


def _activation(type_name, title, help, params=(), infer=None, module=None):
    names = [p.name for p in params]
    defaults = {p.name: p.default for p in params}

    def plain_module(p, i):
        return f"nn.{type_name}({kwargs(p, names, defaults)[2:]})"

    register(LayerSpec(type=type_name, category="activation", title=title, help=help, inputs=IN,
                       outputs=OUT, params=tuple(params), infer=infer or _float(type_name),
                       module=module or plain_module))


_activation("ReLU6", "ReLU6", "min(max(0, x), 6): a ReLU clamped at 6, so activations stay in a "
            "range low-precision arithmetic keeps exact — MobileNet's activation.")


def _infer_hardtanh(params, inputs):
    if params["min_val"] >= params["max_val"]:
        raise ShapeError(f"min_val ({params['min_val']:g}) must be below max_val ({params['max_val']:g})")
    return Inference({"out": float_input(single(inputs), "Hardtanh")})


_activation("Hardtanh", "Hardtanh", "Clamps to [min_val, max_val]: a piecewise-linear tanh. "
            "ReLU6 is Hardtanh(0, 6).",
            (p_float("min_val", -1.0, "lower end of the linear region"),
             p_float("max_val", 1.0, "upper end of the linear region")), _infer_hardtanh)
_activation("SiLU", "SiLU (swish)", "x·sigmoid(x): a smooth ReLU that lets small negatives through; "
            "EfficientNet's and many diffusion U-Nets' activation.")
_activation("Hardswish", "Hardswish", "x·ReLU6(x + 3)/6: a cheap piecewise version of SiLU "
            "(MobileNetV3).")
_activation("Hardsigmoid", "Hardsigmoid", "ReLU6(x + 3)/6: a cheap piecewise sigmoid (MobileNetV3's "
            "squeeze-and-excitation gates).")
_activation("ELU", "ELU", "x for positives, alpha·(exp(x) - 1) for negatives: smooth, and its mean "
            "output is nearer zero than ReLU's.",
            (p_float("alpha", 1.0, "the value negative inputs approach"),))


def _infer_prelu(params, inputs):
    x = float_input(single(inputs), "PReLU")
    n = params["num_parameters"]
    if n != 1 and (x.rank == 0 or x.shape[0] != n):
        raise ShapeError(f"PReLU with num_parameters={n} needs {n} channels on axis 1; got "
                         f"{x.shape[0] if x.rank else 'none'} — use 1 (one shared slope) or the channel count")
    return Inference({"out": x}, n)


_activation("PReLU", "PReLU", "A leaky ReLU whose negative slope is learned: one slope shared by all "
            "values, or one per channel (num_parameters = channels).",
            (p_int("num_parameters", 1, "1 for one shared slope, or the number of channels"),
             p_float("init", 0.25, "the slope's starting value")), _infer_prelu)
_activation("Softplus", "Softplus", "log(1 + exp(beta·x))/beta: a smooth ReLU that is always "
            "positive — a standard deviation or rate that must stay above zero.",
            (p_float("beta", 1.0, "sharpness: larger is closer to ReLU", minimum=1e-6),
             p_float("threshold", 20.0, "above beta·x > threshold the output is x (for stability)")))

# ---- dropout of whole channels -------------------------------------------------------------


def _infer_dropout2d(params, inputs):
    x = float_input(single(inputs), "Dropout2d")
    if x.rank != 3:
        raise ShapeError(f"Dropout2d drops whole channels of a (C, H, W) map; got {x.shape} — use "
                         "Dropout for other shapes", "in")
    return Inference({"out": x})


register(LayerSpec(
    type="Dropout2d", category="normalise", title="Dropout 2D",
    help="While training, zeroes whole channels of a (C, H, W) map with probability p: neighbouring "
         "pixels are correlated, so dropping single values would hardly regularise a conv net.",
    inputs=IN, outputs=OUT,
    params=(p_float("p", 0.5, "probability of dropping a channel", 0.0, 1.0),),
    infer=_infer_dropout2d,
    module=lambda p, i: f"nn.Dropout2d(p={fmt(p['p'])})",
))
