"""`netwright validate` and `netwright summary`, as a user runs them.

Most tests call `netwright.cli.main(argv)` in-process (fast) and read stdout/stderr; one runs
the real command in a subprocess to prove the entry point itself works.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import graph_core as gc
import netwright
from netwright.cli import main
from tests.registry_samples import sample_graph

ROOT = Path(__file__).resolve().parents[2]
VGG16 = ROOT / "examples" / "vgg16.json"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's --help, --version and usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def invalid_file(tmp_path: Path) -> Path:
    g = sample_graph("Dense")
    g.nodes["node"].type = "Conv2d"
    g.nodes["node"].params = {"out_channels": 4}
    g.nodes["orphan"] = gc.Node("orphan", "ReLU")
    path = tmp_path / "invalid.json"
    gc.save_graph(g, path)
    return path


# ---- validate ------------------------------------------------------------------------------------


def test_validate_a_valid_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["validate", str(VGG16)], capsys)
    assert code == 0
    assert err == ""
    assert out == f"{VGG16}: valid (42 nodes)\n"


def test_validate_lists_each_issue_as_node_id_colon_message(invalid_file: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["validate", str(invalid_file)], capsys)
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "node: Conv2d needs a (C, H, W) input; got (10,) from x — remove the Flatten or add a Reshape",
        "orphan: input 'in' is not connected",
        "orphan: is cut off from every Input (warning)",
    ]


def test_validate_with_warnings_only_passes_unless_strict(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    g = sample_graph("Dense")
    g.nodes["x"].params["shape"] = [3, 10]  # Dense on a 2-D tensor: a warning, not an error
    path = tmp_path / "warn.json"
    gc.save_graph(g, path)
    code, out, err = _run(["validate", str(path)], capsys)
    assert code == 0
    assert out == f"{path}: valid (3 nodes, 1 warning)\n"
    assert err.startswith("node: Dense on (3, 10) mixes only the last axis (10)")
    code, _, _ = _run(["validate", "--strict", str(path)], capsys)
    assert code == 1


@pytest.mark.parametrize("content,message", [
    (None, "no such file"),
    ("{not json", "not valid JSON (line 1, column 2"),
    ('{"format": "netwright.graph", "schema_version": 9}', "schema_version 9 was written by a newer Netwright"),
    ('{"format": "netwright.graph", "schema_version": 1, "nodes": [{"id": "a", "type": "Dense", '
     '"params": {"out_features": -4}}]}', "nodes[0] (a).params.out_features: must be at least 1; got -4"),
])
def test_unreadable_files_exit_2_with_one_line(tmp_path: Path, content: str | None, message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    for command in ("validate", "summary"):
        code, out, err = _run([command, str(path)], capsys)
        assert code == 2, command
        assert out == ""
        assert len(err.splitlines()) == 1
        assert err.startswith(f"error: {path}: ") and message in err
    if content is not None:
        assert path.read_text(encoding="utf-8") == content


# ---- summary -------------------------------------------------------------------------------------


def test_summary_json_keys_are_exactly_the_documented_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["summary", str(VGG16), "--json"], capsys)
    assert code == 0 and err == ""
    report = json.loads(out)
    assert set(report) == {"nodes", "total_params", "trainable_params", "total_macs", "activation_bytes",
                           "batch_size"}
    assert all(set(row) == {"id", "type", "output_shape", "params", "macs", "activation_bytes"}
               for row in report["nodes"])


def test_vgg16_has_the_papers_parameter_count_and_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(["summary", str(VGG16), "--json"], capsys)
    report = json.loads(out)
    assert report["total_params"] == 138_357_544  # torchvision.models.vgg16()
    assert report["trainable_params"] == 138_357_544
    rows = {r["id"]: r for r in report["nodes"]}
    pools = [r["output_shape"] for r in report["nodes"] if r["type"] == "MaxPool2d"]
    assert pools == [[64, 112, 112], [128, 56, 56], [256, 28, 28], [512, 14, 14], [512, 7, 7]]
    assert rows["image"]["output_shape"] == [3, 224, 224]
    assert sum(1 for r in report["nodes"] if r["type"] == "Conv2d") == 13
    assert [r["output_shape"] for r in report["nodes"] if r["type"] == "Dense"] == [[4096], [4096], [1000]]
    assert rows["fc6"]["params"] == 25088 * 4096 + 4096
    assert rows["conv1_1"]["params"] == 64 * 3 * 9 + 64


def test_summary_table_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["summary", str(VGG16)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["node", "type", "output", "shape", "params", "MACs", "memory", "(batch", "64)"]
    assert "pool5" in out and "(512, 7, 7)" in out and "102,764,544" in out
    assert lines[-2] == "total parameters: 138,357,544   trainable: 138,357,544"
    assert lines[-1].startswith("multiply-accumulates per sample: 15.5 G (15,470,264,320)   activations at batch 64:")


def test_summary_counts_frozen_nodes_as_untrainable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    g = gc.load_graph(VGG16)
    for nid, node in g.nodes.items():
        if node.type == "Conv2d":
            g.nodes[nid].frozen = True  # transfer learning: keep the features, train the classifier
    path = tmp_path / "frozen.json"
    gc.save_graph(g, path)
    _, out, _ = _run(["summary", str(path), "--json"], capsys)
    report = json.loads(out)
    assert report["total_params"] == 138_357_544
    assert report["trainable_params"] == 102_764_544 + 16_781_312 + 4_097_000


def test_summary_of_an_invalid_graph_reports_what_it_can(invalid_file: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["summary", str(invalid_file), "--json"], capsys)
    assert code == 1
    assert err.splitlines() == [
        "node: Conv2d needs a (C, H, W) input; got (10,) from x — remove the Flatten or add a Reshape",
        "orphan: input 'in' is not connected",
    ]
    rows = {r["id"]: r for r in json.loads(out)["nodes"]}
    assert rows["x"]["output_shape"] == [10]
    assert rows["node"]["output_shape"] is None and rows["node"]["params"] is None


# ---- the command itself -------------------------------------------------------------------------


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--version"], capsys)
    assert code == 0 and out == f"netwright {netwright.__version__}\n"
    code, out, _ = _run(["--help"], capsys)
    assert code == 0
    for command in ("validate", "summary", "gui", "templates", "new", "codegen", "export", "train"):
        assert command in out
    code, out, _ = _run(["validate", "--help"], capsys)
    assert code == 0 and "exit 0 when valid, 1 when invalid, 2 when unreadable" in " ".join(out.split()).lower()
    code, out, _ = _run(["summary", "--help"], capsys)
    assert code == 0 and "--json" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["validate"], capsys)
    assert code == 2 and "the following arguments are required: file" in err
    code, _, err = _run(["frobnicate"], capsys)
    assert code == 2 and "invalid choice: 'frobnicate'" in err


def test_the_real_command(tmp_path: Path, invalid_file: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "netwright", "validate", str(VGG16)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{VGG16}: valid (42 nodes)\n"
    done = subprocess.run([sys.executable, "-m", "netwright", "validate", str(invalid_file)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith("node: Conv2d needs a (C, H, W) input")


def test_validate_checks_the_graph_against_the_dataset_its_file_names(tmp_path, capsys):
    import templates

    g = templates.build("lenet")
    g.data["image_size"] = 8  # the Input expects 28x28 digits
    g.nodes["fc5"].params["out_features"] = 7  # digits has 10 classes
    path = tmp_path / "lenet.json"
    gc.save_graph(g, path)
    code, out, err = _run(["validate", str(path)], capsys)
    assert code == 1 and "valid" not in out
    lines = err.splitlines()
    assert any(line.startswith("image: field 'image' has samples of shape (1, 8, 8)") for line in lines)
    assert "    fix: resize digits to 28" in lines
    assert any(line.startswith("prediction: ") and "10 classes" in line for line in lines)
    assert "    fix: set fc5 out_features to 10" in lines
    # --no-data checks the graph alone, which is valid
    code, out, _ = _run(["validate", "--no-data", str(path)], capsys)
    assert code == 0 and "valid" in out
    # the fixes are what they say: applied, the file validates
    g.data["image_size"], g.nodes["fc5"].params["out_features"] = 28, 10
    gc.save_graph(g, path)
    assert _run(["validate", str(path)], capsys)[0] == 0


def test_summary_of_a_file_whose_training_section_is_damaged_still_prints(tmp_path, capsys) -> None:
    # found by the fuzz suite: a batch_size of ' ' made summary print a ValueError traceback
    import json as _json

    path = tmp_path / "g.json"
    path.write_text(_json.dumps({"format": "netwright.graph", "schema_version": 1, "name": "g",
                                 "nodes": [{"id": "x", "type": "Input", "params": {"shape": [4]}},
                                           {"id": "d", "type": "Dense", "params": {"out_features": 2}}],
                                 "edges": [{"src": ["x", "out"], "dst": ["d", "in"]}],
                                 "training": {"batch_size": " "}}))
    main(["summary", str(path)])
    out = capsys.readouterr().out
    assert "memory (batch 1)" in out and "total parameters: 10" in out
