"""Auto-layout: layered placement from topological order (pure function, no Qt).

Each node goes in the column of its longest path from a source, so wires flow left to right.
Long chains (VGG has ~40 layers in a row) wrap into bands so the whole network fits on screen.
"""

from __future__ import annotations

from graph_core import Graph, node_ports, topological_order

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

    A designed layout is kept when the fresh one would run more wires under cards they do not
    connect (`wires_through_cards`): U-Net's and pix2pix's skips run along their level's row in
    the template, but cross the whole canvas once `auto_layout` wraps the network into bands.
    Only the `ui` positions change, before the graph becomes a document: nothing to undo.
    """
    xs = [float(n.ui.get("x", 0)) for n in graph.nodes.values()]
    ys = [float(n.ui.get("y", 0)) for n in graph.nodes.values()]
    if not xs or (max(xs) - min(xs) + CARD_WIDTH) <= 2.5 * aspect * (max(ys) - min(ys) + 100):
        return False
    fresh = auto_layout(graph, aspect=aspect)
    if wires_through_cards(graph, fresh) > wires_through_cards(graph):
        return False
    for nid, (x, y) in fresh.items():
        graph.nodes[nid].ui = {**graph.nodes[nid].ui, "x": x, "y": y}
    return True


# The card and wire geometry the canvas draws (node_item.NodeItem, edge_item.wire_path), without
# Qt; tests/designer checks the two agree.
_CARD_HEADER, _PORT_ROW = 22.0, 17.0


def wires_through_cards(graph: Graph, positions: dict[str, tuple[float, float]] | None = None) -> int:
    """How many (wire, card) pairs have the wire pass through a card it does not connect, with
    the cards at `positions` (node id -> top-left corner; the stored `ui` ones by default)."""
    cards = {}
    for nid, n in graph.nodes.items():
        x, y = positions[nid] if positions else (float(n.ui.get("x", 0)), float(n.ui.get("y", 0)))
        try:
            ins, outs = node_ports(n, graph.blocks)
        except Exception:  # a node graph_core cannot read still gets its plain card
            ins, outs = [], []
        height = max(84.0, _CARD_HEADER + 12 + _PORT_ROW * max(len(ins), len(outs), 1))
        cards[nid] = (x, y, height, [p.name for p in ins], [p.name for p in outs])

    def port(nid: str, name: str, output: bool) -> tuple[float, float]:
        x, y, height, ins, outs = cards[nid]
        names = outs if output else ins
        k = names.index(name) if name in names else 0
        top = _CARD_HEADER + 6
        return x + (CARD_WIDTH if output else 0.0), y + top + (height - top - 4) * (k + 0.5) / max(len(names), 1)

    count = 0
    for e in graph.edges:
        if e.src[0] not in cards or e.dst[0] not in cards:
            continue
        points = _wire_points(port(*e.src, True), port(*e.dst, False))
        for nid, (x, y, height, _, _) in cards.items():
            if nid in (e.src[0], e.dst[0]):
                continue
            if any(x + 2 < px < x + CARD_WIDTH - 2 and y + 2 < py < y + height - 2 for px, py in points):
                count += 1
    return count


def _wire_points(a: tuple[float, float], b: tuple[float, float], steps: int = 60) -> list[tuple[float, float]]:
    """Points along the canvas's S-curve from output port `a` to input port `b`."""
    d = max(60.0, abs(b[0] - a[0]) * 0.5)
    c1, c2 = (a[0] + d, a[1]), (b[0] - d, b[1])
    points = []
    for k in range(steps + 1):
        t = k / steps
        u = 1 - t
        points.append((u ** 3 * a[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t ** 3 * b[0],
                       u ** 3 * a[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t ** 3 * b[1]))
    return points


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
