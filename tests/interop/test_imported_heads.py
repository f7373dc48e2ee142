"""The Output head an import guesses: a per-position vocabulary output gets the cross_entropy head
its template had, and the imported translator validates and trains on translation_synth."""

from __future__ import annotations

import json

import pytest
import torch

import codegen
import graph_core as gc
import templates
from interop import import_source
from netwright.cli import main

from .helpers import export_module

SMALL = {"seq2seq": {"embedding_dim": 8, "hidden_size": 8},
         "transformer": {"d_model": 8, "nhead": 2, "num_layers": 1, "dim_feedforward": 16},
         "bert_tiny": {"length": 8}}


def _heads(graph) -> list[dict]:
    return [dict(n.params) for n in graph.nodes.values() if n.type == "Output"]


def _imported(name, tmp_path):
    graph = templates.build(name, **SMALL[name])
    codegen.export_onnx(graph, tmp_path / f"{name}.onnx")
    return graph, import_source(str(tmp_path / f"{name}.onnx"), tmp_path / "imported.json").graph


@pytest.mark.parametrize("name", sorted(SMALL))
def test_imported_head_is_the_templates(name, tmp_path):
    graph, imported = _imported(name, tmp_path)
    assert _heads(imported) == _heads(graph)


def test_imported_transformer_validates_and_trains_on_translation_synth(tmp_path):
    _, imported = _imported("transformer", tmp_path)
    imported.data = {"dataset": "translation_synth", "n_samples": 200}
    assert not [i for i in gc.validate(imported) if i.severity == "error"]
    gc.save_graph(imported, tmp_path / "imported.json")  # beside its weights, which it starts from
    assert main(["train", str(tmp_path / "imported.json"), "--epochs", "1", "--max-steps", "2", "--device", "cpu",
                 "--batch-size", "32", "--quiet", "--out", str(tmp_path / "run")]) == 0
    row = json.loads((tmp_path / "run" / "epochs.jsonl").read_text().splitlines()[-1])
    assert "val_bleu" in row and "val_exact_match" in row


class _Frames(torch.nn.Module):
    """Float frames (L, F) to (L, V): per-position scores with no token ids in sight."""

    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(4, 6)

    def forward(self, x):
        return self.dense(x)


def test_a_float_sequence_output_without_token_inputs_stays_a_regression(tmp_path):
    path = export_module(_Frames(), torch.zeros(1, 5, 4), tmp_path / "frames.onnx")
    imported = import_source(str(path), tmp_path / "frames.json").graph
    assert _heads(imported) == [{"loss": "mse", "target": "target"}]


def test_an_imported_transformer_starts_from_all_its_weights(tmp_path):
    """Its init_weights map names nodes (encoder1); the file's tensors sit in their layers'
    submodules (encoder1.linear1.weight): every one is loaded, none is 'unexpected'."""
    from safetensors.torch import load_file

    from codegen.pretrained import load_state_dict_by_name

    _, imported = _imported("transformer", tmp_path)
    model = codegen.compile_graph(imported)
    state = load_file(str(tmp_path / "imported.safetensors"))
    report = load_state_dict_by_name(model, imported, tmp_path / "imported.safetensors")
    assert report.ok, report.lines()
    assert len(report.loaded) == len(state)
    mine = model.state_dict()
    key = next(k for k in state if k.endswith("linear1.weight"))
    attr = model.generated.node_paths[(key.split(".")[0],)]
    assert torch.equal(mine[f"{attr}.{key.split('.', 1)[1]}"], state[key])
