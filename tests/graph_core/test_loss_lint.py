"""The loss lint: a loss that applies an activation the branch already applied is caught,
through shape-only nodes and inside blocks (a Discriminator's too), with one-click fixes.

The graphs are the faithful copies that trained silently on sigmoid(sigmoid(x)) before:
pytorch/examples' VAE (decoder ends with Sigmoid, a reshape, then a bce reconstruction) and
DCGAN (the discriminator ends with Sigmoid)."""

from __future__ import annotations

import graph_core as gc
from graph_core import Graph
from graph_core.loss_lint import producer
from tests.graph_core.helpers import add, chain, messages, wire


def _vae_like() -> Graph:
    """pytorch/examples vae: ... fc4 -> Sigmoid -> view(1, 28, 28) -> bce against the input."""
    g = chain((1, 28, 28), ("Flatten", {}), ("Dense", {"out_features": 20}), ("ReLU", {}),
              ("Dense", {"out_features": 784}), ("Sigmoid", {}), ("Reshape", {"shape": [1, 28, 28]}),
              head={"loss": "bce", "target": "input:x"})
    return g


def _dcgan_like(head_loss: str = "bce") -> Graph:
    g = Graph(name="dcgan")
    d = Graph(name="discriminator")
    add(d, "sample", "Input", shape=[])
    add(d, "conv", "Conv2d", out_channels=1, kernel_size=8)
    add(d, "sigmoid", "Sigmoid")
    add(d, "drop", "Dropout", p=0.0)
    add(d, "flat", "Flatten")
    add(d, "verdict", "Output", loss=head_loss)
    for a, b in (("sample", "conv"), ("conv", "sigmoid"), ("sigmoid", "drop"), ("drop", "flat"),
                 ("flat", "verdict")):
        wire(d, a, b)
    g.blocks["discriminator"] = d
    add(g, "image", "Input", shape=[1, 8, 8], field="image")
    add(g, "noise", "Input", shape=[4], source="noise")
    add(g, "grow", "Dense", out_features=64)
    add(g, "squash", "Sigmoid")
    add(g, "to_image", "Reshape", shape=[1, 8, 8])
    add(g, "critic", "Discriminator", block="discriminator")
    for a, b in (("noise", "grow"), ("grow", "squash"), ("squash", "to_image")):
        wire(g, a, b)
    wire(g, "image", "critic", dst_port="real")
    wire(g, "to_image", "critic", dst_port="fake")
    return g


def _apply(g: Graph, issue: gc.Issue, k: int = 0) -> None:
    issue.fixes[k].command().apply(g)


def test_a_sigmoid_seen_through_a_reshape_before_bce_is_caught() -> None:
    g = _vae_like()
    assert messages(g) == [
        "head: n5 applies Sigmoid but the bce loss applies it again, so training would see "
        "sigmoid(sigmoid(x)) — use loss bce_probs (it takes probabilities) or feed the raw scores (logits)"]


def test_the_fix_switches_to_bce_on_probabilities_and_the_warning_goes() -> None:
    g = _vae_like()
    issue = gc.validate(g)[0]
    assert [f.label for f in issue.fixes] == ["set head loss to bce_probs", "remove n5 and rewire"]
    _apply(g, issue)
    assert g.nodes["head"].params["loss"] == "bce_probs"
    assert gc.validate(g) == []


def test_removing_the_sigmoid_is_offered_when_it_feeds_the_head_directly() -> None:
    g = chain((10,), ("Dense", {"out_features": 1}), ("Sigmoid", {}), head={"loss": "bce"})
    issue = gc.validate(g)[0]
    assert [f.label for f in issue.fixes] == ["set head loss to bce_probs", "remove n2 and rewire"]
    cmd = issue.fixes[1].command()
    cmd.apply(g)
    assert "n2" not in g.nodes and [(e.src[0], e.dst[0]) for e in g.edges_into("head")] == [("n1", "head")]
    assert gc.validate(g) == []
    cmd.revert(g)
    assert "n2" in g.nodes


def test_a_sigmoid_inside_a_block_is_seen_by_the_head_outside() -> None:
    g = chain((6,), ("Dense", {"out_features": 4}), head={"loss": "bce", "target": "y"})
    dec = Graph(name="dec")
    add(dec, "z", "Input", shape=[])
    add(dec, "fc", "Dense", out_features=3)
    add(dec, "sig", "Sigmoid")
    add(dec, "pixels", "Output", loss="none")
    wire(dec, "z", "fc")
    wire(dec, "fc", "sig")
    wire(dec, "sig", "pixels")
    g.blocks["dec"] = dec
    add(g, "decoder", "Block", block="dec")
    g.edges = [e for e in g.edges if e.dst[0] != "head"]
    wire(g, "n1", "decoder", dst_port="z")
    add(g, "ident", "Identity")
    wire(g, "decoder", "ident", src_port="pixels")
    wire(g, "ident", "head")
    found = producer(g, g.edges_into("head")[0])
    assert (found.path, found.type, found.top) == (("decoder", "sig"), "Sigmoid", "decoder")
    assert messages(g) == [
        "head: decoder/sig applies Sigmoid but the bce loss applies it again, so training would see "
        "sigmoid(sigmoid(x)) — use loss bce_probs (it takes probabilities) or feed the raw scores (logits)"]


def test_a_discriminator_ending_in_sigmoid_is_caught_on_the_discriminator() -> None:
    g = _dcgan_like()
    assert messages(g) == [
        "critic: discriminator/verdict: sigmoid (in block "
        "discriminator) applies Sigmoid but the bce loss applies it again, so training would see "
        "sigmoid(sigmoid(x)) — use loss bce_probs (it takes probabilities) or feed the raw scores (logits)"]
    issue = gc.validate(g)[0]
    assert [f.label for f in issue.fixes] == ["set discriminator/verdict loss to bce_probs"]
    cmd = issue.fixes[0].command()
    cmd.apply(g)
    assert g.blocks["discriminator"].nodes["verdict"].params["loss"] == "bce_probs"
    assert gc.validate(g) == []
    cmd.revert(g)
    assert g.blocks["discriminator"].nodes["verdict"].params["loss"] == "bce"


def test_bce_probs_without_a_sigmoid_is_caught() -> None:
    g = chain((10,), ("Dense", {"out_features": 1}), head={"loss": "bce_probs"})
    issue = gc.validate(g)[0]
    assert str(issue) == ("head: the bce_probs loss expects the output of a Sigmoid but n1 is a Dense: "
                          "end the branch with Sigmoid or use loss bce")
    _apply(g, issue)
    assert g.nodes["head"].params["loss"] == "bce"


def test_nll_after_log_softmax_is_clean_and_without_it_is_caught() -> None:
    g = chain((10,), ("Dense", {"out_features": 3}), ("LogSoftmax", {}), ("Dropout", {"p": 0.1}),
              head={"loss": "nll"})
    assert gc.validate(g) == []
    g = chain((10,), ("Dense", {"out_features": 3}), head={"loss": "nll"})
    assert messages(g) == ["head: the nll loss expects the output of a LogSoftmax but n1 is a Dense: end the "
                           "branch with LogSoftmax or use loss cross_entropy"]


def test_a_plain_block_inner_output_is_a_port_not_a_loss() -> None:
    from tests.registry_samples import sample_graph

    g = sample_graph("Block")
    g.blocks["mlp"].nodes["result"].params["loss"] = "nll"  # ignored: a port of the block
    assert gc.validate(g) == []


def test_two_analyses_of_the_same_graph_give_equal_issues() -> None:
    g = _vae_like()
    assert gc.validate(g) == gc.validate(g)  # the Issues list repaints only when they differ
