"""The canvas view: zoom with the wheel, pan with the middle button (or Alt+drag), rubber-band
selection with the left button on empty canvas, drops from the palette, and Escape (cancel the
wire, move or rubber band being dragged, else clear the selection).

It does not edit the graph itself: a drop or a quick-add request is announced by signal and
the window's editor turns it into one undoable command.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QMouseEvent,
    QPainter,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from .scene import GraphScene

LAYER_MIME = "application/x-netwright-layer"
EMPTY_HINT = ("Drag a layer here from the palette on the left (start with an Input),\n"
              "or press Tab to search for one. Then drag from a port to wire it.\n"
              "File ▸ New from template… opens a ready-made network.")


class GraphView(QGraphicsView):
    """The canvas widget (objectName `canvas`).

    Signals:
        layer_dropped(str, QPointF): a palette entry (type string) was dropped at a scene point.
        quick_add_requested(QPointF): Tab or Space at a scene point (the cursor, or the centre).
    """

    layer_dropped = Signal(str, QPointF)
    quick_add_requested = Signal(QPointF)

    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setAcceptDrops(True)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setBackgroundBrush(QColor("#f4f6fa"))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPoint | None = None
        self._selection_before_band: list[str] = []
        self.setToolTip("")

    # ---- zoom, fit, pan ----------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        new = min(4.0, max(0.05, self.zoom * factor))
        self.scale(new / self.zoom, new / self.zoom)

    def fit_all(self) -> None:
        """Show every node (F or Ctrl+0)."""
        rect = self.scene().itemsBoundingRect()
        if rect.isEmpty():
            rect = QRectF(-200, -150, 400, 300)
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.0:  # a single small node should not fill the screen
            self.zoom_by(1.0 / self.zoom)
            self.centerOn(rect.center())

    def cursor_scene_pos(self) -> QPointF:
        """Where the mouse is on the canvas, or the centre of the view when it is outside."""
        local = self.viewport().mapFromGlobal(self.cursor().pos())
        if not self.viewport().rect().contains(local):
            local = self.viewport().rect().center()
        return self.mapToScene(local)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().wheelEvent(event)  # shift+wheel scrolls
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps)
        event.accept()

    def mousePressEvent(self, event) -> None:
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if event.button() == Qt.MouseButton.MiddleButton or (alt and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position().toPoint()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        # what Escape gives back if this press starts a rubber band
        self._selection_before_band = self.scene().selected_node_ids()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._pan_from = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            self.cancel_gesture()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            self.quick_add_requested.emit(self.cursor_scene_pos())
            event.accept()
            return
        super().keyPressEvent(event)

    def cancel_gesture(self) -> str:
        """Escape: drop the wire being dragged, else put cards being dragged back, else drop the
        rubber band (the selection goes back to what it was before the band), else clear the
        selection. Returns what was cancelled: "wire", "move", "band", "selection" or ""."""
        scene = self.scene()
        if scene.cancel_wire():
            return "wire"
        if scene.cancel_move():
            return "move"
        if not self.rubberBandRect().isNull():
            # Qt offers no call to abort a band; a release with no button held ends it the way
            # Qt's own release does, and the real release that follows finds no band to finish.
            vp = self.viewport()
            local = vp.mapFromGlobal(self.cursor().pos())
            end = QMouseEvent(QMouseEvent.Type.MouseButtonRelease, QPointF(local),
                              QPointF(vp.mapToGlobal(local)), Qt.MouseButton.LeftButton,
                              Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
            super().mouseReleaseEvent(end)
            scene.select_nodes(self._selection_before_band)
            scene.message.emit("Selection cancelled.")
            return "band"
        if scene.selectedItems():
            scene.clearSelection()
            return "selection"
        return ""

    def event(self, event) -> bool:
        # Tab would move keyboard focus away; on the canvas it opens quick-add instead.
        if event.type() == event.Type.KeyPress and event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.quick_add_requested.emit(self.cursor_scene_pos())
            return True
        return super().event(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if getattr(self.scene(), "node_items", None):
            return
        # An empty canvas says how to start, in the middle of the view.
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor("#98a2b3"))
        font = painter.font()
        font.setPointSizeF(12)
        painter.setFont(font)
        # Wrapped to the viewport, so a small window shows the whole hint rather than its middle.
        area = self.viewport().rect().adjusted(16, 16, -16, -16)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_HINT)
        painter.restore()

    # ---- drops from the palette --------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        type_name = bytes(event.mimeData().data(LAYER_MIME).data()).decode("utf-8")
        self.layer_dropped.emit(type_name, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
