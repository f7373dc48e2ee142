"""Imported nodes are named after the model's own module paths, not the exporter's op counters."""

from __future__ import annotations

import onnx
import pytest
import torch
from onnx import helper
from torch import nn

import codegen
import templates
from codegen.pretrained import load_state_dict_by_name
from interop import import_source
from interop.onnx_names import io_label, legacy_path, readable_label, scope_path, weights_path

from .helpers import export_module, import_and_compare


@pytest.mark.parametrize("name", ["lenet", "transformer"])
def test_netwright_export_imports_with_the_templates_ids(name, tmp_path):
    graph = templates.build(name)
    path = tmp_path / f"{name}.onnx"
    codegen.export_onnx(graph, path)
    result = import_source(str(path), tmp_path / "imported.json")
    assert result.max_diff is not None and result.max_diff <= 1e-4  # compared under the file's names
    assert sorted(result.graph.nodes) == sorted(graph.nodes)  # the file's order may differ
    # the display name is the module's own (`source`, not the export's reserved-word `source_`)
    assert all(n.name == k for k, n in result.graph.nodes.items())
    assert all(result.graph.nodes[k].type == n.type for k, n in graph.nodes.items())


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) + x


class _TorchvisionStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.flat = nn.Flatten()
        self.classifier = nn.Sequential(nn.Linear(64, 8), nn.ReLU())
        self.blocks = nn.ModuleList([_Block()])
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.blocks[0](self.classifier(self.flat(self.features(x)))))


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript"])
def test_module_paths_name_the_nodes(dynamo, tmp_path):
    torch.manual_seed(0)
    module = _TorchvisionStyle().eval()
    path = export_module(module, torch.randn(2, 1, 8, 8), tmp_path / "tv.onnx", opset=18 if dynamo else 13,
                         dynamo=dynamo)
    result = import_and_compare(path, sum(p.numel() for p in module.parameters()))
    names = {n.name: (k, n.type) for k, n in result.graph.nodes.items()}
    assert names["features.0"] == ("features_0", "Conv2d")
    assert names["features.1"] == ("features_1", "ReLU")
    assert names["features.2"] == ("features_2", "MaxPool2d")
    assert names["classifier.0"] == ("classifier_0", "Dense")
    assert names["blocks.0.fc"] == ("blocks_0_fc", "Dense")
    assert names["blocks.0.act"] == ("blocks_0_act", "ReLU")
    assert names["blocks.0"] == ("blocks_0", "Add")  # the block's own op, outside any submodule
    assert names["head"] == ("head", "Dense")
    # the module's own state dict loads into the imported graph by those names
    model = codegen.compile_graph(result.graph)
    report = load_state_dict_by_name(model, result.graph, state=module.state_dict())
    assert report.ok and not report.unexpected_keys
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(model(x), module(x), atol=1e-5)


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript"])
def test_a_top_level_sequential_gets_ids_from_its_layer_kinds(dynamo, tmp_path):
    """nn.Sequential's module paths are bare indices (`0`, `1`): the ids put the layer kind in
    front (`conv2d_0`), the display names stay the module paths its state dict uses."""
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 10),
                           nn.ReLU(), nn.Linear(10, 3)).eval()
    path = export_module(module, torch.randn(2, 1, 8, 8), tmp_path / "seq.onnx", opset=18 if dynamo else 13,
                         dynamo=dynamo)
    result = import_and_compare(path, sum(p.numel() for p in module.parameters()))
    inner = [(k, n.name) for k, n in result.graph.nodes.items() if n.type not in ("Input", "Output")]
    assert inner == [("conv2d_0", "0"), ("relu_1", "1"), ("flatten_2", "2"), ("dense_3", "3"),
                     ("relu_4", "4"), ("dense_5", "5")]
    model = codegen.compile_graph(result.graph)
    report = load_state_dict_by_name(model, result.graph, state=module.state_dict())
    assert report.ok and len(report.loaded) == 6  # by the display names, as before


def _node(op="Relu", name="", inputs=("a",), scopes=None):
    node = helper.make_node(op, list(inputs), ["out"], name=name)
    if scopes is not None:
        entry = node.metadata_props.add()
        entry.key, entry.value = "pkg.torch.onnx.name_scopes", repr(scopes)
    return node


def test_naming_rules():
    assert weights_path({"conv1.weight", "conv1.bias"}) == "conv1"
    assert weights_path({"encoder.layers.0.self_attn.in_proj_weight",
                         "encoder.layers.0.self_attn.out_proj.weight"}) == "encoder.layers.0.self_attn"
    assert weights_path({"W", "onnx::Conv_12", "val_4"}) == ""
    assert weights_path({"a.weight", "b.weight"}) == ""
    assert scope_path(_node(scopes=["", "features", "features.1", "relu_3"])) == "features.1"
    assert scope_path(_node("Add", scopes=["", "add_10"])) == "add"
    assert scope_path(_node()) == ""
    assert legacy_path(_node("Conv", "/layer1/layer1.0/conv1/Conv")) == "layer1.0.conv1"
    assert legacy_path(_node("Add", "/blocks.0/Add")) == "blocks.0"
    assert legacy_path(_node("Conv", "conv1")) == ""
    # weights win over the scope; a hand-made file's own names are kept
    assert readable_label(_node("Conv", "node_conv2d", scopes=["", "x", "conv2d"]), {"fc.weight"}) == "fc"
    assert readable_label(_node("Conv", "node_Conv_23")) == "Conv_23"
    assert io_label("source_") == "source" and io_label("_") == "_" and io_label("x") == "x"


def test_metadata_names_a_weightless_node(tmp_path):
    node = _node("Relu", "node_relu_4", ["x"], scopes=["", "act1", "relu_4"])
    node.output[0] = "y"
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3])])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    result = import_and_compare(path)
    assert [(k, n.name) for k, n in result.graph.nodes.items()] == [("x", "x"), ("act1", "act1"), ("y", "y")]
