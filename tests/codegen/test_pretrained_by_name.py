"""Loading a state dict by name: automatic for template graphs (the template records torchvision's
module paths), matched by name and editable for a graph the user drew, and reported as loaded /
missing / unexpected by `netwright pretrained`."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import graph_core as gc
import templates
from codegen import compile_graph
from codegen.pretrained import load_state_dict_by_name, match_keys
from codegen.weights import read_state
from netwright.cli import main

from .graphs import Builder


class Drawn(nn.Module):
    """What a user rebuilds by hand: a small torch net whose module names they reuse as node ids."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 8 * 8, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.bn1(self.conv1(x))).flatten(1))


def _drawn_graph() -> gc.Graph:
    b = Builder("drawn")
    b.node("x", "Input", shape=[1, 8, 8]).node("conv1", "Conv2d", out_channels=4, padding=1)
    b.node("bn1", "BatchNorm").node("relu", "ReLU").node("flat", "Flatten").node("fc", "Dense", out_features=3)
    b.node("label", "Output")
    return b.chain("x", "conv1", "bn1", "relu", "flat", "fc", "label").graph


def test_a_drawn_graph_is_matched_by_name_and_computes_the_same():
    torch.manual_seed(0)
    net = Drawn().eval()
    graph = _drawn_graph()
    model = compile_graph(graph).eval()
    assert match_keys(model, net.state_dict()) == {"conv1": "conv1", "bn1": "bn1", "fc": "fc"}
    report = load_state_dict_by_name(model, graph, state=net.state_dict())
    assert report.ok and sorted(report.loaded) == sorted(net.state_dict())
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), net(x))


def test_an_edited_mapping_reports_missing_and_unexpected_keys():
    net = Drawn()
    graph = _drawn_graph()
    model = compile_graph(graph)
    report = load_state_dict_by_name(model, graph, state=net.state_dict(), keys={"conv1": "conv1", "fc": None})
    assert not report.ok
    assert sorted(report.unexpected_keys) == sorted(k for k in net.state_dict() if k.startswith("bn1."))
    assert sorted(report.ignored) == ["fc.bias", "fc.weight"]
    report = load_state_dict_by_name(model, graph, state={"conv1.weight": net.conv1.weight},
                                     keys={"conv1": "conv1"})
    assert report.missing_keys == ["conv1.bias"]
    assert str(report).startswith("loaded 1 tensors, missing 1, unexpected 0, ignored 0")


def test_cli_reports_loads_writes_weights_and_saves_the_map(tmp_path, capsys):
    net = Drawn()
    pth = tmp_path / "net.pth"
    torch.save(net.state_dict(), pth)
    gfile = tmp_path / "drawn.json"
    gc.save_graph(_drawn_graph(), gfile)
    out = tmp_path / "w.safetensors"
    assert main(["pretrained", str(gfile), str(pth), "-o", str(out), "--map", "fc=", "--save-map", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["ignored"] == ["fc.weight", "fc.bias"] and report["unexpected"] == []
    assert len(report["loaded"]) == len(net.state_dict()) - 2
    assert torch.equal(read_state(out)[_attr(gfile, "conv1") + ".weight"], net.conv1.weight)
    saved = gc.load_graph(gfile).training["init_weights"]
    assert saved["keys"] == {"conv1": "conv1", "bn1": "bn1", "fc": None} and saved["path"] == str(pth)
    # a key the graph cannot take: exit 1, one line per problem
    torch.save({**net.state_dict(), "head.weight": torch.zeros(2)}, pth)
    assert main(["pretrained", str(gfile), str(pth)]) == 1
    assert "head.weight: no node takes this tensor" in capsys.readouterr().out


def _attr(gfile, node: str) -> str:
    return compile_graph(gc.load_graph(gfile)).node_modules[node]


def test_cli_loads_a_template_graph_without_any_mapping_given(tmp_path, capsys):
    from tests.templates.torchvision_twins import MobileNetV2

    twin = MobileNetV2(num_classes=5, width_mult=0.25)
    pth = tmp_path / "mnv2.pth"
    torch.save(twin.state_dict(), pth)
    gfile = tmp_path / "m.json"
    gc.save_graph(templates.build("mobilenet_v2", in_channels=3, num_classes=5, width_mult=0.25), gfile)
    assert main(["pretrained", str(gfile), str(pth)]) == 0
    assert capsys.readouterr().out.startswith(f"loaded {len(twin.state_dict())} tensors, missing 0, unexpected 0")


def test_cli_reads_the_graphs_weights_file_from_the_graphs_folder(tmp_path, monkeypatch, capsys):
    """An imported graph names its weights file beside it: the command finds it from anywhere, and
    a file given relative to the working folder is stored relative to the graph's."""
    net = Drawn()
    project = tmp_path / "project"
    project.mkdir()
    torch.save(net.state_dict(), project / "net.pth")
    gfile = project / "drawn.json"
    gc.save_graph(_drawn_graph(), gfile)
    monkeypatch.chdir(project)
    assert main(["pretrained", str(gfile), "net.pth", "--map", "fc=", "--save-map"]) == 0
    assert gc.load_graph(gfile).training["init_weights"]["path"] == "net.pth"
    monkeypatch.chdir(tmp_path)  # elsewhere: the graph's own relative path still reads its file
    capsys.readouterr()
    assert main(["pretrained", str(gfile)]) == 0
    assert capsys.readouterr().out.startswith(f"loaded {len(net.state_dict()) - 2} tensors")


@pytest.mark.parametrize("argv,code", [(["--map", "nonsense"], 2), ([], 2)])
def test_cli_refuses_bad_requests(tmp_path, capsys, argv, code):
    gfile = tmp_path / "drawn.json"
    gc.save_graph(_drawn_graph(), gfile)
    extra = [str(tmp_path / "nowhere.pth")] if argv else []
    assert main(["pretrained", str(gfile), *extra, *argv]) == code
    assert capsys.readouterr().err.startswith("error: ")
