"""Templates open cleanly; the code view follows the graph and points back at nodes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from designer.code_view import PythonHighlighter, generate_text
from designer.template_dialog import TemplateDialog, load_catalog

from .conftest import code_after_edit, lenet

CATALOG, PROBLEM = load_catalog()
NAMES = [str(e["name"] if isinstance(e, dict) else e.name) for e in CATALOG]


@pytest.mark.skipif(not CATALOG, reason=PROBLEM or "no templates")
@pytest.mark.parametrize("name", NAMES)
def test_every_template_loads_without_issues(make_window, qtbot, name):
    w = make_window()
    dialog = TemplateDialog(w)
    qtbot.addWidget(dialog)
    dialog.select(name)
    assert dialog.list.currentItem().text() == name
    assert dialog.fields  # its parameters are editable
    w.files.new(dialog.build(), ask=False)
    assert w.document.issues == [], [str(i) for i in w.document.issues]
    if name in ("transfer_vgg", "transfer"):
        # built without its .pth, its frozen stages would hold random weights: a warning (not an
        # error: it may still train) says so until a file is chosen
        assert "hold random weights" in w.issues.item(0).text() and w.issues.count() == 1
        assert w.document.ready
    else:
        assert w.issues.item(0).text().startswith("✓ No issues")
    assert set(w.scene.node_items) == set(w.graph.nodes)
    assert all(card.state == "" for card in w.scene.node_items.values())
    assert all(card.shape_text != "?" for card in w.scene.node_items.values())


@pytest.mark.skipif("lenet" not in NAMES, reason="the lenet template is not available")
def test_template_parameters_are_applied(make_window, qtbot):
    w = make_window()
    dialog = TemplateDialog(w)
    qtbot.addWidget(dialog)
    dialog.select("lenet")
    dialog.fields["num_classes"].set_value(3)
    graph = dialog.build()
    w.files.new(graph, ask=False)
    heads = [c for c in w.scene.node_items.values() if c.shape_text == "(3,)"]
    assert heads


def test_code_view_shows_the_source_and_a_click_selects_the_node(make_window, qtbot):
    w = make_window(lenet())
    code = code_after_edit(qtbot, w)
    assert w.code_view.isReadOnly()
    assert "class Lenet" in code and "nn.Conv2d(1, 6" in code
    line = next(k for k, text in enumerate(code.splitlines(), 1) if "nn.Conv2d(6, 16" in text)
    assert w.code_view.node_at_line(line) == "conv2"
    block = w.code_view.document().findBlockByNumber(line - 1)
    cursor = w.code_view.textCursor()
    cursor.setPosition(block.position())
    w.code_view.setTextCursor(cursor)
    w.code_view.centerCursor()  # scroll the line into view before clicking it
    rect = w.code_view.blockBoundingGeometry(block).translated(w.code_view.contentOffset())
    qtbot.mouseClick(w.code_view.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(int(rect.left()) + 30, int(rect.center().y())))
    assert w.scene.selected_node_ids() == ["conv2"]


def test_code_view_explains_an_invalid_graph(make_window, qtbot):
    w = make_window()
    w.editor.add_node("Dense")
    code = code_after_edit(qtbot, w)
    assert code.startswith("# No code yet")
    assert "Input" in code


def test_code_generation_is_debounced_and_stale_results_are_dropped(make_window, qtbot):
    w = make_window(lenet())
    code_after_edit(qtbot, w)
    w.editor.add_node("ReLU")
    w.editor.add_node("ReLU")
    assert w.code_view._timer.isActive()  # waiting for the user to pause
    w.code_view._apply(w.code_view._serial - 1, "stale", {})
    assert w.code_view.toPlainText() != "stale"


def test_generate_text_returns_line_map_and_highlighter_colours_keywords(qtbot):
    source, lines = generate_text(lenet())
    assert set(lines.values()) >= {"conv1", "fc2"}
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument("def forward(self, x):  # comment")
    PythonHighlighter(doc).rehighlight()
    formats = doc.firstBlock().layout().formats()
    assert len(formats) >= 2


def test_the_canvas_draws_cards_and_wires_where_the_template_layout_test_puts_them(make_window, qtbot):
    """tests/templates restates the card and wire geometry without Qt to check that no wire passes
    through a card it does not connect; this is that geometry as the canvas draws pix2pix."""
    import templates
    from tests.templates.test_templates_catalog import card_geometry, wire_ends, wire_points
    from tests.templates.test_templates_catalog import wires_through_cards as crossings

    w = make_window(templates.build("pix2pix"))
    geo = card_geometry(w.graph, w.graph.blocks)
    for nid, card in w.scene.node_items.items():
        x, y, height, _, _ = geo[nid]
        rect = card.sceneBoundingRect().adjusted(3, 3, -3, -3)  # boundingRect pads the card by 3
        assert (rect.x(), rect.y(), rect.width(), rect.height()) == pytest.approx((x, y, 200.0, height)), nid
    assert len(w.scene.edge_items) == len(w.graph.edges)
    for edge, item in w.scene.edge_items.items():
        path = item.mapToScene(item.path())
        a, b = wire_ends(geo, edge)
        start, end = path.pointAtPercent(0.0), path.pointAtPercent(1.0)
        assert ((start.x(), start.y()), (end.x(), end.y())) == (pytest.approx(a), pytest.approx(b)), edge
        drawn = [path.pointAtPercent(t / 400) for t in range(401)]
        for px, py in wire_points(a, b, steps=8):  # every restated point lies on the drawn curve
            assert min((p.x() - px) ** 2 + (p.y() - py) ** 2 for p in drawn) < 4.0, edge
    assert crossings(w.graph, w.graph.blocks) == []


U_SHAPED = [("pix2pix", {}), ("pix2pix", {"direction": "image_to_mask"}), ("pix2pix", {"depth": 4, "image_size": 64}),
            ("unet", {}), ("unet", {"depth": 4, "input_size": 64}), ("segnet", {})]


@pytest.mark.parametrize(("name", "params"), U_SHAPED, ids=[f"{n}-{'-'.join(map(str, p.values()))}" for n, p in U_SHAPED])
def test_a_u_shaped_template_opens_folded_into_a_u_with_its_skips_along_their_rows(make_window, name, params):
    """The template dialog's path: the stored wide V (too long to read when fitted) became
    auto_layout's bands, whose skip and discriminator wires crossed the whole canvas under other
    cards. It opens as the textbook U instead: each skip a wire along its level's row, no wire
    under a card it does not connect, and cards twice the size the V gave."""
    import templates
    from designer.canvas.layout import auto_layout, fold_rows
    from tests.templates.test_templates_catalog import wires_through_cards as crossings

    graph = templates.build(name, **params)
    stored = {nid: (n.ui["x"], n.ui["y"]) for nid, n in graph.nodes.items()}
    w = make_window()
    banded = auto_layout(graph, aspect=w.editor.view_aspect())
    w.open_template_graph(graph)
    opened = {nid: (n.ui["x"], n.ui["y"]) for nid, n in w.graph.nodes.items()}
    assert opened == fold_rows(templates.build(name, **params)) != banded
    assert crossings(w.graph, w.graph.blocks) == []
    skips = [e for e in w.graph.edges if w.graph.nodes[e.dst[0]].type in ("Concat", "MaxUnpool2d")
             and stored[e.src[0]][1] == stored[e.dst[0]][1] and stored[e.dst[0]][0] - stored[e.src[0]][0] > 1000]
    assert skips
    for edge in skips:  # in the V a skip spans the deeper levels; in the U it crosses the hollow
        a, b = opened[edge.src[0]], opened[edge.dst[0]]
        assert a[1] == b[1] and 0 < b[0] - a[0] <= 2000, edge

    def zoom(pos: dict, aspect: float = 1150 / 400) -> float:  # fitted to a 1150 × 400 canvas
        xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
        return min(aspect / (max(xs) - min(xs) + 200), 1 / (max(ys) - min(ys) + 84))

    assert zoom(opened) > 1.5 * zoom(stored)


def test_the_layout_module_counts_the_wires_through_cards_the_template_test_finds():
    """designer.canvas.layout restates the canvas geometry to choose a layout; it counts what
    tests/templates' helper lists, on layouts with and without crossings."""
    import templates
    from designer.canvas.layout import auto_layout, fold_rows, wires_through_cards
    from tests.templates.test_templates_catalog import wires_through_cards as listed

    seen = set()
    for name in ("pix2pix", "unet", "segnet", "gan", "seq2seq", "multiomics_vae"):
        graph = templates.build(name)
        for positions in (None, auto_layout(graph, aspect=2.0), fold_rows(graph)):
            if positions:
                for nid, (x, y) in positions.items():
                    graph.nodes[nid].ui = {**graph.nodes[nid].ui, "x": x, "y": y}
            found = wires_through_cards(graph)
            assert found == len(listed(graph, graph.blocks)), name
            seen.add(found > 0)
    assert seen == {True, False}


def test_a_design_that_any_wrap_would_make_worse_is_kept():
    # U-Net's valid variant: its crops sit where the folded U's level wires pass, and
    # auto_layout's bands are worse still, so its V stays as designed
    import templates
    from designer.canvas.layout import wrap_if_unreadable

    graph = templates.build("unet", variant="valid", depth=3, input_size=36)
    before = {nid: dict(n.ui) for nid, n in graph.nodes.items()}
    assert not wrap_if_unreadable(graph, 2.0)
    assert {nid: n.ui for nid, n in graph.nodes.items()} == before
    vgg = templates.build("vgg", depth=11)  # a chain still wraps into bands
    assert wrap_if_unreadable(vgg, 2.0)


@pytest.mark.parametrize("aspect", [1.4, 1.66, 2.0, 2.9])
def test_every_template_as_the_dialog_lays_it_out_runs_no_wire_under_a_card(aspect):
    """What wrap_if_unreadable makes of each gallery template, for canvases from narrow to wide:
    never a wire under a card it does not connect, never one drawn backwards along a row, and
    a layout it changes fits at a larger zoom than the template's own."""
    import templates
    from designer.canvas.layout import _fitted_zoom, wrap_if_unreadable
    from tests.templates.test_templates_catalog import wires_through_cards as crossings

    changed = []
    for entry in templates.catalog():
        graph = templates.build(entry["name"])
        stored = {nid: (n.ui["x"], n.ui["y"]) for nid, n in graph.nodes.items()}
        if wrap_if_unreadable(graph, aspect):
            changed.append(entry["name"])
            opened = {nid: (n.ui["x"], n.ui["y"]) for nid, n in graph.nodes.items()}
            assert _fitted_zoom(opened, aspect) > _fitted_zoom(stored, aspect), entry["name"]
        assert crossings(graph, graph.blocks) == [], entry["name"]
        for e in graph.edges:
            (ax, ay), (bx, by) = ((graph.nodes[n].ui["x"], graph.nodes[n].ui["y"]) for n in (e.src[0], e.dst[0]))
            assert abs(ay - by) >= 84 or bx >= ax + 200, (entry["name"], str(e))
    assert {"vgg", "unet", "pix2pix", "segnet", "mobilenet_v2"} <= set(changed)


def test_a_long_imported_chain_in_one_row_still_wraps_into_bands():
    # 400 cards in a row: the bands' wires back to each band's start graze a card here and
    # there, which the stored row does not, but one row is no design to keep
    from designer.canvas.layout import auto_layout, wrap_if_unreadable
    from graph_core import Edge, Graph, Node

    graph = Graph(name="chain")
    graph.nodes["x"] = Node("x", "Input", {"shape": [8]}, ui={"x": 0, "y": 0})
    for k in range(400):
        graph.nodes[f"r{k}"] = Node(f"r{k}", "ReLU", {}, ui={"x": 240 * (k + 1), "y": 0})
        graph.edges.append(Edge((f"r{k - 1}" if k else "x", "out"), (f"r{k}", "in")))
    assert wrap_if_unreadable(graph, 1.8)
    assert {nid: (n.ui["x"], n.ui["y"]) for nid, n in graph.nodes.items()} == auto_layout(graph, aspect=1.8)
