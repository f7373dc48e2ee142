"""Export Python code and ONNX from the window."""

from __future__ import annotations

import pytest

from .conftest import small_net


def test_export_python_writes_the_generated_module(make_window, tmp_path):
    w = make_window(small_net())
    target = tmp_path / "model.py"
    assert w.exporter.export_python(target)
    source = target.read_text(encoding="utf-8")
    compile(source, str(target), "exec")  # valid Python
    assert "nn.Conv2d(1, 6" in source and "nn.Linear(3456, 10" in source
    assert "model.py" in w.statusBar().currentMessage()


def test_export_python_refuses_an_invalid_graph_with_the_reason(make_window, tmp_path):
    w = make_window()
    w.editor.add_node("Dense")
    target = tmp_path / "model.py"
    assert not w.exporter.export_python(target)
    assert not target.exists()
    assert "Input" in w.statusBar().currentMessage()


@pytest.mark.slow
def test_export_onnx_runs_in_a_child_process_and_reports(make_window, qtbot, tmp_path):
    w = make_window(small_net())
    target = tmp_path / "model.onnx"
    with qtbot.waitSignal(w.exporter.onnx_finished, timeout=180_000) as done:
        assert w.exporter.export_onnx(target)
        assert "Exporting" in w.statusBar().currentMessage()  # returned at once; work goes on
    ok, text = done.args
    assert ok, text
    assert target.stat().st_size > 1000
    assert "model.onnx" in w.statusBar().currentMessage()
