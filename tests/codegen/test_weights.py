"""Weights: safetensors keyed like the module's state_dict; nothing is ever unpickled."""

from __future__ import annotations

import pickle

import pytest
import torch
from safetensors.torch import load_file

from codegen import WeightsError, compile_graph, load_weights, save_weights

from . import graphs


def test_round_trip_restores_every_tensor(tmp_path):
    a = compile_graph(graphs.with_block())
    a.train()
    a(torch.randn(8, 4))  # moves BatchNorm running statistics of the unfrozen block
    save_weights(a, tmp_path / "w.safetensors")
    assert set(load_file(str(tmp_path / "w.safetensors"))) == set(a.state_dict())
    b = compile_graph(graphs.with_block())
    load_weights(b, tmp_path / "w.safetensors")
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key


def test_torch_checkpoint_is_read_with_weights_only(tmp_path):
    a = compile_graph(graphs.mlp())
    torch.save({"model": a.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    b = compile_graph(graphs.mlp())
    load_weights(b, tmp_path / "ckpt.pt")
    assert torch.equal(a.fc1.weight, b.fc1.weight)


class Sneaky:
    def __reduce__(self):
        return (print, ("unpickled!",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_arbitrary_pickles_are_refused(tmp_path, capsys):
    with open(tmp_path / "evil.pt", "wb") as fh:
        pickle.dump({"model": Sneaky()}, fh)
    with pytest.raises(WeightsError, match="cannot read weights"):
        load_weights(compile_graph(graphs.mlp()), tmp_path / "evil.pt")
    assert "unpickled!" not in capsys.readouterr().out


def test_weights_of_another_graph_are_refused_naming_keys(tmp_path):
    save_weights(compile_graph(graphs.two_heads()), tmp_path / "w.safetensors")
    with pytest.raises(WeightsError, match="missing fc1.bias"):
        load_weights(compile_graph(graphs.mlp()), tmp_path / "w.safetensors")


def test_shape_mismatch_is_named(tmp_path):
    g = graphs.mlp()
    save_weights(compile_graph(g), tmp_path / "w.safetensors")
    g.nodes["fc1"].params["out_features"] = 17
    with pytest.raises(WeightsError, match=r"fc1.weight \(file \(16, 8\), model \(17, 8\)\)"):
        load_weights(compile_graph(g), tmp_path / "w.safetensors")


def test_missing_file(tmp_path):
    with pytest.raises(WeightsError, match="no such weights file"):
        load_weights(compile_graph(graphs.mlp()), tmp_path / "nope.safetensors")
