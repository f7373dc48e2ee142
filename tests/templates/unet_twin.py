"""The U-Net of Ronneberger et al. (2015) written by hand in torch, padded or valid, to check the
template against: same layers, same order, same crops."""

from __future__ import annotations

import torch
from torch import nn


def double_conv(c_in: int, c_out: int, pad: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=pad), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=pad), nn.ReLU())


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    cut = (x.shape[-1] - size) // 2
    return x[..., cut:cut + size, cut:cut + size]


class UNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, depth: int = 4, base: int = 64, valid: bool = True):
        super().__init__()
        pad = 0 if valid else 1
        self.valid, self.depth = valid, depth
        widths = [base * 2 ** k for k in range(depth + 1)]
        self.down = nn.ModuleList(double_conv(in_channels if k == 0 else widths[k - 1], widths[k], pad)
                                  for k in range(depth))
        self.bottom = double_conv(widths[depth - 1], widths[depth], pad)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(widths[k + 1], widths[k], 2, stride=2) for k in range(depth))
        self.dec = nn.ModuleList(double_conv(widths[k + 1], widths[k], pad) for k in range(depth))
        self.classify = nn.Conv2d(base, num_classes, 1)

    def margin(self, out: int) -> int:
        from templates.unet import valid_sizes

        return (valid_sizes(out, self.depth)[0] - out) // 2

    def forward(self, x):
        size = x.shape[-1]
        if self.valid:
            x = nn.functional.pad(x, (self.margin(size),) * 4, mode="reflect")
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bottom(x)
        for k in reversed(range(self.depth)):
            x = self.ups[k](x)
            x = self.dec[k](torch.cat([x, center_crop(skips[k], x.shape[-1])], 1))
        return self.classify(x)

    def ordered_parameters(self):
        """Parameters in the template's node order: encoder, bottom, then each decoder level's
        up-convolution and convolutions from the deepest up, then the classifier."""
        for block in self.down:
            yield from block.parameters()
        yield from self.bottom.parameters()
        for k in reversed(range(self.depth)):
            yield from self.ups[k].parameters()
            yield from self.dec[k].parameters()
        yield from self.classify.parameters()
