"""Generative adversarial networks: a generator turns noise into images, and a Discriminator node
(whose `block` names a sub-graph that scores one sample) learns to tell them from real ones.

The generator is everything upstream of the Discriminator's `fake` port, starting at a noise
Input; `real` comes from the data's `image` field. The built-in digits are scaled to [0, 1], so
the generator ends with a Sigmoid (DCGAN's Tanh suits data scaled to [-1, 1]: `output=tanh`).
"""

from __future__ import annotations

from graph_core import Graph

from .catalog import TemplateError, p_choice, p_float, p_int, template
from .sketch import Sketch


def _gan_frame(name: str, latent_dim: int, channels: int, size: int) -> tuple[Sketch, str, str]:
    """The two Inputs: real images on the top row (they feed the Discriminator's upper port,
    `real`), noise below it, starting the generator's row."""
    s = Sketch(name)
    real = s.add("image", "Input", 0, 0, name="real images", shape=[channels, size, size], field="image")
    noise = s.add("noise", "Input", 0, 1.5, shape=[latent_dim], source="noise")
    return s, noise, real


def _close(s: Sketch, fake: str, real: str, block: Graph, size: int, lr: float, epochs: int) -> Graph:
    s.graph.blocks["discriminator"] = block
    d = s.add("discriminator", "Discriminator", s.col(fake) + 1, 0.75, block="discriminator")
    s.wire(real, d, "out", "real")
    s.wire(fake, d, "out", "fake")
    data = {"dataset": "digits", "image_size": size}
    return s.settings(data, optimizer="adam", lr=lr, betas=[0.5, 0.999], epochs=epochs, batch_size=64)


OUTPUT = p_choice("output", "sigmoid", ("sigmoid", "tanh"),
                  "generator's last activation: sigmoid for pixels in [0, 1], tanh for [-1, 1]")


def _squash(s: Sketch, x: str, output: str) -> str:
    return s.then(x, "gen_" + output, "Sigmoid" if output == "sigmoid" else "Tanh")


def _critic_head(c: Sketch, x: str) -> None:
    x = c.then(x, "score", "Dense", out_features=1)
    # bce on the logit: the discriminator's loss, real -> 1 and fake -> 0.
    c.then(x, "verdict", "Output", loss="bce")


@template(
    "gan",
    "A GAN with dense layers: the generator maps random noise to an image, the discriminator "
    "scores images as real or fake, and the two are trained in turn, each against the other. "
    "When the discriminator can no longer tell, the generator draws digits it has never seen.",
    p_int("latent_dim", 16, "size of the noise vector"),
    p_int("image_size", 8, "side of the square image"),
    p_int("channels", 1, "image channels"),
    p_int("hidden", 128, "neurons in the hidden layers of both networks"),
    p_float("dropout", 0.3, "dropout in the discriminator, so it does not overpower the generator",
            maximum=0.9),
    OUTPUT,
)
def gan(latent_dim: int, image_size: int, channels: int, hidden: int, dropout: float, output: str) -> Graph:
    s, x, real = _gan_frame("gan", latent_dim, channels, image_size)
    pixels = channels * image_size * image_size
    for k, width in ((1, hidden), (2, 2 * hidden)):
        x = s.then(x, f"gen_fc{k}", "Dense", out_features=width)
        # batch norm in the generator keeps its hidden units spread over the batch, so the
        # noise vectors are not all mapped to one image (the collapse seen without it)
        x = s.then(x, f"gen_bn{k}", "BatchNorm")
        x = s.then(x, f"gen_relu{k}", "ReLU")
    x = s.then(x, "gen_out", "Dense", out_features=pixels)
    x = _squash(s, x, output)
    fake = s.then(x, "to_image", "Reshape", shape=[channels, image_size, image_size])

    c = Sketch("discriminator")
    y = c.add("sample", "Input", 0, shape=[])
    y = c.then(y, "flatten", "Flatten")
    for k, width in ((1, 2 * hidden), (2, hidden)):
        y = c.then(y, f"disc_fc{k}", "Dense", out_features=width)
        y = c.then(y, f"disc_lrelu{k}", "LeakyReLU", negative_slope=0.2)
        if dropout > 0:
            y = c.then(y, f"disc_dropout{k}", "Dropout", p=dropout)
    _critic_head(c, y)
    # 1,438 training digits are 23 steps an epoch: a GAN needs thousands of steps (measured in
    # benchmarks/bench_gan_quality.py: 60 epochs drew 2 digit classes, 300 draw all 10)
    return _close(s, fake, real, c.graph, image_size, lr=0.0002, epochs=300)


def _upsamplings(size: int) -> tuple[int, int]:
    """Halve the image while it stays even and above 7: (start side, number of doublings)."""
    side, ups = size, 0
    while side % 2 == 0 and side > 7:
        side, ups = side // 2, ups + 1
    if ups == 0:
        raise TemplateError(f"dcgan: image_size {size} cannot be reached by doubling a small map; "
                            "use an even size of at least 8 (16, 28, 32, 64)")
    return side, ups


@template(
    "dcgan",
    "DCGAN, the convolutional GAN: the generator grows a small feature map into an image with "
    "transposed convolutions (batch norm and ReLU between), and the discriminator mirrors it with "
    "strided convolutions, LeakyReLU and dropout. No pooling and no large dense layers — the recipe "
    "that made GAN training stable.",
    p_int("latent_dim", 32, "size of the noise vector"),
    p_int("image_size", 16, "side of the square image (even; doubled from a 4–7 pixel map)", minimum=8),
    p_int("channels", 1, "image channels"),
    p_int("base_channels", 32, "filters of the discriminator's first convolution and the "
          "generator's last hidden one; doubled at each step inwards"),
    p_float("dropout", 0.3, "dropout in the discriminator, so it does not overpower the generator "
            "on a small dataset", maximum=0.9),
    OUTPUT,
)
def dcgan(latent_dim: int, image_size: int, channels: int, base_channels: int, dropout: float,
          output: str) -> Graph:
    side, ups = _upsamplings(image_size)
    s, x, real = _gan_frame("dcgan", latent_dim, channels, image_size)
    width = base_channels * 2 ** (ups - 1)
    x = s.then(x, "gen_fc", "Dense", out_features=width * side * side)
    x = s.then(x, "gen_map", "Reshape", shape=[width, side, side])
    x = s.then(x, "gen_bn0", "BatchNorm")
    x = s.then(x, "gen_relu0", "ReLU")
    for k in range(1, ups):
        width //= 2
        x = s.then(x, f"gen_deconv{k}", "ConvTranspose2d", out_channels=width, kernel_size=4, stride=2,
                   padding=1, bias=False)
        x = s.then(x, f"gen_bn{k}", "BatchNorm")
        x = s.then(x, f"gen_relu{k}", "ReLU")
    x = s.then(x, f"gen_deconv{ups}", "ConvTranspose2d", out_channels=channels, kernel_size=4, stride=2,
               padding=1)
    fake = _squash(s, x, output)

    c = Sketch("discriminator")
    y = c.add("sample", "Input", 0, shape=[])
    width = base_channels
    for k in range(1, ups + 1):
        y = c.then(y, f"disc_conv{k}", "Conv2d", out_channels=width, kernel_size=4, stride=2, padding=1)
        y = c.then(y, f"disc_lrelu{k}", "LeakyReLU", negative_slope=0.2)
        if dropout > 0:
            y = c.then(y, f"disc_dropout{k}", "Dropout", p=dropout)
        width *= 2
    y = c.then(y, "flatten", "Flatten")
    _critic_head(c, y)
    return _close(s, fake, real, c.graph, image_size, lr=0.0002, epochs=80)
