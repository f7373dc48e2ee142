"""The document: a graph of nodes and wires, plus named sub-graphs (blocks) and settings.

Plain data with stable string ids. `ui` positions are stored here but never interpreted.
Views learn about edits by subscribing to `Graph.subscribe`; the model never calls a view.
Mutations go through the methods below (which the undoable commands in `commands` use), so
every change is announced exactly once.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]

_ID_RE = re.compile(r"[^A-Za-z0-9_]+")


@dataclass
class Node:
    """One layer on the canvas. `params` holds only what differs from (or restates) the spec's
    defaults, exactly as written in the file; `graph_core.resolved_params` fills the rest."""

    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    frozen: bool = False
    lr_factor: float = 1.0
    ui: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.id

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Edge:
    """A wire from an output port to an input port: (node id, port name) each."""

    src: tuple[str, str]
    dst: tuple[str, str]

    def __str__(self) -> str:
        return f"{self.src[0]}.{self.src[1]} -> {self.dst[0]}.{self.dst[1]}"


@dataclass
class Graph:
    """A network: nodes in file order, edges in file order (order matters for Concat), blocks
    (named sub-graphs whose inner Input/Output nodes are their ports), training and data settings."""

    name: str = "untitled"
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    blocks: dict[str, Graph] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    _listeners: list[Listener] = field(default_factory=list, repr=False, compare=False)

    # ---- events ------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(kind, info)` after every mutation; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, kind: str, **info: Any) -> None:
        for listener in list(self._listeners):
            listener(kind, info)

    # ---- queries -----------------------------------------------------------------------

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise KeyError(f"no node {node_id!r}") from None

    def edges_into(self, node_id: str, port: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.dst[0] == node_id and (port is None or e.dst[1] == port)]

    def edges_from(self, node_id: str, port: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.src[0] == node_id and (port is None or e.src[1] == port)]

    def edges_touching(self, node_ids: set[str] | frozenset[str]) -> list[Edge]:
        return [e for e in self.edges if e.src[0] in node_ids or e.dst[0] in node_ids]

    def unique_id(self, base: str) -> str:
        """A fresh node id derived from `base` ("conv" -> "conv", "conv_2", ...)."""
        stem = _ID_RE.sub("_", base).strip("_").lower() or "node"
        if stem not in self.nodes:
            return stem
        n = 2
        while f"{stem}_{n}" in self.nodes:
            n += 1
        return f"{stem}_{n}"

    def nodes_of_type(self, *types: str) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.type in types)

    def copy(self) -> Graph:
        """A deep copy without listeners."""
        listeners, self._listeners = self._listeners, []
        try:
            return copy.deepcopy(self)
        finally:
            self._listeners = listeners

    # ---- mutations (used by commands; each announces itself) ---------------------------

    def add_node(self, node: Node, index: int | None = None) -> None:
        if node.id in self.nodes:
            raise ValueError(f"a node with id {node.id!r} already exists")
        items = list(self.nodes.items())
        items.insert(len(items) if index is None else index, (node.id, node))
        self.nodes = dict(items)
        self._emit("node_added", node=node.id)

    def remove_node(self, node_id: str) -> tuple[int, Node]:
        """Remove a node (its wires must be gone); returns its index and the node."""
        if self.edges_touching({node_id}):
            raise ValueError(f"node {node_id!r} still has wires")
        index = list(self.nodes).index(node_id)
        node = self.nodes.pop(node_id)
        self._emit("node_removed", node=node_id)
        return index, node

    def add_edge(self, edge: Edge, index: int | None = None) -> None:
        for end in (edge.src[0], edge.dst[0]):
            if end not in self.nodes:
                raise ValueError(f"wire {edge} names unknown node {end!r}")
        if edge in self.edges:
            raise ValueError(f"wire {edge} already exists")
        self.edges.insert(len(self.edges) if index is None else index, edge)
        self._emit("edge_added", edge=edge)

    def remove_edge(self, edge: Edge) -> int:
        index = self.edges.index(edge)
        del self.edges[index]
        self._emit("edge_removed", edge=edge)
        return index

    def set_param(self, node_id: str, name: str, value: Any, index: int | None = None) -> None:
        """Set (or, with UNSET, remove) an explicit parameter.

        A parameter not yet stated goes last, or at `index` among the stated ones (so an undo
        puts it back where it was and the file is byte-identical again).
        """
        _set_key(self.node(node_id).params, name, value, index)
        self._emit("node_changed", node=node_id, what="params")

    def set_attr(self, node_id: str, attr: str, value: Any) -> None:
        """Set one of name, frozen, lr_factor, ui."""
        if attr not in ("name", "frozen", "lr_factor", "ui"):
            raise ValueError(f"cannot set {attr!r}")
        setattr(self.node(node_id), attr, value)
        self._emit("node_changed", node=node_id, what=attr)

    def set_block(self, name: str, block: Graph | None) -> None:
        if block is None:
            self.blocks.pop(name, None)
        else:
            self.blocks[name] = block
        self._emit("block_changed", block=name)

    def set_setting(self, section: str, key: str, value: Any, index: int | None = None) -> None:
        """Set (or, with UNSET, remove) a key of the training or data section; a new key goes
        last, or at `index` (an undo puts it back where it was)."""
        target = {"training": self.training, "data": self.data}[section]
        _set_key(target, key, value, index)
        self._emit("settings_changed", section=section, key=key)

    def replace_with(self, other: Graph) -> None:
        """Take over another graph's content (used by open-in-place and migrations)."""
        for attr in ("name", "nodes", "edges", "blocks", "training", "data", "description"):
            setattr(self, attr, getattr(other, attr))
        self._emit("reset")


def _set_key(target: dict[str, Any], key: str, value: Any, index: int | None) -> None:
    if value is _UNSET:
        target.pop(key, None)
    elif index is not None and (key not in target or list(target).index(key) != index):
        # (re)placed at `index`, wherever the key is now: an undo puts it back where it was
        items = [(k, v) for k, v in target.items() if k != key]
        items.insert(index, (key, value))
        target.clear()  # the same dict object: a view may hold on to it
        target.update(items)
    else:
        target[key] = value


class _Unset:
    """The marker for "not stated": a singleton that copies (and deep-copies) as itself, so
    `value is UNSET` holds for a command's value however often the command is copied."""

    def __repr__(self) -> str:
        return "UNSET"

    def __copy__(self) -> _Unset:
        return self

    def __deepcopy__(self, memo: dict) -> _Unset:
        return self

    def __reduce__(self) -> str:
        return "UNSET"


_UNSET: Any = _Unset()
UNSET: Any = _UNSET
