"""The cost of a graph: multiply-accumulates of one forward of one sample agree within 1 % with
the figures torchvision publishes for its models (its "GFLOPS" count multiply-accumulates), and
activation memory follows the batch size."""

from __future__ import annotations

import pytest

import graph_core as gc
import templates
from graph_core.cost import format_macs, graph_costs, total_macs
from tests.graph_core.helpers import chain

IMAGENET = {"in_channels": 3, "input_size": 224, "num_classes": 1000}


def alexnet() -> gc.Graph:
    """torchvision's alexnet, drawn node by node."""
    return chain(
        (3, 224, 224),
        ("Conv2d", {"out_channels": 64, "kernel_size": 11, "stride": 4, "padding": 2}), ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 3, "stride": 2}),
        ("Conv2d", {"out_channels": 192, "kernel_size": 5, "padding": 2}), ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 3, "stride": 2}),
        ("Conv2d", {"out_channels": 384, "kernel_size": 3, "padding": 1}), ("ReLU", {}),
        ("Conv2d", {"out_channels": 256, "kernel_size": 3, "padding": 1}), ("ReLU", {}),
        ("Conv2d", {"out_channels": 256, "kernel_size": 3, "padding": 1}), ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 3, "stride": 2}), ("AdaptiveAvgPool2d", {"output_size": 6}),
        ("Flatten", {}), ("Dropout", {}), ("Dense", {"out_features": 4096}), ("ReLU", {}),
        ("Dropout", {}), ("Dense", {"out_features": 4096}), ("ReLU", {}), ("Dense", {"out_features": 1000}),
        head={"loss": "cross_entropy"})


# torchvision's published GFLOPS (multiply-accumulates) and parameter counts
PUBLISHED = {
    "alexnet": (0.71, 61_100_840, alexnet),
    "vgg16": (15.47, 138_357_544, lambda: templates.build("vgg", depth=16, batch_norm=False, **IMAGENET)),
    "resnet18": (1.81, 11_689_512, lambda: templates.build("resnet", depth=18, **IMAGENET)),
    "resnet50": (4.09, 25_557_032, lambda: templates.build("resnet", depth=50, **IMAGENET)),
    "mobilenet_v2": (0.30, 3_504_872, lambda: templates.build("mobilenet_v2", **IMAGENET)),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_total_macs_agree_with_torchvision_within_one_percent(name):
    gmacs, params, build = PUBLISHED[name]
    graph = build()
    summary = gc.summarize(graph)
    assert summary.total_params == params
    assert summary.total_macs / 1e9 == pytest.approx(gmacs, rel=0.01)


def test_a_convolution_costs_its_output_size_times_its_kernel_volume():
    g = chain((3, 28, 28), ("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}),
              ("Conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1, "groups": 3}),
              ("ConvTranspose2d", {"out_channels": 4, "kernel_size": 2, "stride": 2}),
              ("Flatten", {}), ("Dense", {"out_features": 10}))
    costs = graph_costs(g)
    assert costs["n1"].macs == 6 * 28 * 28 * (3 * 5 * 5)
    assert costs["n2"].macs == 6 * 28 * 28 * (2 * 3 * 3)  # each group sees 2 of the 6 channels
    assert costs["n3"].macs == 6 * 28 * 28 * 4 * 2 * 2  # every input value stamps a 4×2×2 filter
    assert costs["n5"].macs == 4 * 56 * 56 * 10
    assert costs["n4"].macs == 0  # reshaping multiplies nothing
    assert format_macs(costs["n1"].macs) == "353 K"


def test_activation_memory_scales_with_the_batch_and_blocks_cost_what_they_hold():
    g = templates.build("resnet", depth=18, in_channels=3, input_size=64, num_classes=5)
    one, many = gc.summarize(g, batch_size=1), gc.summarize(g, batch_size=8)
    assert many.activation_bytes == 8 * one.activation_bytes
    conv1 = next(r for r in one.rows if r.id == "conv1")
    assert conv1.activation_bytes == 4 * 64 * 32 * 32  # float32 (64, 32, 32)
    block = next(r for r in one.rows if r.id == "layer1_0")
    assert block.macs == 2 * 64 * 16 * 16 * 64 * 9  # two 3×3 convolutions, 64 -> 64 at 16×16
    assert one.total_macs == total_macs(graph_costs(g))


def test_an_unknown_shape_has_no_cost():
    g = chain((3, 8, 8), ("Dense", {"out_features": 4}))
    g.edges = [e for e in g.edges if e.dst[0] != "n1"]
    assert graph_costs(g)["n1"] is None


def test_a_conditional_discriminator_costs_what_its_block_does_on_the_pair():
    """issue 15, pix2pix: the PatchGAN's first convolution reads 4 + 1 channels, not 1."""
    g = templates.build("pix2pix")
    first = 16 * 16 * 16 * 4 * 4  # out (16, 16, 16) × 4×4 taps
    macs = graph_costs(g)["discriminator"].macs
    rest = 8 * 8 * 32 * 16 * 16 + 7 * 7 * 64 * 32 * 16 + 6 * 6 * 1 * 64 * 16  # d_conv2, d_conv3, patch_scores
    assert macs == first * (4 + 1) + rest
