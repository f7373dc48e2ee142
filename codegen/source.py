"""generate_source: a graph becomes one readable, standalone PyTorch module.

The module holds, in reading order: the imports (torch only), a small Reparametrisation class
when the graph is a VAE, one class per block (and per distinct input shape it is used with),
the GAN generator class when there is one, the graph's own class, and a `__main__` demo that
builds the model and runs it once on random input. Sizes come from shape inference; nothing
from the file is pasted in except allocator output and values the layer specs validated.
This module does not import torch, so the designer's code view stays instant.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import graph_core as gc
from graph_core import Graph, NodeShapes, TensorType

from .classes import INDENT, ClassCode, ClassEmitter, SubModule, shape_comment, string_literal
from .errors import GraphInvalidError
from .names import NameAllocator

HEADER = '''import torch
from torch import nn
import torch.nn.functional as F
'''

REPARAMETRISATION = '''class Reparametrisation(nn.Module):
    """The reparametrisation trick of a VAE: z = mu + exp(logvar / 2) * eps, eps ~ N(0, I).

    Sampling becomes a sum with fixed noise, so gradients reach mu and logvar. In eval mode
    z = mu. Each forward stores beta * KL(N(mu, sigma^2) || N(0, I)), averaged over the batch,
    in self.kl for the training loss.
    """

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta
        self.kl = torch.zeros(())

    def forward(self, mu, logvar):
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).flatten(1).sum(dim=1).mean()
        self.kl = self.beta * kl
        if not self.training:
            return mu
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
'''


@dataclass
class GeneratedSource:
    """Generated code as a value: the text, and which graph element each line comes from.

    Attributes:
        source: the module text.
        line_to_node: 1-based line number -> id of the top-level node the line belongs to.
        class_name: the graph's class in `source`.
        node_paths: node-id path (top-level id, then ids inside its block) -> dotted attribute
            path of the submodule owning that node's weights, e.g. ("stage1", "conv") ->
            "stage1.conv"; GAN generator nodes live under "generator.".
        block_lines: line -> (block name, node id inside the block) for lines of block classes.
        inputs: (Input node id, forward argument name), in forward's order.
        outputs: (Output node id, identifier), in return order.
        gan: for a GAN, {"latent_shape", "sample_shape", "generator_inputs" (Input ids),
            "generator_class", "discriminator_class", "discriminator_input", "discriminator_shape"
            (what the discriminator's block receives: sample_shape, or a conditional GAN's
            concat(condition, sample)), "condition_input" (the node feeding the condition, or
            None)}; None otherwise.
    """

    source: str
    line_to_node: dict[int, str]
    class_name: str
    node_paths: dict[tuple[str, ...], str] = field(default_factory=dict)
    block_lines: dict[int, tuple[str, str]] = field(default_factory=dict)
    inputs: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    input_types: list[TensorType] = field(default_factory=list)
    gan: dict | None = None

    def __iter__(self) -> Iterator:
        return iter((self.source, self.line_to_node))

    @property
    def node_modules(self) -> dict[str, str]:
        """Top-level node id -> attribute path of its submodule."""
        return {path[0]: attr for path, attr in self.node_paths.items() if len(path) == 1}


def check_graph(graph: Graph) -> dict[str, NodeShapes]:
    """Infer shapes, refusing a graph with validation errors (GraphInvalidError)."""
    shapes = gc.infer_shapes(graph)
    problems = gc.errors(gc.validate(graph, shapes))
    if problems:
        raise GraphInvalidError(graph.name, problems)
    return shapes


def generate_source(graph: Graph) -> GeneratedSource:
    """The graph as a standalone PyTorch module (text) plus its line -> node map.

    Raises:
        GraphInvalidError: the graph has validation errors (carried in `.issues`).
    """
    shapes = check_graph(graph)
    return _ModuleWriter(graph, shapes).write()


class _ModuleWriter:
    """Collects the classes of one module and lays them out with line numbers."""

    def __init__(self, graph: Graph, shapes: Mapping[str, NodeShapes]) -> None:
        self.graph, self.shapes = graph, shapes
        # the helper classes a file may hold (attention.py emits the positional ones)
        self.class_names = NameAllocator({"Reparametrisation", "PositionalEncoding", "PositionalEmbedding"})
        self.classes: list[ClassCode] = []
        self.block_cache: dict[tuple, SubModule] = {}

    def write(self) -> GeneratedSource:
        from .gan import emit_gan_class

        name = self.class_names.allocate_class(self.graph.name)
        if any(self.graph.nodes_of_type("Discriminator")):
            main, gan = emit_gan_class(self, name)
        else:
            main, gan = self.emit_graph_class(name), None
        self.classes.append(main)
        result = self._layout(main)
        result.gan = gan
        result.outputs = main_outputs(self.graph, main)
        return result

    def emit_graph_class(self, name: str) -> ClassCode:
        g = self.graph
        order = readable_order(g)
        emitter = ClassEmitter(name, g, self.shapes, order, lambda nid: ("node", nid),
                               self.block_class, f"The network {name}, generated by Netwright.")
        emitter.emit_nodes()
        return emitter.finish(*self.output_returns(emitter), kl_method=True)

    def output_returns(self, emitter: ClassEmitter) -> tuple[list[tuple[str, str]], bool]:
        heads = list(self.graph.nodes_of_type("Output"))
        returns = [(h.id, emitter.arg(h.id, "in")) for h in heads]
        return returns, len(returns) > 1

    def block_class(self, block_name: str, feed: Mapping[str, TensorType]) -> SubModule:
        """The class for `block_name` fed with `feed` (one class per distinct input shapes)."""
        key = (block_name, tuple(sorted((k, v.shape, v.dtype) for k, v in feed.items())))
        if key in self.block_cache:
            return self.block_cache[key]
        block = self.graph.blocks[block_name]
        inner = gc.infer_shapes(block, self.graph.blocks, dict(feed))
        name = self.class_names.allocate_class(block_name, "Block")
        order = readable_order(block)
        emitter = ClassEmitter(name, block, inner, order, lambda nid: ("block", block_name, nid),
                               self.block_class, f"The block {name}, generated by Netwright.")
        emitter.emit_nodes()
        heads = list(block.nodes_of_type("Output"))
        code = emitter.finish([(h.id, emitter.arg(h.id, "in")) for h in heads], as_dict=False)
        code.output_ids = [h.id for h in heads]
        self.classes.append(code)
        sub = SubModule(name, dict(code.paths), code.has_kl, list(code.input_ids), list(code.output_ids))
        self.block_cache[key] = sub
        return sub

    def _layout(self, main: ClassCode) -> GeneratedSource:
        text: list[str] = _module_doc(self.graph, main, self.shapes).split("\n") + [""]
        text += HEADER.rstrip("\n").split("\n")
        if any(c.has_kl for c in self.classes) or self._uses_reparam():
            text += ["", ""] + REPARAMETRISATION.rstrip("\n").split("\n")
        helpers: list[str] = []
        for code in self.classes:
            helpers += [h for h in code.helpers if h not in helpers]
        for helper in helpers:
            text += ["", ""] + helper.rstrip("\n").split("\n")
        line_to_node: dict[int, str] = {}
        block_lines: dict[int, tuple[str, str]] = {}
        for code in self.classes:
            text += ["", ""]
            for line, tag in code.lines:
                text.append(line)
                if tag and tag[0] == "node":
                    line_to_node[len(text)] = tag[1]
                elif tag and tag[0] == "block":
                    block_lines[len(text)] = (tag[1], tag[2])
        text += ["", ""] + _demo(main.name, self.graph, main, self.shapes)
        inputs = [(nid, _param_name(main, nid)) for nid in main.input_ids]
        types = [self.shapes[nid].outputs["out"] for nid in main.input_ids]
        return GeneratedSource("\n".join(text) + "\n", line_to_node, main.name, dict(main.paths),
                               block_lines, inputs, [], types)

    def _uses_reparam(self) -> bool:
        graphs = [self.graph, *self.graph.blocks.values()]
        return any(any(g.nodes_of_type("Reparametrisation")) for g in graphs)


def readable_order(graph: Graph) -> list[str]:
    """A topological order that follows each branch to its end before starting the next.

    Inputs come first in file order (they are forward's arguments). After a node, the
    successors it made ready come next, earliest in the file first; so a multi-branch network
    reads branch by branch rather than layer by layer across branches.
    """
    indegree = {nid: 0 for nid in graph.nodes}
    succ: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        if e.src[0] in indegree and e.dst[0] in indegree:
            indegree[e.dst[0]] += 1
            succ[e.src[0]].append(e.dst[0])  # once per wire, matching the indegree count
    position = {nid: k for k, nid in enumerate(graph.nodes)}
    inputs = [nid for nid, n in graph.nodes.items() if n.type == "Input"]
    stack = sorted((nid for nid, d in indegree.items() if d == 0 and nid not in inputs),
                   key=position.__getitem__, reverse=True)
    stack += list(reversed(inputs))
    order: list[str] = []
    while stack:
        nid = stack.pop()
        order.append(nid)
        ready = []
        for nxt in succ[nid]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
        stack += sorted(ready, key=position.__getitem__, reverse=True)
    return order


def main_outputs(graph: Graph, main: ClassCode) -> list[tuple[str, str]]:
    """(Output id, a unique identifier for it) for the graph's heads, in return order."""
    names = NameAllocator()
    return [(h.id, names.allocate(h.name, "output")) for h in graph.nodes_of_type("Output")]


def _param_name(code: ClassCode, node_id: str) -> str:
    return code.input_names[code.input_ids.index(node_id)]


def _module_doc(graph: Graph, main: ClassCode, shapes: Mapping[str, NodeShapes]) -> str:
    lines = [f'"""{main.name}: PyTorch code generated by Netwright from a graph.', ""]
    lines.append("Inputs (batch axis first, then):")
    for nid, pname in zip(main.input_ids, main.input_names):
        t = shapes[nid].outputs["out"]
        lines.append(f"{INDENT}{pname}: {shape_comment(t)} {t.dtype if t else ''}".rstrip())
    lines.append("Outputs:")
    for nid, ident in main_outputs(graph, main) or [(None, None)]:
        if nid is None:
            lines.append(f"{INDENT}the discriminator's score")
            break
        lines.append(f"{INDENT}{ident}: {shape_comment(shapes[nid].main_output)}")
    lines.append("")
    lines.append(f"Run this file with python to build {main.name} and try it on random input.")
    lines.append('"""')
    return "\n".join(lines)


def _demo(class_name: str, graph: Graph, main: ClassCode, shapes: Mapping[str, NodeShapes]) -> list[str]:
    args = []
    for nid in main.input_ids:
        t = shapes[nid].outputs["out"]
        size = ", ".join(str(s) for s in (2, *t.shape))
        if t.dtype == "int64":
            args.append(f"torch.randint(0, {int_input_high(graph)}, ({size}))")
        else:
            args.append(f"torch.randn({size})")
    return [
        'if __name__ == "__main__":',
        f"{INDENT}model = {class_name}().eval()",
        f"{INDENT}with torch.no_grad():",
        f"{INDENT * 2}result = model({', '.join(args)})",
        f'{INDENT}results = result if isinstance(result, dict) else {{"output": result}}',
        f"{INDENT}for name, tensor in results.items():",
        f'{INDENT * 2}print(f"{{name}}: {{tuple(tensor.shape)}}")',
        f'{INDENT}print(f"parameters: {{sum(p.numel() for p in model.parameters()):,}}")',
    ]


def int_input_high(graph: Graph) -> int:
    """An exclusive upper bound for random int64 inputs that every lookup table accepts."""
    limits = [2]
    for g in (graph, *graph.blocks.values()):
        for node in g.nodes_of_type("Embedding", "OneHot"):
            p = gc.resolved_params(node)
            limits.append(p.get("num_embeddings") or p.get("num_classes") or 2)
    return min(limits[1:] or limits)


__all__ = ["GeneratedSource", "check_graph", "generate_source", "string_literal"]
