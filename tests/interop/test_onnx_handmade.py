"""Files built node by node with onnx.helper, imitating what Keras converters and older Caffe2
exports write: Gemm with transB and alpha/beta, BatchNormalization with the spatial attribute
and another epsilon, Pad as an attribute before a Conv, Sum, MatMul + Add, shape
arithmetic on a dynamic batch, and Reshape/Unsqueeze of initializers."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper, save

from interop import ImportRefused
from interop.onnx_import import import_onnx

from .helpers import import_and_compare, node_types, randn


def _save(path, nodes, inputs, outputs, inits, opset, ir=None):
    if ir is not None and ir < 4:  # old files list every initializer among the graph inputs too
        inputs = inputs + [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                           for k, v in inits.items()]
    graph = helper.make_graph(nodes, "handmade", inputs, outputs,
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="handmade")
    model.ir_version = ir or min(model.ir_version, 7 if opset < 13 else 8)
    save(model, str(path))
    return path


def _io(name, *shape, batch="N"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, *shape])


def test_keras_style_gemm_and_batchnorm(tmp_path):
    inits = {"W": randn(6, 4), "C": randn(4), "scale": randn(4) + 2, "bias": randn(4),
             "mean": randn(4), "var": np.abs(randn(4)) + 0.5}
    nodes = [
        helper.make_node("Flatten", ["x"], ["flat"], name="dense_1/flatten", axis=1),
        helper.make_node("Gemm", ["flat", "W", "C"], ["g"], name="dense_1", alpha=0.5, beta=2.0),
        helper.make_node("BatchNormalization", ["g", "scale", "bias", "mean", "var"], ["bn"],
                         name="batch_normalization_1", epsilon=1e-3, momentum=0.99, spatial=1),
        helper.make_node("Relu", ["bn"], ["y"], name="activation_1"),
    ]
    path = _save(tmp_path / "keras.onnx", nodes, [_io("x", 2, 3)], [_io("y", 4)], inits, opset=8)
    result = import_and_compare(path)
    assert node_types(result) == ["Input", "Flatten", "Dense", "BatchNorm", "ReLU", "Output"]
    bn = result.graph.nodes["batch_normalization_1"]
    assert bn.params["momentum"] == pytest.approx(0.01)


def test_gemm_with_transposed_weights(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "W", "C"], ["y"], name="fc", transB=1)]
    path = _save(tmp_path / "t.onnx", nodes, [_io("x", 5)], [_io("y", 3)],
                 {"W": randn(3, 5), "C": randn(1, 3)}, opset=11)
    result = import_and_compare(path)
    assert result.graph.nodes["fc"].params == {"out_features": 3, "bias": True}


def test_caffe2_style_pad_attribute_sum_and_softmax(tmp_path):
    inits = {"w1": randn(4, 3, 3, 3), "b1": randn(4), "w2": randn(4, 3, 1, 1), "fc": randn(4 * 6 * 6, 5)}
    nodes = [
        helper.make_node("Pad", ["x"], ["padded"], name="pad1", pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.0),
        helper.make_node("Conv", ["padded", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3]),
        helper.make_node("Conv", ["x", "w2"], ["c2"], name="conv2", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Sum", ["r1", "c2"], ["s"], name="sum1"),
        helper.make_node("Constant", [], ["shape"], name="shape_const",
                         value=numpy_helper.from_array(np.array([0, -1], np.int64))),
        helper.make_node("Reshape", ["s", "shape"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "fc"], ["m"], name="fc1"),
        helper.make_node("Softmax", ["m"], ["y"], name="prob", axis=1),
    ]
    path = _save(tmp_path / "caffe2.onnx", nodes, [_io("x", 3, 6, 6)], [_io("y", 5)], inits, opset=9)
    result = import_and_compare(path)
    types = node_types(result)
    assert "Pad" not in types and types.count("Conv2d") == 2 and "Add" in types and "Flatten" in types
    assert result.graph.nodes["conv1"].params["padding"] == 1  # the Pad is folded into the conv
    assert result.graph.nodes["prob"].params["dim"] == 1


def test_matmul_add_becomes_one_dense_and_shape_arithmetic_folds(tmp_path):
    inits = {"W": randn(12, 4), "B": randn(4), "zero": np.array([0], np.int64),
             "minus": np.array([-1], np.int64)}
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"], name="shape"),
        helper.make_node("Gather", ["shp", "zero"], ["n"], name="batch_size", axis=0),
        helper.make_node("Concat", ["n", "minus"], ["target"], name="target", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"], name="view"),
        helper.make_node("MatMul", ["flat", "W"], ["m"], name="linear/MatMul"),
        helper.make_node("Add", ["m", "B"], ["y"], name="linear/Add"),
    ]
    path = _save(tmp_path / "mm.onnx", nodes, [_io("x", 3, 4)], [_io("y", 4)], inits, opset=13)
    result = import_and_compare(path)
    assert node_types(result) == ["Input", "Flatten", "Dense", "Output"]
    assert result.graph.nodes["linear"].params["bias"] is True


def test_initializers_reshaped_and_unsqueezed_by_constant_nodes(tmp_path):
    inits = {"w": randn(2, 27), "b": randn(2), "ax": np.array([1, 2], np.int64)}
    nodes = [
        helper.make_node("Constant", [], ["ws"], name="wshape",
                         value=numpy_helper.from_array(np.array([2, 3, 3, 3], np.int64))),
        helper.make_node("Reshape", ["w", "ws"], ["w4"], name="weight_reshape"),
        helper.make_node("ConstantOfShape", ["one"], ["zeros"], name="zeros",
                         value=numpy_helper.from_array(np.array([0.0], np.float32))),
        helper.make_node("Constant", [], ["one"], name="one_const",
                         value=numpy_helper.from_array(np.array([2], np.int64))),
        helper.make_node("Add", ["b", "zeros"], ["b2"], name="bias_plus_zero"),
        helper.make_node("Conv", ["x", "w4", "b2"], ["y"], name="conv", pads=[1, 1, 1, 1]),
    ]
    nodes.insert(2, nodes.pop(3))  # ConstantOfShape after the Constant it reads
    path = _save(tmp_path / "fold.onnx", nodes, [_io("x", 3, 5, 5)], [_io("y", 2, 5, 5)], inits, opset=13)
    result = import_and_compare(path)
    assert node_types(result) == ["Input", "Conv2d", "Output"]


def test_unmappable_nodes_are_listed_one_per_node(tmp_path):
    nodes = [
        helper.make_node("Sin", ["x"], ["l"], name="wave1"),
        helper.make_node("Relu", ["l"], ["s"], name="relu1"),
        helper.make_node("Relu", ["x"], ["r"], name="relu2"),
        helper.make_node("TopK", ["r", "k"], ["t", "i"], name="best", axis=3),
        helper.make_node("Add", ["s", "t"], ["y"], name="join"),
    ]
    path = _save(tmp_path / "bad.onnx", nodes, [_io("x", 3, 4, 4)], [_io("y", 3, 4, 4)],
                 {"k": np.array([4], np.int64)}, opset=13)
    with pytest.raises(ImportRefused) as refused:
        import_onnx(path)
    found = {(r.node, r.op_type) for r in refused.value.refusals}
    assert found == {("wave1", "Sin"), ("best", "TopK")}  # relu1 and join follow refused nodes
    assert refused.value.lines[0] == "cannot import bad: 2 nodes cannot be mapped"
    assert "  best (TopK): no Netwright node does what TopK does" in refused.value.lines


def test_segnet_style_max_pool_indices_into_max_unpool(tmp_path):
    inits = {"w": randn(4, 3, 3, 3)}
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="enc", pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["c"], ["p", "i"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Relu", ["p"], ["r"], name="relu"),
        helper.make_node("MaxUnpool", ["r", "i"], ["y"], name="unpool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
    ]
    path = _save(tmp_path / "segnet.onnx", nodes, [_io("x", 3, 8, 8)], [_io("y", 4, 8, 8)], inits, opset=11)
    result = import_and_compare(path)
    assert ("pool1", "indices") in {e.src for e in result.graph.edges if e.dst == ("unpool1", "indices")}


@pytest.mark.parametrize("opset", [7, 9, 11, 13, 17, 21])
def test_one_small_network_at_many_opsets(opset, tmp_path):
    import onnx

    opset = min(opset, onnx.defs.onnx_opset_version())
    inits = {"w": randn(4, 2, 3, 3), "b": randn(4), "fc": randn(3, 4 * 3 * 3), "fcb": randn(3)}
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], strides=[2, 2]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["g"], name="fc", transB=1),
        helper.make_node("Softmax", ["g"], ["y"], name="prob", axis=1),
    ]
    ir = {7: 3, 9: 4, 11: 6, 13: 7, 17: 8, 21: 10}[opset] if opset in (7, 9, 11, 13, 17, 21) else None
    path = _save(tmp_path / f"o{opset}.onnx", nodes, [_io("x", 2, 7, 7)], [_io("y", 3)], inits, opset, ir)
    result = import_and_compare(path)
    assert result.opset == opset
    assert node_types(result) == ["Input", "Conv2d", "ReLU", "Flatten", "Dense", "Softmax", "Output"]
