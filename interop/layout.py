"""Left-to-right layout of an imported graph, on the grid templates use.

Templates place nodes with `templates.sketch.Sketch`: one column per step, COLUMN pixels apart,
parallel branches on rows ROW pixels apart. interop may not import templates (its layering
contract), so the same grid is repeated here: a node's column is the length of the longest
path from an input, and within a column nodes sit in the order of their inputs' rows, so a
straight chain stays on one row and a skip connection or an inception branch gets its own.
"""

from __future__ import annotations

from graph_core import Graph

COLUMN = 240  # templates.sketch.COLUMN
ROW = 130  # templates.sketch.ROW


def lay_out(graph: Graph) -> None:
    """Set every node's `ui` x and y (node order in the graph is topological)."""
    preds: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for edge in graph.edges:
        if edge.dst[0] in preds and edge.src[0] in graph.nodes:
            preds[edge.dst[0]].append(edge.src[0])
    column: dict[str, int] = {}
    for nid in graph.nodes:
        column[nid] = 1 + max((column[p] for p in preds[nid] if p in column), default=-1)
    rows: dict[str, float] = {}
    by_column: dict[int, list[str]] = {}
    for nid in graph.nodes:
        by_column.setdefault(column[nid], []).append(nid)
    for col in sorted(by_column):
        members = by_column[col]
        wanted = {n: _mean([rows[p] for p in preds[n] if p in rows], default=0.0) for n in members}
        used: set[int] = set()
        for n in sorted(members, key=lambda m: wanted[m]):
            row = round(wanted[n])
            while row in used:
                row += 1
            used.add(row)
            rows[n] = row
    for nid, node in graph.nodes.items():
        node.ui = {"x": column[nid] * COLUMN, "y": round(rows[nid] * ROW)}


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default
