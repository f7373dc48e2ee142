"""Small graphs for the codegen tests, built directly from graph_core (no templates)."""

from __future__ import annotations

from graph_core import Edge, Graph, Node


class Builder:
    """`b.node("conv", "Conv2d", out_channels=4)` then `b.wire("x", "conv")`; `b.graph`."""

    def __init__(self, name: str) -> None:
        self.graph = Graph(name=name)

    def node(self, nid: str, type_name: str, name: str = "", frozen: bool = False,
             lr_factor: float = 1.0, **params) -> Builder:
        self.graph.nodes[nid] = Node(nid, type_name, params, name or nid, frozen, lr_factor)
        return self

    def wire(self, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> Builder:
        self.graph.edges.append(Edge((src, src_port), (dst, dst_port)))
        return self

    def chain(self, *ids: str) -> Builder:
        for a, b in zip(ids, ids[1:]):
            self.wire(a, b)
        return self


def mlp() -> Graph:
    """x (8,) -> Dense 16 -> ReLU -> Dense 3 -> cross-entropy head."""
    b = Builder("tiny mlp")
    b.node("x", "Input", shape=[8]).node("fc1", "Dense", out_features=16).node("act", "ReLU")
    b.node("fc2", "Dense", out_features=3).node("label", "Output")
    return b.chain("x", "fc1", "act", "fc2", "label").graph


def segnet() -> Graph:
    """Conv -> MaxPool (indices wired) -> Conv -> MaxUnpool -> per-pixel head."""
    b = Builder("segnet")
    b.node("image", "Input", shape=[1, 8, 8]).node("enc", "Conv2d", out_channels=4, padding=1)
    b.node("pool", "MaxPool2d").node("mid", "Conv2d", out_channels=4, padding="same")
    b.node("unpool", "MaxUnpool2d").node("classes", "Conv2d", out_channels=3, kernel_size=1)
    b.node("mask", "Output", target="mask")
    b.chain("image", "enc", "pool", "mid", "unpool", "classes", "mask")
    b.wire("pool", "unpool", "indices", "indices")
    return b.graph


def vae() -> Graph:
    """x (12,) -> Dense 8 -> (mu, logvar) Dense 2 each -> z -> Dense 12 -> recon head."""
    b = Builder("vae")
    b.node("x", "Input", shape=[12]).node("enc", "Dense", out_features=8).node("act", "ReLU")
    b.node("mu", "Dense", out_features=2).node("logvar", "Dense", out_features=2)
    b.node("z", "Reparametrisation", beta=0.5).node("dec", "Dense", out_features=12)
    b.node("recon", "Output", loss="mse", target="input:x")
    b.chain("x", "enc", "act", "mu").wire("act", "logvar")
    b.wire("mu", "z", dst_port="mu").wire("logvar", "z", dst_port="logvar")
    b.wire("z", "dec", src_port="z").wire("dec", "recon")
    return b.graph


def two_heads() -> Graph:
    """One trunk, two heads: the forward returns a dict keyed by Output id."""
    b = Builder("two heads")
    b.node("x", "Input", shape=[6]).node("trunk", "Dense", out_features=5)
    b.node("cls", "Dense", out_features=3).node("reg", "Dense", out_features=1)
    b.node("label", "Output").node("value", "Output", loss="mse", target="value")
    b.chain("x", "trunk", "cls", "label").chain("trunk", "reg", "value")
    return b.graph


def with_block() -> Graph:
    """A block used twice with different input widths (so two classes), frozen once."""
    inner = Builder("stage")
    inner.node("inp", "Input", shape=[]).node("fc", "Dense", out_features=6).node("bn", "BatchNorm")
    inner.node("act", "ReLU").node("out", "Output", loss="none")
    inner.chain("inp", "fc", "bn", "act", "out")
    b = Builder("stacked")
    b.graph.blocks["stage"] = inner.graph
    b.node("x", "Input", shape=[4]).node("s1", "Block", block="stage", frozen=True)
    b.node("s2", "Block", block="stage", lr_factor=0.1).node("head", "Dense", out_features=2)
    b.node("label", "Output")
    b.wire("x", "s1", dst_port="inp").wire("s1", "s2", "out", "inp")
    b.wire("s2", "head", "out").wire("head", "label")
    return b.graph


_UPSAMPLE_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}


def variety(rank: int) -> Graph:
    """Non-default parameters of the convolution, pooling and normalisation layers of one rank:
    'same' padding with dilation and groups, a ceil-mode pool with padding, interpolating
    upsampling, a strided transposed conv with output padding, and the norms."""
    b = Builder(f"variety{rank}d")
    size = {1: [4, 9], 2: [4, 9, 9], 3: [4, 5, 5, 5]}[rank]
    b.node("img", "Input", shape=size)
    b.node("c1", f"Conv{rank}d", out_channels=8, kernel_size=3, padding="same", dilation=2, groups=2)
    b.node("p1", f"MaxPool{rank}d", kernel_size=3, stride=2, padding=1, ceil_mode=True)
    b.node("up", "Upsample", mode=_UPSAMPLE_MODE[rank], scale_factor=2.0)
    b.node("ct", f"ConvTranspose{rank}d", out_channels=4, kernel_size=3, stride=2, output_padding=1,
           padding=1)
    b.node("ap", f"AvgPool{rank}d", kernel_size=3, stride=1, padding=1)
    b.node("bn", "BatchNorm", momentum=0.2).node("ln", "LayerNorm", dims=2)
    b.node("lr", "LeakyReLU", negative_slope=0.1).node("gap", "GlobalMaxPool")
    b.node("sm", "LogSoftmax", dim=-1).node("out", "Output", loss="none")
    return b.chain("img", "c1", "p1", "up", "ct", "ap", "bn", "ln", "lr", "gap", "sm", "out").graph
