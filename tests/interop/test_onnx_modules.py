"""Real ONNX files written by torch.onnx.export (legacy exporter at old and new opsets, and the
dynamo exporter) of torchvision-style modules import with onnxruntime's numbers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from .helpers import export_module, import_and_compare, node_types

EXPORTERS = [(9, False), (13, False), (17, False), (18, True)]


class Residual(nn.Module):
    """A ResNet basic block with a projection shortcut, then a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.down = nn.Sequential(nn.Conv2d(3, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)
        for bn in (self.bn1, self.bn2, self.down[1]):  # statistics that are not the defaults
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.data.uniform_(0.5, 2)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        y = torch.relu(y + self.down(x))
        return self.fc(torch.flatten(self.pool(y), 1))


class Inception(nn.Module):
    """Four parallel branches joined along channels, as in GoogLeNet."""

    def __init__(self):
        super().__init__()
        self.b1 = nn.Conv2d(4, 4, 1)
        self.b2 = nn.Sequential(nn.Conv2d(4, 3, 1), nn.ReLU(), nn.Conv2d(3, 6, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(4, 2, 1), nn.ReLU(), nn.Conv2d(2, 3, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(4, 2, 1))
        self.head = nn.Sequential(nn.AvgPool2d(2), nn.Flatten(), nn.Linear(15 * 4 * 4, 3), nn.LogSoftmax(1))

    def forward(self, x):
        return self.head(torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1))


class Depthwise(nn.Module):
    """A MobileNet-style depthwise-separable block (ReLU instead of ReLU6 for now)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU(),
            nn.Conv2d(8, 16, 1), nn.Sigmoid(),
            nn.Upsample(scale_factor=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
            nn.Linear(16, 4), nn.Tanh())

    def forward(self, x):
        return self.body(x)


@pytest.mark.parametrize("opset,dynamo", EXPORTERS)
@pytest.mark.parametrize("make", [Residual, Inception, Depthwise], ids=lambda m: m.__name__)
def test_modules_import_with_the_same_numbers(make, opset, dynamo, tmp_path):
    torch.manual_seed(0)
    module = make()
    path = export_module(module, torch.randn(2, *((3, 16, 16) if make is not Inception else (4, 8, 8))),
                         tmp_path / "m.onnx", opset, dynamo)
    result = import_and_compare(path)
    types = node_types(result)
    if make is Inception:
        assert "Concat" in types and types.count("Conv2d") == 6
    if make is Depthwise:
        groups = [n.params["groups"] for n in result.graph.nodes.values() if n.type == "Conv2d"]
        assert 8 in groups


def test_batchnorm_kept_when_the_exporter_does_not_fold_it(tmp_path):
    torch.manual_seed(0)
    module = Residual().eval()
    path = tmp_path / "bn.onnx"
    torch.onnx.export(module, (torch.randn(1, 3, 16, 16),), str(path), dynamo=False, opset_version=13,
                      do_constant_folding=False, input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    result = import_and_compare(path, sum(p.numel() for p in module.parameters()))
    assert node_types(result).count("BatchNorm") == 3
    assert node_types(result).count("Add") == 1
    names = {n.name for n in result.graph.nodes.values()}
    assert {"conv1", "bn1", "down.0", "fc"} <= names  # the model's own module paths
