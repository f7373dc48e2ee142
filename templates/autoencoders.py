"""Autoencoders and variational autoencoders on digit images.

An autoencoder squeezes the image through a small code and rebuilds it; a VAE makes the code a
distribution (mu, logvar), samples it with the reparametrisation trick, and adds beta·KL so the
latent space is smooth enough to generate from. The reconstruction head's target is the input
(`input:image`), reached through a Reshape back to the input's shape. latent_dim is 2 by default
so the latent space can be plotted.
"""

from __future__ import annotations

from graph_core import Graph, ParamSpec

from .catalog import TemplateError, p_choice, p_float, p_int, template
from .sketch import Sketch

SIZES = ("8", "16", "28", "32")


def _image_size(help: str, default: int) -> ParamSpec:
    return ParamSpec("image_size", "int", default, help, choices=SIZES)


def _start(name: str, size: int) -> tuple[Sketch, str]:
    s = Sketch(name)
    return s, s.add("image", "Input", 0, shape=[1, size, size], field="image")


def _finish(s: Sketch, x: str, size: int, loss: str, lr: float, epochs: int) -> Graph:
    s.then(x, "reconstruction", "Output", loss=loss, target="input:image")
    data = {"dataset": "digits", "image_size": size}
    return s.settings(data, optimizer="adam", lr=lr, epochs=epochs, batch_size=64)


def _dense_encoder(s: Sketch, x: str, hidden: int) -> str:
    x = s.then(x, "flatten", "Flatten")
    x = s.then(x, "enc_fc", "Dense", out_features=hidden)
    return s.then(x, "enc_relu", "ReLU")


def _dense_decoder(s: Sketch, x: str, hidden: int, size: int, src_port: str = "out") -> str:
    x = s.then(x, "dec_fc", "Dense", out_features=hidden, src_port=src_port)
    x = s.then(x, "dec_relu", "ReLU")
    x = s.then(x, "dec_out", "Dense", out_features=size * size)
    # The decoder ends with raw values (logits for bce): the loss applies the sigmoid.
    return s.then(x, "to_image", "Reshape", shape=[1, size, size])


def _conv_encoder(s: Sketch, x: str, channels: int, size: int) -> str:
    if size % 4:
        raise TemplateError("the conv encoder halves the image twice: image_size must be divisible "
                            f"by 4, got {size}")
    for k, width in ((1, channels), (2, 2 * channels)):
        x = s.then(x, f"enc_conv{k}", "Conv2d", out_channels=width, kernel_size=3, stride=2, padding=1)
        x = s.then(x, f"enc_relu{k}", "ReLU")
    return s.then(x, "flatten", "Flatten")


def _conv_decoder(s: Sketch, x: str, channels: int, size: int, src_port: str = "out") -> str:
    side = size // 4
    x = s.then(x, "dec_fc", "Dense", out_features=2 * channels * side * side, src_port=src_port)
    x = s.then(x, "dec_relu", "ReLU")
    x = s.then(x, "unflatten", "Reshape", shape=[2 * channels, side, side])
    # kernel 4, stride 2, padding 1 doubles the size exactly: the mirror of the encoder.
    x = s.then(x, "dec_deconv1", "ConvTranspose2d", out_channels=channels, kernel_size=4, stride=2, padding=1)
    x = s.then(x, "dec_relu1", "ReLU")
    return s.then(x, "dec_deconv2", "ConvTranspose2d", out_channels=1, kernel_size=4, stride=2, padding=1)


def _latent(s: Sketch, x: str, latent_dim: int, beta: float) -> str:
    """mu and logvar side by side (two rows), then the reparametrisation node."""
    row = s.row(x)
    mu = s.then(x, "mu", "Dense", out_features=latent_dim)
    logvar = s.then(x, "logvar", "Dense", out_features=latent_dim, row=row + 1)
    z = s.add("z", "Reparametrisation", s.col(mu) + 1, row + 0.5, name="z (reparametrise)",
              beta=beta)
    s.wire(mu, z, "out", "mu")
    s.wire(logvar, z, "out", "logvar")
    return z


LOSS = p_choice("loss", "bce", ("bce", "mse"),
                "reconstruction loss: bce for pixels in [0, 1], mse for any values")


@template(
    "autoencoder",
    "An autoencoder: an encoder squeezes each image into a small code and a decoder rebuilds the "
    "image from it; the loss compares the rebuild with the input itself, so no labels are needed. "
    "The code keeps only what matters most — with 2 numbers you can plot where each digit lands.",
    p_choice("variant", "dense", ("dense", "conv"),
             "dense layers, or convolutions and transposed convolutions"),
    _image_size("side of the square digit image", 8),
    p_int("latent_dim", 2, "size of the code"),
    p_int("hidden", 64, "neurons (dense) or first-layer filters (conv)"),
    LOSS,
)
def autoencoder(variant: str, image_size: int, latent_dim: int, hidden: int, loss: str) -> Graph:
    s, x = _start(f"{variant}_autoencoder", image_size)
    if variant == "dense":
        x = _dense_encoder(s, x, hidden)
        x = s.then(x, "latent", "Dense", out_features=latent_dim)
        x = _dense_decoder(s, x, hidden, image_size)
    else:
        x = _conv_encoder(s, x, hidden, image_size)
        x = s.then(x, "latent", "Dense", out_features=latent_dim)
        x = _conv_decoder(s, x, hidden, image_size)
    return _finish(s, x, image_size, loss, lr=0.003, epochs=30)


@template(
    "vae",
    "A variational autoencoder: the encoder gives a mean and a log-variance instead of one code, "
    "z is sampled as mu + sigma·eps (the reparametrisation trick keeps it differentiable), and a "
    "beta·KL term pulls the codes towards N(0, I). The latent space becomes smooth, so decoding "
    "any point of it draws a plausible digit.",
    _image_size("side of the square digit image", 8),
    p_int("latent_dim", 2, "size of z (2 can be plotted)"),
    p_int("hidden", 128, "neurons in the encoder and decoder layers"),
    p_float("beta", 1.0, "weight of the KL term: 1 is the plain VAE, more gives a beta-VAE"),
    LOSS,
)
def vae(image_size: int, latent_dim: int, hidden: int, beta: float, loss: str) -> Graph:
    s, x = _start("vae", image_size)
    x = _dense_encoder(s, x, hidden)
    z = _latent(s, x, latent_dim, beta)
    x = _dense_decoder(s, z, hidden, image_size, src_port="z")
    return _finish(s, x, image_size, loss, lr=0.002, epochs=40)


@template(
    "conv_vae",
    "A convolutional VAE: strided convolutions encode the image into mu and logvar, the "
    "reparametrisation trick samples z, and transposed convolutions paint the image back. "
    "Convolutions keep the spatial structure, so the samples are sharper than a dense VAE's.",
    _image_size("side of the square digit image (divisible by 4)", 16),
    p_int("latent_dim", 2, "size of z (2 can be plotted)"),
    p_int("channels", 32, "filters in the first convolution; doubled in the second"),
    p_float("beta", 1.0, "weight of the KL term: 1 is the plain VAE, more gives a beta-VAE"),
    LOSS,
)
def conv_vae(image_size: int, latent_dim: int, channels: int, beta: float, loss: str) -> Graph:
    s, x = _start("conv_vae", image_size)
    x = _conv_encoder(s, x, channels, image_size)
    z = _latent(s, x, latent_dim, beta)
    x = _conv_decoder(s, z, channels, image_size, src_port="z")
    return _finish(s, x, image_size, loss, lr=0.002, epochs=30)
