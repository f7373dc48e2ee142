"""The analysis table: per node its type, output shape, parameters and cost (multiply-accumulates
of one forward of one sample, activation memory at a batch size), with totals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .cost import graph_costs
from .graph import Graph
from .shapes import NodeShapes, infer_shapes


@dataclass(frozen=True)
class SummaryRow:
    id: str
    name: str
    type: str
    output_shape: tuple[int, ...] | None
    params: int | None
    trainable: int | None
    frozen: bool
    macs: int | None = None  # multiply-accumulates of one forward of one sample
    activation_bytes: int | None = None  # its outputs at the summary's batch size


@dataclass(frozen=True)
class GraphSummary:
    rows: list[SummaryRow] = field(default_factory=list)
    batch_size: int = 1

    @property
    def total_params(self) -> int:
        return sum(r.params or 0 for r in self.rows)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable or 0 for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs or 0 for r in self.rows)

    @property
    def activation_bytes(self) -> int:
        return sum(r.activation_bytes or 0 for r in self.rows)

    def to_json(self) -> dict:
        return {
            "nodes": [{"id": r.id, "type": r.type,
                       "output_shape": None if r.output_shape is None else list(r.output_shape),
                       "params": r.params, "macs": r.macs, "activation_bytes": r.activation_bytes}
                      for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "activation_bytes": self.activation_bytes,
            "batch_size": self.batch_size,
        }


def summarize(graph: Graph, shapes: Mapping[str, NodeShapes] | None = None, batch_size: int = 1) -> GraphSummary:
    """The table of `graph`; activation memory is counted at `batch_size` samples."""
    shapes = infer_shapes(graph) if shapes is None else shapes
    costs = graph_costs(graph, shapes, batch_size)
    rows = []
    for nid, node in graph.nodes.items():
        info = shapes[nid]
        trainable = None if info.params is None else (0 if node.frozen else info.params)
        cost = costs.get(nid)
        rows.append(SummaryRow(nid, node.name, node.type, info.output_shape, info.params, trainable, node.frozen,
                               None if cost is None else cost.macs,
                               None if cost is None else cost.activation_bytes))
    return GraphSummary(rows, batch_size)
