"""Auto-layout: layered placement from topological order (pure function, no Qt).

Each node goes in the column of its longest path from a source, so wires flow left to right.
Long chains (VGG has ~40 layers in a row) wrap into bands so the whole network fits on screen.
"""

from __future__ import annotations

from graph_core import Graph, topological_order

COLUMN_GAP = 300.0  # leaves room between cards for the wire's shape label
ROW_GAP = 120.0
CARD_WIDTH = 200.0


def auto_layout(graph: Graph, origin: tuple[float, float] = (0.0, 0.0),
                aspect: float = 1.8) -> dict[str, tuple[float, float]]:
    """Positions for every node of `graph` (nodes on cycles go in a last column).

    Args:
        graph: the graph to lay out.
        origin: where the first column starts.
        aspect: width / height of the canvas; long chains wrap into bands so the layout's
            shape matches it and the cards stay readable when the view fits them.

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
    per_band = _columns_per_band(len(columns), band_height, aspect)
    positions = {}
    x0, y0 = origin
    for d, ids in columns.items():
        band, col = divmod(d, per_band)
        for k, nid in enumerate(ids):
            offset = (k - (len(ids) - 1) / 2) * ROW_GAP
            positions[nid] = (x0 + col * COLUMN_GAP, y0 + band * band_height + offset)
    return positions


def wrap_if_unreadable(graph: Graph, aspect: float) -> bool:
    """Lay `graph` out afresh when its stored layout is too long to read once fitted to a view of
    `aspect` (VGG's 40 layers, or an imported ONNX chain, in one row); True when it did.

    Only the `ui` positions change, before the graph becomes a document: nothing to undo.
    """
    xs = [float(n.ui.get("x", 0)) for n in graph.nodes.values()]
    ys = [float(n.ui.get("y", 0)) for n in graph.nodes.values()]
    if not xs or (max(xs) - min(xs) + CARD_WIDTH) <= 2.5 * aspect * (max(ys) - min(ys) + 100):
        return False
    for nid, (x, y) in auto_layout(graph, aspect=aspect).items():
        graph.nodes[nid].ui = {**graph.nodes[nid].ui, "x": x, "y": y}
    return True


def _columns_per_band(depth: int, band_height: float, aspect: float) -> int:
    """How many columns per band make the layout fit a view of `aspect` at the largest zoom."""
    best, best_zoom = max(depth, 1), 0.0
    for columns in range(1, max(depth, 1) + 1):
        bands = -(-depth // columns)
        width = (columns - 1) * COLUMN_GAP + CARD_WIDTH
        height = bands * band_height
        zoom = min(aspect / width, 1.0 / height)
        if zoom > best_zoom * 1.001:
            best, best_zoom = columns, zoom
    return best
