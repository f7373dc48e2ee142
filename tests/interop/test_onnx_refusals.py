"""Malformed, truncated and hostile files get one clear line; nothing in them is executed."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import graph_core as gc
from interop import ImportRefused
from interop.onnx_import import import_model, import_onnx
from interop.onnx_read import parse_model
from netwright.cli import main

from .helpers import export_module


@pytest.fixture
def good_file(tmp_path):
    module = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3))
    return export_module(module, torch.randn(1, 1, 6, 6), tmp_path / "good.onnx")


def _one_line(path):
    with pytest.raises(ImportRefused) as refused:
        import_onnx(path)
    assert len(refused.value.lines) == 1 and "\n" not in refused.value.lines[0]
    return refused.value.lines[0]


def test_not_onnx_empty_and_truncated_files(tmp_path, good_file):
    (tmp_path / "text.onnx").write_text("import os; os.system('echo hacked')\n")
    assert "not an ONNX file" in _one_line(tmp_path / "text.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert "no graph inside" in _one_line(tmp_path / "empty.onnx")
    data = good_file.read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
    assert "truncated" in _one_line(tmp_path / "cut.onnx")
    assert "no such file" in _one_line(tmp_path / "missing.onnx")


def _with_external(tmp_path, location):
    tensor = numpy_helper.from_array(np.ones((2, 3), np.float32), "W")
    tensor.ClearField("float_data")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [tensor])
    path = tmp_path / "ext.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    return path


def test_external_data_outside_the_folder_is_refused(tmp_path):
    (tmp_path / "secret").write_bytes(b"\0" * 24)
    assert "not a file beside the model" in _one_line(_with_external(tmp_path, "../secret"))
    assert "not a file beside the model" in _one_line(_with_external(tmp_path, "/etc/passwd"))


def test_external_data_beside_the_file_is_read(tmp_path):
    (tmp_path / "w.bin").write_bytes(np.arange(6, dtype=np.float32).tobytes())
    result = import_onnx(_with_external(tmp_path, "w.bin"))
    np.testing.assert_array_equal(next(iter(result.tensors.values()))["weight"], np.arange(6).reshape(2, 3).T)
    (tmp_path / "w.bin").write_bytes(b"\0" * 8)
    assert "too small for the declared shape" in _one_line(_with_external(tmp_path, "w.bin"))


def test_inconsistent_graph_is_refused(tmp_path):
    graph = helper.make_graph([helper.make_node("Relu", ["nowhere"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])])
    path = tmp_path / "dangling.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    assert "not a valid ONNX model" in _one_line(path)


def test_cli_exit_codes_and_lines(tmp_path, good_file, capsys):
    assert main(["import", str(good_file), "-o", str(tmp_path / "out" / "g.json")]) == 0
    out = capsys.readouterr().out
    assert "max abs difference" in out and (tmp_path / "out" / "g.safetensors").is_file()
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x01garbage" * 7)
    assert main(["import", str(tmp_path / "junk.onnx"), "-o", str(tmp_path / "j.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0]
    assert not (tmp_path / "j.json").exists()
    sin = helper.make_graph([helper.make_node("Sin", ["x"], ["y"], name="wave1")], "g",
                            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
                            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 4, 4])])
    onnx.save(helper.make_model(sin, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "sin.onnx"))
    assert main(["import", str(tmp_path / "sin.onnx"), "-o", str(tmp_path / "l.json")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: cannot import l: 1 node cannot be mapped"
    assert err[1] == "  wave1 (Sin): no Netwright node does what Sin does"


def test_a_huge_folded_constant_is_refused_not_allocated(tmp_path):
    shape = numpy_helper.from_array(np.array([4, 1 << 25], np.int64), "shape")
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["shape"], ["big"], name="bomb"),
         helper.make_node("Add", ["x", "big"], ["y"], name="use")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 1 << 25])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 1 << 25])], [shape])
    path = tmp_path / "bomb.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ImportRefused) as refused:
        import_onnx(path)
    assert [(r.node, r.op_type) for r in refused.value.refusals] == [("bomb", "ConstantOfShape")]
    assert "larger than any model needs" in refused.value.refusals[0].why


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_corrupted_bytes_never_raise_anything_but_a_refusal(good_file, data):
    raw = bytearray(good_file.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) // 2, len(raw)))
    try:
        import_model(parse_model(bytes(raw[:cut]), "fuzzed.onnx"), "fuzzed")
    except ImportRefused as exc:
        assert exc.lines and all(isinstance(line, str) for line in exc.lines)


def test_dynamic_image_size_needs_and_takes_an_input_shape(tmp_path, capsys):
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.AdaptiveAvgPool2d(1),
                                 torch.nn.Flatten(), torch.nn.Linear(4, 2))
    path = tmp_path / "dyn.onnx"
    torch.onnx.export(module.eval(), (torch.randn(1, 3, 16, 16),), str(path), dynamo=False, opset_version=13,
                      input_names=["x"], dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})
    assert main(["import", str(path), "-o", str(tmp_path / "d.json")]) == 1
    err = capsys.readouterr().err
    assert "x (graph input): axis 2 has no fixed size (h); give --input-shape" in err
    assert main(["import", str(path), "-o", str(tmp_path / "d.json"), "--input-shape", "3,20,24"]) == 0
    assert gc.load_graph(tmp_path / "d.json").nodes["x"].params["shape"] == [3, 20, 24]
    assert main(["import", str(path), "-o", str(tmp_path / "e.json"), "--input-shape", "3,20"]) == 2
    assert "has 3 axes besides the batch; --input-shape gives 2" in capsys.readouterr().err
