"""Canvas editing operations: add, delete, copy, paste, duplicate, group, ungroup, auto-layout.

Each operation builds graph_core commands and hands them to the document as one undo step;
this module decides *what* to do from the selection, the scene draws the result when the
graph announces it. Failures (a locked document, a refused edit) become status messages.
"""

from __future__ import annotations

import json
import re

from PySide6.QtCore import QObject, QPointF, QRectF, Signal
from PySide6.QtWidgets import QApplication

from graph_core import (
    AddNode,
    Command,
    Disconnect,
    Edge,
    Graph,
    GroupIntoBlock,
    Macro,
    MoveNodes,
    Node,
    RemoveNodes,
    Ungroup,
    graph_from_dict,
    graph_to_dict,
    node_ports,
)

from .canvas.edge_item import EdgeItem
from .canvas.layout import COLUMN_GAP, ROW_GAP, auto_layout
from .canvas.scene import GraphScene, block_name
from .canvas.style import NODE_WIDTH
from .document import Document


class Editor(QObject):
    """Turns user intents on the canvas into undoable commands.

    Signals:
        message(str): a line for the status bar.
    """

    message = Signal(str)

    def __init__(self, document: Document, scene: GraphScene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.scene = scene

    @property
    def graph(self) -> Graph:
        """The graph on show (the document or an opened block)."""
        return self.scene.graph

    def run(self, command: Command) -> bool:
        """Execute one command as one undo step; a refusal becomes a message."""
        try:
            self.document.execute(command, self.graph)
        except RuntimeError as exc:
            self.message.emit(str(exc))
            return False
        except (ValueError, KeyError) as exc:
            self.message.emit(f"Refused: {exc}")
            return False
        return True

    # ---- adding ------------------------------------------------------------------------------

    def add_node(self, type_name: str, at: QPointF | None = None, wire_from: str | None = None) -> str | None:
        """Add a node of `type_name` centred at `at` (scene coordinates); when `wire_from` names a
        node, wire its first output into the new node's first fitting input. Returns the id."""
        node_id = self.graph.unique_id(type_name)
        node = Node(node_id, type_name)
        if type_name == "Input" and not self.scene.path:
            field = self.free_input_field()
            if field:
                node.params["field"] = field  # say in the file which field it reads
        if at is None:
            at = self.scene.views()[0].mapToScene(self.scene.views()[0].viewport().rect().center()) \
                if self.scene.views() else QPointF(0, 0)
        x, y = self.free_spot(at.x() - NODE_WIDTH / 2, at.y() - 40)
        node.ui = {"x": round(x, 1), "y": round(y, 1)}
        edges = self._wire_after(wire_from, node) if wire_from else []
        if not self.run(AddNode(node, edges)):
            return None
        self.scene.select_nodes([node_id])
        wired = f", wired from {wire_from}" if edges else ""
        self.message.emit(f"Added {type_name} '{node_id}'{wired}.")
        return node_id

    def free_spot(self, x: float, y: float, height: float = 100.0) -> tuple[float, float]:
        """The top-left corner nearest (x, y), stepping down then up a row at a time, where a new
        card covers no card already on the canvas (a node added after the last one, or by a
        double-click, once landed exactly on top of the Output)."""
        taken = [item.sceneBoundingRect().adjusted(-12, -12, 12, 12) for item in self.scene.node_items.values()]
        for k in range(200):
            dy = ((k + 1) // 2) * ROW_GAP * (1 if k % 2 else -1)
            spot = QRectF(x, y + dy, NODE_WIDTH, height)
            if not any(spot.intersects(r) for r in taken):
                return x, y + dy
        return x, y

    def free_input_field(self) -> str | None:
        """The dataset's first input field no Input of the document reads yet (None if unknown)."""
        schema = self.document.data_state.schema
        if schema is None:
            return None
        taken = {str(n.params.get("field") or n.id) for n in self.document.graph.nodes_of_type("Input")}
        free = [name for name in schema.input_fields() if name not in taken]
        return free[0] if free else None

    def add_near_selection(self, type_name: str) -> str | None:
        """Add after the last selected node (to its right, wired to it); else after the right-most
        node, or in the middle of the view on an empty canvas."""
        selected = self.scene.selected_node_ids()
        anchor = selected[-1] if selected else None
        if anchor is None and self.graph.nodes:
            anchor = max(self.graph.nodes, key=lambda n: (float(self.graph.nodes[n].ui.get("x", 0)),
                                                          list(self.graph.nodes).index(n)))
            anchor_item = self.scene.node_items.get(anchor)
            at = None if anchor_item is None else anchor_item.center() + QPointF(COLUMN_GAP, 0)
            return self.add_node(type_name, at)
        if anchor is None:
            return self.add_node(type_name)
        item = self.scene.node_items[anchor]
        return self.add_node(type_name, item.center() + QPointF(COLUMN_GAP, 0), wire_from=anchor)

    def _wire_after(self, src_id: str, new: Node) -> list[Edge]:
        src = self.graph.nodes.get(src_id)
        if src is None:
            return []
        outs = node_ports(src, self.document.graph.blocks)[1]
        ins = node_ports(new, self.document.graph.blocks)[0]
        for out in outs:
            for inp in ins:
                if out.kind == inp.kind:
                    return [Edge((src_id, out.name), (new.id, inp.name))]
        return []

    # ---- removing ----------------------------------------------------------------------------

    def delete_selected(self) -> bool:
        """Delete the selected nodes (with their wires) and selected wires: one undo step."""
        nodes = self.scene.selected_node_ids()
        wires = [i.edge for i in self.scene.selectedItems()
                 if isinstance(i, EdgeItem) and i.edge.src[0] not in nodes and i.edge.dst[0] not in nodes]
        commands: list[Command] = [Disconnect(e) for e in wires]
        if nodes:
            commands.append(RemoveNodes(nodes))
        if not commands:
            self.message.emit("Nothing selected to delete.")
            return False
        what = ", ".join(nodes) if nodes else f"{len(wires)} wire{'s' * (len(wires) != 1)}"
        return self.run(Macro(commands, f"delete {what}"))

    # ---- clipboard ---------------------------------------------------------------------------

    def selection_as_json(self) -> str | None:
        """The selected nodes and the wires between them, as graph file text."""
        ids = self.scene.selected_node_ids()
        if not ids:
            return None
        part = Graph(name="clipboard")
        for nid in ids:
            node = self.graph.node(nid)
            ui = dict(node.ui)
            item = self.scene.node_items.get(nid)
            if item is not None:
                ui.update(x=item.pos().x(), y=item.pos().y())
            part.nodes[nid] = Node(nid, node.type, dict(node.params), node.name, node.frozen,
                                   node.lr_factor, ui)
        part.edges = [e for e in self.graph.edges if e.src[0] in part.nodes and e.dst[0] in part.nodes]
        return json.dumps(graph_to_dict(part))

    def copy(self) -> bool:
        text = self.selection_as_json()
        if text is None:
            self.message.emit("Select nodes to copy.")
            return False
        # Plain text holding graph-file JSON: other apps can read it, and handing a QMimeData
        # to the clipboard from Python crashes at exit (double ownership).
        QApplication.clipboard().setText(text)
        self.message.emit(f"Copied {len(self.scene.selected_node_ids())} node(s).")
        return True

    def paste(self) -> bool:
        raw = QApplication.clipboard().text()
        if '"netwright.graph"' not in raw:
            self.message.emit("The clipboard holds no nodes.")
            return False
        return self.paste_json(raw)

    def duplicate(self) -> bool:
        text = self.selection_as_json()
        if text is None:
            self.message.emit("Select nodes to duplicate.")
            return False
        return self.paste_json(text)

    def paste_json(self, text: str, offset: tuple[float, float] = (40.0, 40.0)) -> bool:
        """Add the nodes of a graph text (fresh ids, shifted by `offset`) as one undo step."""
        try:
            part = graph_from_dict(json.loads(text))
        except Exception as exc:  # any malformed clipboard text: tell, never crash
            self.message.emit(f"Cannot paste: {exc}")
            return False
        taken = set(self.graph.nodes)
        rename: dict[str, str] = {}
        probe = Graph(nodes={k: Node(k, "Identity") for k in taken})
        for nid in part.nodes:
            rename[nid] = probe.unique_id(re.sub(r"_\d+$", "", nid))  # conv_2 -> conv_3, not conv_2_2
            probe.nodes[rename[nid]] = Node(rename[nid], "Identity")
        commands: list[Command] = []
        for nid, node in part.nodes.items():
            clone = Node(rename[nid], node.type, dict(node.params),
                         node.name if node.name != nid else rename[nid], node.frozen, node.lr_factor,
                         {**node.ui, "x": float(node.ui.get("x", 0)) + offset[0],
                          "y": float(node.ui.get("y", 0)) + offset[1]})
            commands.append(AddNode(clone))
        edges = [Edge((rename[e.src[0]], e.src[1]), (rename[e.dst[0]], e.dst[1])) for e in part.edges]
        if commands:
            commands[-1] = AddNode(commands[-1].node, edges)
        if not commands or not self.run(Macro(commands, f"paste {len(commands)} node(s)")):
            return False
        self.scene.select_nodes(list(rename.values()))
        self.message.emit(f"Pasted {len(commands)} node(s).")
        return True

    # ---- blocks ------------------------------------------------------------------------------

    def group_selected(self) -> str | None:
        """Group the selected nodes into a new block (one undo step). Returns the Block node's
        id; a refused selection (an Input, pool indices crossing the edge, ...) is explained in
        the status bar and changes nothing."""
        ids = self.scene.selected_node_ids()
        if not ids:
            self.message.emit("Select the nodes to group (drag a rubber band around them), then Ctrl+G.")
            return None
        if self.scene.path:
            # Blocks live in the file's top-level `blocks`; a block inside an opened block
            # would be stored where nothing looks for it.
            self.message.emit("Cannot group inside a block: go back to the top graph first.")
            return None
        name = self.fresh_block_name(set(ids))
        if not self.run(GroupInPlace(ids, name, name)):
            return None
        self.scene.select_nodes([name])
        self.message.emit(f"Grouped {len(ids)} node(s) into block '{name}' (double-click it to open it; "
                          "Ctrl+Shift+G ungroups).")
        return name

    def ungroup_selected(self) -> bool:
        """Put the selected Block node's nodes back inline (one undo step)."""
        blocks = [nid for nid in self.scene.selected_node_ids() if self.graph.node(nid).type == "Block"]
        if len(blocks) != 1:
            self.message.emit("Select one Block node to ungroup.")
            return False
        if self.scene.path:
            self.message.emit("Cannot ungroup inside a block: go back to the top graph first.")
            return False
        before = set(self.graph.nodes)
        if not self.run(UngroupInPlace(blocks[0])):
            return False
        inline = [nid for nid in self.graph.nodes if nid not in before]
        self.scene.select_nodes(inline)
        self.message.emit(f"Ungrouped {blocks[0]}: {len(inline)} node(s) back inline.")
        return True

    def fresh_block_name(self, replaced: set[str] | None = None) -> str:
        """'block', 'block_2', ...: the first name free both as a block and as a node id (the
        nodes in `replaced` are about to go, so their ids count as free)."""
        graph = self.document.graph
        taken = set(graph.blocks) | (set(graph.nodes) - (replaced or set()))
        name, n = "block", 2
        while name in taken:
            name, n = f"block_{n}", n + 1
        return name

    # ---- layout ------------------------------------------------------------------------------

    def auto_layout(self) -> bool:
        """Lay the shown graph out in layers (one undo step)."""
        if not self.graph.nodes:
            return False
        return self.run(MoveNodes(auto_layout(self.graph, aspect=self.view_aspect())))

    def view_aspect(self) -> float:
        """Width / height of the canvas (what a layout should fill)."""
        views = self.scene.views()
        if not views or views[0].viewport().height() < 50:
            return 1.8
        return views[0].viewport().width() / views[0].viewport().height()


class GroupInPlace(GroupIntoBlock):
    """GroupIntoBlock laid out for reading (graph_core leaves `ui` alone: the core never
    interprets positions). The Block card takes the place of the first grouped node, where the
    data entered, so wires keep flowing left to right (a VGG stage's row starts with it); the
    new inner Input and Output cards sit beside the nodes they wire to. Undo restores the
    snapshot, so this is one step all the same."""

    def transform(self, graph: Graph) -> None:
        first = graph.node(self.node_ids[0]).ui if self.node_ids and self.node_ids[0] in graph.nodes else {}
        super().transform(graph)
        if "x" in first and "y" in first:
            graph.node(self.node_id).ui = {"x": float(first["x"]), "y": float(first["y"])}
        place_block_ports(graph.blocks[self.block_name])


class UngroupInPlace(Ungroup):
    """Ungroup that also drops the block's definition when no other node uses it, so the file
    keeps no orphan (graph_core keeps it for other users; undo restores it with the rest)."""

    def transform(self, graph: Graph) -> None:
        name = block_name(graph.node(self.node_id))
        super().transform(graph)
        users = [n for g in (graph, *graph.blocks.values()) for n in g.nodes.values()
                 if n.type in ("Block", "Discriminator") and block_name(n) == name]
        if not users:
            graph.blocks.pop(name, None)


def place_block_ports(block: Graph) -> None:
    """Put a block's Inputs one column left of the node each feeds and its Outputs one column
    right of the node feeding each, stacked where several would share a spot."""
    inner = [n for n in block.nodes.values() if n.type not in ("Input", "Output")]
    if not inner:
        return
    pos = {n.id: (float(n.ui.get("x", 0.0)), float(n.ui.get("y", 0.0))) for n in inner}
    left = min(x for x, _ in pos.values()) - COLUMN_GAP
    right = max(x for x, _ in pos.values()) + COLUMN_GAP
    taken: set[tuple[float, float]] = set()
    for node in block.nodes.values():
        if node.ui or node.type not in ("Input", "Output"):
            continue  # a position the user chose stays
        if node.type == "Input":
            ys = [pos[e.dst[0]][1] for e in block.edges if e.src[0] == node.id and e.dst[0] in pos]
            x = left
        else:
            ys = [pos[e.src[0]][1] for e in block.edges if e.dst[0] == node.id and e.src[0] in pos]
            x = right
        y = min(ys) if ys else 0.0
        while (x, y) in taken:
            y += ROW_GAP
        taken.add((x, y))
        node.ui = {"x": round(x, 1), "y": round(y, 1)}
