"""Max unpooling across the ONNX boundary: Netwright's export writes ONNX's own MaxPool ->
MaxUnpool (not torch.export's ScatterND arithmetic on the batch size); files from other
tools that use the standard MaxUnpool, with or without an output_shape, import with
onnxruntime's numbers; and so does a SegNet written in plain PyTorch, whose unpools torch.onnx
writes as that ScatterND arithmetic."""

from __future__ import annotations

import onnx
import pytest
from onnx import helper

import codegen
from interop import ImportRefused
from interop.onnx_import import import_onnx
from tests.codegen.graphs import Builder

from .helpers import import_and_compare, node_types, randn
from .test_onnx_handmade import _io, _save


def _pool_unpool(rank: int, size: int, **window) -> Builder:
    b = Builder(f"unpool{rank}d")
    b.node("x", "Input", shape=[2] + [size] * rank)
    b.node("enc", f"Conv{rank}d", out_channels=3, kernel_size=3, padding=1)
    b.node("pool", f"MaxPool{rank}d", **window).node("act", "ReLU")
    b.node("unpool", f"MaxUnpool{rank}d", **window).node("y", "Output")
    b.chain("x", "enc", "pool", "act", "unpool", "y").wire("pool", "unpool", "indices", "indices")
    return b


@pytest.mark.parametrize(("rank", "size", "window"), [
    (1, 9, {}),  # an odd length: output_shape gives back the row the pool's floor dropped
    (2, 9, {"kernel_size": 3, "stride": 2, "padding": 1}),
    (3, 5, {"kernel_size": 2}),
])
def test_exported_unpool_is_onnx_max_unpool_and_imports_back(rank, size, window, tmp_path):
    graph = _pool_unpool(rank, size, **window).graph
    path = tmp_path / "u.onnx"
    codegen.export_onnx(graph, path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("MaxPool") == 1 and ops.count("MaxUnpool") == 1
    assert not {"ScatterND", "ScatterElements", "Range", "Sub"} & set(ops)
    result = import_and_compare(path)
    # a 1-D unpool's trailing axis (added and removed around a 2-D one in torch) leaves no node
    assert node_types(result) == ["Input", f"Conv{rank}d", f"MaxPool{rank}d", "ReLU", f"MaxUnpool{rank}d", "Output"]
    pools = [n for n in result.graph.nodes.values() if n.type == f"MaxPool{rank}d"]
    unpools = [n for n in result.graph.nodes.values() if n.type == f"MaxUnpool{rank}d"]
    assert len(pools) == len(unpools) == 1
    assert ((pools[0].id, "indices"), (unpools[0].id, "indices")) in {(e.src, e.dst) for e in result.graph.edges}
    expected = {"kernel_size": 2, "stride": None, "padding": 0, **window}
    for key in ("kernel_size", "padding"):
        assert pools[0].params.get(key, expected[key]) == expected[key]
        assert unpools[0].params.get(key, expected[key]) == expected[key]
    assert unpools[0].params.get("stride") in (expected["stride"], expected["kernel_size"])


def test_the_segnet_template_exports_one_max_unpool_per_pool(tmp_path):
    import templates

    path = tmp_path / "segnet.onnx"
    codegen.export_onnx(templates.build("segnet", depth=2), path)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("MaxPool") == ops.count("MaxUnpool") == 2
    assert "ScatterND" not in ops


def _unpool_file(tmp_path, shape_nodes, output_shape, inits=None, opset=11, batch="N"):
    inits = {"w": randn(4, 3, 3, 3), **(inits or {})}
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="enc", pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["c"], ["p", "i"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Relu", ["p"], ["r"], name="relu"),
        *shape_nodes,
        helper.make_node("MaxUnpool", ["r", "i", output_shape], ["y"], name="unpool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
    ]
    return _save(tmp_path / "unpool.onnx", nodes, [_io("x", 3, 9, 9, batch=batch)],
                 [_io("y", 4, 9, 9, batch=batch)], inits, opset)


@pytest.mark.parametrize("opset", [11, 18])
def test_max_unpool_with_output_shape_read_from_the_batch(opset, tmp_path):
    """tf2onnx/Caffe2 style: output_shape = Shape(x)[:2] ++ (9, 9), the batch left open."""
    import numpy as np

    starts, ends = np.array([0], np.int64), np.array([2], np.int64)
    shape_nodes = [
        helper.make_node("Shape", ["c"], ["s"], name="shape"),
        helper.make_node("Slice", ["s", "starts", "ends"], ["nc"], name="batch_channels"),
        helper.make_node("Concat", ["nc", "hw"], ["size"], name="size", axis=0),
    ]
    inits = {"starts": starts, "ends": ends, "hw": np.array([9, 9], np.int64)}
    result = import_and_compare(_unpool_file(tmp_path, shape_nodes, "size", inits, opset))
    assert node_types(result) == ["Input", "Conv2d", "MaxPool2d", "ReLU", "MaxUnpool2d", "Output"]
    assert ("pool1", "indices") in {e.src for e in result.graph.edges if e.dst == ("unpool1", "indices")}


def test_max_unpool_with_a_constant_output_shape(tmp_path):
    import numpy as np

    path = _unpool_file(tmp_path, [], "size", {"size": np.array([1, 4, 9, 9], np.int64)}, batch=1)
    result = import_and_compare(path)
    assert result.graph.nodes["unpool1"].type == "MaxUnpool2d"


def test_max_unpool_to_another_size_than_its_pool_input_is_refused(tmp_path):
    import numpy as np

    path = _unpool_file(tmp_path, [], "size", {"size": np.array([1, 4, 10, 10], np.int64)}, batch=1)
    with pytest.raises(ImportRefused) as refused:
        import_onnx(path)
    assert [(r.node, r.op_type) for r in refused.value.refusals] == [("unpool1", "MaxUnpool")]
    assert "output_shape" in refused.value.refusals[0].why



class _TorchSegNet:
    """A SegNet stage written in plain PyTorch: conv -> pool (indices) -> conv -> unpool."""

    def __new__(cls, rank: int, kernel: int, stride: int, padding: int):
        from torch import nn

        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[rank - 1]
        pool = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[rank - 1]
        unpool = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)[rank - 1]

        class Stage(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc, self.mid = conv(2, 4, 3, padding=1), conv(4, 4, 3, padding=1)
                self.pool = pool(kernel, stride, padding, return_indices=True)
                self.unpool = unpool(kernel, stride, padding)

            def forward(self, x):
                y, i = self.pool(self.enc(x).relu())
                return self.unpool(self.mid(y).relu(), i, output_size=x.shape[2:])

        return Stage()


def _torch_export(module, example, path, dynamic_batch: bool):
    import contextlib
    import io

    import torch

    kwargs = {"dynamic_shapes": ({0: torch.export.Dim("batch")},)} if dynamic_batch else {}
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        torch.onnx.export(module.eval(), (example,), str(path), dynamo=True, external_data=False,
                          input_names=["x"], output_names=["y"], **kwargs)
    return path


@pytest.mark.parametrize(("rank", "size", "kernel", "stride", "padding", "dynamic_batch"), [
    (2, 9, 2, 2, 0, True),   # an odd size: output_size gives back what the pool's floor dropped
    (2, 8, 3, 2, 1, False),  # overlapping windows with padding, a fixed batch
    (3, 5, 2, 2, 0, True),
])
def test_torch_onnx_scatter_decomposition_of_an_unpool_imports_as_max_unpool(
        rank, size, kernel, stride, padding, dynamic_batch, tmp_path):
    import torch

    torch.manual_seed(0)
    module = _TorchSegNet(rank, kernel, stride, padding)
    path = _torch_export(module, torch.randn(2, 2, *[size] * rank), tmp_path / "seg.onnx", dynamic_batch)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "ScatterND" in ops and "MaxUnpool" not in ops  # what torch.onnx writes on its own
    result = import_and_compare(path, torch_params=sum(p.numel() for p in module.parameters()))
    assert node_types(result) == ["Input", f"Conv{rank}d", "ReLU", f"MaxPool{rank}d", f"Conv{rank}d", "ReLU",
                                  f"MaxUnpool{rank}d", "Output"]
    pool = next(n for n in result.graph.nodes.values() if n.type == f"MaxPool{rank}d")
    unpool = next(n for n in result.graph.nodes.values() if n.type == f"MaxUnpool{rank}d")
    assert ((pool.id, "indices"), (unpool.id, "indices")) in {(e.src, e.dst) for e in result.graph.edges}
    assert unpool.params["kernel_size"] == kernel and unpool.params["padding"] == padding


def test_pool_indices_read_by_anything_else_are_still_refused_by_name(tmp_path):
    import torch
    from torch import nn

    class Leaky(nn.Module):  # the per-map indices also leave the model: no unpool to fold them into
        def __init__(self):
            super().__init__()
            self.pool, self.unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)

        def forward(self, x):
            y, i = self.pool(x)
            return self.unpool(y, i), i.float()

    path = _torch_export(Leaky(), torch.randn(2, 2, 8, 8), tmp_path / "leaky.onnx", dynamic_batch=True)
    with pytest.raises(ImportRefused) as refused:
        import_onnx(path)
    assert any(r.op_type == "MaxPool" and "Indices" in r.why for r in refused.value.refusals), refused.value.lines
