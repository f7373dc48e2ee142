"""What is explained: a trained run's model as one function from one float input to class scores.

Captum attributes a scalar per output column to a float input tensor. A Netwright graph may read
int64 ids through a OneHot node (DNA), have several Inputs, a GAN's Discriminator or a
per-pixel head, so `load_subject` turns a run into a `Subject`:

- the network compiled from the graph file, with the run's weights (best, else last);
- the Input being explained; when it holds int64 ids, a gradient has no float to flow into, so
  the explained input is their one-hot (C, L) floats: ids fed to OneHot nodes make the graph
  rewritten so that Input takes those floats directly (the other nodes, and so the weights, are
  unchanged); ids fed to Embedding nodes stay ids, and a hook replaces each Embedding's output
  by one-hot @ weight, the same lookup written as a product that gradients pass through;
- a `Scorer` module: explained input -> (N, K) scores. Classifier heads give their logits; a
  one-logit (bce) head and a GAN's Discriminator give [-l/2, l/2], whose softmax is
  [1 - sigmoid(l), sigmoid(l)], so both classes have a gradient and a probability; a
  segmentation head gives the scores of one pixel; other Inputs are held at the sample's values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import graph_core as gc
from training import analyse, prepare
from training.task import GAN, Head, Task

CLASSIFYING = ("classify", "binary", "segment")
RECTIFIERS = ("ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "ReLU6")


class ExplainError(ValueError):
    """The run, the sample or the options cannot be explained (a one-line message for the user)."""


@dataclass
class Subject:
    """A trained model ready for attribution, with the data its explained input comes from.

    Attributes:
        graph: the graph as trained (after any OneHot rewrite, the version compiled here).
        net: the compiled module with the run's weights, in eval mode.
        task: the graph's regime, inputs and heads.
        input_node: id of the Input explained.
        field: the dataset field that Input reads.
        onehot_classes: C when the Input's int64 ids are explained as one-hot (C, L) floats.
        embeddings: attribute paths of the Embedding modules reading those ids (hooked).
        head: the Output explained (None for a GAN's Discriminator).
        class_names: names of the scores' columns.
        data: the prepared dataset (the validation split is where samples come from).
        weights: the weights file loaded.
    """

    graph: gc.Graph
    net: torch.nn.Module
    task: Task
    input_node: str
    field: str
    onehot_classes: int | None
    head: Head | None
    class_names: list[str]
    data: Any
    weights: Path
    embeddings: list[str] = field(default_factory=list)

    @property
    def is_gan(self) -> bool:
        return self.task.regime == GAN

    def sample(self, index: int, split: str = "val") -> dict[str, np.ndarray]:
        """One sample's fields from the validation split (train when there is none)."""
        ds = self.data.val if split == "val" and len(self.data.val) else self.data.train
        if not -len(ds) <= index < len(ds):
            raise ExplainError(f"--sample {index}: the {split} split has {len(ds)} samples "
                               f"(0 to {len(ds) - 1})")
        return ds[index]

    def explained_input(self, sample: dict[str, np.ndarray]) -> torch.Tensor:
        """The explained input of one sample as a (1, ...) float tensor."""
        value = np.asarray(sample[self.field])
        if self.onehot_classes is not None and value.dtype.kind in "iu":
            value = (value[None, :] == np.arange(self.onehot_classes)[:, None]).astype(np.float32)
        return torch.as_tensor(np.asarray(value, dtype=np.float32))[None]

    def scorer(self, sample: dict[str, np.ndarray], pixel: tuple[int, int] | None = None) -> Scorer:
        """The (N, K) score function of the explained input, the sample's other inputs held."""
        fixed = []
        for b in self.task.inputs:
            if b.node == self.input_node:
                fixed.append(None)
            elif b.noise:
                gen = torch.Generator().manual_seed(0)
                fixed.append(torch.randn(1, *b.shape, generator=gen))
            else:
                if b.field not in sample:
                    raise ExplainError(f"the input file gives '{self.field}' only, but the model also "
                                       f"reads '{b.field}' (explain a --sample instead)")
                x = torch.as_tensor(np.asarray(sample[b.field]))[None]
                fixed.append(x.long() if b.dtype == "int64" else x.float())
        if self.is_gan:
            return Scorer(self.net.discriminator, [None], None, "binary", None)
        hooked = [self.net.get_submodule(attr) for attr in self.embeddings]
        head = self.head
        assert head is not None
        outputs = [n.id for n in self.graph.nodes_of_type("Output")]
        if head.kind == "segment":
            height, width = head.shape[-2:]
            pixel = pixel if pixel is not None else (height // 2, width // 2)
            if not (0 <= pixel[0] < height and 0 <= pixel[1] < width):
                raise ExplainError(f"--pixel {pixel[0]},{pixel[1]} is outside the {height}x{width} output")
        return Scorer(self.net, fixed, head.node if len(outputs) > 1 else None, head.kind, pixel, hooked)

    def conv_layers(self) -> list[str]:
        """The convolutions Grad-CAM can read, as node ids ("block/node" inside a block)."""
        return ["/".join(path) for path, _ in self._convs()]

    def _convs(self) -> list[tuple[tuple[str, ...], str]]:
        paths = self.net.generated.node_paths
        convs = [(path, attr) for path, attr in paths.items() if _node_type(self.graph, path).startswith("Conv")]
        if self.is_gan:
            convs = [(p, a) for p, a in convs if a.startswith("discriminator")]
        return convs

    def layer_module(self, node: str | None) -> tuple[str, torch.nn.Module]:
        """The convolution node for Grad-CAM (default: the last one the explained path runs)."""
        paths = self.net.generated.node_paths
        convs = self._convs()
        if not convs:
            raise ExplainError("gradcam needs a convolution layer, and this network has none; "
                               "try saliency or integrated_gradients")
        if node is None:
            path, attr = convs[-1]
        else:
            wanted = tuple(node.split("/"))
            match = [(p, a) for p, a in convs if p == wanted or p[-1] == wanted[-1]]
            if not match:
                names = ", ".join("/".join(p) for p, _ in convs)
                raise ExplainError(f"--layer {node}: not a convolution of this network (convolutions: {names})")
            path, attr = match[0]
        return "/".join(path), self.net.get_submodule(_rectified(self.graph, paths, path))


class Scorer(torch.nn.Module):
    """explained input (N, ...) -> scores (N, K), the other inputs broadcast to N."""

    def __init__(self, net: torch.nn.Module, fixed: list[torch.Tensor | None], output: str | None,
                 kind: str, pixel: tuple[int, int] | None, embeddings: list[torch.nn.Module] | None = None) -> None:
        super().__init__()
        self.net, self.fixed, self.output, self.kind, self.pixel = net, fixed, output, kind, pixel
        self.embeddings = embeddings or []
        self._onehot: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        entry = x
        if self.embeddings:  # the network reads ids; the hooks put the one-hot product in
            self._onehot, entry = x, torch.zeros(n, x.shape[-1], dtype=torch.int64)
        args = [entry if f is None else f.expand(n, *f.shape[1:]) for f in self.fixed]
        handles = [m.register_forward_hook(self._lookup) for m in self.embeddings]
        try:
            out = self.net(*args)
        finally:
            for h in handles:
                h.remove()
        if isinstance(out, dict):
            out = out[self.output] if self.output is not None else next(iter(out.values()))
        if self.kind == "segment":
            return out[:, :, self.pixel[0], self.pixel[1]]
        out = out.reshape(n, -1)
        if self.kind == "binary":
            logit = out[:, :1]
            return torch.cat([-logit / 2, logit / 2], dim=1)
        return out

    def _lookup(self, module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        # (N, V, L) one-hot @ (V, D) weight = (N, L, D), what nn.Embedding gives for the ids
        return torch.einsum("nvl,vd->nld", self._onehot, module.weight)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, K); a regression head's value as is."""
        scores = self(x)
        return scores if self.kind == "regress" else torch.softmax(scores, dim=1)


def load_subject(graph: gc.Graph, run_dir: str | Path, root: str | Path | None = None,
                 input_node: str | None = None, head: str | None = None) -> Subject:
    """Compile `graph`, load the run's weights and prepare its data (same split as training).

    Raises:
        ExplainError: no weights in the run, weights that do not fit, nothing to explain.
    """
    import codegen

    run = Path(run_dir)
    weights = next((run / n for n in ("best.safetensors", "last.safetensors") if (run / n).exists()), None)
    if weights is None:
        raise ExplainError(f"{run}: no best.safetensors or last.safetensors (train the graph first)")
    task = analyse(graph)
    binding = _explained_binding(graph, task, input_node)
    graph, onehot, embedding_nodes = _float_entry(graph, binding.node)
    chosen = _explained_head(task, head)
    net = codegen.compile_graph(graph)
    embeddings = [net.generated.node_paths[(nid,)] for nid in embedding_nodes]
    try:
        codegen.load_weights(net, weights)
    except codegen.WeightsError as exc:
        raise ExplainError(f"{exc} (was {run} trained from this file?)") from None
    net.eval()
    seed = _run_seed(run)
    data = prepare(dict(graph.data), seed=seed, root=root)
    names = _class_names(task, chosen, data)
    return Subject(graph, net, task, binding.node, binding.field, onehot, chosen, names, data, weights, embeddings)


def _explained_binding(graph: gc.Graph, task: Task, input_node: str | None) -> Any:
    if task.regime == GAN:
        if task.gan_condition is not None:
            raise ExplainError("this discriminator judges (condition, sample) pairs (a conditional GAN, "
                               "pix2pix); explaining it is not supported yet")
        real = next((b for b in task.inputs if b.node == task.gan_real), None)
        if real is None:
            raise ExplainError("the Discriminator's real input is not an Input node")
        return real
    data_inputs = [b for b in task.inputs if not b.noise]
    if input_node is not None:
        data_inputs = [b for b in data_inputs if b.node == input_node]
        if not data_inputs:
            raise ExplainError(f"--input-node {input_node}: not a data Input of this graph")
    if not data_inputs:
        raise ExplainError("the graph reads no data Input to explain")
    return data_inputs[0]


def _explained_head(task: Task, head: str | None) -> Head | None:
    if task.regime == GAN:
        return None
    heads = [h for h in task.heads if h.kind in CLASSIFYING or h.kind == "regress"]
    if head is not None:
        heads = [h for h in heads if h.node == head]
    if not heads:
        kinds = ", ".join(f"{h.node} ({h.kind})" for h in task.heads) or "none"
        raise ExplainError(f"explanations need a classifier, segmentation or regression head; this "
                           f"graph's heads: {kinds}")
    return heads[0]


def _float_entry(graph: gc.Graph, input_id: str) -> tuple[gc.Graph, int | None, list[str]]:
    """How int64 ids become floats: (graph, one-hot size C, Embedding nodes to hook).

    Ids read only by OneHot nodes: a copy of the graph whose Input takes their (C, L) floats.
    Ids read only by Embedding nodes: the graph as it is, and those nodes.
    """
    node = graph.nodes[input_id]
    params = gc.resolved_params(node)
    consumers = [graph.nodes[e.dst[0]] for e in graph.edges_from(input_id)]
    if params["dtype"] != "int64":
        return graph, None, []
    if consumers and all(c.type == "Embedding" for c in consumers):
        sizes = {gc.resolved_params(c)["num_embeddings"] for c in consumers}
        if len(sizes) == 1 and len(params["shape"]) == 1:
            return graph, sizes.pop(), [c.id for c in consumers]
    if not consumers or any(c.type != "OneHot" for c in consumers):
        raise ExplainError(f"{input_id}: int64 ids are explained through OneHot or Embedding nodes; "
                           "this Input feeds " + ", ".join(sorted({c.type for c in consumers})))
    classes = {gc.resolved_params(c)["num_classes"] for c in consumers}
    if len(classes) != 1:
        raise ExplainError(f"{input_id}: OneHot nodes with different num_classes")
    (num_classes,) = classes
    g = graph.copy()
    for onehot in consumers:
        for e in list(g.edges_from(onehot.id)):
            g.remove_edge(e)
            g.add_edge(gc.Edge((input_id, "out"), e.dst))
        for e in list(g.edges_into(onehot.id)):
            g.remove_edge(e)
        g.remove_node(onehot.id)
    g.set_param(input_id, "shape", [num_classes, *params["shape"]])
    g.set_param(input_id, "dtype", "float32")
    return g, num_classes, []


def _class_names(task: Task, head: Head | None, data: Any) -> list[str]:
    if task.regime == GAN:
        return ["fake", "real"]
    assert head is not None
    if head.kind == "regress":
        return [head.target_field or head.node]
    info = data.info.get(head.target_field or "")
    names = list(info.class_names) if info is not None and info.class_names else None
    if head.kind == "binary":
        if names and len(names) == 2:
            return names
        return ["0", "1"]
    count = head.shape[0]
    return names if names and len(names) == count else [str(i) for i in range(count)]


def _rectified(graph: gc.Graph, paths: dict[tuple[str, ...], str], path: tuple[str, ...]) -> str:
    """The module of the activation right after a convolution when there is one, else the conv's.

    Grad-CAM weighs rectified feature maps (Selvaraju et al. read VGG's last ReLU); the raw
    convolution's output can be negative everywhere, which the ReLU on the map would blank out.
    """
    g = graph
    for nid in path[:-1]:
        g = graph.blocks.get(str(gc.resolved_params(g.nodes[nid])["block"]), g)
    after = g.edges_from(path[-1])
    if len(after) == 1 and g.nodes[after[0].dst[0]].type in RECTIFIERS:
        attr = paths.get((*path[:-1], after[0].dst[0]))
        if attr is not None:
            return attr
    return paths[path]


def _node_type(graph: gc.Graph, path: tuple[str, ...]) -> str:
    g = graph
    for nid in path[:-1]:
        node = g.nodes[nid]
        g = graph.blocks.get(str(gc.resolved_params(node)["block"]), g)
    node = g.nodes.get(path[-1])
    return node.type if node is not None else ""


def _run_seed(run: Path) -> int:
    try:
        config = json.loads((run / "config.json").read_text())
        return int(config.get("seed", 0))
    except (OSError, ValueError, TypeError):
        return 0
