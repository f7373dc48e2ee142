"""pix2pix (Isola et al., 2017), the course's "GAN for segmentation" slide turned around: a U-Net
generator with InstanceNorm paints an image from a segmentation mask, a PatchGAN discriminator
scores every patch of a (mask, image) pair as real or painted, and an L1 head keeps the painting
close to the true image (weight 100, as in the paper).

The generator reads a data field instead of noise (a conditional GAN); the GAN regime feeds it
the mask, adds the L1 head to the generator's loss (adversarial + 100·L1), and counts every
patch's score. As in the paper the discriminator is conditional: the generator's one-hot mask is
wired to its `condition` port, so its block reads concat(mask one-hot, image) — 4 + 1 = 5
channels — for the real pair and for the painted one, and a sharp image that does not fit its
mask is caught.

`direction="image_to_mask"` is the slide itself (Luc et al., 2016, "Semantic segmentation using
adversarial networks"): the same U-Net reads the image and gives per-pixel class
log-probabilities (LogSoftmax), an nll head scores them against the mask, and the PatchGAN
judges the predicted class map against the true mask one-hot encoded (Input -> OneHot ->
real), each beside the image it belongs to (the image wired to the `condition` port: the block
reads concat(image, class map), 1 + 4 = 5 channels). The discriminator's block splits the pair
(two Crops of the channel axis) and sends the class map alone through a Softmax: softmax(log p)
= p, so it sees the predicted probabilities; the real one-hot passes through the same Softmax and arrives softened (0.47 on
the true class of 4), which keeps the discriminator from telling real from predicted by exact
zeros and ones alone (the difficulty Luc et al. discuss). The image channels pass unchanged.
"""

from __future__ import annotations

from graph_core import Graph

from .catalog import TemplateError, p_choice, p_float, p_int, template
from .sketch import Sketch

DIRECTIONS = ("mask_to_image", "image_to_mask")


def _patchgan(base: int, layers: int, softmax: tuple[int, int] | None = None) -> Graph:
    """C64-C128-C256 (stride 2, 2, then 1) and a one-channel 4×4 convolution: a map of patch scores.

    The block reads a (condition, sample) pair stacked as channels. With `softmax` = (image
    channels, classes) the pair is (image, class log-probabilities or one-hot mask): two Crops of
    the channel axis split it, the class map goes through a Softmax over the classes alone, and
    the image joins it again unchanged.
    """
    c = Sketch("patchgan")
    y = c.add("pair", "Input", 0, shape=[])
    if softmax:
        channels, classes = softmax
        # F.pad order, last axis first: (W left, W right, H top, H bottom, C front, C back)
        image = c.then(y, "d_image", "Crop", crop=[0, 0, 0, 0, 0, classes], name="image channels")
        scores = c.then(y, "d_classes", "Crop", crop=[0, 0, 0, 0, channels, 0], row=1, name="class channels")
        probs = c.then(scores, "d_probs", "Softmax", dim=1)
        y = c.then(image, "d_join", "Concat", dim=1, step=2)
        c.wire(probs, y)
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
    "discriminator judges every patch of the (mask, image) pair as real or painted. An L1 head "
    "keeps the painting close to the true image while the adversary makes it sharp — trained on "
    "shapes_seg. Turned around (image_to_mask), the U-Net segments the image and the "
    "discriminator judges (image, class map) pairs against (image, true mask).",
    p_choice("direction", "mask_to_image", DIRECTIONS, "mask_to_image: paint an image from a mask; "
             "image_to_mask: segment an image, the discriminator judging it beside the predicted mask"),
    p_int("image_size", 32, "side of the square images (divisible by 2^depth)", minimum=16),
    p_int("num_classes", 4, "classes in the mask (shapes_seg: 4)", minimum=2),
    p_int("channels", 1, "image channels"),
    p_int("depth", 3, "down-sampling levels of the U-Net", maximum=6),
    p_int("base_channels", 16, "filters at the first level (64 in the paper); doubled at each level"),
    p_float("l1_weight", 100.0, "weight of the L1 head against the adversarial loss (100 in the paper)",
            minimum=0.0),
    p_float("seg_weight", 100.0, "image_to_mask: weight of the per-pixel nll head against the adversarial "
            "loss", minimum=0.0),
)
def pix2pix(direction: str, image_size: int, num_classes: int, channels: int, depth: int, base_channels: int,
            l1_weight: float, seg_weight: float) -> Graph:
    if image_size % 2 ** depth:
        raise TemplateError(f"pix2pix: image_size {image_size} must be divisible by 2^depth = {2 ** depth}")
    to_mask = direction == "image_to_mask"
    # The canvas: the real sample on row 0 and the condition on row 1 run straight to the
    # discriminator (row 1) with nothing in their way; the U-Net's level k lies on row 1 + k. Each
    # up-sampling chain comes up from the row below its skip Concat, so the skip wire (straight
    # along its level's row) crosses no card, and the painted output sits between the
    # discriminator (above) and its L1 head (below).
    s = Sketch("pix2pix")
    image = s.add("image", "Input", 0, 0 if not to_mask else 1, name="real images" if not to_mask else "images",
                  shape=[channels, image_size, image_size], field="image")
    mask = s.add("mask", "Input", 0, 1 if not to_mask else 0, shape=[image_size, image_size], dtype="int64",
                 field="mask")
    if to_mask:  # the generator reads the image; the true mask, one-hot, is the real sample
        x = image
        real = s.then(mask, "real_onehot", "OneHot", name="true masks (one-hot)", num_classes=num_classes)
    else:  # the generator reads the mask, one-hot; the true image is the real sample
        x = s.then(mask, "onehot", "OneHot", num_classes=num_classes)
        real = image
    condition = x  # what the generator reads; the discriminator judges each sample beside it
    skips = []
    for k in range(1, depth + 1):  # C64-C128-...: 4×4 stride-2 convolutions, InstanceNorm, LeakyReLU
        x = s.then(x, f"down{k}", "Conv2d", out_channels=base_channels * 2 ** (k - 1), kernel_size=4, stride=2,
                   padding=1, row=1 + k)
        if k > 1:
            x = s.then(x, f"down{k}_norm", "InstanceNorm", affine=True)
        x = s.then(x, f"down{k}_lrelu", "LeakyReLU", negative_slope=0.2)
        skips.append(x)
    for k in range(depth - 1, 0, -1):  # up: 4×4 stride-2 transposed convolutions, then the skip
        x = s.then(x, f"up{k}", "ConvTranspose2d", out_channels=base_channels * 2 ** (k - 1), kernel_size=4,
                   stride=2, padding=1, row=2 + k)
        x = s.then(x, f"up{k}_norm", "InstanceNorm", affine=True)
        if k == depth - 1:
            x = s.then(x, f"up{k}_dropout", "Dropout", p=0.5)  # pix2pix's noise: dropout, not z
        x = s.then(x, f"up{k}_relu", "ReLU")
        join = s.then(x, f"skip{k}", "Concat", dim=1, row=1 + k)
        s.wire(skips[k - 1], join)
        x = join
    if to_mask:
        x = s.then(x, "to_mask", "ConvTranspose2d", out_channels=num_classes, kernel_size=4, stride=2, padding=1,
                   row=2)
        fake = s.then(x, "log_probs", "LogSoftmax", dim=1)  # per-pixel class log-probabilities
        s.then(fake, "segment", "Output", loss="nll", target="mask", weight=seg_weight, row=3)
    else:
        x = s.then(x, "to_image", "ConvTranspose2d", out_channels=channels, kernel_size=4, stride=2, padding=1,
                   row=2)
        fake = s.then(x, "painted", "Sigmoid")  # shapes_seg pixels lie in [0, 1]
        s.then(fake, "l1", "Output", loss="l1", target="image", weight=l1_weight, row=3)
    s.graph.blocks["patchgan"] = _patchgan(base_channels, 3, softmax=(channels, num_classes) if to_mask else None)
    d = s.add("discriminator", "Discriminator", s.col(fake) + 1, 1, block="patchgan")
    s.wire(real, d, "out", "real")
    s.wire(fake, d, "out", "fake")
    s.wire(condition, d, "out", "condition")  # D judges (input, output) pairs, as in the paper
    data = {"dataset": "shapes_seg", "image_size": image_size}
    return s.settings(data, optimizer="adam", lr=0.0002, betas=[0.5, 0.999], epochs=10, batch_size=16)
