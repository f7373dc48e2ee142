"""A node card: name, type, output shape and parameter count, with its ports on the edges.

The card paints itself in one pass (no child text items), which keeps a 500-node canvas
smooth. It never reads the graph on its own: the scene hands it what to show through
`set_node` (structure) and `set_analysis` (shapes, counts, issues), and repaints only when
something it shows has changed.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from graph_core import Node, PortSpec, format_shape, get_spec, has_spec

from .port_item import PortItem
from .style import (
    CARD_FILL,
    CATEGORY_COLOURS,
    ERROR_COLOUR,
    FROZEN_FILL,
    MUTED_TEXT,
    NODE_WIDTH,
    ROW,
    SELECTED_COLOUR,
    TEXT_COLOUR,
    WARNING_COLOUR,
    LevelOfDetail,
)

_HEADER = 22.0
_TITLE_FONT = QFont()
_TITLE_FONT.setBold(True)
_TITLE_FONT.setPointSizeF(9.5)
_BODY_FONT = QFont()
_BODY_FONT.setPointSizeF(8.5)


class NodeItem(QGraphicsItem):
    """The card of one node. `node_id` is the stable id it stands for."""

    def __init__(self, node: Node, ports: tuple[tuple[PortSpec, ...], tuple[PortSpec, ...]]) -> None:
        super().__init__()
        self.node_id = node.id
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsScenePositionChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.edges: list = []  # EdgeItems touching this card; they follow it when it moves
        self.in_ports: dict[str, PortItem] = {}
        self.out_ports: dict[str, PortItem] = {}
        self._height = 80.0
        self._shown: tuple = ()
        self._type = node.type
        self._name = node.name
        self._frozen = node.frozen
        self._shape_text = "?"
        self._params_text = ""
        self._teaching = ""
        self._state = ""  # "", "warning" or "error"
        self._help = get_spec(node.type).help if has_spec(node.type) else "unknown node type"
        self._category = get_spec(node.type).category if has_spec(node.type) else "shape"
        self._message = ""
        self.set_ports(ports)
        self.setPos(float(node.ui.get("x", 0.0)), float(node.ui.get("y", 0.0)))
        self._update_tooltip()

    # ---- content ---------------------------------------------------------------------------

    def set_ports(self, ports: tuple[tuple[PortSpec, ...], tuple[PortSpec, ...]]) -> None:
        """(Re)create the port dots; only Blocks change ports after creation."""
        names = ([p.name for p in ports[0]], [p.name for p in ports[1]])
        if names == (list(self.in_ports), list(self.out_ports)):
            return
        for item in [*self.in_ports.values(), *self.out_ports.values()]:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.in_ports, self.out_ports = {}, {}
        self.prepareGeometryChange()
        self._height = max(84.0, _HEADER + 12 + ROW * max(len(ports[0]), len(ports[1]), 1))
        for specs, is_output, store in ((ports[0], False, self.in_ports), (ports[1], True, self.out_ports)):
            for k, spec in enumerate(specs):
                item = PortItem(self.node_id, spec, is_output, self)
                item.setPos(NODE_WIDTH if is_output else 0.0, self._port_y(k, len(specs)))
                store[spec.name] = item

    def set_node(self, node: Node) -> None:
        """Name or frozen flag changed."""
        if (node.name, node.frozen) != (self._name, self._frozen):
            self._name, self._frozen = node.name, node.frozen
            self._update_tooltip()
            self.update()

    def set_analysis(self, shape: tuple[int, ...] | None, params: int | None, error: str | None,
                     warnings: list[str], cost: str = "", teaching: str = "") -> bool:
        """Show fresh analysis; returns True when anything visible changed.

        Args:
            cost: the node's multiply-accumulates, already formatted ("" for none).
            teaching: the hover overlay (graph_core.teaching): formula, parameters, receptive field.
        """
        shown = (shape, params, error, tuple(warnings), cost, teaching)
        if shown == self._shown:
            return False
        self._shown = shown
        self._shape_text = "?" if shape is None else format_shape(shape)
        self._params_text = "" if params is None else f"{params:,} params"
        if cost:
            self._params_text += f" · {cost} MACs"
        self._teaching = teaching
        self._state = "error" if error else ("warning" if warnings else "")
        self._message = error or "\n".join(warnings)
        self._update_tooltip()
        self.update()
        return True

    @property
    def state(self) -> str:
        return self._state

    @property
    def shape_text(self) -> str:
        return self._shape_text

    def port(self, name: str, is_output: bool) -> PortItem | None:
        return (self.out_ports if is_output else self.in_ports).get(name)

    # ---- QGraphicsItem ---------------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        return QRectF(-3, -3, NODE_WIDTH + 6, self._height + 6)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        rect = QRectF(0, 0, NODE_WIDTH, self._height)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if LevelOfDetail.far(lod):
            self._paint_far(painter, rect)  # zoomed far out: text would be unreadable anyway
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border, width = QColor("#98a2b3"), 1.2
        if self._state == "error":
            border, width = ERROR_COLOUR, 3.0
        elif self._state == "warning":
            border, width = WARNING_COLOUR, 2.5
        if self.isSelected():
            border, width = SELECTED_COLOUR, 3.0
        painter.setPen(QPen(border, width))
        painter.setBrush(QBrush(FROZEN_FILL if self._frozen else CARD_FILL))
        painter.drawRoundedRect(rect, 7, 7)
        colour = CATEGORY_COLOURS.get(self._category, QColor("#7a8595"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(1.5, 1.5, NODE_WIDTH - 3, _HEADER), 6, 6)
        painter.drawRect(QRectF(1.5, _HEADER - 6, NODE_WIDTH - 3, 7.5))
        painter.setFont(_TITLE_FONT)
        painter.setPen(Qt.GlobalColor.white)
        title = ("❄ " if self._frozen else "") + self._name
        painter.drawText(QRectF(10, 1.5, NODE_WIDTH - 20, _HEADER), Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, int(NODE_WIDTH - 20)))
        painter.setFont(_BODY_FONT)
        painter.setPen(MUTED_TEXT)
        y = _HEADER + 4
        left = 12.0 + self._in_names_width()  # room for the input port names
        width = NODE_WIDTH - left - 12
        painter.drawText(QRectF(left, y, width, ROW), Qt.AlignmentFlag.AlignVCenter,
                         self._type + ("  · frozen" if self._frozen else ""))
        painter.setPen(ERROR_COLOUR if self._state == "error" else TEXT_COLOUR)
        painter.drawText(QRectF(left, y + ROW, width, ROW), Qt.AlignmentFlag.AlignVCenter,
                         "→ " + self._shape_text)
        painter.setPen(MUTED_TEXT)
        painter.drawText(QRectF(left, y + 2 * ROW, width, ROW), Qt.AlignmentFlag.AlignVCenter,
                         painter.fontMetrics().elidedText(self._params_text, Qt.TextElideMode.ElideRight, int(width)))
        self._paint_port_names(painter)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemScenePositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)

    def _paint_far(self, painter: QPainter, rect: QRectF) -> None:
        colour = CATEGORY_COLOURS.get(self._category, QColor("#7a8595"))
        if self.isSelected():
            outline = SELECTED_COLOUR
        else:
            outline = {"error": ERROR_COLOUR, "warning": WARNING_COLOUR}.get(self._state, colour)
        painter.setPen(QPen(outline, 8 if outline is not colour else 1))
        painter.setBrush(FROZEN_FILL if self._frozen else CARD_FILL)
        painter.drawRect(rect)
        painter.fillRect(QRectF(0, 0, NODE_WIDTH, _HEADER * 1.5), colour)

    # ---- helpers ---------------------------------------------------------------------------

    def _port_y(self, k: int, n: int) -> float:
        top = _HEADER + 6
        return top + (self._height - top - 4) * (k + 0.5) / n

    def _in_names_width(self) -> float:
        """The column the input port names take (0 for one port): the longest name, 44 to 70 px
        ('condition' and 'memory' whole, the type and shape lines keeping most of the card)."""
        if len(self.in_ports) < 2:
            return 0.0
        metrics = QFontMetricsF(_BODY_FONT)
        widest = max(metrics.horizontalAdvance(name) for name in self.in_ports)
        return float(min(70, max(44, widest + 4)))

    def _paint_port_names(self, painter: QPainter) -> None:
        """Name the ports when a side has several (a single port's name is in its tooltip)."""
        painter.setPen(MUTED_TEXT)
        for ports, right in ((self.in_ports, False), (self.out_ports, True)):
            if len(ports) < 2:
                continue
            for name, item in ports.items():
                y = item.pos().y()
                rect = QRectF(NODE_WIDTH - 82, y - 8, 70, 16) if right else \
                    QRectF(10, y - 8, self._in_names_width(), 16)
                align = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
                painter.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter, name)

    def _update_tooltip(self) -> None:
        text = f"{self._name} ({self._type})\n{self._help}"
        if self._frozen:
            text += "\nFrozen: its weights are not trained (transfer learning)."
        if self._teaching:
            text += "\n\n" + self._teaching
        if self._message:
            text += ("\n\nError: " if self._state == "error" else "\n\nWarning: ") + self._message
        self.setToolTip(text)

    def center(self) -> QPointF:
        return self.mapToScene(QPointF(NODE_WIDTH / 2, self._height / 2))
