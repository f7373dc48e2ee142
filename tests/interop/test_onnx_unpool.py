"""Max unpooling across the ONNX boundary: Netwright's export writes ONNX's own MaxPool ->
MaxUnpool (not torch.export's ScatterND arithmetic on the batch size), and files from other
tools that use the standard MaxUnpool, with or without an output_shape, import with
onnxruntime's numbers."""

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

