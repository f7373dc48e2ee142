"""Edit commands: every user edit is an object with `apply(graph)` and `revert(graph)`.

The designer wraps each in one QUndoCommand; scripts and tests use them directly. Applying a
sequence and reverting it in reverse order gives back the same document, byte for byte.
Commands only call the Graph's mutation methods, so views hear about every change.
The structural ones, GroupIntoBlock and Ungroup, live in `graph_core.grouping`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from .graph import UNSET, Edge, Graph, Node
from .shapes import node_ports
from .specs import get_spec


class Command:
    """Base class. `text` is what an undo history shows."""

    text = "edit"

    def apply(self, graph: Graph) -> None:
        raise NotImplementedError

    def revert(self, graph: Graph) -> None:
        raise NotImplementedError

    def merge(self, other: Command) -> bool:
        """Absorb a following command of the same gesture; True when merged."""
        return False


class Macro(Command):
    """Several commands as one step (one gesture, one undo)."""

    def __init__(self, commands: Iterable[Command], text: str = "edit") -> None:
        self.commands = list(commands)
        self.text = text

    def apply(self, graph: Graph) -> None:
        """All or nothing: when one command raises, those applied before it are reverted (the
        document is as it was) and the error goes on to the caller, who pushes nothing."""
        done: list[Command] = []
        try:
            for c in self.commands:
                c.apply(graph)
                done.append(c)
        except BaseException:
            for c in reversed(done):
                c.revert(graph)
            raise

    def revert(self, graph: Graph) -> None:
        for c in reversed(self.commands):
            c.revert(graph)


class AddNode(Command):
    def __init__(self, node: Node, edges: Iterable[Edge] = ()) -> None:
        self.node = node
        self.edges = list(edges)
        self.text = f"add {node.type} {node.id}"

    def apply(self, graph: Graph) -> None:
        graph.add_node(copy.deepcopy(self.node))
        done = []
        try:  # all or nothing: a wire that cannot be added takes the node back out
            for e in self.edges:
                graph.add_edge(e)
                done.append(e)
        except ValueError:
            for e in reversed(done):
                graph.remove_edge(e)
            graph.remove_node(self.node.id)
            raise

    def revert(self, graph: Graph) -> None:
        for e in reversed(self.edges):
            graph.remove_edge(e)
        graph.remove_node(self.node.id)


class RemoveNodes(Command):
    """Remove nodes together with every wire touching them."""

    def __init__(self, node_ids: Iterable[str]) -> None:
        self.node_ids = list(dict.fromkeys(node_ids))
        self.text = f"delete {', '.join(self.node_ids)}"
        self._nodes: list[tuple[int, Node]] = []
        self._edges: list[tuple[int, Edge]] = []

    def apply(self, graph: Graph) -> None:
        for i in self.node_ids:
            graph.node(i)  # an unknown id raises before anything changes
        ids = set(self.node_ids)
        self._edges = [(k, e) for k, e in enumerate(graph.edges) if e.src[0] in ids or e.dst[0] in ids]
        for _, e in reversed(self._edges):
            graph.remove_edge(e)
        order = list(graph.nodes)
        self._nodes = sorted(((order.index(i), graph.node(i)) for i in ids), key=lambda t: t[0])
        for _, node in reversed(self._nodes):
            graph.remove_node(node.id)

    def revert(self, graph: Graph) -> None:
        for index, node in self._nodes:
            graph.add_node(node, index)
        for index, e in self._edges:
            graph.add_edge(e, index)


class Connect(Command):
    """Add a wire; a one-wire input port that is already wired gets the new wire instead."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.text = f"connect {edge}"
        self._replaced: list[tuple[int, Edge]] = []

    def apply(self, graph: Graph) -> None:
        graph.node(self.edge.src[0])  # an unknown node raises before any wire is replaced
        dst = graph.node(self.edge.dst[0])
        port = next((p for p in node_ports(dst, graph.blocks)[0] if p.name == self.edge.dst[1]), None)
        self._replaced = []
        if port is not None and not port.multi:
            self._replaced = [(k, e) for k, e in enumerate(graph.edges) if e.dst == self.edge.dst]
        for _, e in reversed(self._replaced):
            graph.remove_edge(e)
        graph.add_edge(self.edge)

    def revert(self, graph: Graph) -> None:
        graph.remove_edge(self.edge)
        for index, e in self._replaced:
            graph.add_edge(e, index)


class Disconnect(Command):
    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.text = f"disconnect {edge}"
        self._index = 0

    def apply(self, graph: Graph) -> None:
        self._index = graph.remove_edge(self.edge)

    def revert(self, graph: Graph) -> None:
        graph.add_edge(self.edge, self._index)


class SetParam(Command):
    """Set a parameter (checked against the spec first); UNSET returns it to the default."""

    def __init__(self, node_id: str, name: str, value: Any, graph: Graph | None = None) -> None:
        self.node_id, self.name, self.value = node_id, name, value
        self.text = f"set {node_id}.{name}"
        self._old: Any = UNSET
        self._index: int | None = None
        if graph is not None and value is not UNSET:
            get_spec(graph.node(node_id).type).param(name).check(value)  # raises ParamError

    def apply(self, graph: Graph) -> None:
        params = graph.node(self.node_id).params
        self._old = params.get(self.name, UNSET)
        self._index = list(params).index(self.name) if self.name in params else None
        graph.set_param(self.node_id, self.name, self.value)

    def revert(self, graph: Graph) -> None:
        graph.set_param(self.node_id, self.name, self._old, index=self._index)

    def merge(self, other: Command) -> bool:
        """Typing or stepping through one parameter's values is one undo step. Returning it to
        the default (UNSET) is a step of its own: merged with a later value, its undo and redo
        could not put the key back where each step had it (the file would not be byte-identical)."""
        if self.value is UNSET or getattr(other, "value", UNSET) is UNSET:
            return False
        if isinstance(other, SetParam) and (other.node_id, other.name) == (self.node_id, self.name):
            self.value = other.value
            return True
        return False


class _SetAttr(Command):
    attr = ""

    def __init__(self, node_ids: str | Iterable[str], value: Any) -> None:
        self.node_ids = [node_ids] if isinstance(node_ids, str) else list(node_ids)
        self.value = value
        self.text = f"set {self.attr} of {', '.join(self.node_ids)}"
        self._old: dict[str, Any] = {}

    def apply(self, graph: Graph) -> None:
        self._old = {i: getattr(graph.node(i), self.attr) for i in self.node_ids}
        for i in self.node_ids:
            graph.set_attr(i, self.attr, copy.deepcopy(self.value))

    def revert(self, graph: Graph) -> None:
        for i, old in self._old.items():
            graph.set_attr(i, self.attr, old)


class Rename(_SetAttr):
    """Set the display name; an empty name is refused (a file cannot tell it from "no name":
    it would reload as the id)."""

    attr = "name"

    def __init__(self, node_ids: str | Iterable[str], value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a name cannot be empty")
        super().__init__(node_ids, value)


class SetFrozen(_SetAttr):
    attr = "frozen"


class SetLrFactor(_SetAttr):
    attr = "lr_factor"


class MoveNodes(Command):
    """Move nodes to new canvas positions; consecutive moves of one drag merge into one step."""

    def __init__(self, positions: Mapping[str, tuple[float, float]], gesture: object = None) -> None:
        self.positions = {k: (float(x), float(y)) for k, (x, y) in positions.items()}
        self.gesture = gesture
        self.text = f"move {len(self.positions)} node{'s' if len(self.positions) != 1 else ''}"
        self._old: dict[str, dict] = {}

    def apply(self, graph: Graph) -> None:
        for nid in self.positions:
            graph.node(nid)  # an unknown id raises before anything moves
        for nid, (x, y) in self.positions.items():
            node = graph.node(nid)
            self._old.setdefault(nid, dict(node.ui))
            graph.set_attr(nid, "ui", {**node.ui, "x": x, "y": y})

    def revert(self, graph: Graph) -> None:
        for nid, ui in self._old.items():
            graph.set_attr(nid, "ui", dict(ui))

    def merge(self, other: Command) -> bool:
        if isinstance(other, MoveNodes) and self.gesture is not None and other.gesture is self.gesture:
            self.positions.update(other.positions)
            for nid, ui in other._old.items():  # nodes that joined the drag later
                self._old.setdefault(nid, ui)
            return True
        return False


class SetSetting(Command):
    """Set a key of the graph's training or data section (UNSET removes it)."""

    def __init__(self, section: str, key: str, value: Any) -> None:
        self.section, self.key, self.value = section, key, value
        self.text = f"set {section}.{key}"
        self._old: Any = UNSET
        self._index: int | None = None

    def apply(self, graph: Graph) -> None:
        section = getattr(graph, self.section)
        self._old = section.get(self.key, UNSET)
        self._index = list(section).index(self.key) if self.key in section else None
        graph.set_setting(self.section, self.key, copy.deepcopy(self.value))

    def revert(self, graph: Graph) -> None:
        graph.set_setting(self.section, self.key, self._old, index=self._index)

    def merge(self, other: Command) -> bool:
        """Typing or stepping through one setting's values is one undo step (removing the key,
        "back to the default", is a gesture of its own)."""
        if self.value is UNSET or getattr(other, "value", UNSET) is UNSET:
            return False
        if isinstance(other, SetSetting) and (other.section, other.key) == (self.section, self.key):
            self.value = other.value
            return True
        return False
