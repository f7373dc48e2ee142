"""Every template across its parameter grid validates with no errors and no warnings, and the
default data section fits the graph (fields, shapes, dtypes, class counts)."""

from __future__ import annotations

import pytest

import graph_core as gc
import templates

from .grids import all_cases, grid


@pytest.mark.parametrize(("name", "params"), all_cases(),
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'defaults'}"
                              for n, p in all_cases()])
def test_grid_point_validates_cleanly(name, params):
    graph = templates.build(name, **params)
    issues = gc.validate(graph)
    assert [str(i) for i in issues] == []
    summary = gc.summarize(graph)
    assert all(row.params is not None for row in summary.rows)
    assert summary.total_params > 0


def test_grid_covers_every_choice_and_flag():
    for tpl in templates.all_templates():
        cases = grid(tpl.name)
        for p in tpl.params:
            if p.kind == "choice":
                assert {c.get(p.name, p.default) for c in cases} == set(p.choices), (tpl.name, p.name)
            if p.kind == "bool":
                assert {c.get(p.name, p.default) for c in cases} == {False, True}, (tpl.name, p.name)


def _vocabularies_reading(graph: gc.Graph, field: str) -> list[int]:
    """The sizes of the Embedding/OneHot tables the Input(s) of `field` feed (a translator has one
    per language: source ids go into the source table, target ids into the target table)."""
    sources = {n.id for n in graph.nodes_of_type("Input") if (n.params.get("field") or n.id) == field}
    readers = [graph.nodes[e.dst[0]] for e in graph.edges if e.src[0] in sources]
    return [n.params.get("num_embeddings", n.params.get("num_classes")) for n in readers
            if n.type in ("Embedding", "OneHot")]


def _inputs_and_heads(graph: gc.Graph):
    shapes = gc.infer_shapes(graph)
    inputs = {n.params.get("field") or n.id: (tuple(n.params["shape"]), n.params.get("dtype", "float32"))
              for n in graph.nodes_of_type("Input") if n.params.get("source", "data") == "data"}
    heads = [(n, shapes[n.id].output_shape) for n in graph.nodes_of_type("Output")]
    return inputs, heads


DATA_CASES = [(t.name, {}) for t in templates.all_templates() if t.name not in ("vgg", "transfer_vgg", "transfer")]
DATA_CASES += [("vgg", {"depth": 11}), ("dna_cnn", {"encoding": "embedding"}),
               ("multiomics_vae", {"integration": "late"}), ("mlp", {"dataset": "iris"}),
               ("perceptron", {"dataset": "blobs"}), ("logistic", {"dataset": "blobs"}),
               ("segnet", {"image_size": 64, "depth": 4}), ("dcgan", {"image_size": 28}),
               ("timeseries_gaf", {"transform": "gadf", "image_size": 20})]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "params"), DATA_CASES)
def test_default_data_fits_the_graph(name, params):
    datasets = pytest.importorskip("training.datasets")
    graph = templates.build(name, **params)
    raw = datasets.load_raw(graph.data)
    inputs, heads = _inputs_and_heads(graph)
    for field, (shape, dtype) in inputs.items():
        info = raw.info[field]
        assert (tuple(info.shape), info.dtype) == (shape, dtype), field
        if dtype == "int64":  # token ids stay inside the vocabulary of every table that reads them
            vocabs = _vocabularies_reading(graph, field)
            assert vocabs, field
            assert all(info.num_classes <= v for v in vocabs), (field, info.num_classes, vocabs)
    for head, shape in heads:
        target = head.params["target"]
        if target.startswith("input:"):
            continue
        info = raw.info[target]
        if head.params["loss"] == "cross_entropy" and info.kind == "tokens":
            # a sequence head scores every position: (L, vocabulary), the sequence axis first
            assert shape == (*info.shape, info.num_classes), f"{head.id}: {shape} for {info}"
        elif head.params["loss"] == "cross_entropy":
            assert shape[0] == info.num_classes, f"{head.id}: {shape[0]} scores for {info.num_classes} classes"
            assert shape[1:] == tuple(info.shape)
        elif head.params["loss"] == "bce":
            assert shape == (1,) and info.num_classes == 2
