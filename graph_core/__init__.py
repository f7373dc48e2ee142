"""graph_core: the Netwright document — layer specs, graphs, validation, inference, files, edits.

No Qt and no torch here: shape inference is arithmetic, so the canvas reacts instantly.
"""

from __future__ import annotations

from . import layers as _layers  # noqa: F401  (registers the catalogue)
from .commands import (
    AddNode,
    Command,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    RemoveNodes,
    Rename,
    SetFrozen,
    SetLrFactor,
    SetParam,
    SetSetting,
)
from .graph import UNSET, Edge, Graph, Node
from .grouping import GroupIntoBlock, Ungroup
from .padding import embedding_behind, padding_source
from .serialization import (
    SCHEMA_VERSION,
    GraphLoadError,
    graph_from_dict,
    graph_to_dict,
    graph_to_json,
    load_graph,
    loads_graph,
    save_graph,
)
from .shapes import NodeShapes, infer_shapes, node_ports, topological_order
from .specs import (
    Inference,
    LayerSpec,
    ParamError,
    ParamSpec,
    PortSpec,
    ShapeError,
    TensorType,
    all_specs,
    format_count,
    format_shape,
    get_spec,
    has_spec,
    one_line,
    register,
)
from .summary import GraphSummary, summarize
from .validation import ERROR, WARNING, Issue, errors, validate

CATEGORIES = ("io", "dense", "conv", "pool", "unpool", "embedding", "generative", "shape",
              "normalise", "activation", "block", "recurrent", "attention", "sequence")


def resolved_params(node: Node) -> dict:
    """A node's parameters with the spec's defaults filled in (raises ParamError)."""
    return get_spec(node.type).resolve(node.params)


__all__ = [
    "CATEGORIES", "ERROR", "SCHEMA_VERSION", "UNSET", "WARNING",
    "AddNode", "Command", "Connect", "Disconnect", "Edge", "Graph", "GraphLoadError", "GraphSummary",
    "GroupIntoBlock", "Inference", "Issue", "LayerSpec", "Macro", "MoveNodes", "Node", "NodeShapes",
    "ParamError", "ParamSpec", "PortSpec", "RemoveNodes", "Rename", "SetFrozen", "SetLrFactor",
    "SetParam", "SetSetting", "ShapeError", "TensorType", "Ungroup",
    "all_specs", "embedding_behind", "errors", "format_count", "format_shape", "get_spec", "graph_from_dict", "graph_to_dict",
    "graph_to_json", "has_spec", "infer_shapes", "one_line", "load_graph", "loads_graph", "node_ports",
    "padding_source",
    "register", "resolved_params", "save_graph", "summarize", "topological_order", "validate",
]
