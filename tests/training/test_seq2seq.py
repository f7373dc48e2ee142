"""Sequence-to-sequence training: the toy translation pair, the user's parallel TSV, the regime
the graph implies (teacher forcing, padding ignored, greedy decoding, BLEU), the vocabularies
saved with the run, and `netwright translate`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import templates
import training
from netwright.cli import main
from training.datasets.core import Options
from training.datasets.pipeline import load_raw
from training.datasets.translation import BOS_ID, EOS_ID, PAD_ID, decode, make_translation
from training.seq2seq import bleu, greedy_decode, sequence_scores, shift_right, token_loss
from training.task import SEQ2SEQ, analyse

SMALL = {"embedding_dim": 8, "hidden_size": 16}


def _pairs(raw, k):
    src, tgt = raw.info["source"].class_names, raw.info["target"].class_names
    return [(" ".join(decode(raw.fields["source"][i], src)), " ".join(decode(raw.fields["target"][i], tgt)))
            for i in range(k)]


def test_the_toy_pair_reorders_adjectives_and_agrees_in_gender():
    raw = make_translation(Options({"n_samples": 400}, "translation_synth"), 0)
    pairs = dict(_pairs(raw, 400))
    assert len(pairs) == 400  # distinct sentences: held-out ones are new
    assert raw.fields["source"].shape == (400, 7) and raw.fields["target"].shape == (400, 8)
    assert raw.info["target"].class_names[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    for en, fr in pairs.items():
        words = en.split()
        if words[1] == "black" and words[2] == "cat":
            assert fr.split()[:3] == (["le", "chat", "noir"] if words[0] == "the" else ["un", "chat", "noir"])
        if words[:3] == ["the", "black", "house"]:
            assert fr.split()[:3] == ["la", "maison", "noire"]
    # every target ends with EOS then padding only
    for row in raw.fields["target"]:
        end = list(row).index(EOS_ID)
        assert all(v == PAD_ID for v in row[end + 1:])
    # the vocabulary does not depend on how many sentences were drawn
    few = make_translation(Options({"n_samples": 5}, "x"), 1)
    assert few.info["target"].class_names == raw.info["target"].class_names


def test_a_parallel_tsv_builds_its_own_vocabularies(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("# english\tgerman\nthe house\tdas Haus\na small house\tein kleines Haus\n\n", encoding="utf-8")
    raw = load_raw({"dataset": str(path), "format": "parallel"})
    assert raw.info["source"].class_names == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "house", "small", "the"]
    assert raw.info["target"].class_names[4:] == ["das", "ein", "haus", "kleines"]
    assert raw.fields["source"].tolist() == [[7, 5, 0], [4, 6, 5]]
    assert raw.fields["target"].tolist() == [[4, 6, 2, 0], [5, 7, 6, 2]]  # das haus EOS; ein kleines haus EOS
    bad = tmp_path / "bad.tsv"
    bad.write_text("only one column\n", encoding="utf-8")
    with pytest.raises(training.DataError, match="bad.tsv:1: expected 'source sentence<TAB>target sentence'"):
        load_raw({"dataset": str(bad), "format": "parallel"})


def test_teacher_forcing_shifts_the_target_right_and_padding_costs_nothing():
    target = torch.tensor([[5, 6, EOS_ID, PAD_ID]])
    assert shift_right(target).tolist() == [[BOS_ID, 5, 6, EOS_ID]]
    scores = torch.zeros(1, 4, 8)
    scores[0, 3, 7] = 50.0  # a confident wrong guess at the padded position
    for pos, word in enumerate([5, 6, EOS_ID]):
        scores[0, pos, word] = 50.0
    assert float(token_loss(scores, target)) < 1e-6
    predicted = torch.tensor([[5, 6, EOS_ID, 4], [5, 1, EOS_ID, 0]])
    counts = sequence_scores(predicted, torch.tensor([[5, 6, EOS_ID, 0], [5, 6, EOS_ID, 0]]))
    assert {k: int(v) for k, v in counts.items()} == {"correct": 5, "seen": 6, "exact": 1, "sentences": 2}
    assert bleu(["le chat est noir"], ["le chat est noir"]) == pytest.approx(100.0)
    assert bleu(["la maison"], ["le chat est noir"]) < 10


def test_greedy_decoding_feeds_each_prediction_back():
    seen = []

    def add_two(source, target):  # at each position: the token it was given there, plus two
        seen.append(target.clone())
        return torch.nn.functional.one_hot((target + 2).clamp(max=9), 10).float()

    out = greedy_decode(add_two, [torch.zeros(1, 3, dtype=torch.long), None], 1, None, 4)
    assert out.tolist() == [[3, 5, 7, 9]]  # BOS 1 -> 3 -> 5 -> 7 -> 9
    assert [s.tolist() for s in seen] == [[[1, 0, 0, 0]], [[1, 3, 0, 0]], [[1, 3, 5, 0]], [[1, 3, 5, 7]]]


def test_the_graph_implies_the_seq2seq_regime():
    assert analyse(templates.build("seq2seq", **SMALL)).regime == SEQ2SEQ
    assert analyse(templates.build("transformer", d_model=8, nhead=2, num_layers=1)).regime == SEQ2SEQ
    assert analyse(templates.build("bert_tiny", length=8)).regime == "supervised"


@pytest.mark.parametrize("attention", [True, False])
def test_seq2seq_trains_and_translates(tmp_path, capsys, attention):
    graph = templates.build("seq2seq", attention=attention, **SMALL)
    graph.data["n_samples"] = 200
    result = training.train(graph, {"max_steps": 3, "epochs": 1, "batch_size": 32, "device": "cpu",
                                    "out": str(tmp_path / "run"), "samples": False})
    assert result.ok, (result.error, result.issues)
    assert result.regime == SEQ2SEQ
    row = json.loads((tmp_path / "run" / "epochs.jsonl").read_text().splitlines()[-1])
    assert {"val_accuracy", "val_exact_match", "val_bleu", "train_accuracy"} <= set(row)
    vocab = json.loads((tmp_path / "run" / "vocab.json").read_text())
    assert vocab["source"][4:7] == ["a", "big", "bird"] and "chat" in vocab["target"]
    graph_file = tmp_path / "s2s.json"
    import graph_core as gc

    gc.save_graph(graph, graph_file)
    code = main(["translate", str(graph_file), "--run", str(tmp_path / "run"), "the cat is black", "a dog"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 2
    assert all(w in vocab["target"] for line in lines for w in line.split())
    assert main(["translate", str(graph_file), "--run", str(tmp_path / "run"),
                 "the cat sees the black dog and the old house"]) == 1
    assert "reads at most 7" in capsys.readouterr().err


def test_transformer_trains_and_translates(tmp_path, capsys):
    import graph_core as gc

    graph = templates.build("transformer", d_model=8, nhead=2, num_layers=1, dim_feedforward=16)
    graph.data["n_samples"] = 200
    result = training.train(graph, {"max_steps": 3, "epochs": 1, "batch_size": 32, "device": "cpu",
                                    "out": str(tmp_path / "run"), "samples": False})
    assert result.ok, (result.error, result.issues)
    assert result.regime == SEQ2SEQ
    vocab = json.loads((tmp_path / "run" / "vocab.json").read_text())
    graph_file = tmp_path / "tr.json"
    gc.save_graph(graph, graph_file)
    code = main(["translate", str(graph_file), "--run", str(tmp_path / "run"), "the cat is black", "a dog"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 2
    assert all(w in vocab["target"] for line in lines for w in line.split())
    # unknown words read as <unk>; a sentence longer than the Input refuses with the limit
    assert main(["translate", str(graph_file), "--run", str(tmp_path / "run"), "the zebra"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert main(["translate", str(graph_file), "--run", str(tmp_path / "run"),
                 "the cat sees the black dog and the old house"]) == 1
    assert "reads at most 7" in capsys.readouterr().err


def test_translate_refuses_a_graph_that_is_not_a_translator(tmp_path, capsys):
    import graph_core as gc

    path = tmp_path / "bert.json"
    gc.save_graph(templates.build("bert_tiny", length=8), path)
    assert main(["translate", str(path), "--run", str(tmp_path), "hello"]) == 1
    assert "not a translator" in capsys.readouterr().err


def test_bert_tiny_reads_token_position_and_segment_embeddings(tmp_path):
    graph = templates.build("bert_tiny", length=8, d_model=8, nhead=2, num_layers=1)
    graph.data["n_samples"] = 64
    result = training.train(graph, {"max_steps": 2, "epochs": 1, "batch_size": 16, "device": "cpu",
                                    "out": str(tmp_path), "samples": False})
    assert result.ok, (result.error, result.issues)
    types = {n.type for n in graph.nodes.values()}
    assert {"PositionalEmbedding", "Add", "LayerNorm", "TransformerEncoderLayer", "Select"} <= types
    raw = load_raw(graph.data)
    assert np.array_equal(raw.fields["segments"][0], [0, 0, 0, 0, 1, 1, 1, 1])
