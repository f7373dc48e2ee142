"""`netwright templates` and `netwright new` as a user runs them."""

from __future__ import annotations

import json

import pytest

import graph_core as gc
from netwright.cli import main


def test_templates_lists_every_template_with_parameters(capsys):
    assert main(["templates"]) == 0
    out = capsys.readouterr().out
    for name in ("perceptron", "lenet", "vgg", "transfer", "conv_vae", "segnet", "dcgan",
                 "dna_cnn", "timeseries_gaf", "multiomics_vae", "embedding_classifier"):
        assert f"\n{name} " in f"\n{out}"
    assert "depth=16 (int) [11|13|16|19]" in out
    assert "encoding=onehot (choice) [onehot|embedding]" in out
    assert "latent_dim=2 (int)" in out
    assert "weights='' (text)" in out


def test_templates_json_is_the_catalog(capsys):
    assert main(["templates", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert entries[0]["name"] == "perceptron"
    vae = next(e for e in entries if e["name"] == "vae")
    assert {p["name"] for p in vae["params"]} >= {"latent_dim", "beta"}


def test_new_writes_a_valid_graph_file_with_typed_parameters(tmp_path, capsys):
    target = tmp_path / "models" / "vgg11.json"
    code = main(["new", "vgg", "-p", "depth=11", "-p", "batch_norm=true", "-p", "in_channels=3",
                 "-p", "input_size=224", "-p", "num_classes=1000", "-p", "dropout=0.25", "-o", str(target)])
    assert code == 0
    assert "vgg (16 nodes, 132,868,840 parameters)" in capsys.readouterr().out
    graph = gc.load_graph(target)
    assert gc.validate(graph) == []
    assert gc.summarize(graph).total_params == 132_868_840
    assert graph.nodes["dropout1"].params["p"] == 0.25
    assert graph.description.startswith("VGG:")


def test_new_then_validate_and_summary(tmp_path, capsys):
    target = tmp_path / "dna.json"
    assert main(["new", "dna_cnn", "-p", "encoding=embedding", "-p", "length=60", "-o", str(target)]) == 0
    capsys.readouterr()
    assert main(["validate", str(target)]) == 0
    assert main(["summary", str(target), "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    rows = {r["id"]: r for r in json.loads(out)["nodes"]}
    assert rows["embed"]["output_shape"] == [8, 60]


@pytest.mark.parametrize(("argv", "message"), [
    (["new", "inception"], "error: unknown template 'inception' (templates: perceptron, "),
    (["new", "vae", "-p", "latent=3"], "error: template 'vae' has no parameter 'latent' (it has: "),
    (["new", "vae", "-p", "latent_dim=two"], "error: vae: latent_dim: must be a whole number; got 'two'"),
    (["new", "vae", "-p", "beta=much"], "error: vae: beta: must be a number; got 'much'"),
    (["new", "vgg", "-p", "batch_norm=maybe"], "error: vgg: batch_norm: must be true or false; got 'maybe'"),
    (["new", "vgg", "-p", "depth=17"], "error: vgg: depth: must be one of 11, 13, 16, 19; got 17"),
    (["new", "dna_cnn", "-p", "encoding=kmers"], "error: dna_cnn: encoding: must be one of onehot, embedding; got 'kmers'"),
    (["new", "vae", "-p", "latent_dim"], "error: -p 'latent_dim': expected KEY=VALUE"),
])
def test_new_refuses_bad_requests_in_one_line_with_exit_2(tmp_path, capsys, argv, message):
    target = tmp_path / "out.json"
    assert main([*argv, "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert not target.exists()


def test_new_bool_and_text_values(tmp_path):
    target = tmp_path / "t.json"
    assert main(["new", "transfer_vgg", "-p", "fine_tune=yes", "-p", "weights=/w/vgg16.pth",
                 "-p", "depth=16", "-o", str(target)]) == 0
    graph = gc.load_graph(target)
    assert graph.training["init_weights"]["path"] == "/w/vgg16.pth"
    assert not graph.nodes["stage1"].frozen and graph.nodes["stage1"].lr_factor == 0.1
