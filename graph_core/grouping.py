"""Structural edits: group nodes into a block, and put a block's nodes back inline.

They touch nodes, wires and blocks at once, so they transform a copy of the graph and revert
by restoring an exact snapshot; either way the designer hears one "reset" event per step.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from .commands import Command
from .graph import Edge, Graph, Node
from .shapes import node_ports


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
