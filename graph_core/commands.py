"""Edit commands: every user edit is an object with `apply(graph)` and `revert(graph)`.

The designer wraps each in one QUndoCommand; scripts and tests use them directly. Applying a
sequence and reverting it in reverse order gives back the same document, byte for byte.
Commands only call the Graph's mutation methods, so views hear about every change.
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
        for c in self.commands:
            c.apply(graph)

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
        for e in self.edges:
            graph.add_edge(e)

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
    attr = "name"


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


class _Snapshot(Command):
    """Structural edits that touch many parts revert by restoring an exact snapshot."""

    def __init__(self) -> None:
        self._before: Graph | None = None

    def apply(self, graph: Graph) -> None:
        self._before = graph.copy()
        work = graph.copy()
        self.transform(work)
        graph.replace_with(work)

    def revert(self, graph: Graph) -> None:
        assert self._before is not None
        graph.replace_with(self._before.copy())

    def transform(self, graph: Graph) -> None:
        raise NotImplementedError


class GroupIntoBlock(_Snapshot):
    """Move the chosen nodes into a new block and put one Block node in their place.

    Each distinct wire source entering the selection becomes an inner Input; each inner output
    used outside becomes an inner Output (loss none). Wires carrying pool indices cannot cross
    a block's boundary: include the pool and its unpool together.
    """

    def __init__(self, node_ids: Iterable[str], block_name: str, node_id: str | None = None) -> None:
        super().__init__()
        self.node_ids = list(dict.fromkeys(node_ids))
        self.block_name = block_name
        self.node_id = node_id or block_name
        self.text = f"group {len(self.node_ids)} nodes into {block_name}"

    def transform(self, graph: Graph) -> None:
        ids = set(self.node_ids)
        self._check(graph, ids)
        block = Graph(name=self.block_name)
        for nid, node in graph.nodes.items():
            if nid in ids:
                block.nodes[nid] = copy.deepcopy(node)
        # Walk the wires once, in file order, so every port keeps the order of its wires
        # (a Concat's channel order) inside the block and outside it.
        inner_in: dict[tuple[str, str], str] = {}
        inner_out: dict[tuple[str, str], str] = {}
        outer_edges: list[Edge] = []
        for e in graph.edges:
            src_in, dst_in = e.src[0] in ids, e.dst[0] in ids
            if src_in and dst_in:
                block.edges.append(e)
            elif dst_in:
                if e.src not in inner_in:
                    inner_in[e.src] = _fresh(block, f"in_{e.src[0]}")
                    block.nodes[inner_in[e.src]] = Node(inner_in[e.src], "Input", {"shape": []})
                    outer_edges.append(Edge(e.src, (self.node_id, inner_in[e.src])))
                block.edges.append(Edge((inner_in[e.src], "out"), e.dst))
            elif src_in:
                if e.src not in inner_out:
                    inner_out[e.src] = _fresh(block, f"out_{e.src[0]}")
                    block.nodes[inner_out[e.src]] = Node(inner_out[e.src], "Output", {"loss": "none"})
                    block.edges.append(Edge(e.src, (inner_out[e.src], "in")))
                outer_edges.append(Edge((self.node_id, inner_out[e.src]), e.dst))
            else:
                outer_edges.append(e)
        xs = [graph.node(i).ui.get("x", 0.0) for i in self.node_ids]
        ys = [graph.node(i).ui.get("y", 0.0) for i in self.node_ids]
        position = min(list(graph.nodes).index(i) for i in ids)
        items = [(k, v) for k, v in graph.nodes.items() if k not in ids]
        items.insert(position, (self.node_id, Node(self.node_id, "Block", {"block": self.block_name},
                                                   ui={"x": sum(xs) / len(xs), "y": sum(ys) / len(ys)})))
        graph.nodes = dict(items)
        graph.edges = outer_edges
        graph.blocks[self.block_name] = block

    def _check(self, graph: Graph, ids: set[str]) -> None:
        if not ids:
            raise ValueError("select nodes to group")
        if self.block_name in graph.blocks:
            raise ValueError(f"a block named {self.block_name!r} already exists")
        if self.node_id in graph.nodes and self.node_id not in ids:
            raise ValueError(f"a node with id {self.node_id!r} already exists")
        for nid in self.node_ids:
            if graph.node(nid).type in ("Input", "Output"):
                raise ValueError(f"{nid} is an {graph.node(nid).type}: a graph's inputs and heads stay "
                                 "outside blocks")
        between = _nodes_between(graph, ids)
        if between:
            raise ValueError(f"{', '.join(between)} lies between the selected nodes and would wire the "
                             "block into itself: select it too, or group fewer nodes")
        for e in graph.edges:
            if (e.src[0] in ids) == (e.dst[0] in ids):
                continue
            port = next((p for p in node_ports(graph.node(e.src[0]), graph.blocks)[1] if p.name == e.src[1]), None)
            if port is not None and port.kind != "tensor":
                raise ValueError(f"wire {e} carries {port.kind}: group the pool together with its unpool")


class Ungroup(_Snapshot):
    """Put a Block node's sub-graph back inline (the block definition stays for other users)."""

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id
        self.text = f"ungroup {node_id}"

    def transform(self, graph: Graph) -> None:
        node = graph.node(self.node_id)
        if node.type != "Block":
            raise ValueError(f"{self.node_id} is not a Block")
        block = graph.blocks.get(node.params.get("block", "block"))
        if block is None:
            raise ValueError(f"{self.node_id} names no block of this file")
        rename: dict[str, str] = {}
        position = list(graph.nodes).index(self.node_id)
        inner_nodes = [n for n in block.nodes.values() if n.type not in ("Input", "Output")]
        items = [(k, v) for k, v in graph.nodes.items() if k != self.node_id]
        taken = set(dict(items))
        new_items = []
        for inner in inner_nodes:
            new_id = inner.id
            n = 2
            while new_id in taken:
                new_id, n = f"{inner.id}_{n}", n + 1
            taken.add(new_id)
            rename[inner.id] = new_id
            clone = copy.deepcopy(inner)
            clone.id = new_id
            new_items.append((new_id, clone))
        graph.nodes = dict(items[:position] + new_items + items[position:])
        inputs_from = {e.dst[1]: e.src for e in graph.edges if e.dst[0] == self.node_id}
        inner_out_src = {e.dst[0]: e.src for e in block.edges if block.nodes[e.dst[0]].type == "Output"}

        def feeding(port: str, kind: str, seen: frozenset = frozenset()) -> tuple[str, str] | None:
            """The wire end outside that feeds an inner Input (kind "in") or Output ("out"),
            following wires from the block to itself and Input -> Output pass-throughs."""
            if (port, kind) in seen:
                return None
            seen = seen | {(port, kind)}
            if kind == "in":
                src = inputs_from.get(port)
                if src is not None and src[0] == self.node_id:
                    return feeding(src[1], "out", seen)
                return src
            src = inner_out_src.get(port)
            if src is not None and block.nodes[src[0]].type == "Input":
                return feeding(src[0], "in", seen)
            return None if src is None else (rename[src[0]], src[1])

        # the block's own wires, in block order (that order is each inner port's wire order)
        expanded: list[Edge] = []
        for e in block.edges:
            src_node, dst_node = block.nodes[e.src[0]], block.nodes[e.dst[0]]
            if dst_node.type == "Output":
                continue
            src = feeding(e.src[0], "in") if src_node.type == "Input" else (rename[e.src[0]], e.src[1])
            if src is not None:
                expanded.append(Edge(src, (rename[e.dst[0]], e.dst[1])))
        edges: list[Edge] = []
        for e in graph.edges:
            if e.dst[0] == self.node_id:
                _extend_unique(edges, expanded)
                expanded = []
            elif e.src[0] == self.node_id:
                # the outer wire keeps its place, now leaving the inner node that fed this port
                src = feeding(e.src[1], "out")
                if src is not None:
                    _extend_unique(edges, [Edge(src, e.dst)])
            else:
                edges.append(e)
        _extend_unique(edges, expanded)
        graph.edges = edges


def _nodes_between(graph: Graph, ids: set[str]) -> list[str]:
    """Outside nodes on a path that leaves the selection and comes back (in file order)."""
    succ: dict[str, set[str]] = {}
    for e in graph.edges:
        succ.setdefault(e.src[0], set()).add(e.dst[0])
    pred: dict[str, set[str]] = {}
    for e in graph.edges:
        pred.setdefault(e.dst[0], set()).add(e.src[0])
    downstream = _reach(succ, {d for i in ids for d in succ.get(i, ()) if d not in ids}, ids)
    upstream = _reach(pred, {s for i in ids for s in pred.get(i, ()) if s not in ids}, ids)
    return [n for n in graph.nodes if n in downstream and n in upstream]


def _reach(adjacent: dict[str, set[str]], start: set[str], stop: set[str]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in adjacent.get(todo.pop(), ()):
            if nxt not in seen and nxt not in stop:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _extend_unique(edges: list[Edge], more: list[Edge]) -> None:
    for e in more:
        if e not in edges:
            edges.append(e)


def _fresh(graph: Graph, base: str) -> str:
    return graph.unique_id(base)
