"""Training a transfer_vgg graph loads the torchvision-format weights its training section names
before the first step, keeps the frozen features at those weights, and tells the user."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import codegen  # noqa: E402
import templates  # noqa: E402
from tests.templates.test_templates_pretrained import _pretrained  # noqa: E402
from training import train  # noqa: E402


def _rgb_npz(tmp_path, n: int = 48):
    rng = np.random.default_rng(0)
    path = tmp_path / "rgb.npz"
    np.savez(path, image=rng.random((n, 3, 32, 32), dtype=np.float32),
             label=rng.integers(0, 10, n).astype(np.int64))
    return path


def _graph(weights: str, tmp_path):
    graph = templates.build("transfer_vgg", depth=11, in_channels=3, input_size=32, num_classes=10,
                            weights=weights)
    graph.data = {"dataset": str(_rgb_npz(tmp_path))}
    return graph


def test_pretrained_features_are_loaded_and_stay_frozen(tmp_path):
    net, path = _pretrained(11, False, tmp_path)
    graph = _graph(str(path), tmp_path)
    result = train(graph, {"epochs": 1, "max_steps": 2, "batch_size": 16, "device": "cpu",
                           "out": str(tmp_path / "run")})
    assert result.ok, result.error
    assert any("pretrained weights from" in n and "loaded 16 tensors" in n for n in result.notes), result.notes
    model = codegen.compile_graph(graph)
    codegen.load_weights(model, result.last_checkpoint)
    stage1 = model.get_submodule(model.node_modules["stage1"])
    assert torch.equal(stage1.get_submodule("conv1_1").weight, net.features[0].weight)


def test_a_missing_weights_file_fails_before_training(tmp_path):
    graph = _graph(str(tmp_path / "nowhere.pth"), tmp_path)
    result = train(graph, {"epochs": 1, "max_steps": 1, "device": "cpu", "out": str(tmp_path / "run")})
    assert not result.ok
    assert "init_weights" in result.error and "nowhere.pth" in result.error
    assert result.steps == 0


def test_no_weights_file_says_the_frozen_layers_stay_random(tmp_path):
    graph = _graph("", tmp_path)
    result = train(graph, {"epochs": 1, "max_steps": 1, "batch_size": 16, "device": "cpu",
                           "out": str(tmp_path / "run")})
    assert result.ok, result.error
    assert any("keep their random initial weights" in n for n in result.notes)
