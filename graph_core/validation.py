"""validate(graph) -> issues: structural checks with networkx, shape errors, and the lint a
course would give. Returns data, never raises; networkx stays inside this module."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from .graph import Edge, Graph, Node
from .loss_lint import GraphFix, lint_losses
from .shapes import NodeShapes, cyclic_gc_paused, infer_shapes, node_ports
from .specs import (
    KIND_WORDS,
    PortSpec,
    format_count,
    format_shape,
    has_spec,
    kind_fits,
    kind_hint,
    one_line,
)

ERROR, WARNING = "error", "warning"
_SINKS = ("Output", "Discriminator")


@dataclass(frozen=True)
class Issue:
    """One finding: severity ("error" or "warning"), where (node id, port) and what to do."""

    severity: str
    node: str | None
    message: str
    port: str | None = None
    code: str = ""
    fixes: tuple[GraphFix, ...] = ()  # one-click fixes (the designer shows a button per fix)

    def __str__(self) -> str:
        # one line however the id or a block name was made: a newline would read as a second issue
        return one_line(f"{self.node or 'graph'}: {self.message}")


def validate(graph: Graph, shapes: Mapping[str, NodeShapes] | None = None) -> list[Issue]:
    """Every problem in the graph, errors first then warnings, each in node file order.

    Args:
        graph: the document.
        shapes: a previous `infer_shapes(graph)` result to reuse (the canvas has one already).
    """
    with cyclic_gc_paused():
        return _validate(graph, infer_shapes(graph) if shapes is None else shapes)


def _validate(graph: Graph, shapes: Mapping[str, NodeShapes]) -> list[Issue]:
    # Every check is linear in the graph's size: wires are looked up through these maps, never
    # by scanning the list of wires per node (a 50,000-node file validates in about a second)
    incoming: dict[str, list[Edge]] = {}
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[str]] = {}
    for e in graph.edges:
        incoming.setdefault(e.dst[0], []).append(e)
        if e.src[0] in graph.nodes and e.dst[0] in graph.nodes:
            succ.setdefault(e.src[0], []).append(e.dst[0])
            pred.setdefault(e.dst[0], []).append(e.src[0])
    issues: list[Issue] = []
    issues += _check_graph_level(graph)
    issues += _check_wires(graph)
    issues += _check_cycles(graph, _acyclic(graph, succ, pred))
    issues += _check_reachability(graph, succ, pred)
    issues += _check_blocks(graph)
    taken = {(i.node, i.port) for i in issues if i.severity == ERROR and i.port}
    taken |= {(i.node, None) for i in issues if i.code == "block"}
    issues += [i for i in _check_nodes(graph, shapes, incoming) if (i.node, i.port) not in taken]
    issues += _check_heads(graph, shapes, incoming)
    issues += _check_sizes(shapes, incoming)
    order = {nid: k for k, nid in enumerate(graph.nodes)}
    issues.sort(key=lambda i: (i.severity != ERROR, order.get(i.node or "", -1)))
    return issues


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == ERROR]


def _check_graph_level(graph: Graph) -> list[Issue]:
    out = []
    if not any(graph.nodes_of_type("Input")):
        out.append(Issue(ERROR, None, "the graph has no Input: add one to say what a sample looks like", code="no-input"))
    if not any(graph.nodes_of_type(*_SINKS)):
        out.append(Issue(ERROR, None, "the graph has no Output head: add one so training knows what to learn",
                         code="no-output"))
    discriminators = list(graph.nodes_of_type("Discriminator"))
    for extra in discriminators[1:]:
        out.append(Issue(ERROR, extra.id, "a graph can hold one Discriminator", code="gan"))
    for disc in discriminators[:1]:
        out += _check_condition(graph, disc)
    return out


def _check_condition(graph: Graph, disc: Node) -> list[Issue]:
    """A Discriminator's condition is data the training loop hands it beside every real and every
    generated sample: an Input's field, or that field one-hot encoded (Input -> OneHot)."""
    wires = graph.edges_into(disc.id, "condition")
    if not wires:
        return []
    src = graph.nodes.get(wires[0].src[0])
    if src is not None and src.type == "OneHot":
        before = graph.edges_into(src.id, "in")
        src = graph.nodes.get(before[0].src[0]) if before else None
    if src is not None and src.type == "Input" and src.params.get("source", "data") != "noise":
        return []
    return [Issue(ERROR, disc.id, "the condition must come straight from a data Input (or through one OneHot): "
                  "it is what the generator reads, shown to the discriminator beside each sample",
                  "condition", "gan")]


def _check_wires(graph: Graph) -> list[Issue]:
    out = []
    counts = Counter(e.dst for e in graph.edges)
    first_into: dict[tuple[str, str], Edge] = {}
    for e in graph.edges:
        first_into.setdefault(e.dst, e)
    by_type: dict[str, tuple[dict[str, PortSpec], dict[str, PortSpec]]] = {}
    ports = {nid: _port_maps(node, graph, by_type) for nid, node in graph.nodes.items()}
    for e in graph.edges:
        src, dst = graph.nodes.get(e.src[0]), graph.nodes.get(e.dst[0])
        if src is None or dst is None:
            missing = e.src[0] if src is None else e.dst[0]
            out.append(Issue(ERROR, e.dst[0] if src is None else e.src[0],
                             f"wire {e} names unknown node {missing!r}", code="dangling"))
            continue
        if _unknown_block(graph, src) or _unknown_block(graph, dst):
            continue  # its ports are unknown; _check_blocks names the missing block
        src_port = ports[src.id][1].get(e.src[1])
        dst_port = ports[dst.id][0].get(e.dst[1])
        if src_port is None:
            if has_spec(src.type):
                out.append(Issue(ERROR, src.id, f"{src.type} has no output port '{e.src[1]}'", e.src[1], "port"))
            continue
        if dst_port is None:
            if has_spec(dst.type):
                out.append(Issue(ERROR, dst.id, f"{dst.type} has no input port '{e.dst[1]}'", e.dst[1], "port"))
            continue
        if not kind_fits(src_port.kind, dst_port.kind):
            out.append(Issue(ERROR, dst.id, f"'{e.dst[1]}' takes {KIND_WORDS[dst_port.kind]} but "
                             f"{src.id}.{e.src[1]} carries {KIND_WORDS[src_port.kind]} — "
                             f"{kind_hint(src_port.kind, dst_port.kind)}", e.dst[1], "port-kind"))
        if not dst_port.multi and counts[e.dst] > 1 and e == first_into[e.dst]:
            out.append(Issue(ERROR, dst.id, f"'{e.dst[1]}' takes one wire but has {counts[e.dst]}: "
                             "add a Concat or Add to combine them", e.dst[1], "many-wires"))
    for node in graph.nodes.values():
        if not has_spec(node.type):
            continue
        for port in ports[node.id][0].values():
            if not port.optional and not counts[(node.id, port.name)]:
                out.append(Issue(ERROR, node.id, f"input '{port.name}' is not connected", port.name, "unconnected"))
    return out


def _port_maps(node: Node, graph: Graph, by_type: dict) -> tuple[dict[str, PortSpec], dict[str, PortSpec]]:
    """A node's input and output ports by name; one lookup table per type (a Block's ports
    come from its sub-graph, so those are built per node)."""
    if node.type != "Block" and node.type in by_type:
        return by_type[node.type]
    ins, outs = node_ports(node, graph.blocks)
    maps = ({p.name: p for p in reversed(ins)}, {p.name: p for p in reversed(outs)})
    if node.type != "Block":
        by_type[node.type] = maps
    return maps




def _unknown_block(graph: Graph, node) -> bool:
    return node.type == "Block" and str(node.params.get("block", "block")) not in graph.blocks


def _check_blocks(graph: Graph) -> list[Issue]:
    """Block and Discriminator nodes must name a sub-graph of this file."""
    out = []
    known = ", ".join(sorted(graph.blocks)) or "none defined"
    for node in graph.nodes_of_type("Block", "Discriminator"):
        name = node.params.get("block", "block" if node.type == "Block" else "discriminator")
        if name not in graph.blocks:
            out.append(Issue(ERROR, node.id, f"unknown block {name!r} (blocks: {known})", code="block"))
    return out


def _digraph(graph: Graph) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src[0], e.dst[0]) for e in graph.edges
                     if e.src[0] in graph.nodes and e.dst[0] in graph.nodes)
    return g


def _acyclic(graph: Graph, succ: dict[str, list[str]], pred: dict[str, list[str]]) -> bool:
    """Kahn's algorithm on the maps `_validate` built: every node ordered means no cycle."""
    indegree = {nid: len(pred.get(nid, ())) for nid in graph.nodes}
    ready = [nid for nid, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        seen += 1
        for nxt in succ.get(ready.pop(), ()):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return seen == len(graph.nodes)


def _check_cycles(graph: Graph, acyclic: bool) -> list[Issue]:
    out: list[Issue] = []
    if acyclic:  # the usual case: no cycle, no networkx
        return out
    g = _digraph(graph)
    order = {nid: k for k, nid in enumerate(graph.nodes)}
    for component in nx.strongly_connected_components(g):
        if len(component) == 1 and not g.has_edge(next(iter(component)), next(iter(component))):
            continue
        cycle = [u for u, _ in nx.find_cycle(g.subgraph(component))]
        first = min(cycle, key=order.__getitem__)
        start = cycle.index(first)
        cycle = cycle[start:] + cycle[:start]
        path = " -> ".join(cycle + [cycle[0]])
        out.append(Issue(ERROR, first, f"a cycle: {path}; data must flow one way — remove one of these wires",
                         code="cycle"))
    return out


def _check_reachability(graph: Graph, succ: dict[str, list[str]], pred: dict[str, list[str]]) -> list[Issue]:
    sources = [n.id for n in graph.nodes_of_type("Input")]
    sinks = [n.id for n in graph.nodes_of_type(*_SINKS)]
    if not sources or not sinks:
        return []
    fed, used = _reached(sources, succ), _reached(sinks, pred)
    out = []
    for nid in graph.nodes:
        if nid not in fed:
            out.append(Issue(WARNING, nid, "is cut off from every Input", code="cut-off"))
        elif nid not in used:
            out.append(Issue(WARNING, nid, "leads to no Output: its result is never used", code="cut-off"))
    return out


def _reached(starts: list[str], step: dict[str, list[str]]) -> set[str]:
    """Every node reachable from `starts` (included) along `step`."""
    seen = set(starts)
    todo = list(starts)
    while todo:
        for nxt in step.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _check_nodes(graph: Graph, shapes: Mapping[str, NodeShapes], incoming: dict[str, list[Edge]]) -> list[Issue]:
    out = []
    for nid, info in shapes.items():
        if info.error:
            out.append(Issue(ERROR, nid, _with_source(incoming, nid, info), info.error_port, "shape"))
        out.extend(Issue(WARNING, nid, w, code="lint") for w in info.warnings)
    return out


def _with_source(incoming: dict[str, list[Edge]], nid: str, info: NodeShapes) -> str:
    """Name where the offending tensor came from: 'got (32,) from dense1'."""
    message = info.error or ""
    port = info.error_port
    if port and " got " in message and " from " not in message:
        wires = [e for e in incoming.get(nid, ()) if e.dst[1] == port]
        if len(wires) == 1:
            head, _, tail = message.partition(" — ")
            message = f"{head} from {wires[0].src[0]}" + (f" — {tail}" if tail else "")
    return message


MEMORY_LIMIT = 2**36
"""Bytes past which a model is refused (64 GiB, more than a GPU or a workstation holds): its
weights, or one tensor of one sample, larger than this is a validation error that names what it
would need, instead of an allocation failure deep inside torch later."""
_DTYPE_BYTES = {"int64": 8}


def _check_sizes(shapes: Mapping[str, NodeShapes], incoming: dict[str, list[Edge]]) -> list[Issue]:
    """Sizes that cannot run: weights or a single sample's tensor past MEMORY_LIMIT. Only the
    node where a size first grows too large is named, not every node downstream of it."""
    out, too_big, total = [], set(), 0
    for nid, info in shapes.items():
        total += info.params or 0
        inherited = bool(too_big) and any(e.src[0] in too_big for e in incoming.get(nid, ()))
        if info.params and info.params * 4 > MEMORY_LIMIT:
            too_big.add(nid)
            out.append(Issue(ERROR, nid, f"its weights alone need {_bytes(info.params * 4)} "
                             f"({format_count(info.params)} parameters × 4 bytes); "
                             f"{_LIMIT_WORDS}", code="size"))
            continue
        for port, t in info.outputs.items():
            need = math.prod(t.shape) * _DTYPE_BYTES.get(t.dtype, 4) if t is not None else 0
            if need > MEMORY_LIMIT:
                too_big.add(nid)
                if not inherited:
                    out.append(Issue(ERROR, nid, f"its output '{port}' {format_shape(t.shape)} needs "
                                     f"{_bytes(need)} for one sample; {_LIMIT_WORDS}", port, "size"))
                break
    if total * 4 > MEMORY_LIMIT and not out:
        out.append(Issue(ERROR, None, f"the weights need {_bytes(total * 4)} ({format_count(total)} "
                         f"parameters × 4 bytes); {_LIMIT_WORDS}", code="size"))
    return out


_LIMIT_WORDS = "more than the 64 GB a GPU or a workstation holds: use smaller sizes"


def _bytes(n: int) -> str:
    if n >= 10**21:
        return f"{format_count(n)} bytes"
    for unit, size in (("EB", 10**18), ("PB", 10**15), ("TB", 10**12), ("GB", 10**9)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 10**6:.1f} MB"


def _check_heads(graph: Graph, shapes: Mapping[str, NodeShapes], incoming: dict[str, list[Edge]]) -> list[Issue]:
    out = [Issue(WARNING, nid, message, code="loss", fixes=fixes) for nid, message, fixes in lint_losses(graph)]
    for head in graph.nodes_of_type("Output"):
        target = str(head.params.get("target", "label"))
        if target.startswith("input:"):
            ref = target.split(":", 1)[1]
            ref_node = graph.nodes.get(ref)
            if ref_node is None or ref_node.type != "Input":
                out.append(Issue(ERROR, head.id, f"target {target!r} names no Input node", code="target"))
                continue
            got, want = shapes[head.id].output_shape, shapes[ref].output_shape
            if got is not None and want is not None and got != want:
                out.append(Issue(ERROR, head.id, f"reconstructs {ref} {format_shape(want)} but receives "
                                 f"{format_shape(got)}: add a Reshape to {format_shape(want)}", "in", "target"))
    return out
