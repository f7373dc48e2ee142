"""Shape and parameter-count inference over a whole graph, in plain arithmetic.

Works on incomplete graphs: a node whose inputs are not all known yet is marked unknown
(its outputs None) without an error, so the canvas can show shapes while the user wires.
Blocks and Discriminators infer their sub-graph with the shapes that actually arrive.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .graph import Edge, Graph, Node
from .layers.generative import judged_sample
from .specs import (
    Inference,
    ParamError,
    PortSpec,
    ShapeError,
    TensorType,
    format_shape,
    get_spec,
    has_spec,
)


@dataclass
class NodeShapes:
    """What inference learned about one node."""

    inputs: dict[str, list[TensorType]] = field(default_factory=dict)
    outputs: dict[str, TensorType | None] = field(default_factory=dict)
    params: int | None = None
    error: str | None = None
    error_port: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.error is None and self.params is not None

    @property
    def main_output(self) -> TensorType | None:
        """The tensor the node is shown with: its first output, or what an Output head receives."""
        if self.outputs:
            return next(iter(self.outputs.values()))
        wires = self.inputs.get("in") or []
        return wires[0] if len(wires) == 1 else None

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        t = self.main_output
        return None if t is None else t.shape


def node_ports(node: Node, blocks: Mapping[str, Graph]) -> tuple[tuple[PortSpec, ...], tuple[PortSpec, ...]]:
    """The input and output ports of a node; a Block's come from its sub-graph."""
    if not has_spec(node.type):
        return (), ()
    spec = get_spec(node.type)
    if node.type != "Block":
        return spec.inputs, spec.outputs
    block = blocks.get(str(node.params.get("block", "")))
    if block is None:
        return (), ()
    ins = tuple(PortSpec(n.id, help=f"block input {n.id}") for n in block.nodes_of_type("Input"))
    outs = tuple(PortSpec(n.id, help=f"block output {n.id}") for n in block.nodes_of_type("Output"))
    return ins, outs


def topological_order(graph: Graph) -> list[str]:
    """Nodes in dependency order, ties broken by file order; nodes on cycles are left out."""
    indegree = {nid: 0 for nid in graph.nodes}
    succ: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        if e.src[0] in indegree and e.dst[0] in indegree:
            indegree[e.dst[0]] += 1
            succ[e.src[0]].append(e.dst[0])
    ready = deque(nid for nid, d in indegree.items() if d == 0)
    order = []
    while ready:
        nid = ready.popleft()
        order.append(nid)
        for nxt in succ[nid]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return order


def infer_shapes(graph: Graph, blocks: Mapping[str, Graph] | None = None,
                 feed: Mapping[str, TensorType] | None = None,
                 _stack: tuple[str, ...] = (), _cache: dict | None = None) -> dict[str, NodeShapes]:
    """Infer every node's output shapes and parameter count.

    Args:
        graph: the graph (or a block's sub-graph).
        blocks: the blocks that Block and Discriminator nodes name; defaults to graph.blocks.
        feed: tensors arriving at Input nodes by id (used when inferring inside a block).

    Returns:
        NodeShapes per node id, for every node (unknown ones with outputs None).
    """
    if _cache is None:
        with cyclic_gc_paused():
            return infer_shapes(graph, blocks, feed, _stack, {})
    blocks = graph.blocks if blocks is None else blocks
    cache = _cache  # one block used many times with the same input is inferred once per call
    incoming: dict[str, list[Edge]] = defaultdict(list)
    for e in graph.edges:
        incoming[e.dst[0]].append(e)
    result = {}
    ports = {}
    for nid, node in graph.nodes.items():
        # every output starts unknown, so nodes that inference never reaches (on a cycle,
        # or behind one) still list their ports with None
        ports[nid] = node_ports(node, blocks)
        result[nid] = NodeShapes(outputs={p.name: None for p in ports[nid][1]})
    for nid in topological_order(graph):
        node = graph.nodes[nid]
        info = result[nid]
        ins = ports[nid][0]
        complete = _gather_inputs(node, ins, incoming[nid], graph, result, info)
        if not has_spec(node.type):
            info.error = f"unknown node type {node.type!r}"
            continue
        try:
            params = get_spec(node.type).resolve(node.params)
        except ParamError as exc:
            info.error = f"{exc.param}: {exc.message}"
            continue
        if not complete and not (feed and node.type == "Input" and nid in feed):
            continue
        try:
            inference = _infer_node(node, params, info.inputs, blocks, feed, _stack, cache)
        except ShapeError as exc:
            info.error, info.error_port = exc.message, exc.port
            continue
        outputs = dict(inference.outputs)
        for port, t in outputs.items():
            if t.pool is not None and not t.pool.node:
                outputs[port] = dataclasses.replace(t, pool=dataclasses.replace(t.pool, node=nid))
        info.outputs.update(outputs)
        info.params = inference.params
        info.warnings.extend(_intended(node, inference.warnings, graph, incoming[nid], incoming))
    return result


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one inference or validation pass.

    A pass over a 1,000-node graph allocates tens of thousands of short-lived objects without
    cycles; reference counting frees them all the same, but the allocations would trigger
    collections in the middle of the pass, and a full one walks every object in the process
    (many in the designer, with torch and Qt loaded): about half the time of the pass in
    benchmarks/bench_graph_core.py. Nested and concurrent uses leave the collector as found.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _intended(node: Node, warnings: tuple[str, ...], graph: Graph, edges: list[Edge],
              incoming: Mapping[str, list[Edge]]) -> tuple[str, ...]:
    """A Dense fed features-last (after attention, a LayerNorm, an Embedding) is per position on
    purpose: its 'mixes only the last axis' warning is dropped (graph_core.layout)."""
    if node.type != "Dense" or not warnings or len(edges) != 1:
        return warnings
    from .layout import features_last

    return () if features_last(graph, edges[0], incoming) else warnings


def _gather_inputs(node: Node, ins: tuple[PortSpec, ...], edges: list[Edge], graph: Graph,
                   result: dict[str, NodeShapes], info: NodeShapes) -> bool:
    """Collect the tensors arriving on each port; False when any required one is unknown."""
    complete = True
    for port in ins:
        info.inputs[port.name] = []
    for e in edges:
        src = result.get(e.src[0])
        t = None if src is None else src.outputs.get(e.src[1])
        if t is None or e.dst[1] not in info.inputs:
            complete = False
            continue
        info.inputs[e.dst[1]].append(t)
    for port in ins:
        if not info.inputs[port.name] and not port.optional:
            complete = False
    return complete


def _infer_node(node: Node, params: dict, inputs: dict[str, list[TensorType]],
                blocks: Mapping[str, Graph], feed: Mapping[str, TensorType] | None,
                stack: tuple[str, ...], cache: dict) -> Inference:
    if node.type == "Input" and feed is not None and node.id in feed:
        given, declared = feed[node.id], params["shape"]
        if declared and tuple(declared) != given.shape:
            raise ShapeError(f"this block input expects {format_shape(tuple(declared))}; "
                             f"got {format_shape(given.shape)}")
        return Inference({"out": given})
    if node.type == "Input" and not params["shape"]:
        raise ShapeError("an Input needs a shape, e.g. [1, 28, 28] for a grey 28×28 image")
    if node.type == "Block":
        return _infer_block(params["block"], {k: v[0] for k, v in inputs.items()}, blocks, stack, cache)
    if node.type == "Discriminator":
        judged = judged_sample(inputs)  # the sample, or the (condition, sample) pair as channels
        inner = _infer_block(params["block"], None, blocks, stack, cache, single_input=judged)
        return Inference({"score": next(iter(inner.outputs.values()), None)} if inner.outputs else {},
                         inner.params, inner.warnings)
    return get_spec(node.type).infer(params, inputs)


def _infer_block(name: str, feed: dict[str, TensorType] | None, blocks: Mapping[str, Graph],
                 stack: tuple[str, ...], cache: dict, single_input: TensorType | None = None) -> Inference:
    block = blocks.get(name)
    if block is None:
        known = ", ".join(sorted(blocks)) or "none defined"
        raise ShapeError(f"unknown block {name!r} (blocks: {known})")
    if name in stack:
        raise ShapeError(f"block {name!r} contains itself")
    input_ids = [n.id for n in block.nodes_of_type("Input")]
    if single_input is not None:
        if len(input_ids) != 1:
            raise ShapeError(f"a discriminator block needs exactly one Input; {name!r} has {len(input_ids)}")
        feed = {input_ids[0]: single_input}
    key = (name, stack, tuple(feed.items()) if feed else ())
    if key not in cache:
        cache[key] = _infer_block_inside(name, block, feed, blocks, stack, cache)
    return cache[key]


def _infer_block_inside(name: str, block: Graph, feed: dict[str, TensorType] | None,
                        blocks: Mapping[str, Graph], stack: tuple[str, ...], cache: dict) -> Inference:
    inner = infer_shapes(block, blocks, feed, stack + (name,), cache)
    for nid, info in inner.items():
        if info.error:
            raise ShapeError(f"inside block {name!r}, {nid}: {info.error}")
    outputs: dict[str, TensorType] = {}
    for out in block.nodes_of_type("Output"):
        t = inner[out.id].main_output
        if t is None:
            raise ShapeError(f"inside block {name!r}, {out.id} is not connected")
        outputs[out.id] = t
    if any(i.params is None for i in inner.values()):
        raise ShapeError(f"block {name!r} is not fully connected inside")
    warnings = tuple(f"inside block {name!r}, {nid}: {w}" for nid, i in inner.items() for w in i.warnings)
    return Inference(outputs, sum(i.params or 0 for i in inner.values()), warnings)
