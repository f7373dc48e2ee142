"""The state of one import: which ONNX values are graph tensors and which are constants.

Converters (interop.onnx_ops) read attributes and inputs through a `Builder` and add registry
nodes with `Builder.add`, which computes each new node's output type with the node's own
spec, so a mapping that does not fit fails at once with the spec's message. Shapes here
exclude the batch axis, as everywhere in Netwright; ONNX axes count it as 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import graph_core as gc
from graph_core import Edge, Graph, Node, TensorType

from .onnx_names import file_initializers, readable_label

if TYPE_CHECKING:
    import onnx


class Unmappable(Exception):
    """This ONNX node has no Netwright equivalent; the message says why."""


@dataclass(frozen=True)
class Value:
    """A tensor in the graph being built: the node and port that produce it, and its type."""

    node: str
    port: str
    type: TensorType
    layout: str = "batch"  # "time": the same tensor seen time-major (L, N, F), as ONNX RNNs read it;
    # "rnn" / "rnn_t": an ONNX RNN's Y (L, dirs, N, H) / (L, N, dirs, H) of a registry RNN's (L, dirs·H);
    # "state" / "state_c": an ONNX RNN's Y_h / an LSTM's Y_c (dirs, N, H), the registry layer's `state`
    dirs: int = 1  # directions of the recurrent layer behind an "rnn"/"rnn_t" value

    def onnx_shape(self, batch: int) -> tuple[int, ...]:
        """The sizes ONNX sees for this value, with `batch` for the batch axis."""
        if self.layout == "batch":
            return (batch,) + self.shape
        if self.layout in ("state", "state_c"):
            return (self.shape[0], batch, self.shape[1])
        length, features = self.shape
        return {"time": (length, batch, features),
                "rnn": (length, self.dirs, batch, features // self.dirs),
                "rnn_t": (length, batch, self.dirs, features // self.dirs)}[self.layout]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.type.shape

    @property
    def rank(self) -> int:
        """The rank as ONNX counts it (with the batch axis)."""
        return self.type.rank + 1


@dataclass
class PendingPad:
    """A zero Pad that the convolution or average pool after it absorbs as its padding."""

    source: Value
    pads: tuple[int, ...]  # per spatial axis, the same before and after


@dataclass
class Builder:
    """Everything converters share while one model is imported.

    Attributes:
        graph: the Netwright graph so far.
        values: ONNX value name -> graph tensor.
        consts: ONNX value name -> folded constant.
        weights: node id -> torch tensor name -> array (the node's module's own tensors).
        consumers: ONNX value name -> the ONNX nodes that read it.
        opset: the model's ai.onnx opset.
        batch: the fixed batch size of the model's inputs, None when symbolic.
        pending_pads: ONNX value name -> a Pad waiting to be folded into its consumer.
        sources: node id -> the ONNX node it came from (for fusions that revisit a node).
        graph_outputs: names of the model's outputs.
        origins: folded constant -> the initializers it was computed from.
        file_names: Input/Output node id -> the file's graph input/output name.
        initializers: names of the file's initializers.
        outputs: node id -> its output ports' types.
        batch_zeros: constants of zeros whose first size is the batch (an RNN's initial state).
        masks: (attention node id, port) -> the (ids input, pad id) the file masks there, or None.
        implied_params: numbers a mapped layer learns that the exporter folded away as zeros
            (an attention's output bias): counted among the file's parameters.
        not_learned: constants a layer reads that are fixed, not learned (a sinusoidal table).
    """

    graph: Graph
    opset: int
    consumers: dict[str, list[onnx.NodeProto]]
    values: dict[str, Value] = field(default_factory=dict)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    batch: int | None = None
    pending_pads: dict[str, PendingPad] = field(default_factory=dict)
    sources: dict[str, onnx.NodeProto] = field(default_factory=dict)
    graph_outputs: set[str] = field(default_factory=set)
    origins: dict[str, set[str]] = field(default_factory=dict)
    file_names: dict[str, str] = field(default_factory=dict)
    initializers: set[str] = field(default_factory=set)
    outputs: dict[str, dict[str, TensorType]] = field(default_factory=dict)
    batch_zeros: set[str] = field(default_factory=set)
    masks: dict[tuple[str, str], tuple[str, int] | None] = field(default_factory=dict)
    implied_params: int = 0
    not_learned: set[str] = field(default_factory=set)

    # ---- reading the ONNX node -------------------------------------------------------------

    def const(self, name: str) -> np.ndarray | None:
        """The folded constant called `name`, or None (also for an omitted optional input)."""
        return self.consts.get(name) if name else None

    def need_const(self, node: onnx.NodeProto, index: int, what: str) -> np.ndarray:
        name = node.input[index] if index < len(node.input) else ""
        value = self.const(name)
        if value is None:
            raise Unmappable(f"its {what} must be a constant (weights stored in the file); "
                             f"{name or 'it'} is computed by the network")
        return value

    def any_value(self, name: str) -> Value | None:
        """The graph tensor called `name` in whatever layout, or None."""
        return self.values.get(name)

    def from_file(self, name: str) -> bool:
        """True when the constant `name` holds numbers from the file's initializers."""
        return bool(self.origins.get(name, {name}) & self.initializers)

    def value(self, name: str) -> Value:
        """The graph tensor called `name`; a constant there cannot be wired."""
        if name in self.values:
            v = self.values[name]
            if v.layout in ("state", "state_c"):
                raise Unmappable(f"reads {name}, a recurrent layer's final state; only another recurrent "
                                 "layer's initial state may read it (wire state into h0)")
            if v.layout != "batch":
                raise Unmappable(f"reads {name}, a sequence laid out time-major (L, N, F); only a recurrent "
                                 "layer, a recognised attention, or the Transpose back to batch-first may read it")
            return v
        if name in self.pending_pads:
            raise Unmappable(f"reads {name}, a Pad that only a convolution or average pool can absorb")
        if name in self.consts:
            raise Unmappable(f"takes the constant {name} where a layer input is needed; no node "
                             "holds a fixed tensor")
        raise Unmappable(f"reads {name}, which no mapped node produces")

    def output_used(self, node: onnx.NodeProto, index: int) -> bool:
        name = node.output[index] if index < len(node.output) else ""
        return bool(name) and (bool(self.consumers.get(name)) or name in self.graph_outputs)

    # ---- building ---------------------------------------------------------------------------

    def add(self, node: onnx.NodeProto, type_name: str, params: Mapping[str, Any],
            inputs: Sequence[Value] | Mapping[str, Sequence[Value]],
            weights: Mapping[str, np.ndarray] | None = None, suffix: str = "") -> Value:
        """Add a registry node fed by `inputs` and return its `out` tensor.

        Raises:
            Unmappable: the spec refuses these parameters or these input shapes.
        """
        spec = gc.get_spec(type_name)
        wired = {"in": list(inputs)} if not isinstance(inputs, Mapping) else {k: list(v) for k, v in inputs.items()}
        clean = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        try:
            resolved = spec.resolve(clean)
            inference = spec.infer(resolved, {k: [v.type for v in vs] for k, vs in wired.items()})
        except (gc.ShapeError, gc.ParamError) as exc:
            raise Unmappable(f"as {type_name}: {exc.message}") from None
        label = readable_label(node, file_initializers(node, self.origins, self.initializers))
        nid = self.graph.unique_id(_id_stem(label, type_name) + suffix)
        self.graph.nodes[nid] = Node(nid, type_name, clean, name=label + suffix)
        for port, vs in wired.items():
            for v in vs:
                self.graph.edges.append(Edge((v.node, v.port), (nid, port)))
        if weights:
            self.weights[nid] = {k: np.ascontiguousarray(w, dtype=np.float32) for k, w in weights.items()}
        self.sources[nid] = node
        self.outputs[nid] = dict(inference.outputs)
        return Value(nid, "out", inference.outputs["out"])

    def port(self, value: Value, port: str) -> Value:
        """Another output port of the node that produced `value`."""
        return Value(value.node, port, self.outputs[value.node][port])

    def set_output(self, node: onnx.NodeProto, value: Value, index: int = 0) -> None:
        self.values[node.output[index]] = value

    def feature_shape(self, name: str) -> tuple[int, ...]:
        return self.value(name).shape


def attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """A node's attributes as plain Python values (strings decoded)."""
    from onnx import helper

    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, float):
            value = _short_float(value)
        elif isinstance(value, list) and value and all(isinstance(v, float) for v in value):
            value = [_short_float(v) for v in value]
        elif isinstance(value, list) and value and all(isinstance(v, bytes) for v in value):
            value = [v.decode("utf-8", "replace") for v in value]
        out[attr.name] = value
    return out


def _short_float(value: float) -> float:
    # ONNX stores float32: 1e-3 arrives as 0.0010000000474974513; the shortest decimal that is
    # the same float32 keeps the graph file readable and loses nothing
    return float(str(np.float32(value)))


def _id_stem(label: str, type_name: str) -> str:
    """The id a label gives: its module path in snake case, led by the layer kind where the path
    is a bare index (a top-level nn.Sequential's `0`, `3.1`: `conv2d_0`, `dense_3_1`)."""
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", label).strip("_").lower()
    if not stem[:1].isalpha():
        stem = f"{type_name.lower()}_{stem}" if stem else type_name.lower()
    return stem


def axis_of(axis: int, rank: int, what: str = "axis") -> int:
    """A non-negative ONNX axis; the batch axis (0) is refused."""
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise Unmappable(f"{what} {axis} is outside a rank-{rank} tensor")
    if a == 0:
        raise Unmappable(f"works along the batch axis ({what} {axis}); Netwright layers act per sample")
    return a
