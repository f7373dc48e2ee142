"""Teaching overlays: the text a card or a wire shows on hover, derived from the graph alone."""

from __future__ import annotations

import graph_core as gc
import templates
from graph_core.teaching import explain_node, explain_wire, receptive_fields
from tests.graph_core.helpers import chain


def _lenet_start() -> gc.Graph:
    return chain((1, 28, 28), ("Conv2d", {"out_channels": 6, "kernel_size": 5, "padding": 2}), ("ReLU", {}),
                 ("MaxPool2d", {"kernel_size": 2}), ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1,
                                                                "dilation": 2}),
                 ("Flatten", {}), ("Dense", {"out_features": 10}), head={"loss": "cross_entropy"})


def test_a_convolution_shows_its_formula_its_parameters_and_what_it_sees():
    g = _lenet_start()
    assert explain_node(g, "n1").splitlines() == [
        "output size: floor((28 + 2*2 - 5) / 1) + 1 = 28",
        "parameters: 5*5*1*6 + 6 = 156  (kernel × inputs per group × filters + a bias per filter)",
        "receptive field: 5×5 input pixels per value"]
    assert explain_node(g, "n3").splitlines() == [
        "output size: floor((28 + 2*0 - 2) / 2) + 1 = 14", "receptive field: 6×6 input pixels per value"]
    # dilation 2 on a stride-2 map: (3 - 1) * 2 taps apart, each 2 input pixels: 6 + 8 = 14
    assert explain_node(g, "n4").splitlines()[0] == "output size: floor((14 + 2*1 - 2*(3 - 1) - 1) / 1) + 1 = 12"
    assert explain_node(g, "n4").splitlines()[-1] == "receptive field: 14×14 input pixels per value"
    assert explain_node(g, "n5") == "output size: 16 * 12 * 12 = 2304\nreceptive field: every value of the input"
    assert explain_node(g, "n6").splitlines()[0] == ("parameters: 2304*10 + 10 = 23,050  (a weight per input "
                                                     "and neuron, a bias per neuron)")


def test_a_wire_says_what_it_carries():
    g = _lenet_start()
    edge = g.edges_into("n3")[0]
    assert explain_wire(g, edge) == ("carries (6, 28, 28) float32: 4,704 values, 18.4 KiB per sample\n"
                                     "receptive field: 5×5 input pixels per value")


def test_receptive_fields_follow_blocks_and_skips():
    g = templates.build("resnet", depth=18, in_channels=3, input_size=224, num_classes=10)
    fields = receptive_fields(g)
    # conv1 7×7 / 2, maxpool 3×3 / 2 (jump 4), layer1_0: two 3×3 convs at jump 4 -> 11 + 16 = 27 ... + 16 = 43
    assert [round(v) for v in fields["conv1"][0]] == [7, 7]
    assert [round(v) for v in fields["maxpool"][0]] == [11, 11]
    assert [round(v) for v in fields["layer1_0"][0]] == [27, 27]
    assert fields["fc"] == "whole"
    transposed = chain((1, 4, 4), ("ConvTranspose2d", {"out_channels": 2, "kernel_size": 2, "stride": 2}),
                       ("Upsample", {}), head={"loss": "none"})
    text = explain_node(transposed, "n1")
    assert text.splitlines()[0] == "output size: (4 - 1)*2 - 2*0 + 1*(2 - 1) + 0 + 1 = 8"
    assert explain_node(transposed, "n2").splitlines()[0] == "output size: floor(8 * 2) = 16"


def test_a_discriminator_says_what_it_judges():
    """issue 15, pix2pix: a conditional Discriminator's block reads the (condition, sample) pair."""
    g = templates.build("pix2pix")
    text = explain_node(g, "discriminator").splitlines()
    assert text[0] == ("judges pairs: concat(condition (4, 32, 32), sample (1, 32, 32)) on the channels = "
                       "(5, 32, 32), 4 + 1 = 5 channels into the block's first layer")
    assert text[1] == f"parameters: {gc.infer_shapes(g)['discriminator'].params:,}  (the sum of the layers inside)"
    plain = explain_node(templates.build("dcgan"), "discriminator").splitlines()
    assert plain[0] == "judges one sample (1, 16, 16) at a time (real or generated)"
