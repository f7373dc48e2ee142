"""Small hand-built graphs for the training tests (one per regime), built with graph_core only."""

from __future__ import annotations

from graph_core import Edge, Graph, Node


def _add(g: Graph, nid: str, type_name: str, **params) -> None:
    g.nodes[nid] = Node(nid, type_name, params)


def _wire(g: Graph, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> None:
    g.edges.append(Edge((src, src_port), (dst, dst_port)))


def _chain(g: Graph, *ids: str) -> None:
    for a, b in zip(ids, ids[1:]):
        _wire(g, a, b)


def mlp_digits(hidden: int = 32, classes: int = 10, **training) -> Graph:
    """image (1, 8, 8) -> Flatten -> Dense -> ReLU -> Dense(classes) -> cross-entropy head."""
    g = Graph(name="mlp_digits")
    _add(g, "image", "Input", shape=[1, 8, 8])
    _add(g, "flat", "Flatten")
    _add(g, "hidden", "Dense", out_features=hidden)
    _add(g, "act", "ReLU")
    _add(g, "logits", "Dense", out_features=classes)
    _add(g, "head", "Output", loss="cross_entropy", target="label")
    _chain(g, "image", "flat", "hidden", "act", "logits", "head")
    g.data = {"dataset": "digits"}
    g.training = {"optimizer": "adam", "lr": 0.01, "batch_size": 64, "epochs": 2, **training}
    return g


def autoencoder_digits(vae: bool = False, **training) -> Graph:
    """image -> encoder -> (Reparametrisation) -> decoder -> reconstruction head (target input:image)."""
    g = Graph(name="vae_digits" if vae else "ae_digits")
    _add(g, "image", "Input", shape=[1, 8, 8])
    _add(g, "flat", "Flatten")
    _add(g, "enc", "Dense", out_features=32)
    _add(g, "enc_act", "ReLU")
    _chain(g, "image", "flat", "enc", "enc_act")
    if vae:
        _add(g, "mu", "Dense", out_features=4)
        _add(g, "logvar", "Dense", out_features=4)
        _add(g, "z", "Reparametrisation", beta=1.0)
        _wire(g, "enc_act", "mu")
        _wire(g, "enc_act", "logvar")
        _wire(g, "mu", "z", dst_port="mu")
        _wire(g, "logvar", "z", dst_port="logvar")
        code, code_port = "z", "z"
    else:
        _add(g, "code", "Dense", out_features=4)
        _wire(g, "enc_act", "code")
        code, code_port = "code", "out"
    _add(g, "dec", "Dense", out_features=32)
    _add(g, "dec_act", "ReLU")
    _add(g, "dec_out", "Dense", out_features=64)
    _add(g, "shape", "Reshape", shape=[1, 8, 8])
    _add(g, "recon", "Output", loss="mse", target="input:image")
    _wire(g, code, "dec", src_port=code_port)
    _chain(g, "dec", "dec_act", "dec_out", "shape", "recon")
    g.data = {"dataset": "digits"}
    g.training = {"optimizer": "adam", "lr": 0.005, "batch_size": 64, "epochs": 2, **training}
    return g


def gan_digits(**training) -> Graph:
    """noise (8,) -> Dense -> Reshape (1, 8, 8) -> Discriminator(critic) <- image."""
    g = Graph(name="gan_digits")
    critic = Graph(name="critic")
    _add(critic, "sample", "Input", shape=[])
    _add(critic, "flat", "Flatten")
    _add(critic, "hidden", "Dense", out_features=32)
    _add(critic, "act", "LeakyReLU", negative_slope=0.2)
    _add(critic, "score", "Dense", out_features=1)
    _add(critic, "verdict", "Output", loss="bce")
    _chain(critic, "sample", "flat", "hidden", "act", "score", "verdict")
    g.blocks["critic"] = critic
    _add(g, "image", "Input", shape=[1, 8, 8])
    _add(g, "noise", "Input", shape=[8], source="noise")
    _add(g, "grow", "Dense", out_features=32)
    _add(g, "grow_act", "ReLU")
    _add(g, "pixels", "Dense", out_features=64)
    _add(g, "squash", "Sigmoid")
    _add(g, "shape", "Reshape", shape=[1, 8, 8])
    _add(g, "disc", "Discriminator", block="critic")
    _chain(g, "noise", "grow", "grow_act", "pixels", "squash", "shape")
    _wire(g, "shape", "disc", dst_port="fake")
    _wire(g, "image", "disc", dst_port="real")
    g.data = {"dataset": "digits"}
    g.training = {"optimizer": "adam", "lr": 0.002, "batch_size": 64, "epochs": 2, **training}
    return g


def segnet_shapes(**training) -> Graph:
    """image (1, 32, 32) -> conv -> pool(indices) -> conv -> unpool -> conv(4 classes) -> per-pixel head."""
    g = Graph(name="seg_shapes")
    _add(g, "image", "Input", shape=[1, 32, 32])
    _add(g, "conv1", "Conv2d", out_channels=8, kernel_size=3, padding=1)
    _add(g, "act1", "ReLU")
    _add(g, "pool", "MaxPool2d", kernel_size=2)
    _add(g, "conv2", "Conv2d", out_channels=8, kernel_size=3, padding=1)
    _add(g, "act2", "ReLU")
    _add(g, "unpool", "MaxUnpool2d", kernel_size=2)
    _add(g, "classes", "Conv2d", out_channels=4, kernel_size=3, padding=1)
    _add(g, "head", "Output", loss="cross_entropy", target="mask")
    _chain(g, "image", "conv1", "act1", "pool", "conv2", "act2", "unpool", "classes", "head")
    _wire(g, "pool", "unpool", src_port="indices", dst_port="indices")
    g.data = {"dataset": "shapes_seg"}
    g.training = {"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 1, **training}
    return g


def two_heads_digits(**training) -> Graph:
    """A classifier with two heads on one trunk: label (weight 1) and a bce head (weight 0.5)."""
    g = mlp_digits(**training)
    g.name = "two_heads"
    _add(g, "odd_logit", "Dense", out_features=1)
    _add(g, "odd", "Output", loss="bce", target="is_odd", weight=0.5)
    _wire(g, "act", "odd_logit")
    _wire(g, "odd_logit", "odd")
    return g
