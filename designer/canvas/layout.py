"""Auto-layout: layered placement from topological order (pure function, no Qt).

Each node goes in the column of its longest path from a source, so wires flow left to right.
Long chains (VGG has ~40 layers in a row) wrap into bands so the whole network fits on screen.
"""

from __future__ import annotations

from graph_core import Graph, topological_order

COLUMN_GAP = 250.0
ROW_GAP = 120.0
MAX_COLUMNS = 10


def auto_layout(graph: Graph, origin: tuple[float, float] = (0.0, 0.0)) -> dict[str, tuple[float, float]]:
    """Positions for every node of `graph` (nodes on cycles go in a last column).

    Returns:
        node id -> (x, y) of the card's top-left corner.
    """
    depth: dict[str, int] = {}
    preds: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        if e.src[0] in preds and e.dst[0] in preds:
            preds[e.dst[0]].append(e.src[0])
    order = topological_order(graph)
    for nid in order:
        depth[nid] = max((depth[p] + 1 for p in preds[nid] if p in depth), default=0)
    last = max(depth.values(), default=-1) + 1
    for nid in graph.nodes:
        depth.setdefault(nid, last)
    columns: dict[int, list[str]] = {}
    for nid in [*order, *(n for n in graph.nodes if n not in order)]:
        columns.setdefault(depth[nid], []).append(nid)
    tallest = max((len(c) for c in columns.values()), default=1)
    band_height = tallest * ROW_GAP + ROW_GAP * 0.8
    positions = {}
    x0, y0 = origin
    for d, ids in columns.items():
        band, col = divmod(d, MAX_COLUMNS)
        # Alternate band direction would cross wires less, but left-to-right reads naturally.
        for k, nid in enumerate(ids):
            offset = (k - (len(ids) - 1) / 2) * ROW_GAP
            positions[nid] = (x0 + col * COLUMN_GAP, y0 + band * band_height + offset)
    return positions
