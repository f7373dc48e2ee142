"""The canvas scene: one NodeItem per node and one EdgeItem per wire of the graph on show.

It mirrors the graph through the graph's events (a node added adds one card, a wire removed
removes one EdgeItem — never a full rebuild except after `reset`), and refreshes shapes and
issue outlines from the document's `analysed` signal, repainting only the cards whose content
changed. Two gestures live here because they need the items: wiring (drag from a port) and
moving (drag cards; one MoveNodes per drag, so one undo step).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent

from graph_core import (
    Connect,
    Edge,
    Graph,
    MoveNodes,
    Node,
    NodeShapes,
    get_spec,
    infer_shapes,
    node_ports,
)
from graph_core.specs import KIND_WORDS, kind_fits, kind_hint

from ..document import Document
from . import overlays
from .edge_item import EdgeItem, wire_path
from .node_item import NodeItem
from .port_item import PortItem
from .style import SELECTED_COLOUR, LevelOfDetail

SIMPLIFY_ABOVE = 150  # nodes; below this every card keeps its text at any zoom


class GraphScene(QGraphicsScene):
    """Shows `graph` (the document, or a block inside it reached through `path`).

    Signals:
        message(str): something to tell the user in the status bar (e.g. why a wire was refused).
        leaving(): the shown graph is about to change (a view can remember where it looked).
        block_opened(): the shown graph changed (breadcrumb needs an update).
    """

    message = Signal(str)
    leaving = Signal()
    block_opened = Signal()

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.graph: Graph = document.graph
        self.path: list[str] = []  # Block node ids from the top graph down to the one shown
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self.shapes: dict[str, NodeShapes] = {}
        self._unsubscribe = self.graph.subscribe(self._on_graph_event)
        self._wire_from: PortItem | None = None
        self._wire_cancelled = False
        self._geometry_dirty = True
        self._wire_preview: QGraphicsPathItem | None = None
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        document.analysed.connect(self.refresh_analysis)
        document.replaced.connect(lambda: self.show_graph([]))
        document.locked_changed.connect(self._on_locked)
        self._rebuild()
        self.refresh_analysis()

    # ---- what is shown -----------------------------------------------------------------------

    def show_graph(self, path: list[str]) -> None:
        """Show the top graph (path []) or the block reached by opening the Block nodes in path."""
        graph = self.document.graph
        for nid in path:
            graph = self.document.graph.blocks[block_name(graph.node(nid))]
        self.leaving.emit()
        self._unsubscribe()
        self.graph, self.path = graph, list(path)
        self._geometry_dirty = True
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self._rebuild()
        self.refresh_analysis()
        for view in self.views():
            view.viewport().update()
        self.block_opened.emit()

    def open_block(self, node_id: str) -> bool:
        """Open a Block or Discriminator node into its sub-graph; False when it names none."""
        node = self.graph.nodes.get(node_id)
        if node is None or node.type not in ("Block", "Discriminator"):
            return False
        if block_name(node) not in self.document.graph.blocks:
            self.message.emit(f"{node_id}: its block {block_name(node)!r} is not defined")
            return False
        self.show_graph([*self.path, node_id])
        return True

    def selected_node_ids(self) -> list[str]:
        """Selected nodes, in file order."""
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [nid for nid in self.graph.nodes if nid in chosen]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for nid in node_ids:
            item = self.node_items.get(nid)
            if item is not None:
                item.setSelected(True)

    # ---- model -> items ----------------------------------------------------------------------

    def _rebuild(self) -> None:
        self.clear()  # also deletes the items
        self.node_items, self.edge_items = {}, {}
        self._wire_preview = None
        for nid in self.graph.nodes:
            self._add_node(nid)
        for edge in self.graph.edges:
            self._add_edge(edge)
        LevelOfDetail.simplify = len(self.node_items) > SIMPLIFY_ABOVE

    def _add_node(self, node_id: str) -> None:
        node = self.graph.node(node_id)
        item = NodeItem(node, node_ports(node, self.document.graph.blocks))
        item.setFlag(item.GraphicsItemFlag.ItemIsMovable, not self.document.locked)
        self.addItem(item)
        self.node_items[node_id] = item

    def _add_edge(self, edge: Edge) -> None:
        a, b = self.node_items.get(edge.src[0]), self.node_items.get(edge.dst[0])
        src = a.port(edge.src[1], True) if a else None
        dst = b.port(edge.dst[1], False) if b else None
        if src is None or dst is None:
            return  # a wire to a port that does not exist: validation lists it
        item = EdgeItem(edge, src, dst)
        self.addItem(item)
        self.edge_items[edge] = item
        a.edges.append(item)
        b.edges.append(item)

    def _remove_edge(self, edge: Edge) -> None:
        item = self.edge_items.pop(edge, None)
        if item is None:
            return
        for nid in (edge.src[0], edge.dst[0]):
            card = self.node_items.get(nid)
            if card is not None and item in card.edges:
                card.edges.remove(item)
        self.removeItem(item)

    def _on_graph_event(self, kind: str, info: dict[str, Any]) -> None:
        if kind in ("node_added", "reset", "block_changed") or info.get("what") == "ui":
            self._geometry_dirty = True
        if kind == "node_added":
            self._add_node(info["node"])
        elif kind == "node_removed":
            item = self.node_items.pop(info["node"], None)
            if item is not None:
                self.removeItem(item)
        elif kind == "edge_added":
            self._add_edge(info["edge"])
        elif kind == "edge_removed":
            self._remove_edge(info["edge"])
        elif kind == "node_changed":
            self._node_changed(info["node"], info.get("what", ""))
        elif kind in ("reset", "block_changed"):
            self._rebuild()
        if kind in ("node_added", "node_removed"):
            LevelOfDetail.simplify = len(self.node_items) > SIMPLIFY_ABOVE
        if kind in ("node_added", "node_removed", "reset", "block_changed") and len(self.node_items) <= 1:
            for view in self.views():
                view.viewport().update()  # the empty-canvas hint appears or goes away

    def _node_changed(self, node_id: str, what: str) -> None:
        item, node = self.node_items.get(node_id), self.graph.nodes.get(node_id)
        if item is None or node is None:
            return
        if what == "ui":
            pos = QPointF(float(node.ui.get("x", 0.0)), float(node.ui.get("y", 0.0)))
            if item.pos() != pos:
                item.setPos(pos)
        elif what == "params" and node.type == "Block":
            self._rebuild()  # its ports come from the block it names
        else:
            item.set_node(node)

    def refresh_analysis(self) -> None:
        """Shapes, counts and issue outlines from the latest analysis; repaints what changed."""
        if self.path and not self._path_still_valid():
            self.show_graph([])
            return
        self.shapes = self._shapes_for_shown()
        if self._geometry_dirty:
            # Room around the nodes, so any node can be centred and the user can pan past the edge.
            self._geometry_dirty = False
            self.setSceneRect(self.itemsBoundingRect().adjusted(-3000, -3000, 3000, 3000))
        costs, fields = overlays.analyse(self.graph, self.shapes)
        for nid, item in self.node_items.items():
            info = self.shapes.get(nid)
            if info is None:
                continue
            item.set_analysis(info.output_shape, info.params, info.error, info.warnings,
                              overlays.cost_text(costs.get(nid)), overlays.node_text(self.graph, nid, self.shapes, fields))
        for edge, item in self.edge_items.items():
            info = self.shapes.get(edge.src[0])
            t = None if info is None else info.outputs.get(edge.src[1])
            item.set_label("" if t is None else str(t), overlays.wire_text(self.graph, edge, self.shapes, fields))

    def _path_still_valid(self) -> bool:
        graph = self.document.graph
        for nid in self.path:
            node = graph.nodes.get(nid)
            block = None if node is None else self.document.graph.blocks.get(block_name(node))
            if block is None:
                return False
            graph = block
        return graph is self.graph

    def _shapes_for_shown(self) -> dict[str, NodeShapes]:
        """The document's analysis, or for a block the inference fed with what reaches it."""
        shapes, graph, blocks = self.document.shapes, self.document.graph, self.document.graph.blocks
        for nid in self.path:
            node = graph.node(nid)
            block = blocks[block_name(node)]
            arriving = shapes.get(nid, NodeShapes()).inputs
            if node.type == "Discriminator":
                first_input = next(block.nodes_of_type("Input"), None)
                fake = arriving.get("fake") or []
                feed = {first_input.id: fake[0]} if first_input is not None and fake else {}
            else:
                feed = {port: ts[0] for port, ts in arriving.items() if ts}
            shapes, graph = infer_shapes(block, blocks, feed or None), block
        return shapes

    def _on_locked(self, locked: bool, reason: str) -> None:
        for item in self.node_items.values():
            item.setFlag(item.GraphicsItemFlag.ItemIsMovable, not locked)

    # ---- gestures: wiring and moving ---------------------------------------------------------

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        port = self._port_at(event.scenePos())
        if port is not None and event.button() == Qt.MouseButton.LeftButton:
            if self.document.locked:
                self.message.emit(f"Cannot wire: {self.document.locked_reason}")
                event.accept()
                return
            self._wire_from, self._wire_cancelled = port, False
            self._wire_preview = QGraphicsPathItem()
            self._wire_preview.setPen(QPen(SELECTED_COLOUR, 2, Qt.PenStyle.DashLine))
            self._wire_preview.setZValue(5)
            self.addItem(self._wire_preview)
            event.accept()
            return
        super().mousePressEvent(event)

    @property
    def wiring(self) -> bool:
        """True while a wire is being dragged out of a port."""
        return self._wire_from is not None

    def cancel_wire(self) -> bool:
        """Drop the wire being dragged (Escape); the release that follows wires nothing."""
        if self._wire_from is None:
            return False
        self._wire_from, self._wire_cancelled = None, True
        if self._wire_preview is not None:
            self.removeItem(self._wire_preview)
            self._wire_preview = None
        self.message.emit("Wire cancelled.")
        return True

    def cancel_move(self) -> bool:
        """Put cards being dragged back where the graph has them (Escape); the release that
        follows then moves nothing, so no undo step is made."""
        grabber = self.mouseGrabberItem()
        if not isinstance(grabber, NodeItem):
            return False
        for item in self.selectedItems():
            node = self.graph.nodes.get(item.node_id) if isinstance(item, NodeItem) else None
            if node is not None:
                item.setPos(QPointF(float(node.ui.get("x", 0.0)), float(node.ui.get("y", 0.0))))
        grabber.ungrabMouse()  # the rest of the drag moves nothing
        self.message.emit("Move cancelled.")
        return True

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire_from is not None and self._wire_preview is not None:
            a, b = self._wire_from.scene_anchor(), event.scenePos()
            self._wire_preview.setPath(wire_path(a, b) if self._wire_from.is_output else wire_path(b, a))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire_cancelled:
            self._wire_cancelled = False  # the button that dragged a cancelled wire comes up
            event.accept()
            return
        if self._wire_from is not None:
            start, self._wire_from = self._wire_from, None
            if self._wire_preview is not None:
                self.removeItem(self._wire_preview)
                self._wire_preview = None
            self.try_wire(start, event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        card = self.card_at(event.scenePos())
        if card is not None and self.open_block(card.node_id):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def try_wire(self, start: PortItem, drop: QPointF) -> bool:
        """Wire `start` to the port under `drop` (or the first free fitting port of the card
        under it). Refusals are reported through `message`; returns True when wired."""
        end = self._port_at(drop)
        if end is None:
            card = self.card_at(drop)
            if card is None:
                self.message.emit("Wire dropped on empty canvas: drop it on a port of another node.")
                return False
            end = _fitting_port(card, start, self.graph)
            if end is None:
                side = "input" if start.is_output else "output"
                self.message.emit(f"Cannot wire: {card.node_id} has no free {side} port for a {start.kind}.")
                return False
        src, dst = (start, end) if start.is_output else (end, start)
        reason = wire_refusal(self.graph, src, dst)
        if reason:
            self.message.emit(f"Cannot wire: {reason}")
            return False
        edge = Edge((src.node_id, src.name), (dst.node_id, dst.name))
        replaced = [e for e in self.graph.edges_into(dst.node_id, dst.name)] if not dst.multi else []
        try:
            self.document.execute(Connect(edge), self.graph)
        except (ValueError, KeyError, RuntimeError) as exc:
            self.message.emit(f"Cannot wire: {exc}")
            return False
        info = self.document.shapes.get(src.node_id) if not self.path else self.shapes.get(src.node_id)
        t = None if info is None else info.outputs.get(src.name)
        note = f" (replaced the wire from {replaced[0].src[0]})" if replaced else ""
        self.message.emit(f"Wired {src.node_id}.{src.name} → {dst.node_id}.{dst.name}"
                          + (f": {t}" if t is not None else "") + note)
        return True

    def _commit_moves(self) -> None:
        """After a drag: one MoveNodes for every card that moved (one undo step)."""
        moved = {}
        for item in self.selectedItems():
            if not isinstance(item, NodeItem) or item.node_id not in self.graph.nodes:
                continue
            ui = self.graph.node(item.node_id).ui
            x, y = item.pos().x(), item.pos().y()
            if (round(x, 1), round(y, 1)) != (round(float(ui.get("x", 0.0)), 1), round(float(ui.get("y", 0.0)), 1)):
                moved[item.node_id] = (round(x, 1), round(y, 1))
        if moved and not self.document.locked:
            self.document.execute(MoveNodes(moved), self.graph)

    def _port_at(self, pos: QPointF) -> PortItem | None:
        return next((i for i in self.items(pos) if isinstance(i, PortItem)), None)

    def card_at(self, pos: QPointF) -> NodeItem | None:
        """The card under a scene point (a port counts as its card), or None."""
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
            if isinstance(item, PortItem):
                return item.parentItem()
        return None


def block_name(node: Node) -> str:
    """The sub-graph a Block or Discriminator node names (its parameter or the default)."""
    return str(node.params.get("block", get_spec(node.type).param("block").default))


def wire_refusal(graph: Graph, src: PortItem, dst: PortItem) -> str:
    """Why wiring src -> dst is not allowed ('' when it is)."""
    if not src.is_output or dst.is_output:
        return "connect an output port (right side of a card) to an input port (left side)."
    if src.node_id == dst.node_id:
        return f"{src.node_id} cannot feed itself."
    if not kind_fits(src.kind, dst.kind):
        if src.kind == "indices":
            return (f"{src.node_id}.{src.name} carries pool indices; they can only go into a "
                    "MaxUnpool's 'indices' port.")
        if dst.kind == "indices":
            return f"{dst.node_id}.{dst.name} takes pool indices from a MaxPool's 'indices' port, not a tensor."
        return (f"{dst.node_id}.{dst.name} takes {KIND_WORDS[dst.kind]} but {src.node_id}.{src.name} carries "
                f"{KIND_WORDS[src.kind]}: {kind_hint(src.kind, dst.kind)}.")
    if Edge((src.node_id, src.name), (dst.node_id, dst.name)) in graph.edges:
        return "these two ports are already wired."
    if _reaches(graph, dst.node_id, src.node_id):
        return f"it would make a loop: {src.node_id} already depends on {dst.node_id}."
    return ""


def _reaches(graph: Graph, start: str, goal: str) -> bool:
    succ: dict[str, list[str]] = {}
    for e in graph.edges:
        succ.setdefault(e.src[0], []).append(e.dst[0])
    stack, seen = [start], {start}
    while stack:
        nid = stack.pop()
        if nid == goal:
            return True
        for nxt in succ.get(nid, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _fitting_port(card: NodeItem, start: PortItem, graph: Graph) -> PortItem | None:
    """The port of `card` a wire dropped on its body most likely means: a free one of the
    right side and kind, else any of the right side and kind."""
    ports = card.in_ports if start.is_output else card.out_ports
    def fits(p: PortItem) -> bool:
        return kind_fits(start.kind, p.kind) if start.is_output else kind_fits(p.kind, start.kind)

    # the same kind first (a tensor dropped on attention goes to 'query' before 'mask')
    fitting = sorted((p for p in ports.values() if fits(p)), key=lambda p: p.kind != start.kind)
    if start.is_output:
        free = [p for p in fitting if p.multi or not graph.edges_into(card.node_id, p.name)]
        return (free or fitting or [None])[0]
    return (fitting or [None])[0]
