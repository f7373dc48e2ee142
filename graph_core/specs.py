"""The layer-spec registry: one `LayerSpec` per node type, keyed by the type string written to files.

Everything else is derived from a spec: the palette (category, name, help), the inspector form
(parameters with semantic kinds), ports, shape and parameter-count inference, and the PyTorch
code a node compiles to. Adding a layer type is adding one spec; `register()` refuses duplicates.
This module imports neither torch nor Qt: inference is arithmetic, emission is text.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Semantic parameter kinds. The designer maps each to a widget; graph_core only checks values.
PARAM_KINDS = ("int", "float", "bool", "choice", "ints", "shape", "text")
PORT_KINDS = ("tensor", "indices", "state", "mask", "memory", "weights")
# What each port kind carries, in the words a refusal uses.
KIND_WORDS = {"tensor": "a tensor", "indices": "pool indices", "state": "a recurrent state",
              "mask": "a mask", "memory": "an encoder's memory", "weights": "attention weights"}
# Destination kind -> source kinds that fit it besides its own. A mask, a memory or a value
# port takes any tensor (a mask from the data, an encoder's output); attention weights are a
# tensor like any other downstream. Pool indices and recurrent states fit nowhere else: their
# batch axis or their meaning is not a tensor's.
_FITS = {"tensor": ("weights",), "mask": ("tensor",), "memory": ("tensor",)}
_KIND_HINTS = {
    "indices": "wire the 'indices' output of the MaxPool this unpool mirrors",
    "state": "a recurrent state comes from the 'state' output of an RNN, LSTM or GRU",
}
_SOURCE_HINTS = {
    "indices": "pool indices only go into a MaxUnpool's 'indices' port",
    "state": "a state (batch axis in the middle) only starts another recurrent layer (its 'h0'); "
             "to use the last step, wire 'out' through a Select",
}


def kind_fits(src_kind: str, dst_kind: str) -> bool:
    """Whether a wire from an output of `src_kind` may end at an input of `dst_kind`."""
    return src_kind == dst_kind or src_kind in _FITS.get(dst_kind, ())


def kind_hint(src_kind: str, dst_kind: str) -> str:
    """What to do instead of wiring a `src_kind` output into a `dst_kind` input that it does not fit."""
    if src_kind in _SOURCE_HINTS and dst_kind not in _KIND_HINTS:
        return _SOURCE_HINTS[src_kind]
    return _KIND_HINTS.get(dst_kind) or _SOURCE_HINTS.get(src_kind, "")


DTYPES = ("float32", "int64")


class ShapeError(Exception):
    """A node cannot compute its output from what arrives; the message says what to change."""

    def __init__(self, message: str, port: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.port = port


class ParamError(ValueError):
    """A parameter value is of the wrong type or out of range."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class PoolOrigin:
    """What a MaxUnpool needs to know about the pool whose indices it receives."""

    node: str
    input_shape: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]


@dataclass(frozen=True)
class TensorType:
    """What travels along a wire, without the batch axis."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    kind: str = "tensor"
    pool: PoolOrigin | None = None
    cell: str = ""  # for a recurrent state: the type that made it (an LSTM's is a pair (h, c))
    sequence: bool = False  # (L, F): one feature vector per position, so per-position layers fit

    def __str__(self) -> str:
        return format_shape(self.shape)

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class Inference:
    """The result of a spec's shape function for one node."""

    outputs: dict[str, TensorType]
    params: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PortSpec:
    name: str
    kind: str = "tensor"
    multi: bool = False
    optional: bool = False
    help: str = ""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its PyTorch name, semantic kind, default, range and a line of help.

    `kind` is one of PARAM_KINDS. For "ints" (an int or a tuple of ints, like kernel_size)
    `words` lists strings also accepted ("same", "valid"). `nullable` admits None.
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    nullable: bool = False

    def check(self, value: Any) -> Any:
        """Return the value in canonical form, or raise ParamError saying what is wrong."""
        if value is None:
            if self.nullable:
                return None
            raise ParamError(self.name, "a value is required")
        checker = _CHECKERS[self.kind]
        return checker(self, value)


InferFn = Callable[[Mapping[str, Any], Mapping[str, Sequence[TensorType]]], Inference]
ModuleFn = Callable[[Mapping[str, Any], Mapping[str, Sequence[TensorType]]], "str | None"]
ForwardFn = Callable[[str, Mapping[str, Sequence[str]], Mapping[str, Any]], str]
# Names of a multi-output forward's results, one per output port; a tuple unpacks a pair.
ResultsFn = Callable[[Mapping[str, Any]], tuple["str | tuple[str, ...]", ...]]


def call_forward(module: str, args: Mapping[str, Sequence[str]], params: Mapping[str, Any]) -> str:
    """The usual forward line: the node's module applied to its one input."""
    return f"{module}({args['in'][0]})"


@dataclass(frozen=True)
class LayerSpec:
    """Everything Netwright knows about one node type.

    Attributes:
        type: the stable string written to files.
        category: palette group (io, dense, conv, pool, unpool, embedding, generative, shape,
            normalise, activation, block).
        help: one line that explains the concept as a good course would.
        inputs / outputs: the ports.
        params: the node's own parameters (sizes that follow from the wiring are never here).
        infer: pure shape-and-parameter function; raises ShapeError.
        module: the constructor expression of the node's nn.Module (None for stateless nodes).
        forward: the forward expression, given the module reference and argument names.
        onnx: None when the node exports to ONNX, else the reason it cannot.
        results: for a layer whose call returns several values (`out, (h, c) = self.lstm(x)`),
            the name of each result, one per output port; a tuple names a pair unpacked in place.
        helper: given the parameters, the source of a small class or function the module needs
            (emitted once per file; "" for none): a causal mask, a sinusoidal encoding.
        padding_mask: input ports whose padded positions the layer ignores; where a port's
            positions come from token ids with a pad id, the generated code passes the mask
            as the `<port>_padding` argument of `forward` (see `graph_core.padding`).
    """

    type: str
    category: str
    help: str
    inputs: tuple[PortSpec, ...]
    outputs: tuple[PortSpec, ...]
    params: tuple[ParamSpec, ...]
    infer: InferFn
    module: ModuleFn | None = None
    forward: ForwardFn = call_forward
    onnx: str | None = None
    title: str = ""
    results: ResultsFn | None = None
    helper: Callable[[Mapping[str, Any]], str] | None = None
    padding_mask: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return self.title or self.type

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def input_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.outputs if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with the given values, each checked; raises ParamError."""
        # Inference resolves every node on every edit; the same few parameter sets recur, so
        # remember the checked result. The key is the values' repr: file values are JSON data
        # (numbers, text, lists), whose repr tells 1 from 1.0 from True.
        key = (self.type, repr(given))
        cached = _RESOLVED.get(key)
        if cached is None:
            cached = self._resolve(given)
            if len(_RESOLVED) > 4096:
                _RESOLVED.clear()
            _RESOLVED[key] = cached
        return dict(cached)

    def _resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(given) - {p.name for p in self.params})
        if unknown:
            known = f"(it has: {', '.join(p.name for p in self.params)})" if self.params else "(it has none)"
            raise ParamError(unknown[0], f"{self.type} has no parameter {unknown[0]!r} {known}")
        return {p.name: p.check(given.get(p.name, p.default)) for p in self.params}


_REGISTRY: dict[str, LayerSpec] = {}
_RESOLVED: dict[tuple[str, str], dict[str, Any]] = {}


def register(spec: LayerSpec) -> LayerSpec:
    """Add a spec to the registry; a type string may be registered once."""
    if spec.type in _REGISTRY:
        raise ValueError(f"layer type {spec.type!r} is already registered")
    for p in spec.params:
        if p.kind not in PARAM_KINDS:
            raise ValueError(f"{spec.type}.{p.name}: unknown parameter kind {p.kind!r}")
        p.check(p.default)  # a default that fails its own check is a bug in the spec
    for port in spec.inputs + spec.outputs:
        if port.kind not in PORT_KINDS:
            raise ValueError(f"{spec.type}.{port.name}: unknown port kind {port.kind!r}")
    _REGISTRY[spec.type] = spec
    return spec


def get_spec(type_name: str) -> LayerSpec:
    """The spec of a type string; KeyError names the unknown type."""
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise KeyError(f"unknown node type {type_name!r}") from None


def has_spec(type_name: str) -> bool:
    return type_name in _REGISTRY


def all_specs() -> list[LayerSpec]:
    """Every registered spec, in registration order (the palette's order)."""
    return list(_REGISTRY.values())


def format_shape(shape: Sequence[int] | None) -> str:
    if shape is None:
        return "?"
    if len(shape) == 1:
        return f"({_dim(shape[0])},)"
    return "(" + ", ".join(_dim(s) for s in shape) + ")"


def _dim(size: int) -> str:
    return str(size) if -10**15 < size < 10**15 else format_count(size)


def one_line(text: str) -> str:
    """`text` as one printable line: control characters, line and paragraph separators and lone
    surrogates written as escapes (\\n, \\u2028, \\udcff), so a message naming a hostile id
    stays one line a UTF-8 terminal can show."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " or unicodedata.category(c) not in _BREAKING
                   else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text)


_BREAKING = ("Cc", "Zl", "Zp", "Cs")


def format_count(n: int) -> str:
    """A count as people read it: 1,234,567; past 10^15 (no real layer) 1.23e+20 or, past what
    a float holds, about 10^300 — never a line of digits."""
    if abs(n) < 10**15:
        return f"{n:,}"
    if abs(n) < 10**300:
        return f"{float(n):.3g}"
    return f"about 10^{len(str(abs(n))) - 1}"


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


# ---- parameter checkers -------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _range(spec: ParamSpec, v: float) -> None:
    if spec.minimum is not None and v < spec.minimum:
        raise ParamError(spec.name, f"must be at least {_num(spec.minimum)}; got {_num(v)}")
    if spec.maximum is not None and v > spec.maximum:
        raise ParamError(spec.name, f"must be at most {_num(spec.maximum)}; got {_num(v)}")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _check_int(spec: ParamSpec, v: Any) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not _is_int(v):
        raise ParamError(spec.name, f"must be a whole number; got {v!r}")
    _range(spec, v)
    return v


def _check_float(spec: ParamSpec, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ParamError(spec.name, f"must be a number; got {v!r}")
    _range(spec, float(v))
    return float(v)


def _check_bool(spec: ParamSpec, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ParamError(spec.name, f"must be true or false; got {v!r}")
    return v


def _check_choice(spec: ParamSpec, v: Any) -> str:
    if v not in spec.choices:
        raise ParamError(spec.name, f"must be one of {', '.join(spec.choices)}; got {v!r}")
    return v


def _check_ints(spec: ParamSpec, v: Any) -> int | str | tuple[int, ...]:
    if isinstance(v, str):
        if v in spec.words:
            return v
        options = ["a whole number", "a list of them", *(repr(w) for w in spec.words)]
        raise ParamError(spec.name, f"must be {', '.join(options[:-1])} or {options[-1]}; got {v!r}")
    if isinstance(v, list | tuple):
        if not v:
            raise ParamError(spec.name, "must not be an empty list")
        return tuple(_check_int(spec, x) for x in v)
    return _check_int(spec, v)


def _check_shape(spec: ParamSpec, v: Any) -> tuple[int, ...]:
    if not isinstance(v, list | tuple):
        raise ParamError(spec.name, f"must be a list of whole numbers; got {v!r}")
    out = []
    for x in v:
        if not _is_int(x) or (x < 1 and x != -1) or (x == -1 and spec.minimum != -1):
            raise ParamError(spec.name, f"sizes must be positive whole numbers; got {list(v)!r}")
        out.append(x)
    if out.count(-1) > 1:
        raise ParamError(spec.name, "at most one size may be -1")
    return tuple(out)


def _check_text(spec: ParamSpec, v: Any) -> str:
    if not isinstance(v, str):
        raise ParamError(spec.name, f"must be text; got {v!r}")
    return v


_CHECKERS: dict[str, Callable[[ParamSpec, Any], Any]] = {
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "choice": _check_choice,
    "ints": _check_ints,
    "shape": _check_shape,
    "text": _check_text,
}
