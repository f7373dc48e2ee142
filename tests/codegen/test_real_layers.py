"""The layers of real architectures with non-default parameters: the compiled node computes
exactly what the same torch.nn module computes, and the ONNX export matches within 1e-4.

Defaults are covered for every type by the registry contract tests; here each layer runs with
the settings published networks use (ReLU6, BatchNorm eps 1e-3, reflect padding, asymmetric
pads and crops, bilinear upsampling to a size with align_corners, per-channel PReLU...)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from codegen import compile_graph, export_onnx
from codegen.onnx_export import TOLERANCE

from .graphs import Builder

# (node type, its params, the input shape, the torch module that must compute the same)
CASES = [
    ("ReLU6", {}, (3, 5, 5), lambda: nn.ReLU6()),
    ("Hardtanh", {"min_val": 0.0, "max_val": 6.0}, (6,), lambda: nn.Hardtanh(0.0, 6.0)),
    ("SiLU", {}, (6,), lambda: nn.SiLU()),
    ("Hardswish", {}, (6,), lambda: nn.Hardswish()),
    ("Hardsigmoid", {}, (6,), lambda: nn.Hardsigmoid()),
    ("ELU", {"alpha": 0.5}, (6,), lambda: nn.ELU(alpha=0.5)),
    ("PReLU", {"num_parameters": 3, "init": 0.1}, (3, 4, 4), lambda: nn.PReLU(3, init=0.1)),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}, (6,), lambda: nn.Softplus(beta=2.0, threshold=5.0)),
    ("BatchNorm", {"eps": 1e-3, "momentum": 0.01}, (4, 5, 5), lambda: nn.BatchNorm2d(4, eps=1e-3, momentum=0.01)),
    ("BatchNorm", {"track_running_stats": False}, (4, 5, 5), lambda: nn.BatchNorm2d(4, track_running_stats=False)),
    ("GroupNorm", {"num_groups": 2, "eps": 1e-3}, (4, 5, 5), lambda: nn.GroupNorm(2, 4, eps=1e-3)),
    ("InstanceNorm", {"affine": True}, (4, 6, 6), lambda: nn.InstanceNorm2d(4, affine=True)),
    ("InstanceNorm", {}, (4, 9), lambda: nn.InstanceNorm1d(4)),
    ("LocalResponseNorm", {"size": 3, "alpha": 2e-4, "beta": 0.7, "k": 2.0}, (6, 4, 4),
     lambda: nn.LocalResponseNorm(3, alpha=2e-4, beta=0.7, k=2.0)),
    ("AdaptiveMaxPool2d", {"output_size": [2, 3]}, (3, 8, 9), lambda: nn.AdaptiveMaxPool2d((2, 3))),
    ("AdaptiveMaxPool1d", {"output_size": 4}, (3, 12), lambda: nn.AdaptiveMaxPool1d(4)),
    ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1, "padding_mode": "reflect"}, (3, 6, 6),
     lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")),
    ("Conv1d", {"out_channels": 2, "kernel_size": 3, "padding": 2, "padding_mode": "circular"}, (3, 7),
     lambda: nn.Conv1d(3, 2, 3, padding=2, padding_mode="circular")),
    ("Upsample", {"size": [7, 9], "mode": "bilinear", "align_corners": True}, (2, 4, 5),
     lambda: nn.Upsample(size=(7, 9), mode="bilinear", align_corners=True)),
    ("Pad", {"padding": [0, 1, 2, 0], "value": 0.5}, (2, 4, 5), lambda: nn.ConstantPad2d((0, 1, 2, 0), 0.5)),
    ("Pad", {"padding": [1, 2, 3, 1], "mode": "reflect"}, (2, 4, 5), lambda: nn.ReflectionPad2d((1, 2, 3, 1))),
    ("Pad", {"padding": 2, "mode": "replicate"}, (2, 4, 5), lambda: nn.ReplicationPad2d(2)),
    ("Pad", {"padding": [1, 1], "mode": "circular"}, (2, 6), lambda: nn.CircularPad1d(1)),
    ("Crop", {"crop": [0, 1, 2, 0]}, (2, 6, 7), lambda: _Slice((slice(2, None), slice(0, -1)))),
    ("Crop", {"crop": 4}, (3, 12, 12), lambda: _Slice((slice(4, -4), slice(4, -4)))),
]


# Adaptive max pooling into sizes that do not divide the input has no ONNX operator; it compiles
# and trains, and export says so.
NOT_EXPORTED = [("AdaptiveMaxPool2d", {"output_size": [2, 3]}, (3, 7, 8), lambda: nn.AdaptiveMaxPool2d((2, 3)))]


class _Slice(nn.Module):
    def __init__(self, window):
        super().__init__()
        self.window = window

    def forward(self, x):
        return x[(..., *self.window)]


def _graph(type_name: str, params: dict, shape: tuple[int, ...]):
    b = Builder(f"real_{type_name.lower()}")
    b.node("x", "Input", shape=list(shape)).node("layer", type_name, **params).node("out", "Output", loss="none")
    return b.chain("x", "layer", "out").graph


@pytest.mark.parametrize("type_name,params,shape,make", CASES + NOT_EXPORTED,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES + NOT_EXPORTED)])
def test_compiled_layer_equals_the_torch_module(type_name, params, shape, make) -> None:
    torch.manual_seed(0)
    model = compile_graph(_graph(type_name, params, shape)).eval()
    reference = make().eval()
    own = model.get_submodule(model.node_modules["layer"])
    reference.load_state_dict(own.state_dict())
    for p in list(own.parameters()):  # a non-trivial scale and shift where there are any
        p.data.uniform_(0.5, 1.5)
    reference.load_state_dict(own.state_dict())
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("type_name,params,shape,make", CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_onnx_export_matches(tmp_path, type_name, params, shape, make) -> None:
    report = export_onnx(_graph(type_name, params, shape), tmp_path / "m.onnx")
    assert report.max_abs_diff <= TOLERANCE
