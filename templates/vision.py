"""Convolutional networks on images: LeNet for digits, and SegNet, the encoder–decoder whose
max pools hand their indices to the matching max unpools (per-pixel classes)."""

from __future__ import annotations

from graph_core import Graph

from .catalog import TemplateError, p_bool, p_choice, p_float, p_int, template
from .sketch import Sketch, add_activation

DIGIT_SIZES = (8, 16, 28, 32)


@template(
    "lenet",
    "LeNet, the convolutional network that first read handwritten digits: two rounds of "
    "convolution and pooling turn the image into a small stack of feature maps, and three Dense "
    "layers classify them. Convolutions share their weights across positions, so a stroke is "
    "recognised wherever it appears.",
    p_int("input_size", 28, "height and width of the square input image", minimum=12),
    p_int("in_channels", 1, "image channels (1 grey, 3 RGB)"),
    p_int("num_classes", 10, "number of classes"),
    p_choice("activation", "relu", ("relu", "tanh"), "tanh is the 1998 original, relu the modern choice"),
    p_choice("pooling", "max", ("max", "avg"), "max keeps the strongest response; the original averaged"),
    p_float("dropout", 0.0, "dropout before the last two Dense layers (0: none)", maximum=0.9),
)
def lenet(input_size: int, in_channels: int, num_classes: int, activation: str, pooling: str,
          dropout: float) -> Graph:
    s = Sketch("lenet")
    x = s.add("image", "Input", 0, shape=[in_channels, input_size, input_size], field="image")
    pool = "MaxPool2d" if pooling == "max" else "AvgPool2d"
    # conv1 pads by 2 so a 28×28 digit keeps its size, as LeNet-5 did with its 32×32 canvas.
    x = s.then(x, "conv1", "Conv2d", out_channels=6, kernel_size=5, padding=2)
    x = add_activation(s, x, "act1", activation)
    x = s.then(x, "pool1", pool, kernel_size=2)
    x = s.then(x, "conv2", "Conv2d", out_channels=16, kernel_size=5)
    x = add_activation(s, x, "act2", activation)
    x = s.then(x, "pool2", pool, kernel_size=2)
    x = s.then(x, "flatten", "Flatten")
    for k, width in ((3, 120), (4, 84)):
        x = s.then(x, f"fc{k}", "Dense", out_features=width)
        x = add_activation(s, x, f"act{k}", activation)
        if dropout > 0:
            x = s.then(x, f"dropout{k}", "Dropout", p=dropout)
    x = s.then(x, "fc5", "Dense", out_features=num_classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    data = {"dataset": "digits", "image_size": input_size}
    # Measured on digits (benchmarks/acceptance.py, seeds 0-4): without augmentation the net
    # learns the 1,438 training digits by heart (100 % train accuracy by epoch 11) and stops at
    # 0.961-0.983 validation accuracy; small random shifts, rotations and scalings of each
    # training batch ("affine") give 0.978-0.994 in the same 15 epochs.
    return s.settings(data, optimizer="adam", lr=0.002, epochs=15, batch_size=32, schedule="cosine",
                      augment="affine")


@template(
    "segnet",
    "SegNet, an encoder–decoder for segmentation: the encoder's max pools remember where each "
    "maximum came from, and the decoder's max unpools put values back exactly there, so "
    "boundaries stay sharp. A 1×1 convolution then gives a score per class for every pixel "
    "(the course's tumour-segmentation example).",
    p_int("image_size", 32, "height and width of the square image (divisible by 2^depth)", minimum=16),
    p_int("in_channels", 1, "image channels"),
    p_int("num_classes", 4, "classes per pixel, background included"),
    p_int("depth", 3, "number of pool/unpool stages", maximum=6),
    p_int("base_channels", 16, "filters in the first stage; doubled at each deeper stage"),
    p_bool("batch_norm", True, "batch norm after each convolution"),
)
def segnet(image_size: int, in_channels: int, num_classes: int, depth: int, base_channels: int,
           batch_norm: bool) -> Graph:
    if image_size % (2 ** depth):
        raise TemplateError(f"segnet: image_size {image_size} must be divisible by 2^depth = {2 ** depth}")
    s = Sketch("segnet")
    x = s.add("image", "Input", 0, shape=[in_channels, image_size, image_size], field="image")
    widths = [base_channels * 2 ** k for k in range(depth)]
    pools = []
    # Drawn as a V: each encoder stage one row lower, each decoder stage one row higher, so a
    # pool's indices travel straight along its row to the unpool at the same depth.
    for k, width in enumerate(widths, 1):
        x = _conv_unit(s, x, f"enc{k}", width, batch_norm, row=k - 1)
        x = s.then(x, f"pool{k}", "MaxPool2d", kernel_size=2)
        pools.append(x)
    for k in range(depth, 0, -1):
        x = s.then(x, f"unpool{k}", "MaxUnpool2d", kernel_size=2, row=k - 1)
        s.wire(pools[k - 1], x, "indices", "indices")
        out = widths[k - 2] if k > 1 else base_channels
        x = _conv_unit(s, x, f"dec{k}", out, batch_norm)
    x = s.then(x, "classify", "Conv2d", out_channels=num_classes, kernel_size=1)
    s.then(x, "segmentation", "Output", loss="cross_entropy", target="mask")
    data = {"dataset": "shapes_seg", "image_size": image_size}
    return s.settings(data, optimizer="adam", lr=0.001, epochs=10, batch_size=16)


def _conv_unit(s: Sketch, x: str, stem: str, width: int, batch_norm: bool,
               row: float | None = None) -> str:
    x = s.then(x, f"{stem}_conv", "Conv2d", out_channels=width, kernel_size=3, padding=1, row=row)
    if batch_norm:
        x = s.then(x, f"{stem}_bn", "BatchNorm")
    return s.then(x, f"{stem}_relu", "ReLU")
