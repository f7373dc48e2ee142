"""pix2pix (Isola et al., 2017), the course's "GAN for segmentation" slide turned around: a U-Net
generator with InstanceNorm paints an image from a segmentation mask, a PatchGAN discriminator
scores every patch of an image as real or painted, and an L1 head keeps the painting close to
the true image (weight 100, as in the paper).

The generator reads a data field instead of noise (a conditional GAN); the GAN regime feeds it
the mask, adds the L1 head to the generator's loss, and counts every patch's score. Unlike the
paper, the discriminator sees the image alone, not the (mask, image) pair: Netwright's
Discriminator scores one sample.
"""

from __future__ import annotations

from graph_core import Graph

from .catalog import TemplateError, p_float, p_int, template
from .sketch import Sketch


def _patchgan(channels: int, base: int, layers: int) -> Graph:
    """C64-C128-C256 (stride 2, 2, then 1) and a one-channel 4×4 convolution: a map of patch scores."""
    c = Sketch("patchgan")
    y = c.add("sample", "Input", 0, shape=[])
    for k in range(1, layers + 1):
        stride = 2 if k < layers else 1
        y = c.then(y, f"d_conv{k}", "Conv2d", out_channels=base * 2 ** (k - 1), kernel_size=4, stride=stride,
                   padding=1)
        if k > 1:
            y = c.then(y, f"d_norm{k}", "InstanceNorm", affine=True)
        y = c.then(y, f"d_lrelu{k}", "LeakyReLU", negative_slope=0.2)
    y = c.then(y, "patch_scores", "Conv2d", out_channels=1, kernel_size=4, stride=1, padding=1)
    c.then(y, "verdict", "Output", loss="bce")  # each patch's logit: real -> 1, painted -> 0
    return c.graph


@template(
    "pix2pix",
    "pix2pix: a U-Net generator paints an image from a segmentation mask, and a PatchGAN "
    "discriminator judges every patch of it as real or painted. An L1 head keeps the painting "
    "close to the true image while the adversary makes it sharp — trained on shapes_seg.",
    p_int("image_size", 32, "side of the square images (divisible by 2^depth)", minimum=16),
    p_int("num_classes", 4, "classes in the mask (shapes_seg: 4)", minimum=2),
    p_int("channels", 1, "image channels"),
    p_int("depth", 3, "down-sampling levels of the U-Net", maximum=6),
    p_int("base_channels", 16, "filters at the first level (64 in the paper); doubled at each level"),
    p_float("l1_weight", 100.0, "weight of the L1 head against the adversarial loss (100 in the paper)",
            minimum=0.0),
)
def pix2pix(image_size: int, num_classes: int, channels: int, depth: int, base_channels: int,
            l1_weight: float) -> Graph:
    if image_size % 2 ** depth:
        raise TemplateError(f"pix2pix: image_size {image_size} must be divisible by 2^depth = {2 ** depth}")
    s = Sketch("pix2pix")
    real = s.add("image", "Input", 0, 0, name="real images", shape=[channels, image_size, image_size], field="image")
    mask = s.add("mask", "Input", 0, 1.5, shape=[image_size, image_size], dtype="int64", field="mask")
    x = s.then(mask, "onehot", "OneHot", num_classes=num_classes)
    skips = []
    for k in range(1, depth + 1):  # C64-C128-...: 4×4 stride-2 convolutions, InstanceNorm, LeakyReLU
        x = s.then(x, f"down{k}", "Conv2d", out_channels=base_channels * 2 ** (k - 1), kernel_size=4, stride=2,
                   padding=1, row=1.5 + k - 1)
        if k > 1:
            x = s.then(x, f"down{k}_norm", "InstanceNorm", affine=True)
        x = s.then(x, f"down{k}_lrelu", "LeakyReLU", negative_slope=0.2)
        skips.append(x)
    for k in range(depth - 1, 0, -1):  # up: 4×4 stride-2 transposed convolutions, then the skip
        x = s.then(x, f"up{k}", "ConvTranspose2d", out_channels=base_channels * 2 ** (k - 1), kernel_size=4,
                   stride=2, padding=1, row=1.5 + k - 1)
        x = s.then(x, f"up{k}_norm", "InstanceNorm", affine=True)
        if k == depth - 1:
            x = s.then(x, f"up{k}_dropout", "Dropout", p=0.5)  # pix2pix's noise: dropout, not z
        x = s.then(x, f"up{k}_relu", "ReLU")
        join = s.then(x, f"skip{k}", "Concat", dim=1)
        s.wire(skips[k - 1], join)
        x = join
    x = s.then(x, "to_image", "ConvTranspose2d", out_channels=channels, kernel_size=4, stride=2, padding=1, row=1.5)
    fake = s.then(x, "painted", "Sigmoid")  # shapes_seg pixels lie in [0, 1]
    s.then(fake, "l1", "Output", loss="l1", target="image", weight=l1_weight, row=2.5)
    s.graph.blocks["patchgan"] = _patchgan(channels, base_channels, 3)
    d = s.add("discriminator", "Discriminator", s.col(fake) + 1, 0.75, block="patchgan")
    s.wire(real, d, "out", "real")
    s.wire(fake, d, "out", "fake")
    data = {"dataset": "shapes_seg", "image_size": image_size}
    return s.settings(data, optimizer="adam", lr=0.0002, betas=[0.5, 0.999], epochs=10, batch_size=16)
