"""Losses that take what the branch gives: bce on probabilities after a Sigmoid (heads and a
DCGAN-style discriminator), nll after a LogSoftmax — each equal to PyTorch's own function."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from graph_core import Edge, Node
from tests.training import graphs
from training import train
from training.metrics import bce_on_probabilities, head_loss
from training.task import Head, collect


def _head(loss: str, kind: str) -> Head:
    return Head("head", loss, 1.0, kind, (3,), target_field="label")


def test_bce_probs_is_binary_cross_entropy_of_probabilities() -> None:
    torch.manual_seed(0)
    logits, target = torch.randn(8, 3), torch.randint(0, 2, (8, 3)).float()
    probs = torch.sigmoid(logits)
    got = head_loss(_head("bce_probs", "binary"), probs, target)
    assert torch.allclose(got, F.binary_cross_entropy(probs, target), atol=1e-6)
    # the same value the logits would give with bce: the two losses agree on the same network
    assert torch.allclose(got, head_loss(_head("bce", "binary"), logits, target), atol=1e-5)
    # clamped like PyTorch's at log(0) = -100, never inf
    assert torch.isfinite(bce_on_probabilities(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]))).all()


def test_nll_is_negative_log_likelihood_of_log_probabilities() -> None:
    torch.manual_seed(0)
    scores, target = torch.randn(8, 5), torch.randint(0, 5, (8,))
    got = head_loss(_head("nll", "classify"), F.log_softmax(scores, 1), target)
    assert torch.allclose(got, F.cross_entropy(scores, target), atol=1e-6)


def test_a_discriminator_with_a_bce_probs_head_trains_on_probabilities(tmp_path) -> None:
    g = graphs.gan_digits(epochs=1)
    critic = g.blocks["critic"]
    critic.nodes["prob"] = Node("prob", "Sigmoid", {})
    critic.edges = [e for e in critic.edges if e.dst[0] != "verdict"]
    critic.edges += [Edge(("score", "out"), ("prob", "in")), Edge(("prob", "out"), ("verdict", "in"))]
    assert not collect(g).gan_probabilities  # bce on a Sigmoid: the lint warns (tests/graph_core)
    critic.nodes["verdict"].params["loss"] = "bce_probs"
    assert collect(g).gan_probabilities
    g.data = {**g.data, "limit": 256}
    events: list[dict] = []
    result = train(g, {"out": str(tmp_path)}, on_event=events.append)
    assert result.status == "completed"
    metrics = next(e for e in events if e["type"] == "epoch")["metrics"]
    # D(x) and D(G(z)) are the discriminator's own probabilities: in (0, 1), not sigmoid'ed twice
    # (sigmoid of a probability is always above 0.5)
    assert 0.0 < metrics["d_g_z"] < 0.5 < metrics["d_x"] < 1.0
