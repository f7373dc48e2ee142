"""A wire between an output port and an input port, labelled with the tensor shape it carries."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from graph_core import Edge

from .port_item import PortItem
from .style import PORT_COLOURS, WIRE_COLOUR, WIRE_SELECTED, LevelOfDetail

_LABEL_FONT = QFont()
_LABEL_FONT.setPointSizeF(8.0)


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A smooth S-curve from an output (left) to an input (right), also when b is behind a."""
    dx = max(60.0, abs(b.x() - a.x()) * 0.5)
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


class EdgeItem(QGraphicsPathItem):
    """One wire. `edge` is the graph_core Edge it draws."""

    def __init__(self, edge: Edge, src: PortItem, dst: PortItem) -> None:
        super().__init__()
        self.edge = edge
        self.src, self.dst = src, dst
        self.label = ""
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self._colour = WIRE_COLOUR if src.kind == "tensor" else PORT_COLOURS.get(src.kind, WIRE_COLOUR)
        self.setToolTip(str(edge))
        self.update_path()

    def update_path(self) -> None:
        self.setPath(wire_path(self.src.scene_anchor(), self.dst.scene_anchor()))

    def set_label(self, text: str, teaching: str = "") -> None:
        """The shape the wire carries; `teaching` (graph_core.teaching.explain_wire) replaces the
        plain 'carries' line of the tooltip when given."""
        if (text, teaching) != (self.label, getattr(self, "_teaching", "")):
            self.label, self._teaching = text, teaching
            detail = teaching or (f"carries {text}" if text else "")
            self.setToolTip(f"{self.edge}\n{detail}" if detail else str(self.edge))
            self.update()

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)  # easy to click
        return stroker.createStroke(self.path())

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-60, -20, 60, 20)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = WIRE_SELECTED if self.isSelected() else self._colour
        painter.setPen(QPen(colour, 3.0 if self.isSelected() else 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        if not self.label or LevelOfDetail.far(option.levelOfDetailFromTransform(painter.worldTransform())):
            return
        mid = self.path().pointAtPercent(0.5)
        painter.setFont(_LABEL_FONT)
        width = painter.fontMetrics().horizontalAdvance(self.label) + 10
        box = QRectF(mid.x() - width / 2, mid.y() - 9, width, 18)
        painter.setPen(QPen(QColor("#d0d5dd"), 1))
        painter.setBrush(QBrush(QColor(255, 255, 255, 235)))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("#344054"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.label)
