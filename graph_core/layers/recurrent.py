"""Recurrent layers: RNN, LSTM and GRU over a sequence (L, F), batch first.

Each reads the sequence one step at a time, carrying a hidden state from step to step. Its
outputs are `out`, the top layer's state at every step (L, H·directions), and `state`, the
final state of every layer and direction: h for RNN and GRU, the pair (h, c) for an LSTM. A
state wired into another recurrent layer's `h0` starts it where the first stopped — the
encoder-decoder of a translator. The generated code reads as written by hand:
`out, (h, c) = self.encoder(x)`.
"""

from __future__ import annotations

from ..specs import Inference, LayerSpec, PortSpec, ShapeError, TensorType, format_shape, register
from ._helpers import changed_kwargs, fmt, p_bool, p_choice, p_float, p_int, single

# gates per cell: the weight matrices each layer learns per direction
_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}

_HELP = {
    "RNN": "A simple recurrent layer: at each step the new state is tanh(W·x + U·h + b), so what it "
           "read earlier flows into what it reads next. Long sequences make its gradient vanish; "
           "LSTM and GRU fix that with gates.",
    "LSTM": "Long short-term memory: a cell state c runs along the sequence, and input, forget and "
            "output gates decide what to write, keep and show. Remembers over long distances; its "
            "state is the pair (h, c).",
    "GRU": "Gated recurrent unit: an update gate blends the old state with a candidate, a reset gate "
           "decides how much of the past the candidate sees. Nearly as strong as an LSTM with 3/4 "
           "of its weights; the usual encoder and decoder of a small translator.",
}


def _infer(type_name: str):
    def infer(params, inputs):
        x = single(inputs)
        if x.dtype != "float32":
            raise ShapeError(f"{type_name} needs float vectors per step; got {x.dtype} token ids — "
                             "add an Embedding first", "in")
        if x.rank != 2:
            raise ShapeError(f"{type_name} needs a sequence (L, F); got {format_shape(x.shape)} — "
                             "add a Transpose (after OneHot or Conv1d, which give (C, L)) or a Reshape", "in")
        hidden, layers = params["hidden_size"], params["num_layers"]
        dirs = 2 if params["bidirectional"] else 1
        state_shape = (layers * dirs, hidden)
        _check_initial_state(type_name, inputs, state_shape)
        gates = _GATES[type_name]
        count = 0
        for layer in range(layers):
            n_in = x.shape[1] if layer == 0 else hidden * dirs
            per_direction = gates * hidden * (n_in + hidden)
            if params["bias"]:
                per_direction += 2 * gates * hidden
            count += dirs * per_direction
        warnings = ()
        if params["dropout"] and layers == 1:
            warnings = (f"dropout acts between stacked layers; with num_layers 1 this {type_name} has none",)
        state = TensorType(state_shape, kind="state", cell=type_name)
        return Inference({"out": TensorType((x.shape[0], hidden * dirs), sequence=True), "state": state}, count, warnings)

    return infer


def _check_initial_state(type_name: str, inputs, want: tuple[int, int]) -> None:
    wires = inputs.get("h0") or ()
    if not wires:
        return
    h0 = wires[0]
    if (h0.cell == "LSTM") != (type_name == "LSTM"):
        made = "an LSTM's pair (h, c)" if h0.cell == "LSTM" else f"a {h0.cell or 'plain'} state h"
        need = "the pair (h, c) of an LSTM" if type_name == "LSTM" else "a single state h"
        raise ShapeError(f"h0 receives {made}, but a {type_name} starts from {need} — use the same "
                         "kind of layer for encoder and decoder", "h0")
    if h0.shape != want:
        raise ShapeError(f"h0 carries a {format_shape(h0.shape)} state (layers·directions, hidden) but "
                         f"this {type_name} needs {format_shape(want)}: give both layers the same "
                         "hidden_size, num_layers and bidirectional", "h0")


def _module(type_name: str):
    def module(params, inputs):
        args = f"{single(inputs).shape[1]}, {params['hidden_size']}"
        if type_name == "RNN" and params["nonlinearity"] != "tanh":
            args += f", nonlinearity={fmt(params['nonlinearity'])}"
        args += changed_kwargs(params, (("num_layers", 1), ("bias", True), ("dropout", 0.0),
                                        ("bidirectional", False)))
        return f"nn.{type_name}({args}, batch_first=True)"

    return module


def _forward(module, args, params):
    h0 = args.get("h0") or []
    return f"{module}({args['in'][0]}, {h0[0]})" if h0 else f"{module}({args['in'][0]})"


def _results(type_name: str):
    state = ("h", "c") if type_name == "LSTM" else "h"
    return lambda params: ("out", state)


def _params(type_name: str):
    params = [
        p_int("hidden_size", 64, "length of the state vector carried from step to step"),
        p_int("num_layers", 1, "recurrent layers stacked, each reading the one below's outputs", maximum=16),
        p_bool("bidirectional", False, "also read the sequence backwards; doubles the output features"),
        p_float("dropout", 0.0, "dropout between stacked layers while training", 0.0, 1.0),
        p_bool("bias", True, "learn offsets in every gate"),
    ]
    if type_name == "RNN":
        params.insert(2, p_choice("nonlinearity", "tanh", ("tanh", "relu"), "activation of each step"))
    return tuple(params)


for _type in ("RNN", "LSTM", "GRU"):
    _state_words = "the pair (h, c)" if _type == "LSTM" else "h"
    register(LayerSpec(
        type=_type, category="recurrent", title=_type, help=_HELP[_type],
        inputs=(PortSpec("in", help="a sequence (L, F): one F-vector per step"),
                PortSpec("h0", kind="state", optional=True,
                         help=f"where to start: another {_type}'s final state ({_state_words}); zeros if unwired")),
        outputs=(PortSpec("out", help="the top layer's state at every step (L, hidden_size·directions)"),
                 PortSpec("state", kind="state",
                          help=f"the final state of every layer and direction ({_state_words}), "
                               "to start a decoder")),
        params=_params(_type),
        infer=_infer(_type), module=_module(_type), forward=_forward, results=_results(_type),
    ))
