"""A port dot on a node card: input ports on the left edge, output ports on the right.

Colour shows the port's kind (tensor blue, pool indices orange, recurrent state violet, mask
slate, memory teal, attention weights pink); the shape distinguishes them too (circle, diamond,
square, triangle, ring, downward triangle) so the difference survives colour blindness. Dragging from a
port starts a wire; the scene owns that gesture.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graph_core import PortSpec

from .style import PORT_COLOURS, PORT_HIT_RADIUS, PORT_RADIUS, PORT_SHAPES, LevelOfDetail


class PortItem(QGraphicsItem):
    """One port; `is_output` tells which side it sits on."""

    def __init__(self, node_id: str, spec: PortSpec, is_output: bool, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.node_id = node_id
        self.name = spec.name
        self.kind = spec.kind
        self.multi = spec.multi
        self.is_output = is_output
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        side = "output" if is_output else "input"
        many = " (takes several wires)" if spec.multi else ""
        self.setToolTip(f"{side} port '{spec.name}' ({spec.kind}){many}"
                        + (f"\n{spec.help}" if spec.help else "")
                        + ("\nDrag to an input port to wire." if is_output else
                           "\nDrag to an output port to wire."))
        self._hover = False

    def boundingRect(self) -> QRectF:
        r = PORT_HIT_RADIUS
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def scene_anchor(self) -> QPointF:
        return self.scenePos()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if LevelOfDetail.far(option.levelOfDetailFromTransform(painter.worldTransform())):
            return  # too small to aim at; the card is drawn in outline
        colour = PORT_COLOURS.get(self.kind, PORT_COLOURS["tensor"])
        r = PORT_RADIUS * (1.4 if self._hover else 1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(Qt.GlobalColor.white, 1.5))
        painter.setBrush(QBrush(colour))
        shape = PORT_SHAPES.get(self.kind, "circle")
        if shape == "diamond":
            painter.drawPolygon(QPolygonF([QPointF(0, -r), QPointF(r, 0), QPointF(0, r), QPointF(-r, 0)]))
        elif shape == "square":
            painter.drawRect(QRectF(-r * 0.85, -r * 0.85, 1.7 * r, 1.7 * r))
        elif shape == "triangle":
            painter.drawPolygon(QPolygonF([QPointF(0, -r), QPointF(r, r * 0.8), QPointF(-r, r * 0.8)]))
        elif shape == "triangle_down":
            painter.drawPolygon(QPolygonF([QPointF(-r, -r * 0.8), QPointF(r, -r * 0.8), QPointF(0, r)]))
        elif shape == "ring":
            painter.setPen(QPen(colour, 3.0))
            painter.setBrush(QBrush(Qt.GlobalColor.white))
            painter.drawEllipse(QPointF(0, 0), r * 0.8, r * 0.8)
        else:
            painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event) -> None:
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hover = False
        self.update()
