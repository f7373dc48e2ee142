"""Does each loss fit what feeds it? The lint that catches sigmoid(sigmoid(x)) before training.

A bce head takes logits and applies the sigmoid itself; a cross-entropy head applies the
softmax itself. A branch that already ends in that activation trains on the activation twice
and reports no error: a faithful copy of pytorch/examples' VAE (Sigmoid -> Reshape -> bce) or
DCGAN (a Sigmoid at the end of the discriminator) learns the wrong thing. So the lint walks
back from every head through shape-only nodes (Reshape, Flatten, Identity, Dropout) and into
blocks, finds the layer that really produced the values, and offers one-click fixes: the loss
that takes what arrives (`bce_probs` after a Sigmoid, `nll` after a LogSoftmax) or removing the
activation. It runs inside every block too, so a Discriminator's own head is checked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field

from .commands import Command, Connect, Macro, RemoveNodes, SetParam
from .graph import Edge, Graph

# Nodes that move values around without changing them: the lint looks through them.
SHAPE_ONLY = frozenset({"Reshape", "Flatten", "Identity", "Dropout", "Dropout2d"})
# loss -> (the activation it applies itself, the loss that takes that activation's output)
_APPLIES = {"bce": ("Sigmoid", "bce_probs"), "cross_entropy": ("Softmax", None)}
# loss -> (the activation it expects at the end of the branch, the loss to use without it)
_EXPECTS = {"bce_probs": ("Sigmoid", "bce"), "nll": ("LogSoftmax", "cross_entropy")}


@dataclass(frozen=True)
class Producer:
    """The layer that produced a head's values, seen through shape-only nodes and blocks.

    `path` names it from the top graph: ("dec", "sigmoid") is node sigmoid inside Block dec.
    `top` is the top-level node the user can select: the layer itself or its Block.
    """

    path: tuple[str, ...]
    type: str
    top: str
    removable: bool  # a top-level node with one input wire: removing it and rewiring is a fix


@dataclass(frozen=True)
class GraphFix:
    """A one-click fix for a graph issue: the button's label and a factory of its command."""

    label: str
    # Commands compare by identity; two analyses of the same graph must give equal issues (the
    # Issues list repaints only when they differ), so a fix compares by its label.
    commands: tuple[Command, ...] = field(compare=False)

    def command(self) -> Macro:
        """Fresh commands each time (an undone fix applied again is a new undo step)."""
        return Macro(copy.deepcopy(list(self.commands)), self.label)


class SetBlockParam(Command):
    """Set a parameter of a node inside a block (a Discriminator's head, say)."""

    def __init__(self, block: str, node_id: str, name: str, value: object) -> None:
        self.block = block
        self.inner = SetParam(node_id, name, value)
        self.text = f"set {block}/{node_id}.{name}"

    def apply(self, graph: Graph) -> None:
        self.inner.apply(graph.blocks[self.block])

    def revert(self, graph: Graph) -> None:
        self.inner.revert(graph.blocks[self.block])


def producer(graph: Graph, edge: Edge) -> Producer | None:
    """The layer whose values arrive over `edge`, looking through shape-only nodes and blocks."""
    return _producer(graph, edge, (), None, 0)


def lint_losses(graph: Graph) -> Iterator[tuple[str, str, tuple[GraphFix, ...]]]:
    """(node id to show, message, fixes) for every head whose loss does not fit what feeds it.

    Heads of the top graph are reported on themselves; heads inside a block on the top-level
    node that runs the block (a Block or a Discriminator), whose fix edits the block's head.
    """
    for head in graph.nodes_of_type("Output"):
        yield from _lint_head(graph, head.id, str(head.params.get("loss", "cross_entropy")), None, head.id)
    # A plain Block's inner Outputs are ports, not losses; a Discriminator's head is its loss
    # (bce on its logits, or bce_probs when the block ends with a Sigmoid).
    for user in graph.nodes_of_type("Discriminator"):
        name = str(user.params.get("block", "discriminator"))
        block = graph.blocks.get(name)
        if block is None:
            continue
        for head in block.nodes_of_type("Output"):
            loss = "bce_probs" if head.params.get("loss") == "bce_probs" else "bce"
            yield from _lint_head(block, head.id, loss, name, user.id)


def _lint_head(graph: Graph, head: str, loss: str, block: str | None, shown: str
               ) -> Iterator[tuple[str, str, tuple[GraphFix, ...]]]:
    wires = graph.edges_into(head, "in")
    if len(wires) != 1:
        return
    src = producer(graph, wires[0])
    if src is None:
        return
    where = f"{'/'.join(src.path)}" + (f" (in block {block})" if block else "")
    inner = f"{block}/{head}" if block else head
    said = f"{inner}: " if block else ""

    def set_loss(value: str) -> GraphFix:
        cmd = SetBlockParam(block, head, "loss", value) if block else SetParam(head, "loss", value)
        return GraphFix(f"set {inner} loss to {value}", (cmd,))

    if loss in _APPLIES and src.type == _APPLIES[loss][0]:
        act, better = _APPLIES[loss]
        fixes = [set_loss(better)] if better else []
        if src.removable and block is None:
            fixes.append(_remove(graph, src.top))
        take = f"use loss {better} (it takes probabilities)" if better else f"remove {src.top}"
        yield shown, (f"{said}{where} applies {act} but the {loss} loss applies it again, so training "
                      f"would see {act.lower()}({act.lower()}(x)) — {take} or feed the raw scores (logits)"), \
            tuple(fixes)
    elif loss == "cross_entropy" and src.type == "LogSoftmax":
        yield shown, (f"{said}{where} gives log-probabilities: use loss nll, which takes them "
                      "(cross_entropy would normalise them again)"), (set_loss("nll"),)
    elif loss in _EXPECTS and src.type != _EXPECTS[loss][0]:
        act, plain = _EXPECTS[loss]
        yield shown, (f"{said}the {loss} loss expects the output of a {act} but {where} is a {src.type}: "
                      f"end the branch with {act} or use loss {plain}"), (set_loss(plain),)


def _producer(graph: Graph, edge: Edge, prefix: tuple[str, ...], top: str | None, depth: int
              ) -> Producer | None:
    seen = 0
    while seen < 10_000:  # a cycle is validation's to report; never loop forever here
        seen += 1
        node = graph.nodes.get(edge.src[0])
        if node is None:
            return None
        shown = top or node.id
        if node.type in SHAPE_ONLY:
            wires = graph.edges_into(node.id, "in")
            if len(wires) != 1:
                return None
            edge = wires[0]
            continue
        if node.type == "Block" and depth < 8:
            block = graph.blocks.get(str(node.params.get("block", "block")))
            inner = [e for e in block.edges_into(edge.src[1], "in")] if block is not None else []
            if len(inner) != 1:
                return None
            return _producer(block, inner[0], prefix + (node.id,), shown, depth + 1)
        removable = top is None and len(graph.edges_into(node.id)) == 1
        return Producer(prefix + (node.id,), node.type, shown, removable)
    return None


def _remove(graph: Graph, node_id: str) -> GraphFix:
    """Remove a one-input node and wire what fed it to everything it fed."""
    source = graph.edges_into(node_id)[0].src
    rewire = [Connect(Edge(source, e.dst)) for e in graph.edges_from(node_id)]
    return GraphFix(f"remove {node_id} and rewire", (RemoveNodes([node_id]), *rewire))
