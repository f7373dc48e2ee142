"""Which axis holds the features? Netwright's maps are channels first ((C, L), (C, H, W)), so a
Dense on a map mixes only the last (spatial) axis — usually a forgotten Flatten, and Dense warns.
Transformer-style graphs keep sequences features last ((L, F) after an Embedding, a LayerNorm or
attention) and apply Dense per position on purpose; there the warning would be noise. This walks
back from a wire through layers that keep the layout (activations, Dropout, Identity, Add...) to
the layer that set it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .graph import Edge, Graph
from .specs import get_spec, has_spec

# Layers whose output keeps features on the last axis (and the categories of such layers).
FEATURES_LAST_TYPES = frozenset({"Dense", "LayerNorm", "Transpose", "Permute", "MatMul", "Select"})
FEATURES_LAST_CATEGORIES = frozenset({"attention", "recurrent"})
# Layers that keep whatever layout arrives: look through them.
_KEEPS_LAYOUT = frozenset({"Dropout", "Identity", "Add", "Multiply"})


def features_last(graph: Graph, edge: Edge, incoming: Mapping[str, Sequence[Edge]] | None = None) -> bool:
    """True when the tensor on `edge` was laid out features-last by the layer that made it."""
    for _ in range(10_000):
        node = graph.nodes.get(edge.src[0])
        if node is None or not has_spec(node.type):
            return False
        spec = get_spec(node.type)
        if node.type in FEATURES_LAST_TYPES or spec.category in FEATURES_LAST_CATEGORIES:
            return True
        if node.type == "Embedding":
            return not node.params.get("channels_first", False)
        if node.type not in _KEEPS_LAYOUT and spec.category != "activation":
            return False
        wires = incoming.get(node.id, ()) if incoming is not None else graph.edges_into(node.id)
        wires = [e for e in wires if e.dst[1] == "in"]
        if not wires:
            return False
        edge = wires[0]
    return False
