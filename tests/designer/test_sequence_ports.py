"""Sequence port kinds on the canvas: each kind has its own colour and shape, and the dots are
painted in their kind's colour."""

from __future__ import annotations

import templates
from designer.canvas.style import PORT_COLOURS, PORT_SHAPES
from graph_core.specs import PORT_KINDS


def test_every_port_kind_has_its_own_colour_and_shape():
    assert set(PORT_COLOURS) == set(PORT_KINDS) == set(PORT_SHAPES)
    assert len({c.name() for c in PORT_COLOURS.values()}) == len(PORT_KINDS)
    assert len(set(PORT_SHAPES.values())) == len(PORT_KINDS)


def test_state_and_weights_ports_are_painted_in_their_colours(make_window):
    window = make_window(templates.build("seq2seq"))
    for node, port, kind in (("encoder", "state", "state"), ("decoder", "h0", "state"),
                             ("attention", "weights", "weights")):
        item = window.scene.node_items[node].port(port, port != "h0")
        assert item.kind == kind
        window.view.centerOn(item.scenePos())
        image = window.view.viewport().grab().toImage()
        at = window.view.mapFromScene(item.scenePos())
        colour = image.pixelColor(at.x(), at.y())
        want = PORT_COLOURS[kind]
        assert abs(colour.red() - want.red()) + abs(colour.green() - want.green()) + \
            abs(colour.blue() - want.blue()) < 60, (node, port, colour.name(), want.name())
