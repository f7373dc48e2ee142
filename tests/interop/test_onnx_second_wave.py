"""Mappings onto the second wave of layers (ReLU6, SiLU, Hardswish, GroupNorm, InstanceNorm,
LocalResponseNorm, Pad, Transpose, MatMul, ...), checked with real files once the layers exist."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper, save
from torch import nn

import graph_core as gc

from .helpers import export_module, import_and_compare, node_types

needs = {t: pytest.mark.skipif(not gc.has_spec(t), reason=f"no {t} node yet") for t in
         ("ReLU6", "GroupNorm", "LocalResponseNorm", "Pad", "Transpose", "MatMul")}


class InvertedResidual(nn.Module):
    """MobileNetV2's block, with the rest of the second-wave activations and norms behind it."""

    def __init__(self):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(4, 12, 1, bias=False), nn.BatchNorm2d(12), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(12, 12, 3, padding=1, groups=12, bias=False),
                                       nn.BatchNorm2d(12), nn.ReLU6())
        self.project = nn.Sequential(nn.Conv2d(12, 4, 1, bias=False), nn.BatchNorm2d(4))
        self.tail = nn.Sequential(nn.Hardswish(), nn.GroupNorm(2, 4), nn.SiLU(), nn.InstanceNorm2d(4, affine=True),
                                  nn.ELU(0.5), nn.PReLU(4), nn.Hardsigmoid(), nn.Softplus(),
                                  nn.ReflectionPad2d((1, 2, 0, 1)), nn.ConstantPad2d((0, 1, 1, 0), 0.5),
                                  nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(4, 3))

    def forward(self, x):
        return self.tail(x + self.project(self.depthwise(self.expand(x))))


@needs["ReLU6"]
@needs["GroupNorm"]
@needs["Pad"]
@pytest.mark.parametrize("opset,dynamo", [(11, False), (17, False), (18, True)])
def test_mobilenet_block_and_second_wave_layers(opset, dynamo, tmp_path):
    torch.manual_seed(0)
    module = InvertedResidual()
    result = import_and_compare(export_module(module, torch.randn(2, 4, 8, 8), tmp_path / "m.onnx", opset, dynamo))
    types = node_types(result)
    assert types.count("ReLU6") == 2 and "Pad" in types and "Add" in types


@needs["LocalResponseNorm"]
def test_caffe2_style_lrn(tmp_path):
    w = np.random.default_rng(0).standard_normal((6, 3, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv1", kernel_shape=[3, 3]),
             helper.make_node("LRN", ["c"], ["y"], name="norm1", size=5, alpha=1e-3, beta=0.75, bias=2.0)]
    graph = helper.make_graph(nodes, "caffe2", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6, 6, 6])],
                              [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 4
    save(model, str(tmp_path / "lrn.onnx"))
    result = import_and_compare(tmp_path / "lrn.onnx")
    assert result.graph.nodes["norm1"].params == {"size": 5, "alpha": 1e-3, "beta": 0.75, "k": 2.0}


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k = nn.Linear(6, 6), nn.Linear(6, 6)

    def forward(self, x):
        scores = torch.matmul(self.q(x), self.k(x).transpose(1, 2))
        return torch.softmax(scores, -1)


@needs["Transpose"]
@needs["MatMul"]
@pytest.mark.parametrize("opset,dynamo", [(13, False), (18, True)])
def test_transpose_and_matmul_of_two_tensors(opset, dynamo, tmp_path):
    result = import_and_compare(export_module(Attention(), torch.randn(2, 5, 6), tmp_path / "a.onnx", opset, dynamo))
    assert {"Transpose", "MatMul"} <= set(node_types(result))


@pytest.mark.skipif("align_corners" not in {p.name for p in gc.get_spec("Upsample").params},
                    reason="no Upsample align_corners yet")
@pytest.mark.parametrize("align", [False, True])
def test_bilinear_resize_with_and_without_align_corners(align, tmp_path):
    module = nn.Sequential(nn.Conv2d(2, 3, 1), nn.Upsample(scale_factor=2, mode="bilinear", align_corners=align))
    result = import_and_compare(export_module(module, torch.randn(2, 2, 5, 5), tmp_path / "up.onnx", 13))
    up = next(n for n in result.graph.nodes.values() if n.type == "Upsample")
    assert up.params["mode"] == "bilinear" and bool(up.params.get("align_corners", False)) == align


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 7, batch_first=True)
        self.gru = nn.GRU(7, 3, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        z, _ = self.gru(y)
        return self.fc(z)


@pytest.mark.skipif(not gc.has_spec("LSTM"), reason="no LSTM node yet")
@pytest.mark.parametrize("opset,dynamo", [(13, False), (17, False), (18, True)])
def test_lstm_gru_rnn_layers(opset, dynamo, tmp_path):
    torch.manual_seed(0)
    module = Recurrent()
    result = import_and_compare(export_module(module, torch.randn(2, 4, 5), tmp_path / "r.onnx", opset, dynamo),
                                sum(p.numel() for p in module.parameters()))
    assert [t for t in node_types(result) if t not in ("Input", "Output")] == ["LSTM", "GRU", "Dense"]


@pytest.mark.skipif(not gc.has_spec("RNN"), reason="no RNN node yet")
def test_simple_rnn_from_the_legacy_exporter(tmp_path):
    wrapped = _First(nn.RNN(5, 4, batch_first=True, nonlinearity="relu"))
    result = import_and_compare(export_module(wrapped, torch.randn(2, 3, 5), tmp_path / "rnn.onnx", 13))
    rnn = next(n for n in result.graph.nodes.values() if n.type == "RNN")
    assert rnn.params["nonlinearity"] == "relu"


class _First(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)[0]
