"""U-Net (Ronneberger et al., 2015): a contracting path of 3×3 convolutions and 2×2 max pools,
an expanding path of 2×2 up-convolutions, and at every level a skip connection that joins the
encoder's map to the decoder's, so the output keeps both context and exact boundaries.

Two variants. `padded` (the common modern one) pads every convolution, so each level keeps its
size and the output is the input's size (which must then be divisible by 2^depth). `valid` is
the paper's original: unpadded convolutions shrink every map, each skip is cropped (a Crop node)
to the size of the up-convolved map it joins, and the image is mirrored around its border first
(a reflect Pad: the paper's overlap-tile strategy), so the output covers exactly the input image.
At depth 4, 64 base channels and a 388×388 output this is the paper's network: 572×572 in.
"""

from __future__ import annotations

from graph_core import Graph

from .catalog import TemplateError, p_choice, p_int, template
from .sketch import Sketch

VARIANTS = ("padded", "valid")


def valid_sizes(output: int, depth: int) -> list[int] | None:
    """Map sizes of the valid U-Net, from its input to its output, for an output of `output`
    pixels; None when no input gives exactly that output (a pool would meet an odd size)."""
    sizes = [output]
    n = output
    for _ in range(depth):  # back through each decoder level: two convs, then an up-convolution
        n += 4
        if n % 2:
            return None
        n //= 2
    n += 4  # the bottom's two convolutions
    for _ in range(depth):  # back through each encoder level: a pool, then two convolutions
        n = n * 2 + 4
    sizes.insert(0, n)
    return sizes


@template(
    "unet",
    "U-Net: a contracting path of convolutions and max pools, an expanding path of "
    "up-convolutions, and at every level a skip connection that joins the encoder's map to the "
    "decoder's, so the segmentation keeps both context and sharp boundaries. With variant=valid it is "
    "the 2015 original: unpadded convolutions, skips cropped to fit, the image mirrored at its "
    "border first.",
    p_choice("variant", "padded", VARIANTS, "padded: every convolution keeps the size; valid: the original, "
                                             "with Crop on the skips and a reflect Pad in front"),
    p_int("in_channels", 1, "image channels"),
    p_int("input_size", 32, "height and width of the image (and of the segmentation)", minimum=8),
    p_int("num_classes", 4, "classes per pixel, background included"),
    p_int("depth", 2, "number of pool / up-convolution levels (4 in the paper)", maximum=6),
    p_int("base_channels", 16, "filters at the first level (64 in the paper); doubled at each level"),
)
def unet(variant: str, in_channels: int, input_size: int, num_classes: int, depth: int,
         base_channels: int) -> Graph:
    valid = variant == "valid"
    s = Sketch(f"unet_{variant}")
    x = s.add("image", "Input", 0, shape=[in_channels, input_size, input_size], field="image")
    if valid:
        sizes = valid_sizes(input_size, depth)
        if sizes is None:
            fits = [n for n in range(max(8, input_size - 40), input_size + 41) if valid_sizes(n, depth)]
            raise TemplateError(f"unet: with valid convolutions and depth {depth} no input gives exactly "
                                f"{input_size} pixels out; use input_size one of {', '.join(map(str, fits[:6]))}")
        margin = (sizes[0] - input_size) // 2
        x = s.then(x, "mirror", "Pad", padding=margin, mode="reflect")
    elif input_size % 2 ** depth:
        raise TemplateError(f"unet: input_size {input_size} must be divisible by 2^depth = {2 ** depth} "
                            "(each level halves it), or use variant=valid")
    pad = 0 if valid else 1
    skips = []
    for k in range(1, depth + 1):
        x = _double_conv(s, x, f"enc{k}", base_channels * 2 ** (k - 1), pad, row=k - 1)
        skips.append(x)
        x = s.then(x, f"pool{k}", "MaxPool2d", kernel_size=2, stride=2, row=k)  # down a level
    x = _double_conv(s, x, "bottom", base_channels * 2 ** depth, pad, row=depth)
    for k in range(depth, 0, -1):
        width = base_channels * 2 ** (k - 1)
        x = s.then(x, f"up{k}", "ConvTranspose2d", out_channels=width, kernel_size=2, stride=2, row=k)
        skip = skips[k - 1]
        if valid:
            enc = valid_encoder_size(input_size, depth, k)
            dec = valid_decoder_size(input_size, depth, k)
            cut = (enc - dec) // 2
            skip = s.then(skip, f"crop{k}", "Crop", crop=cut)
        # level k on row k - 1: the pool steps down a row and the up-convolution comes up from the
        # row below, so the skip runs straight along its level's row under no card
        join = s.then(x, f"concat{k}", "Concat", dim=1, row=k - 1)
        s.wire(skip, join)
        x = _double_conv(s, join, f"dec{k}", width, pad)
    x = s.then(x, "classify", "Conv2d", out_channels=num_classes, kernel_size=1)
    s.then(x, "segmentation", "Output", loss="cross_entropy", target="mask")
    data = {"dataset": "shapes_seg", "image_size": input_size}
    return s.settings(data, optimizer="adam", lr=0.001, epochs=10, batch_size=16)


def valid_encoder_size(output: int, depth: int, level: int) -> int:
    """Side of encoder level `level`'s output (after its two convolutions), valid variant."""
    n = valid_sizes(output, depth)[0]
    for k in range(1, level + 1):
        n -= 4
        if k < level:
            n //= 2
    return n


def valid_decoder_size(output: int, depth: int, level: int) -> int:
    """Side of the up-convolved map at decoder level `level`, valid variant."""
    n = output
    for _ in range(level - 1):
        n = (n + 4) // 2
    return n + 4


def _double_conv(s: Sketch, x: str, stem: str, width: int, padding: int, row: float | None = None) -> str:
    x = s.then(x, f"{stem}_conv1", "Conv2d", out_channels=width, kernel_size=3, padding=padding, row=row)
    x = s.then(x, f"{stem}_relu1", "ReLU")
    x = s.then(x, f"{stem}_conv2", "Conv2d", out_channels=width, kernel_size=3, padding=padding)
    return s.then(x, f"{stem}_relu2", "ReLU")
