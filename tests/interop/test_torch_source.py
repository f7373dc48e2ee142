"""Library architectures (torchvision:, timm:, module:) go through torch.export and the same
importer; their weights come from a file the user gives; a missing library is one line."""

from __future__ import annotations

import sys
import types

import pytest
import torch

import codegen
from interop import ImportRefused, import_source
from netwright.cli import main

from .stand_in import TinyResNet, tiny_resnet


@pytest.fixture
def weights_file(tmp_path):
    torch.manual_seed(3)
    model = TinyResNet()
    for bn in (model.bn1, model.bn2):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    path = tmp_path / "tiny.pth"
    torch.save(model.state_dict(), path)
    return model.eval(), path


def test_module_source_with_user_weights(tmp_path, weights_file):
    model, path = weights_file
    result = import_source("module:tests.interop.stand_in:tiny_resnet", tmp_path / "tiny.json",
                           weights=path, input_shape=(3, 8, 8))
    assert result.max_diff <= 1e-4
    compiled = codegen.compile_graph(result.graph)
    codegen.load_weights(compiled, result.weights_path)
    compiled.eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(compiled(x), model(x), atol=1e-4)  # the user's weights, not random ones
    assert sum(p.numel() for p in compiled.parameters()) == sum(p.numel() for p in model.parameters())


def test_torchvision_source_through_an_installed_library(tmp_path, monkeypatch, weights_file):
    fake = types.ModuleType("torchvision")
    fake.models = types.ModuleType("torchvision.models")
    fake.models.resnet18 = tiny_resnet
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    monkeypatch.setitem(sys.modules, "torchvision.models", fake.models)
    _, path = weights_file
    code = main(["import", "torchvision:resnet18", "-o", str(tmp_path / "r.json"), "--weights", str(path),
                 "--input-shape", "3,8,8"])
    assert code == 0
    assert (tmp_path / "r.safetensors").is_file()


@pytest.mark.parametrize("library", ["torchvision", "timm"])
def test_missing_library_is_one_line(tmp_path, monkeypatch, capsys, library):
    monkeypatch.setitem(sys.modules, library, None)
    monkeypatch.setitem(sys.modules, f"{library}.models", None)
    assert main(["import", f"{library}:resnet18", "-o", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {library} is not installed; install it (pip install {library}) to import "
                   f"{library}:NAME architectures"]


def test_weights_that_do_not_fit_are_one_line(tmp_path):
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ImportRefused) as refused:
        import_source("module:tests.interop.stand_in:tiny_resnet", tmp_path / "t.json",
                      weights=tmp_path / "bad.pth", input_shape=(3, 8, 8))
    assert len(refused.value.lines) == 1 and "bad.pth" in refused.value.lines[0]
