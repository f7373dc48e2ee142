"""ONNX LSTM, GRU and RNN operators onto the registry's recurrent layers (registered once those
layers exist).

Exporters feed an ONNX RNN a time-major sequence (a Transpose moves the batch to axis 1) and
get back Y of shape (L, directions, N, H), which a Squeeze or a Transpose + Reshape and a last
Transpose turn back into (N, L, directions·H). The registry's layers are batch-first and return
that last form directly, so those Transposes and Reshapes only change a layout tag on the value
(interop.onnx_build.Value.layout) and add no node. Gate order differs: ONNX writes LSTM gates
as (i, o, f, c) and GRU gates as (z, r, h); PyTorch as (i, f, g, o) and (r, z, n).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import graph_core as gc

from .onnx_build import Builder, Unmappable, Value, attributes
from .onnx_ops_more import rule_if

# ONNX gate blocks, in the order PyTorch keeps them
_ORDER = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2), "RNN": (0,)}
_TYPES = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN"}


def relayout(b: Builder, node, perm: list[int]) -> bool:
    """A Transpose that only changes how a recurrent layer's sequence is laid out; True if done."""
    v = b.any_value(node.input[0])
    if v is None or not gc.has_spec("LSTM"):
        return False
    moves = {("batch", (1, 0, 2)): "time", ("time", (1, 0, 2)): "batch", ("rnn", (0, 2, 1, 3)): "rnn_t"}
    layout = moves.get((v.layout, tuple(perm)))
    swapped = {("batch", (2, 0, 1)): "time", ("time", (1, 2, 0)): "batch"}.get((v.layout, tuple(perm)))
    if swapped and v.type.rank == 2 and gc.has_spec("Transpose"):
        # channels-first (C, L) read time-major, or time-major written back channels-first:
        # one Transpose node swaps (C, L) and (L, C), the rest is the view
        v = b.add(node, "Transpose", {"dim0": 1, "dim1": 2}, [replace(v, layout="batch")])
        layout = swapped
    if layout is None or (layout == "time" and v.type.rank != 2):
        return False
    b.set_output(node, replace(v, layout=layout))
    return True


def relayout_reshape(b: Builder, node, target: list[int]) -> bool:
    """Reshape (L, N, dirs, H) -> (L, N, dirs·H): the time-major sequence; True if done."""
    v = b.any_value(node.input[0])
    if v is None or v.layout != "rnn_t" or len(target) != 3:
        return False
    length, features = v.type.shape
    if target[0] not in (0, length) or target[2] not in (-1, features):
        return False
    b.set_output(node, replace(v, layout="time"))
    return True


def relayout_squeeze(b: Builder, node, axes: list[int]) -> bool:
    """Squeeze of the directions axis of a one-direction Y: the time-major sequence."""
    v = b.any_value(node.input[0])
    if v is None or v.layout != "rnn" or [a % 4 for a in axes] != [1]:
        return False
    b.set_output(node, replace(v, layout="time"))
    return True


def _gates(w: np.ndarray, kind: str) -> np.ndarray:
    blocks = np.split(np.asarray(w, np.float32), len(_ORDER[kind]), axis=0)
    return np.concatenate([blocks[k] for k in _ORDER[kind]], axis=0)


def _zero_state(b: Builder, node, index: int, what: str) -> None:
    name = node.input[index] if len(node.input) > index else ""
    if not name:
        return
    value = b.const(name)
    if value is None or np.any(value):
        raise Unmappable(f"starts from a given {what}; only a zero initial state maps (wire h0 by hand)")


def _initial_state(b: Builder, node, kind: str) -> Value | None:
    """The state a layer starts from: zeros (None), or another layer's final state (Y_h, and Y_c
    for an LSTM), which becomes a wire from that layer's state port into h0."""
    names = [node.input[k] if len(node.input) > k else "" for k in ((5, 6) if kind == "LSTM" else (5,))]
    given = [b.any_value(n) if n else None for n in names]
    if all(v is None for v in given):
        _zero_state(b, node, 5, "hidden state")
        if kind == "LSTM":
            _zero_state(b, node, 6, "cell state")
        return None
    layouts = ("state", "state_c")[: len(names)]
    if any(v is None or v.layout != want for v, want in zip(given, layouts)) or len({v.node for v in given}) != 1:
        what = "another LSTM's final h and c" if kind == "LSTM" else "another GRU's or RNN's final state"
        raise Unmappable(f"starts from {', '.join(n for n in names if n)}, which is not {what}; only a zero "
                         "state or such a state (wired into h0) maps")
    return Value(given[0].node, given[0].port, given[0].type)


def state_slice(b: Builder, node, starts, ends, axes) -> bool:
    """Slice of a final state (dirs, N, H) that keeps all of it (PyTorch takes h[0:layers]); True if
    done."""
    v = b.any_value(node.input[0])
    if v is None or v.layout not in ("state", "state_c"):
        return False
    dirs = v.shape[0]
    for start, end, axis in zip(starts, ends, axes):
        if axis % 3 == 1 or (axis % 3 == 0 and (start != 0 or end < dirs)) or (axis % 3 == 2 and (start != 0 or end < v.shape[1])):
            return False
    b.set_output(node, v)
    return True


def _recurrent(kind: str):
    def convert(b: Builder, node) -> None:
        a = attributes(node)
        x = b.any_value(node.input[0])
        if x is None or x.layout != "time":
            raise Unmappable("reads a sequence that is not the batch-first input transposed to time-major")
        if a.get("layout", 0) != 0 or a.get("clip") is not None or a.get("input_forget", 0):
            raise Unmappable("layout, clip or input_forget differ from what PyTorch's layers compute")
        direction = a.get("direction", "forward")
        if direction == "reverse":
            raise Unmappable("runs backwards only; the registry's layers run forwards or both ways")
        if kind == "GRU" and not a.get("linear_before_reset", 0):
            raise Unmappable("linear_before_reset=0 computes the candidate differently from PyTorch's GRU")
        acts = [s.lower() for s in a.get("activations", [])]
        nonlinearity = "tanh"
        if kind == "RNN" and acts and acts[0] == "relu":
            nonlinearity = "relu"
        elif acts and acts not in (["sigmoid", "tanh", "tanh"] * 2, ["sigmoid", "tanh", "tanh"],
                                   ["sigmoid", "tanh"] * 2, ["sigmoid", "tanh"], ["tanh"], ["tanh"] * 2):
            raise Unmappable(f"activations {acts} differ from PyTorch's")
        if len(node.input) > 4 and node.input[4]:
            raise Unmappable("takes per-sample sequence lengths; pack or pad the sequences instead")
        h0 = _initial_state(b, node, kind)
        if kind == "LSTM" and len(node.input) > 7 and node.input[7]:
            raise Unmappable("has peephole weights, which PyTorch's LSTM does not")
        w, r = b.need_const(node, 1, "W"), b.need_const(node, 2, "R")
        dirs, hidden = w.shape[0], int(a["hidden_size"])
        bias = b.const(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        tensors = {}
        for d, suffix in zip(range(dirs), ("", "_reverse")):
            tensors[f"weight_ih_l0{suffix}"] = _gates(w[d], kind)
            tensors[f"weight_hh_l0{suffix}"] = _gates(r[d], kind)
            both = np.zeros(2 * w.shape[1], np.float32) if bias is None else np.asarray(bias[d], np.float32)
            tensors[f"bias_ih_l0{suffix}"] = _gates(both[: w.shape[1]], kind)
            tensors[f"bias_hh_l0{suffix}"] = _gates(both[w.shape[1]:], kind)
        params = {"hidden_size": hidden, "num_layers": 1, "bidirectional": dirs == 2}
        if kind == "RNN":
            params["nonlinearity"] = nonlinearity
        inputs = {"in": [Value(x.node, x.port, x.type)]} | ({"h0": [h0]} if h0 is not None else {})
        out = b.add(node, _TYPES[kind], params, inputs, tensors)
        b.set_output(node, replace(out, layout="rnn", dirs=dirs))
        # Y_h (and an LSTM's Y_c): the final state, the registry layer's state port
        for k, layout in ((1, "state"), (2, "state_c")):
            if b.output_used(node, k):
                b.set_output(node, replace(b.port(out, "state"), layout=layout, dirs=dirs), k)

    return convert


for _kind in ("LSTM", "GRU", "RNN"):
    rule_if(_kind, _TYPES[_kind], "one layer, forward or bidirectional, starting from zeros or from "
            "another layer's final state (a state -> h0 wire); the Transposes and Reshapes around it "
            "that move the batch axis add no node")(_recurrent(_kind))
