"""What a graph asks training to do: its regime, its inputs and heads, bound to dataset fields.

The graph decides the regime (DESIGN.md, "What training does"): a Discriminator makes a GAN, a
Reparametrisation a VAE, a head whose target is `input:<id>` an autoencoder, a cross-entropy
head with spatial axes segmentation; anything else is supervised. `bind` checks every Input
field and Output target against the prepared data before any training starts and reports
mismatches as `node-id: message` lines; `collect` reads the same from a graph still being
edited, for the designer's checks (`training.binding`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import graph_core as gc

SUPERVISED, AUTOENCODER, VAE, GAN, SEGMENTATION = "supervised", "autoencoder", "vae", "gan", "segmentation"
SEQ2SEQ = "seq2seq"
NOTHING_TO_TRAIN = ("no Output head has a loss, so there is nothing to train "
                    "(set a head's loss to cross_entropy, bce, mse or l1)")


@dataclass(frozen=True)
class InputBinding:
    """One Input node and the dataset field it reads (noise inputs read none)."""

    node: str
    field: str
    shape: tuple[int, ...]
    dtype: str
    noise: bool
    # (node id, type, size) of each OneHot / Embedding reading this Input: ids must stay below size.
    vocab_limits: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class Head:
    """One Output node with a loss: what it compares with and how it is scored.

    `kind` is classify (cross-entropy over classes), segment (cross-entropy per pixel), tokens
    (cross-entropy per position of a sequence (L, vocabulary)),
    binary (bce), regress (mse/l1 against a field) or reconstruct (mse/l1/bce against an input).
    """

    node: str
    loss: str
    weight: float
    kind: str
    shape: tuple[int, ...]
    target_field: str | None = None
    target_input: str | None = None


@dataclass
class Task:
    """The regime and the bindings of one graph."""

    regime: str
    inputs: list[InputBinding]
    heads: list[Head]
    gan_real: str | None = None
    has_conv2d: bool = False
    gan_probabilities: bool = False  # the discriminator's head is bce_probs: it ends with a Sigmoid
    # the real samples are the one-hot encoding of gan_real's field (Input -> OneHot -> real: a
    # mask judged against the generator's per-pixel class scores); the number of classes, or None
    gan_real_classes: int | None = None
    # a conditional GAN (pix2pix): the Input whose field the Discriminator's `condition` port
    # reads (straight, or one-hot with gan_condition_classes classes), or None when unconditional
    gan_condition: str | None = None
    gan_condition_classes: int | None = None
    # heads fed by the generator's output (pix2pix's L1 or per-pixel nll): they join its loss
    gan_generator_heads: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def main_metric(self) -> tuple[str, str]:
        """(metric name, "max" or "min") that early stopping and progress bars follow."""
        if self.regime == GAN:
            # pix2pix: the generator's own heads say how close its output is to the truth (an
            # image's mean absolute error, a mask's mIoU); g_loss only says how well it fools a
            # discriminator that keeps learning, so it need not fall as the output improves
            fed = next((h for h in self.heads if h.node in self.gan_generator_heads), None)
            if fed is not None and fed.kind in ("segment", "regress"):
                return ("miou", "max") if fed.kind == "segment" else ("mae", "min")
            return "g_loss", "min"
        if self.regime in (AUTOENCODER, VAE):
            return "reconstruction", "min"
        first = self.heads[0] if self.heads else None
        if first is None:
            return "loss", "min"
        return {"classify": ("accuracy", "max"), "binary": ("accuracy", "max"),
                "segment": ("miou", "max"), "regress": ("mae", "min"),
                "tokens": ("accuracy", "max")}.get(first.kind, ("loss", "min"))

    def fields(self) -> set[str]:
        """Every dataset field this graph reads."""
        names = {b.field for b in self.inputs if not b.noise}
        return names | {h.target_field for h in self.heads if h.target_field}


class BindingError(ValueError):
    """The graph cannot train on this data; `issues` are `node-id: message` lines."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues


def analyse(graph: gc.Graph, shapes: Mapping[str, gc.NodeShapes] | None = None) -> Task:
    """Infer the regime, the inputs and the heads of a valid graph.

    Raises:
        BindingError: the graph is invalid or has nothing to train.
    """
    shapes = shapes if shapes is not None else gc.infer_shapes(graph)
    problems = [str(i) for i in gc.errors(gc.validate(graph, shapes))]
    if problems:
        raise BindingError(problems)
    task = collect(graph, shapes)
    if not task.heads and task.regime != GAN:
        raise BindingError([f"{graph.name}: {NOTHING_TO_TRAIN}"])
    return task


def collect(graph: gc.Graph, shapes: Mapping[str, gc.NodeShapes] | None = None) -> Task:
    """The regime, inputs and heads of any graph, even a partly invalid one (never raises).

    A head whose input shape is not known yet (unwired, or downstream of an error) is left
    out, so a check on the result reports only what can be checked.
    """
    shapes = shapes if shapes is not None else gc.infer_shapes(graph)
    inputs = []
    for node in graph.nodes_of_type("Input"):
        p = gc.resolved_params(node)
        inputs.append(InputBinding(node.id, p["field"] or node.id, tuple(p["shape"]), p["dtype"],
                                   p["source"] == "noise", _vocab_limits(graph, node.id)))
    heads = [_head(graph, node, shapes) for node in graph.nodes_of_type("Output")]
    heads = [h for h in heads if h is not None]
    has_conv2d = any(n.type in ("Conv2d", "ConvTranspose2d") for n in _all_nodes(graph))
    discriminators = list(graph.nodes_of_type("Discriminator"))
    if discriminators:
        real, classes = _gan_source(graph, discriminators[0], "real")
        condition, condition_classes = _gan_source(graph, discriminators[0], "condition")
        return Task(GAN, inputs, heads, real, has_conv2d,
                    gan_probabilities=_gan_probabilities(graph, discriminators[0]), gan_real_classes=classes,
                    gan_condition=condition, gan_condition_classes=condition_classes,
                    gan_generator_heads=_generator_heads(graph, discriminators[0], heads))
    if any(n.type == "Reparametrisation" for n in _all_nodes(graph)):
        regime = VAE
    elif any(h.kind == "reconstruct" for h in heads):
        regime = AUTOENCODER
    elif any(h.kind == "segment" for h in heads):
        regime = SEGMENTATION
    elif teacher_forced(heads, inputs):
        regime = SEQ2SEQ
    else:
        regime = SUPERVISED
    return Task(regime, inputs, heads, None, has_conv2d)


def bind(task: Task, info: Mapping[str, Any], dataset: str = "the dataset") -> None:
    """Check every Input field and head target against the data's field infos.

    The same checks the designer's Issues list runs on every edit (`training.binding`), so the
    CLI and the designer report the same lines.

    Args:
        task: from `analyse`.
        info: field name -> FieldInfo (shape, dtype, num_classes, ...), as `prepare` reports.
        dataset: the dataset's name, for messages.

    Raises:
        BindingError: listing every mismatch, one `node-id: message` line each.
    """
    from .binding import binding_issues  # binding builds on this module's Task

    issues = [str(issue) for issue in binding_issues(task, info, dataset)]
    if issues:
        raise BindingError(issues)


def _vocab_limits(graph: gc.Graph, input_id: str) -> tuple[tuple[str, str, int], ...]:
    limits = []
    for edge in graph.edges_from(input_id):
        node = graph.nodes[edge.dst[0]]
        if node.type in ("OneHot", "Embedding"):
            p = gc.resolved_params(node)
            limits.append((node.id, node.type, p["num_classes" if node.type == "OneHot" else "num_embeddings"]))
    return tuple(limits)


def _head(graph: gc.Graph, node: gc.Node, shapes: Mapping[str, gc.NodeShapes]) -> Head | None:
    p = gc.resolved_params(node)
    if p["loss"] == "none":
        return None
    node_shapes = shapes.get(node.id)
    wires = (node_shapes.inputs.get("in") or []) if node_shapes is not None else []
    if not wires or wires[0] is None:
        return None  # not wired yet, or fed by a node in error: nothing to check against
    shape = tuple(wires[0].shape)
    target = str(p["target"])
    if target.startswith("input:"):
        return Head(node.id, p["loss"], float(p["weight"]), "reconstruct", shape,
                    target_input=target.split(":", 1)[1])
    if p["loss"] == "cross_entropy" and len(shape) == 2 and wires[0].sequence:
        kind = "tokens"
    elif p["loss"] in ("cross_entropy", "nll"):
        kind = "segment" if len(shape) >= 2 else "classify"
    else:
        kind = "binary" if p["loss"] in ("bce", "bce_probs") else "regress"
    return Head(node.id, p["loss"], float(p["weight"]), kind, shape, target_field=target)


def _gan_probabilities(graph: gc.Graph, disc: gc.Node) -> bool:
    block = graph.blocks.get(str(disc.params.get("block", "discriminator")))
    return block is not None and any(h.params.get("loss") == "bce_probs" for h in block.nodes_of_type("Output"))


def teacher_forced(heads: list[Head], inputs: list[InputBinding]) -> list[tuple[Head, InputBinding]]:
    """(tokens head, Input) pairs where an Input reads the very field the head predicts.

    That is a sequence-to-sequence decoder trained by teacher forcing: the Input is fed the
    target shifted right (begin-of-sentence first), and position i is scored against token i.
    """
    return [(h, b) for h in heads if h.kind == "tokens"
            for b in inputs if not b.noise and b.field == h.target_field and b.dtype == "int64"]


def _generator_heads(graph: gc.Graph, disc: gc.Node, heads: list[Head]) -> tuple[str, ...]:
    """The heads wired straight from the generator's output (what the Discriminator's `fake`
    reads) that compare it with a data field."""
    wires = graph.edges_into(disc.id, "fake")
    if not wires:
        return ()
    fake_src = wires[0].src[0]
    return tuple(h.node for h in heads if h.target_field
                 and any(e.src[0] == fake_src for e in graph.edges_into(h.node, "in")))


def _gan_source(graph: gc.Graph, disc: gc.Node, port: str) -> tuple[str | None, int | None]:
    """(the Input whose field feeds the Discriminator's `port` — the real samples, or the
    condition —, or None; the OneHot's classes when an Input -> OneHot encodes them on the way,
    else None)."""
    wires = graph.edges_into(disc.id, port)
    if not wires:
        return None, None
    src = graph.nodes.get(wires[0].src[0])
    classes = None
    if src is not None and src.type == "OneHot":
        classes = int(gc.resolved_params(src)["num_classes"])
        before = graph.edges_into(src.id, "in")
        src = graph.nodes.get(before[0].src[0]) if before else None
    if src is None or src.type != "Input":
        return None, None
    return src.id, classes


def _all_nodes(graph: gc.Graph):
    yield from graph.nodes.values()
    for block in graph.blocks.values():
        yield from _all_nodes(block)
