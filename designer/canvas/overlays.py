"""What a card and a wire show beyond shapes: the node's multiply-accumulates on the card, and on
hover the teaching overlay (output-size formula, parameter derivation, receptive field). The text
comes from graph_core (cost, teaching); this module only gathers it for the scene, never raising:
an overlay that cannot be worked out is left empty rather than breaking the canvas."""

from __future__ import annotations

from collections.abc import Mapping

from graph_core import Edge, Graph, NodeShapes
from graph_core.cost import NodeCost, format_macs, graph_costs
from graph_core.teaching import explain_node, explain_wire, receptive_fields


def analyse(graph: Graph, shapes: Mapping[str, NodeShapes]) -> tuple[dict, dict]:
    """(costs per node, receptive fields per node) of the shown graph; empty where not computable."""
    try:
        return graph_costs(graph, shapes), receptive_fields(graph, shapes)
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        return {}, {}


def cost_text(cost: NodeCost | None) -> str:
    return format_macs(cost.macs) if cost is not None and cost.macs else ""


def node_text(graph: Graph, node_id: str, shapes: Mapping[str, NodeShapes], fields: Mapping) -> str:
    try:
        return explain_node(graph, node_id, shapes, fields)
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        return ""


def wire_text(graph: Graph, edge: Edge, shapes: Mapping[str, NodeShapes], fields: Mapping) -> str:
    try:
        return explain_wire(graph, edge, shapes, fields)
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        return ""
