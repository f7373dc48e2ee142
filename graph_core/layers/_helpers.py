"""Small pieces shared by the spec definitions: port and parameter constructors, input access,
and the arithmetic of sliding windows."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..specs import ParamSpec, PortSpec, ShapeError, TensorType, format_shape

IN = (PortSpec("in", help="the tensor this layer transforms"),)
OUT = (PortSpec("out", help="the transformed tensor"),)

RANK_NAMES = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}


def p_int(name: str, default: int | None, help: str, minimum: int | None = 1, maximum: int | None = None,
          nullable: bool = False) -> ParamSpec:
    return ParamSpec(name, "int", default, help, minimum=minimum, maximum=maximum, nullable=nullable)


def p_float(name: str, default: float, help: str, minimum: float | None = None,
            maximum: float | None = None) -> ParamSpec:
    return ParamSpec(name, "float", default, help, minimum=minimum, maximum=maximum)


def p_bool(name: str, default: bool, help: str) -> ParamSpec:
    return ParamSpec(name, "bool", default, help)


def p_choice(name: str, default: str, choices: Sequence[str], help: str) -> ParamSpec:
    return ParamSpec(name, "choice", default, help, choices=tuple(choices))


def p_ints(name: str, default: Any, help: str, minimum: int = 0, words: Sequence[str] = (),
           nullable: bool = False) -> ParamSpec:
    return ParamSpec(name, "ints", default, help, minimum=minimum, words=tuple(words), nullable=nullable)


def single(inputs: Mapping[str, Sequence[TensorType]], port: str = "in") -> TensorType:
    """The one tensor on a one-wire port."""
    wires = inputs.get(port) or ()
    if len(wires) != 1:
        raise ShapeError(f"needs exactly one wire on '{port}'", port)
    return wires[0]


def expand(value: Any, rank: int, name: str) -> tuple[int, ...]:
    """An int or a tuple of `rank` ints, as a tuple."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise ShapeError(f"{name} has {len(value)} values but this layer works on {rank} spatial axes")
    return tuple(value)


def spatial_input(x: TensorType, rank: int, type_name: str) -> tuple[int, tuple[int, ...]]:
    """Split a (C, *spatial) input; a wrong rank is a shape error that says what to do."""
    if x.rank != rank + 1:
        hint = ""
        if x.rank == 1:
            hint = " — remove the Flatten or add a Reshape"
        elif x.rank - 1 not in RANK_NAMES:
            hint = f" — add a Reshape to {RANK_NAMES[rank]}"
        elif x.rank > rank + 1:
            hint = f" — use the {x.rank - 1}d variant"
        else:
            hint = f" — use the {x.rank - 1}d variant or add a Reshape"
        raise ShapeError(f"{type_name} needs a {RANK_NAMES[rank]} input; got {format_shape(x.shape)}{hint}", "in")
    float_input(x, type_name)
    return x.shape[0], x.shape[1:]


def float_input(x: TensorType, type_name: str) -> TensorType:
    """The tensor, or a ShapeError when it holds integer ids rather than numbers to compute on."""
    if x.dtype != "float32":
        raise ShapeError(f"{type_name} needs float input; got {x.dtype} — add a OneHot or Embedding first", "in")
    return x


def window_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
               ceil_mode: bool = False) -> int:
    """Output length of a sliding window (convolution or pooling), as PyTorch computes it."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= size + padding:  # the last window must start inside the input
            out -= 1
    else:
        out = span // stride + 1
    return out


def check_positive(shape: Sequence[int], type_name: str, why: str | Callable[[], str]) -> tuple[int, ...]:
    """The shape, or a ShapeError when a size is below 1; `why` may be a function, so the
    message is only built when needed (inference runs on every edit of the canvas)."""
    if any(s < 1 for s in shape):
        reason = why() if callable(why) else why
        raise ShapeError(f"{type_name} would produce {format_shape(tuple(shape))}: {reason}")
    return tuple(shape)


def fmt(value: Any) -> str:
    """A validated parameter value as Python source (numbers, tuples, bools, None, choices)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(fmt(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bool | int) or value is None:
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    raise TypeError(f"cannot emit {value!r}")


def kwargs(params: Mapping[str, Any], names: Sequence[str], defaults: Mapping[str, Any]) -> str:
    """`, name=value` for each named parameter that differs from PyTorch's default."""
    parts = [f"{n}={fmt(params[n])}" for n in names if params[n] != defaults.get(n, object())]
    return "".join(", " + p for p in parts)


def changed_kwargs(params: Mapping[str, Any], defaults: Sequence[tuple[str, Any]]) -> str:
    """', key=value' for each parameter that differs from PyTorch's default, in the given order:
    the constructor a person would write names only what they changed."""
    return "".join(f", {key}={fmt(params[key])}" for key, default in defaults if params[key] != default)
