"""`netwright codegen` and `netwright export` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import graph_core as gc
from netwright.cli import main

from . import graphs

ROOT = Path(__file__).resolve().parents[2]


def _save(graph: gc.Graph, path: Path) -> Path:
    gc.save_graph(graph, path)
    return path


def test_codegen_writes_a_file_that_runs_standalone(tmp_path, capsys):
    src = _save(graphs.two_heads(), tmp_path / "net.json")
    out = tmp_path / "model.py"
    assert main(["codegen", str(src), "-o", str(out)]) == 0
    assert "class TwoHeads" in capsys.readouterr().out
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["label: (2, 3)", "value: (2, 1)", "parameters: 59"]


def test_codegen_of_an_int_input_graph_runs_standalone(tmp_path):
    import templates

    src = _save(templates.build("embedding_classifier"), tmp_path / "emb.json")
    out = tmp_path / "emb.py"
    assert main(["codegen", str(src), "-o", str(out)]) == 0
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("parameters: 1,410")


def test_codegen_prints_to_stdout_without_output(tmp_path, capsys):
    src = _save(graphs.mlp(), tmp_path / "net.json")
    assert main(["codegen", str(src)]) == 0
    assert "x = self.fc1(x)  # (16,)" in capsys.readouterr().out


def test_codegen_of_an_invalid_graph_lists_issues(tmp_path, capsys):
    g = graphs.mlp()
    g.edges = [e for e in g.edges if e.dst[0] != "fc2"]
    src = _save(g, tmp_path / "bad.json")
    out = tmp_path / "model.py"
    assert main(["codegen", str(src), "-o", str(out)]) == 1
    assert "fc2: input 'in' is not connected" in capsys.readouterr().err
    assert not out.exists()


def test_codegen_of_an_unreadable_file(tmp_path, capsys):
    (tmp_path / "x.json").write_text("{not json")
    assert main(["codegen", str(tmp_path / "x.json")]) == 2


def test_export_cli_reports_the_difference(tmp_path, capsys):
    src = _save(graphs.mlp(), tmp_path / "net.json")
    target = tmp_path / "m.onnx"
    assert main(["export", str(src), "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert "onnxruntime matches PyTorch to" in out and "inputs x (batch, 8)" in out
    assert target.stat().st_size > 0


def test_export_cli_with_a_part_and_bad_weights(tmp_path, capsys):
    src = _save(graphs.vae(), tmp_path / "vae.json")
    (tmp_path / "w.safetensors").write_bytes(b"garbage")
    code = main(["export", str(src), "-o", str(tmp_path / "d.onnx"), "--part", "decoder",
                 "--weights", str(tmp_path / "w.safetensors")])
    assert code == 2
    assert "cannot read weights" in capsys.readouterr().err
    assert not (tmp_path / "d.onnx").exists()


def test_export_cli_refuses_a_missing_part(tmp_path, capsys):
    src = _save(graphs.mlp(), tmp_path / "net.json")
    assert main(["export", str(src), "-o", str(tmp_path / "m.onnx"), "--part", "generator"]) == 1
    assert "error: part 'generator' does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_export_as_a_subprocess(tmp_path):
    src = _save(graphs.segnet(), tmp_path / "seg.json")
    run = subprocess.run([sys.executable, "-m", "netwright", "export", str(src), "-o",
                          str(tmp_path / "seg.onnx")], capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "seg.onnx: full model" in run.stdout
    assert run.stderr == "", run.stderr  # the exporter's chatter is kept from the user


def _template_names() -> list[str]:
    import templates

    return [t.name if hasattr(t, "name") else t["name"] for t in templates.catalog()]


@pytest.mark.parametrize("name", _template_names())
def test_every_templates_file_runs_as_a_script(tmp_path, capsys, name):
    import runpy

    import templates

    src = _save(templates.build(name), tmp_path / f"{name}.json")
    out = tmp_path / f"{name}.py"
    assert main(["codegen", str(src), "-o", str(out)]) == 0
    capsys.readouterr()
    runpy.run_path(str(out), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    total = gc.summarize(templates.build(name)).total_params
    assert lines[-1] == f"parameters: {total:,}"
    assert all(line.split(": ")[1].startswith("(2,") for line in lines[:-1])
