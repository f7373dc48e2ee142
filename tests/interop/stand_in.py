"""A small torchvision-style network that tests import through `module:` and a fake torchvision."""

from __future__ import annotations

import torch
from torch import nn


class TinyResNet(nn.Module):
    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)) + y)
        return self.fc(torch.flatten(self.avgpool(y), 1))


def tiny_resnet(weights: object = None) -> TinyResNet:
    """A factory shaped like torchvision's: `weights=None` builds it untrained."""
    assert weights is None
    return TinyResNet()
