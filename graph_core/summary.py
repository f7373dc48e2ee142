"""The analysis table: per node its type, output shape and parameters, with totals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class GraphSummary:
    rows: list[SummaryRow] = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return sum(r.params or 0 for r in self.rows)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable or 0 for r in self.rows)

    def to_json(self) -> dict:
        return {
            "nodes": [{"id": r.id, "type": r.type,
                       "output_shape": None if r.output_shape is None else list(r.output_shape),
                       "params": r.params} for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
        }


def summarize(graph: Graph, shapes: Mapping[str, NodeShapes] | None = None) -> GraphSummary:
    shapes = infer_shapes(graph) if shapes is None else shapes
    rows = []
    for nid, node in graph.nodes.items():
        info = shapes[nid]
        trainable = None if info.params is None else (0 if node.frozen else info.params)
        rows.append(SummaryRow(nid, node.name, node.type, info.output_shape, info.params, trainable, node.frozen))
    return GraphSummary(rows)
