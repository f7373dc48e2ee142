"""Every template compiles with codegen, runs a forward pass whose tensor shapes equal the
inferred ones (node by node), and exports to ONNX — every part for VAEs and GANs. Sizes are
kept small (grids.SMALL); VGG at 224² is only counted (test_templates_vgg)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
codegen = pytest.importorskip("codegen")

import graph_core as gc  # noqa: E402
import templates  # noqa: E402

from .grids import SMALL, choice_combinations  # noqa: E402

NAMES = [t.name for t in templates.all_templates()]
BATCH = 3


def _small(name: str, **params):
    return templates.build(name, **{**SMALL.get(name, {}), **params})


def _sample_inputs(graph: gc.Graph, shapes) -> list:
    """One random batch per Input, in file order; token ids stay inside the vocabulary."""
    # the smallest lookup table, so ids fit every Embedding (BERT's segment table has 2 rows)
    vocab = min((n.params.get("num_embeddings", n.params.get("num_classes", 4))
                 for n in graph.nodes.values() if n.type in ("Embedding", "OneHot")), default=4)
    out = []
    for node in graph.nodes_of_type("Input"):
        shape = (BATCH, *shapes[node.id].output_shape)
        if node.params.get("dtype") == "int64":
            out.append(torch.randint(0, vocab, shape))
        else:
            out.append(torch.rand(shape))
    return out


def _check_forward(graph: gc.Graph) -> dict:
    """Run the compiled graph with a hook on every node module; compare shapes with inference."""
    shapes = gc.infer_shapes(graph)
    model = codegen.compile_graph(graph)
    seen: dict[str, tuple] = {}
    for path, attr in model.generated.node_paths.items():
        if len(path) == 1:
            hook = (lambda nid: lambda m, a, out: seen.__setitem__(
                nid, tuple((out[0] if isinstance(out, tuple) else out).shape[1:])))(path[0])
            model.get_submodule(attr).register_forward_hook(hook)
    model.train()
    result = model(*_sample_inputs(graph, shapes))
    if any(graph.nodes_of_type("Discriminator")) and not any(graph.nodes_of_type("Output")):
        # A GAN's own forward generates from the noise and scores the fakes: one logit each
        # (a GAN with heads, pix2pix's L1, returns what its heads receive).
        assert tuple(result.shape) == (BATCH, 1)
    else:
        heads = [n.id for n in graph.nodes_of_type("Output")]
        results = result if isinstance(result, dict) else {heads[0]: result}
        assert set(results) == set(heads)
        for head, tensor in results.items():
            assert tuple(tensor.shape) == (BATCH, *shapes[head].output_shape), head
            assert torch.isfinite(tensor).all()
    for nid, shape in seen.items():
        node = graph.nodes[nid]
        if node.type == "Embedding" and node.params.get("channels_first"):
            shape = shape[-1:] + shape[:-1]  # the node moves the vector axis after its module runs
        if node.type != "Discriminator":
            assert shape == shapes[nid].output_shape, f"{nid}: ran {shape}, inferred {shapes[nid].output_shape}"
    assert seen, "no node module ran"
    return {"model": model, "shapes": shapes}


@pytest.mark.parametrize("name", NAMES)
def test_defaults_compile_and_run_with_the_inferred_shapes(name):
    graph = _small(name) if name in ("vgg", "transfer_vgg") else templates.build(name)
    checked = _check_forward(graph)
    model = checked["model"]
    if any(graph.nodes_of_type("Reparametrisation")):
        kl = model.kl_loss()
        assert kl.ndim == 0 and torch.isfinite(kl) and kl > 0
    if any(graph.nodes_of_type("Discriminator")):
        shapes = checked["shapes"]
        source = model.generated.gan["generator_inputs"][0]
        if graph.nodes[source].params.get("dtype") == "int64":  # pix2pix reads a mask, not noise
            noise = torch.randint(0, 4, (BATCH, *model.latent_shape))
        else:
            noise = torch.randn(BATCH, *model.latent_shape)
        fake = model.generator(noise)
        fake_node = graph.edges_into("discriminator", "fake")[0].src[0]
        assert tuple(fake.shape) == (BATCH, *shapes[fake_node].output_shape)
        judged = fake
        if model.generated.gan["condition_input"] is not None:  # pix2pix: (condition, sample) pairs
            judged = torch.cat([torch.rand(BATCH, *model.condition_shape), fake], dim=1)
        assert tuple(judged.shape[1:]) == tuple(model.generated.gan["discriminator_shape"])
        # one logit per sample, or a PatchGAN's map of them
        assert tuple(model.discriminator(judged).shape) == (BATCH, *shapes["discriminator"].outputs["score"].shape)


def test_vgg_default_size_compiles_with_the_inferred_parameter_count():
    graph = templates.build("vgg", depth=11, classifier_width=256)
    model = codegen.compile_graph(graph)
    assert sum(p.numel() for p in model.parameters()) == gc.summarize(graph).total_params


def test_transfer_vgg_trains_only_the_head():
    graph = _small("transfer_vgg", in_channels=3)
    model = codegen.compile_graph(graph)
    groups = codegen.param_groups(model, graph, lr=0.01)
    trainable = sum(p.numel() for g in groups for p in g["params"])
    assert trainable == gc.summarize(graph).trainable_params == 512 * 16 + 16 + 16 * 10 + 10
    tuned = _small("transfer_vgg", in_channels=3, fine_tune=True, fine_tune_lr_factor=0.1)
    groups = codegen.param_groups(codegen.compile_graph(tuned), tuned, lr=0.01)
    assert sorted(round(g["lr"], 6) for g in groups) == [0.001, 0.01]


GRID = [(name, {**SMALL.get(name, {}), **combo}) for name in NAMES for combo in choice_combinations(name)]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "params"), GRID,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'defaults'}" for n, p in GRID])
def test_grid_compiles_and_runs_with_the_inferred_shapes(name, params):
    _check_forward(templates.build(name, **params))


def _parts(graph: gc.Graph) -> list[str | None]:
    if any(graph.nodes_of_type("Discriminator")):
        return ["generator", "discriminator"]
    if len(list(graph.nodes_of_type("Reparametrisation"))) == 1:
        return [None, "decoder"]
    return [None]


EXPORTS = [(name, part) for name in NAMES for part in _parts(_small(name))]
EXPORTS += [("multiomics_vae-late", None), ("dna_cnn-embedding", None), ("autoencoder-conv", None)]
_VARIANTS = {"multiomics_vae-late": ("multiomics_vae", {"integration": "late"}),
             "dna_cnn-embedding": ("dna_cnn", {"encoding": "embedding"}),
             "autoencoder-conv": ("autoencoder", {"variant": "conv"})}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "part"), EXPORTS, ids=[f"{n}-{p or 'full'}" for n, p in EXPORTS])
def test_exports_to_onnx_matching_pytorch(name, part, tmp_path):
    template, params = _VARIANTS.get(name, (name, {}))
    graph = _small(template, **params)
    path = tmp_path / f"{name}.onnx"
    report = codegen.export_onnx(graph, path, part=part)
    assert path.is_file() and path.stat().st_size > 0
    assert report.max_abs_diff <= 1e-4
    shapes = gc.infer_shapes(graph)
    if part is None:
        heads = [n.id for n in graph.nodes_of_type("Output")]
        assert len(report.outputs) == len(heads)
        expected = sorted(math.prod(shapes[h].output_shape) for h in heads)
        assert sorted(math.prod(s[1:]) for _, s, _ in report.outputs) == expected
    elif part == "decoder":
        (z,) = graph.nodes_of_type("Reparametrisation")
        assert [s[1:] for _, s, _ in report.inputs] == [shapes[z.id].outputs["z"].shape]
    elif part == "generator":
        # the generator's Input: the noise, or pix2pix's mask (the one not feeding `real`)
        (disc,) = graph.nodes_of_type("Discriminator")
        real = graph.edges_into(disc.id, "real")[0].src[0]
        (source,) = [n for n in graph.nodes_of_type("Input") if n.id != real]
        assert [s[1:] for _, s, _ in report.inputs] == [tuple(source.params["shape"])]
