"""The built-in a graph without data is offered: matched on the Inputs' field names, dtypes and
shapes, and never one whose settings cannot take the graph's sizes."""

from __future__ import annotations

import templates
from tests.training.data_helpers import data_issues
from training.binding import suggest_dataset
from training.datasets import describe


def _apply(graph, fix):
    fix.command().apply(graph)
    return graph


def test_a_translator_without_data_is_offered_translation_synth_and_then_has_nodata_issues():
    for name, params in [("transformer", {"d_model": 8, "nhead": 2, "num_layers": 1}),
                         ("seq2seq", {"embedding_dim": 8, "hidden_size": 8})]:
        graph = templates.build(name, **params)
        graph.data = {}
        [issue] = data_issues(graph)
        assert [f.label for f in issue.fixes] == ["use translation_synth"]
        assert data_issues(_apply(graph, issue.fix)) == []
        assert graph.data == {"dataset": "translation_synth"}


def test_a_short_token_classifier_is_never_offered_dna_motif():
    graph = templates.build("dna_cnn", length=100)
    graph.data = {}
    assert suggest_dataset(graph).label == "use dna_motif"  # its names and sizes fit
    graph = templates.build("dna_cnn", length=7)  # under dna_motif's 8-base motif
    graph.data = {}
    fix = suggest_dataset(graph)
    assert fix is not None and fix.label != "use dna_motif"
    _apply(graph, fix)
    describe(graph.data)  # the settings it offers are accepted
    assert graph.data == {"dataset": "tokens_synth", "length": 7}  # ids and a label, as the graph reads


def test_bert_tiny_is_offered_tokens_with_segments():
    graph = templates.build("bert_tiny", length=8)
    graph.data = {}
    fix = suggest_dataset(graph)
    assert fix.label == "use tokens_synth"
    assert data_issues(_apply(graph, fix)) == []
    assert graph.data["segments"] is True and graph.data["length"] == 8


def test_an_mse_head_over_a_vocabulary_is_offered_cross_entropy():
    graph = templates.build("transformer", d_model=8, nhead=2, num_layers=1)
    graph.nodes["translation"].params["loss"] = "mse"  # what an import guessed before
    [issue] = data_issues(graph)
    assert issue.node == "translation" and "cross_entropy" in issue.message
    assert [f.label for f in issue.fixes] == ["set loss to cross_entropy"]
    assert data_issues(_apply(graph, issue.fix)) == []
    assert graph.nodes["translation"].params["loss"] == "cross_entropy"
