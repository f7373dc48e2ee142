"""validate(graph) -> issues: structural checks with networkx, shape errors, and the lint a
course would give. Returns data, never raises; networkx stays inside this module."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from .graph import Graph
from .loss_lint import GraphFix, lint_losses
from .shapes import NodeShapes, cyclic_gc_paused, infer_shapes, node_ports
from .specs import format_shape, has_spec

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
        return f"{self.node or 'graph'}: {self.message}"


def validate(graph: Graph, shapes: Mapping[str, NodeShapes] | None = None) -> list[Issue]:
    """Every problem in the graph, errors first then warnings, each in node file order.

    Args:
        graph: the document.
        shapes: a previous `infer_shapes(graph)` result to reuse (the canvas has one already).
    """
    with cyclic_gc_paused():
        return _validate(graph, infer_shapes(graph) if shapes is None else shapes)


def _validate(graph: Graph, shapes: Mapping[str, NodeShapes]) -> list[Issue]:
    issues: list[Issue] = []
    issues += _check_graph_level(graph)
    issues += _check_wires(graph)
    digraph = _digraph(graph)
    issues += _check_cycles(graph, digraph)
    issues += _check_reachability(graph, digraph)
    issues += _check_blocks(graph)
    taken = {(i.node, i.port) for i in issues if i.severity == ERROR and i.port}
    taken |= {(i.node, None) for i in issues if i.code == "block"}
    issues += [i for i in _check_nodes(graph, shapes) if (i.node, i.port) not in taken]
    issues += _check_heads(graph, shapes)
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
    return out


def _check_wires(graph: Graph) -> list[Issue]:
    out = []
    counts = Counter(e.dst for e in graph.edges)
    ports = {nid: node_ports(node, graph.blocks) for nid, node in graph.nodes.items()}
    for e in graph.edges:
        src, dst = graph.nodes.get(e.src[0]), graph.nodes.get(e.dst[0])
        if src is None or dst is None:
            missing = e.src[0] if src is None else e.dst[0]
            out.append(Issue(ERROR, e.dst[0] if src is None else e.src[0],
                             f"wire {e} names unknown node {missing!r}", code="dangling"))
            continue
        if _unknown_block(graph, src) or _unknown_block(graph, dst):
            continue  # its ports are unknown; _check_blocks names the missing block
        src_port = next((p for p in ports[src.id][1] if p.name == e.src[1]), None)
        dst_port = next((p for p in ports[dst.id][0] if p.name == e.dst[1]), None)
        if src_port is None:
            if has_spec(src.type):
                out.append(Issue(ERROR, src.id, f"{src.type} has no output port '{e.src[1]}'", e.src[1], "port"))
            continue
        if dst_port is None:
            if has_spec(dst.type):
                out.append(Issue(ERROR, dst.id, f"{dst.type} has no input port '{e.dst[1]}'", e.dst[1], "port"))
            continue
        if src_port.kind != dst_port.kind:
            out.append(Issue(ERROR, dst.id, f"'{e.dst[1]}' takes {_KIND_WORDS[dst_port.kind]} but "
                             f"{src.id}.{e.src[1]} carries {_KIND_WORDS[src_port.kind]} — "
                             f"{_KIND_HINTS[dst_port.kind]}", e.dst[1], "port-kind"))
        if not dst_port.multi and counts[e.dst] > 1 and e == _first_into(graph, e.dst):
            out.append(Issue(ERROR, dst.id, f"'{e.dst[1]}' takes one wire but has {counts[e.dst]}: "
                             "add a Concat or Add to combine them", e.dst[1], "many-wires"))
    for node in graph.nodes.values():
        if not has_spec(node.type):
            continue
        for port in ports[node.id][0]:
            if not port.optional and not counts[(node.id, port.name)]:
                out.append(Issue(ERROR, node.id, f"input '{port.name}' is not connected", port.name, "unconnected"))
    return out


_KIND_WORDS = {"tensor": "a tensor", "indices": "pool indices"}
_KIND_HINTS = {"tensor": "pool indices only go into a MaxUnpool's 'indices' port",
               "indices": "wire the 'indices' output of the MaxPool this unpool mirrors"}


def _first_into(graph: Graph, dst: tuple[str, str]):
    return next(e for e in graph.edges if e.dst == dst)


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


def _check_cycles(graph: Graph, g: nx.DiGraph) -> list[Issue]:
    out: list[Issue] = []
    if nx.is_directed_acyclic_graph(g):  # the usual case, and much cheaper than components
        return out
    for component in nx.strongly_connected_components(g):
        if len(component) == 1 and not g.has_edge(next(iter(component)), next(iter(component))):
            continue
        cycle = [u for u, _ in nx.find_cycle(g.subgraph(component))]
        first = min(cycle, key=list(graph.nodes).index)
        start = cycle.index(first)
        cycle = cycle[start:] + cycle[:start]
        path = " -> ".join(cycle + [cycle[0]])
        out.append(Issue(ERROR, first, f"a cycle: {path}; data must flow one way — remove one of these wires",
                         code="cycle"))
    return out


def _check_reachability(graph: Graph, g: nx.DiGraph) -> list[Issue]:
    sources = [n.id for n in graph.nodes_of_type("Input")]
    sinks = [n.id for n in graph.nodes_of_type(*_SINKS)]
    if not sources or not sinks:
        return []
    fed = set(sources).union(*(nx.descendants(g, s) for s in sources))
    used = set(sinks).union(*(nx.ancestors(g, s) for s in sinks))
    out = []
    for nid in graph.nodes:
        if nid not in fed:
            out.append(Issue(WARNING, nid, "is cut off from every Input", code="cut-off"))
        elif nid not in used:
            out.append(Issue(WARNING, nid, "leads to no Output: its result is never used", code="cut-off"))
    return out


def _check_nodes(graph: Graph, shapes: Mapping[str, NodeShapes]) -> list[Issue]:
    out = []
    for nid, info in shapes.items():
        if info.error:
            out.append(Issue(ERROR, nid, _with_source(graph, nid, info), info.error_port, "shape"))
        out.extend(Issue(WARNING, nid, w, code="lint") for w in info.warnings)
    return out


def _with_source(graph: Graph, nid: str, info: NodeShapes) -> str:
    """Name where the offending tensor came from: 'got (32,) from dense1'."""
    message = info.error or ""
    port = info.error_port
    if port and " got " in message and " from " not in message:
        wires = graph.edges_into(nid, port)
        if len(wires) == 1:
            head, _, tail = message.partition(" — ")
            message = f"{head} from {wires[0].src[0]}" + (f" — {tail}" if tail else "")
    return message


def _check_heads(graph: Graph, shapes: Mapping[str, NodeShapes]) -> list[Issue]:
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
