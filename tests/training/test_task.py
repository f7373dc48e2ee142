"""The graph decides the regime; fields and targets are bound before any training starts."""

from __future__ import annotations

import pytest

from tests.training import graphs
from training import BindingError, analyse, bind, prepare, train


@pytest.mark.parametrize(("build", "regime", "metric"), [
    (graphs.mlp_digits, "supervised", ("accuracy", "max")),
    (lambda: graphs.autoencoder_digits(vae=False), "autoencoder", ("reconstruction", "min")),
    (lambda: graphs.autoencoder_digits(vae=True), "vae", ("reconstruction", "min")),
    (graphs.gan_digits, "gan", ("g_loss", "min")),
    (graphs.segnet_shapes, "segmentation", ("miou", "max")),
])
def test_regime_is_inferred_from_the_graph(build, regime, metric):
    task = analyse(build())
    assert task.regime == regime
    assert task.main_metric == metric


def test_heads_know_their_targets():
    task = analyse(graphs.two_heads_digits())
    kinds = {h.node: (h.kind, h.target_field, h.weight) for h in task.heads}
    assert kinds == {"head": ("classify", "label", 1.0), "odd": ("binary", "is_odd", 0.5)}
    assert task.fields() == {"image", "label", "is_odd"}


def _issues(graph):
    with pytest.raises(BindingError) as info:
        bind(analyse(graph), prepare(graph.data, seed=0).info, "digits")
    return info.value.issues


def test_missing_field_names_the_node_and_what_the_data_has():
    g = graphs.mlp_digits()
    g.nodes["image"].params["field"] = "picture"
    assert _issues(g) == ["image: field 'picture' is not in digits (it has: image, label)"]


def test_shape_mismatch_is_reported_on_the_input():
    g = graphs.mlp_digits()
    g.nodes["image"].params["shape"] = [1, 28, 28]
    assert _issues(g) == ["image: field 'image' has samples of shape (1, 8, 8) but this Input expects (1, 28, 28)"]


def test_class_count_must_match_the_head_width():
    issues = _issues(graphs.mlp_digits(classes=3))
    assert issues == ["head: field 'label' has 10 classes but this head gives 3 scores: "
                      "set the layer before it to 10 outputs"]


def test_cross_entropy_on_numbers_and_bce_on_many_classes_are_refused():
    g = graphs.mlp_digits(classes=1)
    g.nodes["head"].params.update(loss="bce")
    assert _issues(g) == ["head: field 'label' has 10 classes; bce is for yes/no targets: use "
                          "cross_entropy with 10 outputs"]


def test_train_reports_binding_errors_before_any_step(tmp_path):
    events = []
    g = graphs.mlp_digits(classes=3)
    result = train(g, {"out": str(tmp_path / "run")}, on_event=events.append)
    assert result.status == "failed" and result.steps == 0
    assert result.issues == ["head: field 'label' has 10 classes but this head gives 3 scores: "
                             "set the layer before it to 10 outputs"]
    assert [e["type"] for e in events] == ["error"]
    assert events[0]["issues"] == result.issues
    assert not (tmp_path / "run").exists()  # nothing written for a run that never started


def test_invalid_graph_is_refused_with_node_messages(tmp_path):
    g = graphs.mlp_digits()
    g.edges = [e for e in g.edges if e.dst[0] != "head"]
    result = train(g, {"out": str(tmp_path / "run")})
    assert result.status == "failed"
    assert any(line.startswith("head: ") for line in result.issues)


def test_more_symbols_than_the_one_hot_holds_is_reported(tmp_path):
    # A FASTA file with N bases has 5 symbols; dna_cnn's OneHot holds 4.
    import templates

    graph = templates.build("dna_cnn", encoding="onehot")
    onehot = next(n for n in graph.nodes.values() if n.type == "OneHot")
    onehot.params["num_classes"] = 3
    info = prepare(graph.data).info
    with pytest.raises(BindingError) as err:
        bind(analyse(graph), info)
    assert (f"{onehot.id}: field 'sequence' holds 4 different ids (A, C, G, T) but this OneHot has "
            "num_classes 3: set num_classes to 4") in err.value.issues


def test_more_tokens_than_the_embedding_holds_is_reported():
    import templates

    graph = templates.build("embedding_classifier")
    emb = next(n for n in graph.nodes.values() if n.type == "Embedding")
    emb.params["num_embeddings"] = 10
    info = prepare(graph.data).info
    with pytest.raises(BindingError) as err:
        bind(analyse(graph), info)
    assert any(i.startswith(f"{emb.id}: field 'tokens' holds 50 different ids but this Embedding "
                            "has num_embeddings 10") for i in err.value.issues)
