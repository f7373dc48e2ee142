"""Where a sequence's padding comes from, so attention can ignore padded positions by itself.

Sentences of different lengths are padded with a pad id to one length. An Embedding with a
padding_idx says which id that is, and its Input says which token ids to look at; following the
wires from an attention layer's input back through layers that keep the positions in place
(dense layers, norms, activations, sums, positional information, other attention and recurrent
layers) to such an Embedding finds the mask `tokens == pad id` without anyone wiring it.
"""

from __future__ import annotations

from collections.abc import Iterator

from .graph import Graph
from .specs import has_spec

# Layers whose output position i is computed at input position i (on the port followed).
_FOLLOW = {
    "Dense": ("in",), "Dropout": ("in",), "LayerNorm": ("in",), "Identity": ("in",),
    "ReLU": ("in",), "LeakyReLU": ("in",), "GELU": ("in",), "Tanh": ("in",), "Sigmoid": ("in",),
    "SiLU": ("in",), "Add": ("in",), "Multiply": ("in",),
    "PositionalEmbedding": ("in",), "PositionalEncoding": ("in",),
    "TransformerEncoderLayer": ("in",), "TransformerDecoderLayer": ("in",),
    "MultiheadAttention": ("query",), "RNN": ("in",), "LSTM": ("in",), "GRU": ("in",),
}


def padding_source(graph: Graph, node_id: str, port: str) -> tuple[str, int] | None:
    """(Input node id, pad id) of the token ids behind what arrives on `node_id`.`port`, or None.

    None when the positions do not come, unchanged, from an Embedding with a padding_idx fed
    directly by an Input (a float input, a Conv1d in between, no padding_idx set).
    """
    for embedding in _embeddings_behind(graph, node_id, port):
        found = _embedding_source(graph, embedding)
        if found is not None:
            return found
    return None


def _embedding_source(graph: Graph, node_id: str) -> tuple[str, int] | None:
    params = graph.nodes[node_id].params
    pad = params.get("padding_idx")
    if pad is None or params.get("channels_first"):
        return None
    for e in graph.edges_into(node_id, "in"):
        src = graph.nodes.get(e.src[0])
        if src is not None and src.type == "Input":
            return src.id, int(pad)
    return None


def embedding_behind(graph: Graph, node_id: str, port: str) -> str | None:
    """The Embedding (reading ids, not channels-first) whose positions arrive on `node_id`.`port`
    through layers that keep them in place, padding_idx set or not: where a padding_idx would
    make `padding_source` find a mask (an importer sets it there)."""
    return next((e for e in _embeddings_behind(graph, node_id, port)
                 if not graph.nodes[e].params.get("channels_first")), None)


def _embeddings_behind(graph: Graph, node_id: str, port: str) -> Iterator[str]:
    """The Embeddings reached going back from `node_id`.`port` through the layers of _FOLLOW,
    nearest first (the walk stops at each Embedding)."""
    seen: set[str] = set()
    wires = list(graph.edges_into(node_id, port))
    while wires:
        src = wires.pop(0).src[0]
        node = graph.nodes.get(src)
        if node is None or src in seen or not has_spec(node.type):
            continue
        seen.add(src)
        if node.type == "Embedding":
            yield src
            continue
        for follow in _FOLLOW.get(node.type, ()):
            wires.extend(graph.edges_into(src, follow))
