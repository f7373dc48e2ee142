"""The graph decides the regime; fields and targets are bound before any training starts."""

from __future__ import annotations

import pytest

from tests.training import graphs
from tests.training.data_helpers import data_issues
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


# ---- the same checks on a graph being edited, with one-click fixes --------------------------

def _fixed(graph, fix):
    """The graph after applying a fix, and whether undo gives the same file back."""
    import graph_core as gc

    before = gc.graph_to_json(graph)
    command = fix.command()
    command.apply(graph)
    after = gc.graph_to_json(graph)
    command.revert(graph)
    assert gc.graph_to_json(graph) == before
    command.apply(graph)
    assert gc.graph_to_json(graph) == after
    return graph


def _lenet_from_scratch():
    """What a user builds on an empty canvas: every node at its defaults, the last Dense at 10."""
    from graph_core import Edge, Graph, Node

    g = Graph(name="scratch")
    types = ["Input", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Dense",
             "ReLU", "Dense", "Output"]
    prev = None
    for t in types:
        nid = g.unique_id(t)
        g.nodes[nid] = Node(nid, t)
        if prev:
            g.edges.append(Edge((prev, "out"), (nid, "in")))
        prev = nid
    g.nodes["dense_2"].params["out_features"] = 10
    return g


def test_the_walkthroughs_three_failures_are_issues_with_fixes_before_train():
    g = _lenet_from_scratch()
    g.data = {}
    [issue] = data_issues(g)
    assert str(issue).startswith("data: no dataset given")
    assert issue.fix.label == "use digits at 28"
    _fixed(g, issue.fix)
    assert g.data == {"dataset": "digits", "image_size": 28}
    [issue] = data_issues(g)
    assert str(issue) == "input: field 'input' is not in digits (it has: image, label)"
    assert issue.fix.label == "bind input to field image"
    _fixed(g, issue.fix)
    assert data_issues(g) == []
    g.data = {"dataset": "digits"}
    [issue] = data_issues(g)
    assert str(issue) == ("input: field 'image' has samples of shape (1, 8, 8) but this Input "
                          "expects (1, 28, 28)")
    assert [f.label for f in issue.fixes] == ["resize digits to 28", "set input shape to 1, 8, 8"]
    assert data_issues(_fixed(g, issue.fixes[0])) == [] and g.data["image_size"] == 28
    g.data = {"dataset": "digits"}
    [issue] = data_issues(g)
    _fixed(g, issue.fixes[1])
    assert data_issues(g) == [] and list(g.nodes["input"].params["shape"]) == [1, 8, 8]


def test_a_head_too_narrow_for_the_classes_offers_to_resize_the_layer_before_it():
    g = _lenet_from_scratch()
    g.data = {"dataset": "digits", "image_size": 28}
    g.nodes["input"].params["field"] = "image"
    g.nodes["dense_2"].params["out_features"] = 3
    [issue] = data_issues(g)
    assert issue.node == "output" and issue.fix.label == "set dense_2 out_features to 10"
    assert data_issues(_fixed(g, issue.fix)) == []


def test_bce_on_ten_classes_offers_cross_entropy_with_ten_outputs():
    g = graphs.mlp_digits(classes=1)
    g.nodes["head"].params.update(loss="bce")
    [issue] = data_issues(g)
    assert issue.fix.label == "use cross_entropy with 10 outputs"
    assert data_issues(_fixed(g, issue.fix)) == []


def test_cross_entropy_on_numbers_offers_mse():
    from training.binding import binding_issues
    from training.datasets.core import FieldInfo

    g = graphs.mlp_digits(classes=2)
    info = {"image": FieldInfo((1, 8, 8), "float32"), "label": FieldInfo((), "float32", kind="label")}
    [issue] = binding_issues(analyse(g), info, "t", g)
    assert issue.message.startswith("cross-entropy needs class labels") and issue.fix.label == "set head loss to mse"


def test_a_missing_target_field_is_bound_to_the_label():
    g = graphs.mlp_digits()
    g.nodes["head"].params["target"] = "digit"
    [issue] = data_issues(g)
    assert str(issue) == "head: target field 'digit' is not in digits (it has: image, label)"
    assert issue.fix.label == "compare head with field label"
    assert data_issues(_fixed(g, issue.fix)) == []


def test_int_ids_read_as_floats_and_a_small_vocabulary_are_fixable():
    import templates

    g = templates.build("embedding_classifier")
    emb = next(n for n in g.nodes.values() if n.type == "Embedding")
    emb.params["num_embeddings"] = 10
    fixes = {i.fix.label for i in data_issues(g) if i.fix}
    assert f"set {emb.id} num_embeddings to 50" in fixes
    g = graphs.mlp_digits()
    g.nodes["image"].params["dtype"] = "int64"
    issues = data_issues(g)
    assert any(i.fix and i.fix.label == "set image dtype to float32" for i in issues)


def test_a_reconstruction_of_the_wrong_size_is_reported():
    from graph_core import Edge

    g = graphs.autoencoder_digits()
    g.nodes["dec_out"].params["out_features"] = 32
    del g.nodes["shape"]
    g.edges = [e for e in g.edges if "shape" not in (e.src[0], e.dst[0])] + [Edge(("dec_out", "out"), ("recon", "in"))]
    [issue] = data_issues(g)
    assert str(issue) == "recon: reconstructs image (1, 8, 8) but receives (32,)"
    assert issue.fix.label == "set dec_out out_features to 64"


def test_a_partly_invalid_graph_is_checked_where_it_can_be():
    g = _lenet_from_scratch()
    g.data = {"dataset": "digits"}
    g.edges = [e for e in g.edges if e.dst[0] != "output"]  # the head is not wired yet
    issues = data_issues(g)
    assert [i.node for i in issues] == ["input"]  # the Input is still checked; the head is skipped


def test_an_unknown_dataset_and_a_bad_option_are_issues_too():
    g = graphs.mlp_digits()
    g.data = {"dataset": "digits", "image_size": -1}
    [issue] = data_issues(g)
    assert issue.node is None and "'image_size' must be a positive size" in issue.message
    g.data = {"dataset": "nothing_like_this"}
    [issue] = data_issues(g)
    assert issue.message.startswith("unknown dataset 'nothing_like_this'") and issue.fix.label == "use digits"


def test_bind_and_the_designer_check_give_the_same_lines():
    from training.binding import binding_issues

    g = graphs.mlp_digits(classes=3)
    g.nodes["image"].params["field"] = "picture"
    info = prepare(g.data).info
    with pytest.raises(BindingError) as err:
        bind(analyse(g), info, "digits")
    assert err.value.issues == [str(i) for i in binding_issues(analyse(g), info, "digits", g)]
    assert err.value.issues == [str(i) for i in data_issues(g)]
