"""An imported graph is a graph like any other: it loads, validates, summarises with the file's
parameter count, trains from its imported weights (with frozen layers) and exports again."""

from __future__ import annotations

import json

import torch
from torch import nn

import codegen
import graph_core as gc
import training
from explain import explain, load_subject
from interop import import_source
from netwright.cli import main

from .helpers import export_module


def _imported(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    path = export_module(model, torch.randn(1, 1, 8, 8), tmp_path / "small.onnx")
    return import_source(str(path), tmp_path / "g" / "small.json")


def test_loads_validates_and_summarises(tmp_path, capsys):
    result = _imported(tmp_path)
    graph = gc.load_graph(result.graph_path)
    assert not [i for i in gc.validate(graph) if i.severity == gc.ERROR]
    assert main(["summary", str(result.graph_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["total_params"] == result.file_params
    xs = [n.ui["x"] for n in graph.nodes.values()]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # a chain reads left to right


def test_trains_from_the_imported_weights_with_frozen_layers(tmp_path):
    result = _imported(tmp_path)
    graph = gc.load_graph(result.graph_path)
    conv = next(n for n in graph.nodes.values() if n.type == "Conv2d")
    conv.frozen = True
    graph.data = {"dataset": "digits", "limit": 128}
    run = training.train(graph, {"epochs": 1, "batch_size": 32, "out": str(tmp_path / "run")},
                         root=result.graph_path.parent)
    assert run.status == "completed", run.error
    assert any("loaded" in note and "small.safetensors" in note for note in run.notes), run.notes
    from safetensors.torch import load_file

    before, after = load_file(str(result.weights_path)), load_file(str(tmp_path / "run" / "last.safetensors"))
    key = next(k for k in before if k.endswith("weight") and before[k].dim() == 4)
    assert torch.equal(before[key], after[key])  # frozen and loaded from the file, not re-initialised
    again = codegen.export_onnx(graph, tmp_path / "again.onnx", weights=tmp_path / "run" / "last.safetensors")
    assert again.max_abs_diff <= 1e-4
    # and it explains its decisions like any trained graph
    conv_id = next(n.id for n in graph.nodes.values() if n.type == "Conv2d")
    why = explain(load_subject(graph, tmp_path / "run", root=result.graph_path.parent), "gradcam", sample=0,
                  layer=conv_id)
    assert why.to_dict()["method"] == "gradcam"
