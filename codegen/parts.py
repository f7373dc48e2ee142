"""The parts of a graph that can be used (and exported) on their own.

- VAE decoder: everything downstream of the single Reparametrisation's `z` output. It becomes
  a graph of its own whose one Input (same id and name as the Reparametrisation node) takes
  the latent code; its Output heads are the original graph's heads downstream of z. A node
  downstream of z that also reads a tensor computed upstream of z (a skip connection from the
  encoder) makes the decoder inseparable, and that is refused naming the node.
- GAN generator and discriminator are submodules of the compiled GAN; see `codegen.gan`.
"""

from __future__ import annotations

from collections import deque

import graph_core as gc
from graph_core import Edge, Graph, Node

from .errors import ExportError

PARTS = ("decoder", "generator", "discriminator")


def graph_kind(graph: Graph) -> str:
    """"gan" when the graph has a Discriminator, "vae" with a Reparametrisation, else "plain"."""
    if any(graph.nodes_of_type("Discriminator")):
        return "gan"
    if any(graph.nodes_of_type("Reparametrisation")):
        return "vae"
    return "plain"


def resolve_part(graph: Graph, part: str | None) -> str:
    """The part to use: None means the whole model, except a GAN, which means its generator
    (the network a user deploys). Raises ExportError for a part the graph does not have."""
    kind = graph_kind(graph)
    if part is None:
        return "generator" if kind == "gan" else "full"
    if part == "full" and kind != "gan":
        return "full"
    allowed = {"gan": ("generator", "discriminator"), "vae": ("full", "decoder"), "plain": ("full",)}[kind]
    if part not in allowed:
        what = {"gan": "a GAN", "vae": "a VAE", "plain": "this graph"}[kind]
        raise ExportError(f"part {part!r} does not exist in {what}; choose {' or '.join(allowed)}")
    return part


def decoder_graph(graph: Graph) -> Graph:
    """The decoder of a VAE as a graph of its own (see the module docstring)."""
    reps = list(graph.nodes_of_type("Reparametrisation"))
    if len(reps) != 1:
        raise ExportError(f"a decoder needs exactly one Reparametrisation; {graph.name!r} has {len(reps)}")
    rep = reps[0]
    down = _descendants(graph, rep.id)
    for nid in graph.nodes:
        if nid not in down:
            continue
        for e in graph.edges_into(nid):
            if e.src[0] != rep.id and e.src[0] not in down:
                raise ExportError(f"{nid}: reads {e.src[0]}, which is computed before the latent code, "
                                  "so the decoder cannot run on z alone")
    if not any(graph.nodes[n].type == "Output" for n in down):
        raise ExportError(f"{rep.id}: no Output head downstream of the latent code, so there is no decoder")
    latent = gc.infer_shapes(graph)[rep.id].outputs["z"]
    dec = Graph(name=f"{graph.name}_decoder", blocks=graph.blocks)
    dec.nodes[rep.id] = Node(rep.id, "Input", {"shape": list(latent.shape), "source": "noise"}, name=rep.name)
    for nid, node in graph.nodes.items():
        if nid in down:
            params = dict(node.params)
            if node.type == "Output":  # its target (often input:x) is not part of the decoder
                params = {"loss": "none"}
            dec.nodes[nid] = Node(nid, node.type, params, node.name, node.frozen, node.lr_factor)
    for e in graph.edges:
        if e.dst[0] in down:
            src = (rep.id, "out") if e.src[0] == rep.id else e.src
            dec.edges.append(Edge(src, e.dst))
    return dec


def _descendants(graph: Graph, start: str) -> set[str]:
    seen: set[str] = set()
    queue = deque([start])
    while queue:
        for e in graph.edges_from(queue.popleft()):
            if e.dst[0] not in seen:
                seen.add(e.dst[0])
                queue.append(e.dst[0])
    return seen
