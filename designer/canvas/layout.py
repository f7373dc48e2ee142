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

    A fresh layout must run no more wires under cards they do not connect than the stored one
    (`wires_through_cards`: U-Net's and pix2pix's skips cross the whole canvas in auto_layout's
    bands), draw no wire backwards between two cards of one row (the canvas would show it
    flowing the wrong way) and fit the view at a zoom 5% larger. `fold_rows` of the stored
    layout comes first (a U-Net drawn as a wide V becomes the textbook U: the template's design,
    folded); failing that, the largest-zoom of `auto_layout`'s bands (as many columns a band as
    fill the view, or fewer: a narrower band can spare a card a wire); failing both, the stored
    layout stays, unless it is one row (an imported chain): then the bands that fill the view,
    whose wires back to each band's start may graze a card on a long chain. Only the `ui`
    positions change, before the graph becomes a document: nothing to undo.
    """
    stored = {nid: (float(n.ui.get("x", 0)), float(n.ui.get("y", 0))) for nid, n in graph.nodes.items()}
    if not stored or _width(stored) <= 2.5 * aspect * (_height(stored) - 84.0 + 100):
        return False
    limit, least = wires_through_cards(graph, stored), _fitted_zoom(stored, aspect) * 1.05

    def fits(fresh: dict[str, tuple[float, float]]) -> bool:
        return (_fitted_zoom(fresh, aspect) > least and not _backward_in_a_row(graph, fresh)
                and wires_through_cards(graph, fresh) <= limit)

    best = fold_rows(graph)
    if not fits(best):
        bands = [auto_layout(graph, aspect=aspect * f) for f in (1.0, 0.75, 0.5, 0.35)]
        best = max(filter(fits, bands), key=lambda b: _fitted_zoom(b, aspect), default=None)
        if best is None and len({y for _, y in stored.values()}) == 1:
            best = bands[0]  # one row is no design to keep: a long chain's bands, crossings or not
    if best is None:
        return False
    for nid, (x, y) in best.items():
        graph.nodes[nid].ui = {**graph.nodes[nid].ui, "x": x, "y": y}
    return True


def fold_rows(graph: Graph, pitch: float = 1.5) -> dict[str, tuple[float, float]]:
    """The stored layout with each row's cards after its first gap moved left, next to the rest.

    A template draws U-Net as a wide V: the encoder steps down a row per level, the decoder
    steps back up, and each skip runs along its level's row across the gap the deeper levels
    fill. Here every row's first run of cards starts at the left edge and the rest of the row
    (the decoder's level; further runs packed one empty column apart) starts one empty column
    right of the widest first run of the rows that have a rest: the textbook U, each skip a
    short wire along its row, each level change a wire back to the row's start. Rows move
    `pitch` times further apart to leave those wires room. A layout with no such skip (no wire
    from a row's first run to a later run of the same row) is not a V: it comes back as it is.
    """
    rows: dict[float, list[tuple[float, str]]] = {}
    for nid, n in graph.nodes.items():
        rows.setdefault(float(n.ui.get("y", 0)), []).append((float(n.ui.get("x", 0)), nid))
    if not rows:
        return {}
    step = COLUMN_GAP
    gaps = [b[0] - a[0] for cells in rows.values() for a, b in zip(sorted(cells), sorted(cells)[1:])]
    if [g for g in gaps if g > 1]:
        step = min(g for g in gaps if g > 1)
    runs = {}
    for y, cells in rows.items():  # each row's runs of cards, a gap of over a column apart
        cells.sort()
        runs[y] = [[cells[0]]]
        for a, b in zip(cells, cells[1:]):
            if b[0] - a[0] > 1.5 * step:
                runs[y].append([])
            runs[y][-1].append(b)
    heads = {nid: y for y, row in runs.items() for _, nid in row[0]}
    tails = {nid: y for y, row in runs.items() for run in row[1:] for _, nid in run}
    if not any(e.src[0] in heads and heads[e.src[0]] == tails.get(e.dst[0]) for e in graph.edges):
        return {nid: (float(n.ui.get("x", 0)), float(n.ui.get("y", 0))) for nid, n in graph.nodes.items()}
    x0, top = min(x for cells in rows.values() for x, _ in cells), min(rows)
    # the rest starts past the widest first run of a row that has a rest
    left = x0 + max((row[0][-1][0] - row[0][0][0] for row in runs.values() if len(row) > 1), default=0) + 2 * step
    positions, shift = {}, 0.0
    for y in sorted(runs):
        first, *rest = runs[y]
        if rest:  # a level of the U: its encoder to the left edge, its decoder past the hollow
            shift = first[0][0] - x0
        # a row of one run moves as the row above did: U-Net's bottom goes on from the level
        # above it, under the decoder; a row that is no level of a U stays where it was
        y2 = top + (y - top) * pitch
        positions.update({nid: (x - shift, y2) for x, nid in first})
        start = left
        for run in rest:  # the row's later runs, packed one empty column apart
            positions.update({nid: (start + x - run[0][0], y2) for x, nid in run})
            start += run[-1][0] - run[0][0] + 2 * step
    return positions


def _width(positions: dict[str, tuple[float, float]]) -> float:
    xs = [x for x, _ in positions.values()]
    return max(xs) - min(xs) + CARD_WIDTH


def _height(positions: dict[str, tuple[float, float]]) -> float:
    ys = [y for _, y in positions.values()]
    return max(ys) - min(ys) + 84.0


def _fitted_zoom(positions: dict[str, tuple[float, float]], aspect: float) -> float:
    """The zoom at which the layout fits a view `aspect` wide and 1 high."""
    return min(aspect / _width(positions), 1.0 / _height(positions))


def _backward_in_a_row(graph: Graph, positions: dict[str, tuple[float, float]]) -> bool:
    """Whether a wire enters a card left of where it leaves one on the same row."""
    for e in graph.edges:
        a, b = positions.get(e.src[0]), positions.get(e.dst[0])
        if a and b and abs(a[1] - b[1]) < 84.0 and b[0] < a[0] + CARD_WIDTH:
            return True
    return False


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
        left, right = min(p[0] for p in points), max(p[0] for p in points)
        top, bottom = min(p[1] for p in points), max(p[1] for p in points)
        for nid, (x, y, height, _, _) in cards.items():
            if nid in (e.src[0], e.dst[0]) or x > right or x + CARD_WIDTH < left or y > bottom or y + height < top:
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
