"""The key map of a pretrained file as a table: each module path of the state dict, the node it
goes to, the shapes on both sides and what loading will do (loaded, missing, unexpected, shape
mismatch, not used).

Everything here but `key_table` works on shapes alone (plain lists), so the designer can redo the
table at every edit without torch: the engine reads the file and the compiled model once
(`key_table`), the window edits the mapping and recomputes the statuses (`key_rows`). The guess
for a graph the user drew matches names first (`pretrained.match_keys`), then walks the file's
modules and the model's nodes in order and pairs each with the next node whose tensors have the
same names and shapes (`guess_by_order`): a torchvision net redrawn layer by layer maps whole.

The map file is what `netwright pretrained --map` takes, one `MODULE.PATH=node/path` per line
(an empty node: deliberately unused; `#` starts a comment): `parse_key_map` / `format_key_map`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from graph_core import Graph

Shape = tuple[int, ...]
LOADED, MISSING, UNEXPECTED, MISMATCH, NOT_USED, NO_NODE = (
    "loaded", "missing", "unexpected", "shape mismatch", "not used", "no such node")


@dataclass
class KeyRow:
    """One module path of the file and where its tensors go.

    Attributes:
        prefix: the module path (`layer1.0.conv1`).
        node: the node path it maps to; None: deliberately unused; "" : not mapped.
        tensors: (name, shape in the file, shape in the node or None) for each file tensor.
        missing: tensors of the node that the file does not hold (they keep their initial value).
        status: LOADED, MISSING, UNEXPECTED, MISMATCH, NOT_USED or NO_NODE (the worst that applies).
    """

    prefix: str
    node: str | None
    tensors: list[tuple[str, Shape, Shape | None]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    status: str = LOADED

    @property
    def loaded(self) -> int:
        """How many of its tensors loading copies."""
        if not self.node or self.status == NO_NODE:
            return 0
        return sum(1 for _, a, b in self.tensors if b is not None and a == b)

    def detail(self) -> str:
        """What did not fit, in words (empty when everything did)."""
        if self.node == "":
            return "no node takes these tensors"
        if self.node is None:
            return "left out on purpose"
        if self.status == NO_NODE:
            return f"{self.node} is not in the model"
        out = [f"{n}: {list(a)} in the file, {list(b)} in the model"
               for n, a, b in self.tensors if b is not None and a != b]
        out += [f"{n}: the node has no such tensor" for n, _, b in self.tensors if b is None]
        out += [f"{n}: not in the file (keeps its initial value)" for n in self.missing]
        return "; ".join(out)


def key_rows(file_shapes: Mapping[str, Shape], node_tensors: Mapping[str, Mapping[str, Shape]],
             keys: Mapping[str, str | None]) -> list[KeyRow]:
    """The table for a mapping, in the file's order; no torch needed.

    Args:
        file_shapes: state-dict key -> shape, as in the file.
        node_tensors: node path -> {tensor name: shape} for every node owning tensors.
        keys: module path -> node path (None: unused); module paths left out are unmapped.
    """
    rows: list[KeyRow] = []
    for prefix, names in group_by_module(file_shapes).items():
        node = keys.get(prefix, "")
        row = KeyRow(prefix, node)
        own = node_tensors.get(node) if node else None
        for name, shape in names.items():
            row.tensors.append((name, tuple(shape), tuple(own[name]) if own and name in own else None))
        if not node:
            row.status = UNEXPECTED if node == "" else NOT_USED
        elif own is None:
            row.status = NO_NODE
        else:
            row.missing = [n for n in own if n not in names]
            row.status = (MISMATCH if any(b is not None and a != b for _, a, b in row.tensors)
                          else UNEXPECTED if any(b is None for _, _, b in row.tensors)
                          else MISSING if row.missing else LOADED)
        rows.append(row)
    return rows


def summary(rows: Iterable[KeyRow]) -> dict[str, int]:
    """Tensor counts as LoadReport counts them: loaded, missing, unexpected, shape mismatches,
    ignored, and missing_nodes (mapped nodes the model does not have)."""
    out = dict.fromkeys(("loaded", "missing", "unexpected", "shape_mismatches", "ignored", "missing_nodes"), 0)
    gone: set[str] = set()
    for row in rows:
        if row.node == "":
            out["unexpected"] += len(row.tensors)
        elif row.node is None:
            out["ignored"] += len(row.tensors)
        elif row.status == NO_NODE:
            gone.add(row.node)
        else:
            out["loaded"] += row.loaded
            out["missing"] += len(row.missing)
            out["unexpected"] += sum(1 for _, _, b in row.tensors if b is None)
            out["shape_mismatches"] += sum(1 for _, a, b in row.tensors if b is not None and a != b)
    out["missing_nodes"] = len(gone)
    return out


def compatible_nodes(file_tensors: Mapping[str, Shape],
                     node_tensors: Mapping[str, Mapping[str, Shape]]) -> list[str]:
    """Nodes that take every one of a module's tensors at its shape, in model order."""
    return [node for node, own in node_tensors.items()
            if all(name in own and tuple(own[name]) == tuple(shape) for name, shape in file_tensors.items())]


def guess_by_order(file_shapes: Mapping[str, Shape], node_tensors: Mapping[str, Mapping[str, Shape]],
                   named: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Complete a mapping by order and shape: each module not yet mapped goes to the next node
    (after the previous module's) that takes all its tensors at their shapes.

    Args:
        file_shapes: state-dict key -> shape, in the file's order.
        node_tensors: node path -> {tensor name: shape}, in the model's order.
        named: what is already known (by name, or by the user); kept as it is.
    """
    keys: dict[str, str] = {k: v for k, v in (named or {}).items() if v}
    taken = set(keys.values())
    order = list(node_tensors)
    position = 0
    for prefix, names in group_by_module(file_shapes).items():
        if named and prefix in named:
            if named[prefix] in order:
                position = order.index(named[prefix]) + 1
            continue
        for k in range(position, len(order)):
            node = order[k]
            if node not in taken and compatible_nodes(names, {node: node_tensors[node]}):
                keys[prefix] = node
                taken.add(node)
                position = k + 1
                break
    return {prefix: keys[prefix] for prefix in group_by_module(file_shapes) if prefix in keys}


def group_by_module(file_shapes: Mapping[str, Shape]) -> dict[str, dict[str, Shape]]:
    """module path -> {tensor name: shape}, in the file's order (`a.b.weight` -> `a.b`, `weight`)."""
    out: dict[str, dict[str, Shape]] = {}
    for key, shape in file_shapes.items():
        prefix, _, name = key.rpartition(".")
        out.setdefault(prefix, {})[name] = tuple(shape)
    return out


def node_tensor_shapes(model: torch.nn.Module) -> dict[str, dict[str, Shape]]:
    """node path ("block/inner") -> {own parameter or buffer name: shape}, in the model's order,
    for every node of a compiled graph that owns tensors."""
    generated = getattr(model, "generated", None)
    paths = {attr: "/".join(path) for path, attr in getattr(generated, "node_paths", {}).items()}
    out: dict[str, dict[str, Shape]] = {}
    for attr, module in model.named_modules():
        if attr not in paths:
            continue
        own = {n: tuple(t.shape) for n, t in module.named_parameters(recurse=False)}
        own.update({n: tuple(t.shape) for n, t in module.named_buffers(recurse=False)})
        if own:
            out[paths[attr]] = own
    return out


def key_table(model: torch.nn.Module, graph: Graph, state: Mapping[str, Any]) -> dict[str, Any]:
    """What the designer's key map needs, as plain data (sent from the engine process).

    Returns:
        {"file": [[key, shape], ...] in the file's order, "nodes": [[node path, {name: shape}], ...]
        in the model's order, "keys": the graph's mapping (None when it has none), "by_name": what
        loading without a mapping matches (names only), "guess": names matched, then the rest by
        order and shape}.
    """
    from .pretrained import match_keys

    file_shapes = {k: tuple(v.shape) for k, v in state.items()}
    nodes = node_tensor_shapes(model)
    spec = graph.training.get("init_weights")
    keys = spec.get("keys") if isinstance(spec, dict) else None
    by_name = match_keys(model, state, graph)
    guess = guess_by_order(file_shapes, nodes, by_name)
    return {"file": [[k, list(s)] for k, s in file_shapes.items()],
            "nodes": [[n, {k: list(s) for k, s in t.items()}] for n, t in nodes.items()],
            "keys": dict(keys) if isinstance(keys, Mapping) else None, "by_name": by_name, "guess": guess}


def parse_key_map(text: str) -> dict[str, str | None]:
    """A map file's lines (`MODULE.PATH=node/path`, empty node = unused, `#` comments) as a mapping.

    Raises:
        ValueError: a line without `=` or without a module path (its number is named).
    """
    keys: dict[str, str | None] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        prefix, sep, node = line.partition("=")
        if not sep or not prefix.strip():
            raise ValueError(f"line {number}: {raw.strip()!r}: expected MODULE.PATH=node")
        keys[prefix.strip()] = node.strip() or None
    return keys


def format_key_map(keys: Mapping[str, str | None]) -> str:
    """The map file for a mapping (what `parse_key_map` and `netwright pretrained --map-file` read)."""
    head = "# netwright key map: state-dict module path = node path (empty: not used)\n"
    return head + "".join(f"{prefix}={node or ''}\n" for prefix, node in keys.items())
