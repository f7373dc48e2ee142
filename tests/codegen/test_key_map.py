"""The key map as a table (codegen.key_map): a drawn graph whose node ids are not torchvision's
module paths is guessed by order and shape, the table's counts agree with what loading by name
really does, and the map file reads back what it wrote (and what `netwright pretrained
--map-file` takes)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import graph_core as gc
from codegen import compile_graph
from codegen.key_map import (
    LOADED,
    MISMATCH,
    MISSING,
    NOT_USED,
    UNEXPECTED,
    compatible_nodes,
    format_key_map,
    guess_by_order,
    key_rows,
    key_table,
    parse_key_map,
    summary,
)
from codegen.pretrained import load_state_dict_by_name
from netwright.cli import main

from .graphs import Builder


class TorchvisionLike(nn.Module):
    """`features.0` / `features.1` / `features.3` / `classifier`: torchvision's naming, not the user's."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.Conv2d(4, 4, 3, padding=1))
        self.classifier = nn.Linear(4 * 8 * 8, 3)


def drawn() -> gc.Graph:
    b = Builder("drawn")
    b.node("x", "Input", shape=[1, 8, 8]).node("stem", "Conv2d", out_channels=4, padding=1)
    b.node("norm", "BatchNorm").node("relu", "ReLU").node("conv", "Conv2d", out_channels=4, padding=1)
    b.node("flat", "Flatten").node("head_fc", "Dense", out_features=3).node("label", "Output")
    return b.chain("x", "stem", "norm", "relu", "conv", "flat", "head_fc", "label").graph


def test_a_drawn_graph_is_guessed_by_order_and_shape_and_loads_exactly():
    torch.manual_seed(0)
    net = TorchvisionLike()
    graph = drawn()
    model = compile_graph(graph)
    table = key_table(model, graph, net.state_dict())
    assert table["keys"] is None
    assert table["by_name"] == {}  # torchvision's module paths name none of the drawn nodes
    assert table["guess"] == {"features.0": "stem", "features.1": "norm", "features.3": "conv",
                              "classifier": "head_fc"}
    report = load_state_dict_by_name(model, graph, keys=table["guess"], state=net.state_dict())
    assert report.ok and sorted(report.loaded) == sorted(net.state_dict())
    assert torch.equal(model.get_submodule(model.generated.node_paths[("conv",)]).weight, net.features[3].weight)


def test_the_table_counts_what_loading_does_for_an_edited_mapping():
    net = TorchvisionLike()
    graph = drawn()
    model = compile_graph(graph)
    table = key_table(model, graph, net.state_dict())
    files = {k: tuple(s) for k, s in table["file"]}
    nodes = {n: {k: tuple(s) for k, s in t.items()} for n, t in table["nodes"]}
    # both 4 -> 4 convolutions fit features.3; only stem fits features.0
    assert compatible_nodes({"weight": (4, 4, 3, 3), "bias": (4,)}, nodes) == ["conv"]
    assert compatible_nodes({"weight": (4, 1, 3, 3)}, nodes) == ["stem"]
    keys = {"features.0": "conv", "features.1": "norm", "classifier": None}  # features.3 left unmapped
    rows = {r.prefix: r for r in key_rows(files, nodes, keys)}
    assert rows["features.0"].status == MISMATCH and "[4, 1, 3, 3] in the file" in rows["features.0"].detail()
    assert rows["features.1"].status == LOADED and rows["features.3"].status == UNEXPECTED
    assert rows["classifier"].status == NOT_USED
    counts = summary(rows.values())
    report = load_state_dict_by_name(model, graph, keys=keys, state=net.state_dict())
    assert counts["loaded"] == len(report.loaded) == 6  # the norm's five tensors and the bias that fits
    assert counts["unexpected"] == len(report.unexpected_keys) == 2
    assert counts["shape_mismatches"] == len(report.shape_mismatches) == 1
    assert counts["ignored"] == len(report.ignored) == 2
    assert counts["missing"] == len(report.missing_keys) == 0
    # a file without the conv's bias: that row is "missing", and so is the report
    del files["features.0.bias"]
    rows = {r.prefix: r for r in key_rows(files, nodes, {"features.0": "stem"})}
    assert rows["features.0"].status == MISSING and rows["features.0"].missing == ["bias"]


def test_guess_keeps_what_is_known_and_continues_after_it():
    files = {"a.weight": (4, 1), "b.weight": (4, 4), "c.weight": (4, 4)}
    nodes = {"n1": {"weight": (4, 1)}, "n2": {"weight": (4, 4)}, "n3": {"weight": (4, 4)}}
    assert guess_by_order(files, nodes) == {"a": "n1", "b": "n2", "c": "n3"}
    assert guess_by_order(files, nodes, {"b": "n3"}) == {"a": "n1", "b": "n3"}  # nothing after n3 fits c


def test_the_map_file_round_trips_and_the_cli_reads_it(tmp_path, capsys):
    keys = {"features.0": "stem", "features.1": "norm", "features.3": "conv", "classifier": None}
    text = format_key_map(keys)
    assert "classifier=\n" in text and parse_key_map(text) == keys
    with pytest.raises(ValueError, match="line 2"):
        parse_key_map("a=b\nnot a mapping\n")
    mapfile = tmp_path / "keys.txt"
    mapfile.write_text(text, encoding="utf-8")
    pth = tmp_path / "net.pth"
    torch.save(TorchvisionLike().state_dict(), pth)
    gfile = tmp_path / "drawn.json"
    gc.save_graph(drawn(), gfile)
    assert main(["pretrained", str(gfile), str(pth), "--map-file", str(mapfile), "--save-map", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and len(report["loaded"]) == 9 and report["ignored"] == ["classifier.weight", "classifier.bias"]
    assert gc.load_graph(gfile).training["init_weights"]["keys"] == keys
    bad = tmp_path / "bad.txt"
    bad.write_text("oops\n", encoding="utf-8")
    assert main(["pretrained", str(gfile), str(pth), "--map-file", str(bad)]) == 2


def test_resnet18_redrawn_without_its_mapping_is_guessed_whole():
    """The resnet template's own mapping removed, as if the user had drawn it: the guess (names,
    then order and shape) finds every one of torchvision's module paths again."""
    import templates

    graph = templates.build("resnet", depth=18, input_size=32, num_classes=10)
    keys = graph.training["init_weights"].pop("keys")
    model = compile_graph(graph)
    paths = model.generated.node_paths
    state = {}
    for prefix, node in keys.items():
        if node is not None:
            module = model.get_submodule(paths[tuple(node.split("/"))])
            for name, tensor in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]:
                state[f"{prefix}.{name}"] = torch.randn_like(tensor.float()).to(tensor.dtype)
    guess = key_table(model, graph, state)["guess"]
    assert guess == {prefix: node for prefix, node in keys.items() if node is not None}
    assert len(guess) == 41  # 20 convolutions, 20 batch norms, fc
