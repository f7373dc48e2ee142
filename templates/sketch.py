"""A small drawing aid for templates: add nodes on a grid and wire them in one call.

Templates read like the network they build: `x = s.then(x, "fc1", "Dense", out_features=64)`
adds `fc1` one column to the right of `x` and wires `x -> fc1`. Columns are `COLUMN` pixels
apart and rows `ROW` pixels apart, so the designer's 200 × 84 node boxes keep a clear gap;
parallel branches go on separate rows. Positions land in each
node's `ui` and are never interpreted by graph_core.
"""

from __future__ import annotations

from typing import Any

from graph_core import Edge, Graph, Node

COLUMN = 240
ROW = 130


class Sketch:
    """Builds one Graph (or one block's sub-graph) node by node.

    Args:
        name: the graph's name.
    """

    def __init__(self, name: str) -> None:
        self.graph = Graph(name=name)
        self._cell: dict[str, tuple[float, float]] = {}

    def add(self, nid: str, type_name: str, col: float, row: float = 0, *, name: str = "",
            frozen: bool = False, lr_factor: float = 1.0, **params: Any) -> str:
        """Add a node at grid cell (col, row) and return its id.

        Keyword arguments other than name/frozen/lr_factor are the node's parameters; tuples
        are stored as lists so the graph survives a JSON round trip unchanged.
        """
        clean = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        ui = {"x": round(col * COLUMN), "y": round(row * ROW)}
        self.graph.nodes[nid] = Node(nid, type_name, clean, name=name or nid, frozen=frozen,
                                     lr_factor=lr_factor, ui=ui)
        self._cell[nid] = (col, row)
        return nid

    def then(self, prev: str, nid: str, type_name: str, *, src_port: str = "out", dst_port: str = "in",
             row: float | None = None, step: float = 1, **kwargs: Any) -> str:
        """Add a node one column right of `prev` (same row unless given) and wire prev into it."""
        col, prev_row = self._cell[prev]
        self.add(nid, type_name, col + step, prev_row if row is None else row, **kwargs)
        self.wire(prev, nid, src_port, dst_port)
        return nid

    def wire(self, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> None:
        self.graph.edges.append(Edge((src, src_port), (dst, dst_port)))

    def col(self, nid: str) -> float:
        return self._cell[nid][0]

    def row(self, nid: str) -> float:
        return self._cell[nid][1]

    def settings(self, data: dict[str, Any], **training: Any) -> Graph:
        """Set the default dataset and training settings and return the finished graph."""
        self.graph.data = dict(data)
        self.graph.training = dict(training)
        return self.graph


def add_activation(sketch: Sketch, prev: str, nid: str, kind: str, **kwargs: Any) -> str:
    """Append the activation named by a template's `activation` choice."""
    types = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU",
             "leaky_relu": "LeakyReLU"}
    return sketch.then(prev, nid, types[kind], **kwargs)


ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu")
