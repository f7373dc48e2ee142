"""What a trained model shows about itself: confusion matrix, labelled predictions, latent space,
decoded latent grid, feature maps and kernels.

Everything here runs a model forward, so it runs in the engine process (engine_child.py), never
in the GUI's: in the training job after an epoch's checkpoint and at the end of a run, or on
the engine's helper thread for feature maps.
It reads only what a run leaves behind (the graph, the weights file, the data section), so the
same code serves a live run and a recorded one. No Qt: results are numpy arrays and plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import graph_core as gc
from training.samples import is_image_shape, tile, to_rgb, upscale_for

ANALYSIS_SAMPLES = 512  # validation samples the results are computed on (bounded cost)
GRID_SAMPLES = 32  # samples in the labelled prediction grid
LATENT_GRID = 9  # decoded latent plane: LATENT_GRID x LATENT_GRID images
CONV_TYPES = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


@dataclass
class Predictions:
    """A grid of samples with their true and predicted classes (images are RGB uint8)."""

    images: np.ndarray  # (N, H, W, 3)
    truth: np.ndarray  # (N,) class ids
    predicted: np.ndarray  # (N,) class ids
    class_names: list[str]


@dataclass
class LatentMap:
    """Latent codes of validation samples projected onto a plane."""

    points: np.ndarray  # (N, 2)
    labels: np.ndarray | None  # (N,) class ids to colour by, or None
    class_names: list[str] | None
    method: str  # "2-D latent" or "PCA of the 8-D latent (73% of the variance)"
    extent: tuple[float, float, float, float] | None = None  # plane decoded: x0, x1, y0, y1


@dataclass
class Results:
    """One epoch's results for the results panel; fields a regime lacks stay None."""

    epoch: int
    regime: str
    confusion: np.ndarray | None = None  # (classes, classes), rows = truth
    class_names: list[str] | None = None
    accuracy: float | None = None
    predictions: Predictions | None = None
    latent: LatentMap | None = None
    latent_grid: np.ndarray | None = None  # RGB picture of decoded latent points
    translations: Any = None  # translations.Translations of a seq2seq model
    notes: list[str] = field(default_factory=list)


@dataclass
class FeatureMaps:
    """One conv node's activations on one sample, and its learned kernels (RGB pictures)."""

    node: str
    sample: int
    activations: np.ndarray | None
    kernels: np.ndarray | None
    description: str
    # A Conv1d over one-hot DNA (4 input channels, A C G T): per kernel, the height in bits of
    # each base at each position, (out, 4, k), for a sequence logo (sequence_logo_heights).
    logo: np.ndarray | None = None
    logo_order: np.ndarray | None = None  # kernel indices, the most decided filters first


class RunAnalyser:
    """Loads a run's weights into its own copy of the model and computes the results.

    Args:
        graph: the graph that was trained (a snapshot; never the live document).
        data_section: the graph's data section as trained (limit included).
        seed: the run's seed, so the validation split is the one the run used.
        root: folder relative dataset paths are resolved against.
    """

    def __init__(self, graph: gc.Graph, data_section: dict[str, Any] | None = None, seed: int = 0,
                 root: str | Path | None = None) -> None:
        import codegen
        from training import analyse, prepare

        self.graph = graph
        self.task = analyse(graph)
        self.regime = self.task.regime
        prepared = prepare(dict(data_section if data_section is not None else graph.data), seed=seed,
                           root=Path(root) if root else None)
        split = prepared.val if len(prepared.val) else prepared.train
        # The split keeps the source's order, and a folder's files come class by class: its first
        # samples would all be of one class (a one-row confusion matrix). Take a seeded spread.
        rows = np.sort(np.random.default_rng(seed).permutation(len(split))[:ANALYSIS_SAMPLES]) \
            if len(split) > ANALYSIS_SAMPLES else np.arange(len(split))
        count = len(rows)
        self.data = {name: np.asarray(array[rows]) for name, array in split.fields.items()}
        self._split = split  # feature maps read validation sample N itself
        self.info = prepared.info
        self.count = count
        self.model = codegen.compile_graph(graph).eval()
        self.outputs = [n.id for n in graph.nodes_of_type("Output")]
        self._decoder: Any = None
        self._decoder_tried = False

    # ---- public ------------------------------------------------------------------------------

    def load(self, weights: str | Path) -> None:
        """Load a checkpoint (safetensors weights) into the analysis model."""
        import codegen

        codegen.load_weights(self.model, weights)
        self._decoder_tried = False

    def conv_nodes(self) -> list[str]:
        """Ids of the convolution nodes whose feature maps can be shown."""
        modules = self.model.node_modules
        return [n.id for n in self.graph.nodes.values() if n.type in CONV_TYPES and n.id in modules]

    def results(self, epoch: int) -> Results:
        """Compute the regime's results on the validation samples with the loaded weights."""
        import torch

        out = Results(epoch, self.regime)
        with torch.no_grad():
            if self.regime in ("supervised",):
                self._classifier(out)
            elif self.regime in ("autoencoder", "vae"):
                self._latent(out)
            elif self.regime == "seq2seq":
                from .translations import translations_of

                out.translations = translations_of(self)
        return out

    def feature_maps(self, node_id: str, sample: int) -> FeatureMaps:
        """The activations of `node_id` on validation sample `sample`, and its kernels."""
        import torch

        sample = int(min(max(sample, 0), len(self._split) - 1))
        module = self.model.get_submodule(self.model.node_modules[node_id])
        captured: list[Any] = []
        handle = module.register_forward_hook(lambda _m, _a, output: captured.append(output))
        try:
            with torch.no_grad():
                one = {name: np.asarray(array[[sample]]) for name, array in self._split.fields.items()}
                self._forward(np.arange(1), one, seed=sample)
        finally:
            handle.remove()
        act = captured[0][0].float().cpu().numpy() if captured else None
        kernels = module.weight.detach().float().cpu().numpy() if hasattr(module, "weight") else None
        if kernels is not None and self.graph.nodes[node_id].type.startswith("ConvTranspose"):
            kernels = kernels.swapaxes(0, 1)  # stored (in, out, ...): show one tile per output
        act_img = _activation_grid(act) if act is not None else None
        kernel_img = _kernel_grid(kernels) if kernels is not None else None
        shape = "×".join(str(s) for s in act.shape) if act is not None else "?"
        description = f"{node_id} on sample {sample}: {shape} activations"
        if kernels is not None:
            description += f"; kernels {'×'.join(str(s) for s in kernels.shape)}"
        logo = None
        if kernels is not None and kernels.ndim == 3 and kernels.shape[1] == 4 \
                and self.graph.nodes[node_id].type == "Conv1d":
            logo = sequence_logo_heights(kernels)
            margin = np.clip(kernels - kernels.mean(axis=1, keepdims=True), 0.0, None)
            order = np.argsort(-margin.sum(axis=(1, 2)))  # the filters that care most first
            description += " — over one-hot DNA: kernels as sequence logos of A, C, G, T"
            return FeatureMaps(node_id, sample, act_img, kernel_img, description, logo, order)
        return FeatureMaps(node_id, sample, act_img, kernel_img, description, logo)

    # ---- regimes -----------------------------------------------------------------------------

    def _forward(self, index: np.ndarray, data: dict[str, np.ndarray] | None = None,
                 seed: int | None = None) -> dict[str, Any]:
        """Run the model on the samples at `index` of `data` (the analysis samples); returns
        outputs by Output id."""
        import torch

        data = self.data if data is None else data
        args = []
        first = seed if seed is not None else int(index[0]) if len(index) else 0
        noise = torch.Generator().manual_seed(first)  # same sample, same noise
        for b in self.task.inputs:
            if b.noise:
                args.append(torch.randn(len(index), *b.shape, generator=noise))
                continue
            x = torch.from_numpy(np.ascontiguousarray(data[b.field][index]))
            args.append(x.long() if b.dtype == "int64" else x.float())
        result = self.model(*args)
        if isinstance(result, dict):
            return result
        return {self.outputs[0] if self.outputs else "output": result}

    def _classifier(self, out: Results) -> None:
        head = next((h for h in self.task.heads if h.kind in ("classify", "binary")), None)
        if head is None:
            return
        truth = self.data[head.target_field].reshape(self.count).astype(np.int64)
        scores = self._forward(np.arange(self.count))[head.node].float()
        if head.kind == "binary":
            predicted = (scores.reshape(self.count) > 0).long().numpy()
            classes = 2
        else:
            predicted = scores.argmax(1).numpy()
            classes = int(scores.shape[1])
        info = self.info.get(head.target_field)
        names = list(info.class_names) if info is not None and info.class_names else \
            [str(i) for i in range(classes)]
        names = (names + [str(i) for i in range(len(names), classes)])[:classes]
        matrix = np.zeros((classes, classes), dtype=np.int64)
        np.add.at(matrix, (np.clip(truth, 0, classes - 1), np.clip(predicted, 0, classes - 1)), 1)
        out.confusion, out.class_names = matrix, names
        out.accuracy = float((truth == predicted).mean()) if self.count else None
        image = self._image_input()
        if image is not None:
            # spread over the samples, which come class by class from a folder
            pick = np.unique(np.linspace(0, self.count - 1, min(GRID_SAMPLES, self.count)).round()
                             .astype(np.int64))
            pictures = to_rgb(self.data[image.field][pick])
            scale = upscale_for(pictures.shape[1])
            pictures = pictures.repeat(scale, axis=1).repeat(scale, axis=2)
            out.predictions = Predictions(pictures, truth[pick], predicted[pick], names)

    def _latent(self, out: Results) -> None:
        node = self._bottleneck()
        if node is None:
            out.notes.append("no latent layer found to map")
            return
        module = self.model.get_submodule(self.model.node_modules[node])
        captured: list[Any] = []
        handle = module.register_forward_hook(lambda _m, _a, output: captured.append(output))
        try:
            self._forward(np.arange(self.count))  # eval mode: a Reparametrisation gives mu
        finally:
            handle.remove()
        codes = captured[0].float().reshape(self.count, -1).numpy()
        labels, names = self._labels()
        points, method, axes = _project(codes)
        out.latent = LatentMap(points, labels, names, method)
        decoder = self._decoder_for(node)
        if decoder is None:
            return
        latent_grid, extent = self._decode_plane(decoder, codes, points, axes)
        out.latent_grid = latent_grid
        out.latent.extent = extent

    def _decode_plane(self, decoder: Any, codes: np.ndarray, points: np.ndarray,
                      axes: np.ndarray | None) -> tuple[np.ndarray | None, tuple[float, float, float, float]]:
        import torch

        lo = np.percentile(points, 5, axis=0)
        hi = np.percentile(points, 95, axis=0)
        if self.regime == "vae":  # the prior N(0, I) is where the decoder learned to draw
            lo, hi = np.minimum(lo, -2.0), np.maximum(hi, 2.0)
        xs = np.linspace(lo[0], hi[0], LATENT_GRID)
        ys = np.linspace(hi[1], lo[1], LATENT_GRID)  # top row = high y, as on the scatter
        plane = np.array([(x, y) for y in ys for x in xs], dtype=np.float64)
        if axes is None:
            z = plane
        else:
            z = codes.mean(axis=0) + plane @ axes
        shape = tuple(decoder.latent_shape)
        z_t = torch.from_numpy(z.astype(np.float32)).reshape(len(z), *shape)
        result = decoder(z_t)
        result = next(iter(result.values())) if isinstance(result, dict) else result
        source = self._reconstructed_input()
        if source is None or not is_image_shape(source.shape):
            return None, (lo[0], hi[0], lo[1], hi[1])
        images = result.float().reshape(len(z), *source.shape)
        if self.task.heads and self.task.heads[0].loss == "bce":
            images = torch.sigmoid(images)
        pictures = to_rgb(images.numpy())
        grid = tile(pictures, LATENT_GRID, pad=1, scale=upscale_for(pictures.shape[1]))
        return grid, (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))

    # ---- helpers -----------------------------------------------------------------------------

    def _image_input(self) -> Any:
        return next((b for b in self.task.inputs if not b.noise and is_image_shape(b.shape)), None)

    def _reconstructed_input(self) -> Any:
        head = next((h for h in self.task.heads if h.kind == "reconstruct"), None)
        if head is None:
            return None
        return next((b for b in self.task.inputs if b.node == head.target_input), None)

    def _labels(self) -> tuple[np.ndarray | None, list[str] | None]:
        """A class field to colour latent points by (the data's labels, when it has some)."""
        for name, info in self.info.items():
            if info.kind == "label" and info.num_classes and name in self.data:
                names = list(info.class_names) if info.class_names else \
                    [str(i) for i in range(info.num_classes)]
                return self.data[name].reshape(self.count).astype(np.int64), names
        return None, None

    def _bottleneck(self) -> str | None:
        """The Reparametrisation of a VAE; for an autoencoder its narrowest layer."""
        modules = self.model.node_modules
        rep = next(iter(self.graph.nodes_of_type("Reparametrisation")), None)
        if rep is not None:
            return rep.id if rep.id in modules else None
        shapes = gc.infer_shapes(self.graph)
        best, size = None, None
        for node in self.graph.nodes.values():
            if node.type in ("Input", "Output") or node.id not in modules:
                continue
            shape = shapes[node.id].output_shape
            if not shape:
                continue
            n = int(np.prod(shape))
            if size is None or n < size:
                best, size = node.id, n
        return best

    def _decoder_for(self, node_id: str) -> Any:
        """The part of the model downstream of the latent node, with the trained weights."""
        if self._decoder_tried:
            return self._decoder
        self._decoder_tried = True
        self._decoder = None
        graph = decoder_graph_from(self.graph, node_id)
        if graph is None:
            return None
        from codegen import build_module

        decoder = build_module(graph).eval()
        source = self.model.generated.node_paths
        for path, attr in decoder.generated.node_paths.items():
            if path in source:
                decoder.get_submodule(attr).load_state_dict(self.model.get_submodule(source[path]).state_dict())
        shape = gc.infer_shapes(self.graph)[node_id].output_shape
        object.__setattr__(decoder, "latent_shape", tuple(shape))
        self._decoder = decoder
        return decoder


def decoder_graph_from(graph: gc.Graph, node_id: str) -> gc.Graph | None:
    """Everything downstream of `node_id`, fed by a new Input of that node's output shape.

    None when a downstream node also reads something computed before `node_id` (a skip
    connection), since then no code on its own can be decoded.
    """
    down: set[str] = set()
    queue = [node_id]
    while queue:
        for e in graph.edges_from(queue.pop()):
            if e.dst[0] not in down:
                down.add(e.dst[0])
                queue.append(e.dst[0])
    if not any(graph.nodes[n].type == "Output" for n in down):
        return None
    for nid in down:
        if any(e.src[0] != node_id and e.src[0] not in down for e in graph.edges_into(nid)):
            return None
    shape = gc.infer_shapes(graph)[node_id].output_shape
    if not shape:
        return None
    dec = gc.Graph(name=f"{graph.name}_decoder", blocks=graph.blocks)
    dec.nodes[node_id] = gc.Node(node_id, "Input", {"shape": list(shape), "source": "noise"})
    for nid, node in graph.nodes.items():
        if nid in down:
            params = {"loss": "none"} if node.type == "Output" else dict(node.params)
            dec.nodes[nid] = gc.Node(nid, node.type, params, node.name, node.frozen, node.lr_factor)
    for e in graph.edges:
        if e.dst[0] in down:
            src = (node_id, "out") if e.src[0] == node_id else e.src
            dec.edges.append(gc.Edge(src, e.dst))
    return dec


def _project(codes: np.ndarray) -> tuple[np.ndarray, str, np.ndarray | None]:
    """2-D codes as they are; wider ones onto their first two principal axes (numpy SVD)."""
    dims = codes.shape[1]
    if dims == 1:
        return np.column_stack([codes[:, 0], np.zeros(len(codes))]), "1-D latent", None
    if dims == 2:
        return codes.astype(np.float64), "2-D latent", None
    centred = codes - codes.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    share = float((s[:2] ** 2).sum() / max((s ** 2).sum(), 1e-12))
    return centred @ vt[:2].T, f"PCA of the {dims}-D latent ({share:.0%} of the variance)", vt[:2]


def _normalise(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _gray_tiles(maps: np.ndarray, columns: int, target: int = 48) -> np.ndarray:
    """(N, H, W) floats, each scaled on its own, -> one tiled grey picture."""
    pics = np.stack([_normalise(m) for m in maps]) if len(maps) else maps
    pics = (pics * 255).round().astype(np.uint8)
    rgb = np.repeat(pics[..., None], 3, axis=3)
    scale = max(1, target // max(maps.shape[1], maps.shape[2], 1))
    return tile(rgb, columns, pad=2, scale=scale)


def _activation_grid(act: np.ndarray) -> np.ndarray | None:
    """(C, H, W) -> a tile per channel; (C, L) -> one row per channel; 3-d -> middle slice."""
    if act.ndim == 4:
        act = act[:, act.shape[1] // 2]
    if act.ndim == 2:
        return _gray_tiles(act[None], 1, target=4 * max(1, 64 // max(act.shape[0], 1)))
    if act.ndim != 3:
        return None
    return _gray_tiles(act, int(np.ceil(np.sqrt(act.shape[0]))))


def sequence_logo_heights(weight: np.ndarray) -> np.ndarray:
    """Conv1d weights over one-hot DNA (out, 4, k) -> letter heights in [0, 1] (out, 4, k).

    One-hot input means a filter's score at a position is the weight of the base found there, so
    the bases a filter favours are those whose weight stands above the position's mean. A weight
    logo draws that margin (the positive part of each weight minus its position's mean), scaled
    per filter so its most decided position is full height: a learned motif stands out letter by
    letter, and a filter that prefers nothing stays flat. (Raw weights are too small after a
    short run for softmax probabilities in bits to show anything.)
    """
    w = weight.astype(np.float64)
    margin = np.clip(w - w.mean(axis=1, keepdims=True), 0.0, None)
    tallest = margin.sum(axis=1).max(axis=1)[:, None, None]
    return np.where(tallest > 1e-12, margin / np.maximum(tallest, 1e-12), 0.0).astype(np.float32)


def _kernel_grid(weight: np.ndarray) -> np.ndarray | None:
    """Conv weights (out, in, k...) -> a tile per output channel (RGB when it reads 3 channels)."""
    if weight.ndim == 5:
        weight = weight[:, :, weight.shape[2] // 2]
    if weight.ndim == 3:
        weight = weight[:, :, None, :]  # 1-d kernels as 1-pixel-high strips
    if weight.ndim != 4:
        return None
    columns = int(np.ceil(np.sqrt(weight.shape[0])))
    if weight.shape[1] == 3:
        pics = np.stack([_normalise(w) for w in weight]).transpose(0, 2, 3, 1)
        pics = (pics * 255).round().astype(np.uint8)
        scale = max(1, 32 // max(pics.shape[1], pics.shape[2]))
        return tile(pics, columns, pad=2, scale=scale)
    return _gray_tiles(weight.mean(axis=1), columns, target=32)

