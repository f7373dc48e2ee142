"""Regression tests for issue 13's hostile and careless files: each case is the one that broke.

Deep nesting, control characters and lone surrogates are refused at load with one line; sizes no
machine could run are validation errors that name the memory they need; a summary never prints
a line of digits.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import graph_core as gc
import templates
from netwright.cli import main


def _doc(template: str = "mlp") -> dict:
    return gc.graph_to_dict(templates.build(template))


def _write(tmp_path: Path, doc: dict, name: str = "g.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _nested(depth: int) -> dict:
    inner: dict = {}
    top = inner
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return top


@pytest.mark.parametrize("depth", [65, 500, 700, 999])
def test_deep_nesting_inside_ui_is_a_load_error_not_a_recursion_error(tmp_path: Path, depth: int,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    doc = _doc()
    doc["nodes"][0]["ui"] = "UI"
    text = json.dumps(doc).replace('"UI"', '{"a": ' * depth + "{}" + "}" * depth)
    path = tmp_path / "g.json"
    path.write_text(text, encoding="utf-8")  # written as text: json.dumps itself would recurse
    before = path.read_bytes()
    with pytest.raises(gc.GraphLoadError, match="nested too deeply"):
        gc.load_graph(path)
    if depth < 600:
        doc["nodes"][0]["ui"] = _nested(depth)
        with pytest.raises(gc.GraphLoadError, match="nested too deeply"):
            gc.graph_from_dict(doc)
    for command in ("validate", "summary", "codegen"):
        code, _, err = _run([command, str(path)], capsys)
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and "nested too deeply" in err
    assert path.read_bytes() == before


def test_nesting_a_real_file_uses_still_loads() -> None:
    doc = _doc()
    doc["nodes"][0]["ui"] = _nested(30)
    graph = gc.graph_from_dict(doc)
    assert gc.graph_to_dict(graph)["nodes"][0]["ui"] == _nested(30)


@pytest.mark.parametrize("where", ["name", "node name", "ui key", "training", "param"])
def test_a_lone_surrogate_is_refused_at_load_with_its_place(where: str, tmp_path: Path) -> None:
    doc = _doc()
    bad = "a\udcff"
    if where == "name":
        doc["name"] = bad
    elif where == "node name":
        doc["nodes"][1]["name"] = bad
    elif where == "ui key":
        doc["nodes"][1]["ui"] = {bad: 1}
    elif where == "training":
        doc["training"]["note"] = [bad]
    else:
        doc["nodes"][0]["params"]["field"] = bad
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc), encoding="ascii")  # "\udcff" escaped, as the hostile file had it
    with pytest.raises(gc.GraphLoadError, match=r"lone surrogate \(U\+DCFF\)") as info:
        gc.load_graph(path)
    assert "\n" not in str(info.value)
    str(info.value).encode("utf-8")  # the message itself can be printed


def test_every_file_that_loads_can_be_saved(tmp_path: Path) -> None:
    """The other half of the surrogate case: what loads (emoji in escapes included) saves."""
    doc = _doc()
    doc["nodes"][1]["name"] = "conv \ud83d\ude00 ünï"
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc), encoding="ascii")
    graph = gc.load_graph(path)
    gc.save_graph(graph, tmp_path / "out.json")
    assert gc.load_graph(tmp_path / "out.json").nodes["hidden1"].name == "conv 😀 ünï"


@pytest.mark.parametrize("node_id", ["a\nb", "a\rb", "a\x00b", "a\u2028b"])
def test_a_node_id_that_would_break_a_line_is_refused(node_id: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    doc = _doc()
    old = doc["nodes"][1]["id"]
    doc["nodes"][1]["id"] = node_id
    for e in doc["edges"]:
        for end in ("src", "dst"):
            if e[end][0] == old:
                e[end][0] = node_id
    code, _, err = _run(["validate", str(_write(tmp_path, doc))], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "control character" in err


def test_an_issue_about_a_node_with_a_newline_in_its_id_prints_one_line() -> None:
    graph = templates.build("mlp")
    node = graph.nodes.pop("hidden1")
    node.id = "hid\nden"
    graph.nodes[node.id] = node  # built in memory (a script), not loaded
    issues = gc.validate(graph)
    assert issues and all("\n" not in str(i) for i in issues)
    assert any(str(i).startswith("hid\\nden: ") for i in issues)


def test_a_nul_in_the_graph_name_exports_and_codegens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    import codegen

    graph = templates.build("mlp")
    graph.name = "a\x00b\nc"
    model = codegen.compile_graph(graph)
    out = model(torch.randn(2, 2))
    assert out.shape == (2, 2)
    doc = _doc()
    doc["name"] = "a\x00b"
    path = _write(tmp_path, doc)
    code, out_text, err = _run(["export", str(path), "-o", str(tmp_path / "m.onnx")], capsys)
    assert code == 0, err
    assert (tmp_path / "m.onnx").exists()
    code, _, err = _run(["train", str(path), "--epochs", "1", "--max-steps", "1", "--quiet",
                         "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err  # was the bare message "embedded null character"
    assert (tmp_path / "run" / "last_state.pt").exists()


# ---- sizes that cannot run -------------------------------------------------------------------


def _mutated(template: str, node_type: str, **params: object) -> gc.Graph:
    doc = _doc(template)
    node = next(n for n in doc["nodes"] if n["type"] == node_type)
    node.setdefault("params", {}).update(params)
    return gc.graph_from_dict(doc)


@pytest.mark.parametrize("graph, node, need", [
    (lambda: _mutated("mlp", "Dense", out_features=10**9), "hidden2", "128.0 GB"),
    (lambda: _mutated("mlp", "Dense", out_features=1e308), "hidden1", "about 10^309 bytes"),
    (lambda: _mutated("mlp", "Input", shape=[10**9] * 3), "features", "4e+27 bytes"),
    (lambda: _mutated("lenet", "Conv2d", padding=10**9), "conv1", "96.0 EB"),
    (lambda: _mutated("lenet", "Conv2d", out_channels=10**9), "conv1", "104.0 GB"),
], ids=["out_features 1e9", "out_features 1e308", "input 1e9 cubed", "padding 1e9", "out_channels 1e9"])
def test_sizes_that_cannot_run_are_errors_that_name_the_memory(graph, node: str, need: str) -> None:
    issues = [i for i in gc.errors(gc.validate(graph())) if i.code == "size"]
    assert issues, "a size no machine runs validated"
    first = issues[0]
    assert first.node == node
    assert need in first.message and "64 GB" in first.message
    assert len(str(first)) < 300


def test_only_the_node_where_the_size_grows_too_large_is_named() -> None:
    issues = [i for i in gc.validate(_mutated("lenet", "Conv2d", padding=10**9)) if i.code == "size"]
    # conv1's output is too large; act1, pool1 ... downstream of it are not listed again
    assert [i.node for i in issues] == ["conv1", "fc3"]


def test_a_large_model_that_fits_is_not_refused() -> None:
    assert not [i for i in gc.validate(_mutated("mlp", "Dense", out_features=100_000)) if i.code == "size"]


def test_summary_never_prints_a_line_of_digits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _doc()
    doc["nodes"][1]["params"]["out_features"] = 1e308
    code, out, err = _run(["summary", str(_write(tmp_path, doc))], capsys)
    assert code == 1
    assert "about 10^309" in out
    assert not re.search(r"\d{16}", out + err)
    assert gc.format_count(12_345) == "12,345" and gc.format_count(10**16) == "1e+16"


# ---- a file that validates trains ------------------------------------------------------------


@pytest.mark.parametrize("node, params", [
    ("unpool1", {"stride": 3}),       # the issue's case: the unpool's stride differs from its pool's
    ("pool1", {"kernel_size": 1}),    # found by the fuzz suite: the pool changed, the unpool did not
    ("pool1", {"padding": 1}),        # the padding variant
])
def test_a_segnet_whose_unpool_cannot_restore_its_size_is_invalid(node: str, params: dict) -> None:
    import torch

    import codegen

    graph = templates.build("segnet", image_size=16, depth=2, base_channels=4)
    graph.nodes[node].params.update(params)
    problems = [i for i in gc.errors(gc.validate(graph)) if i.node == "unpool1"]
    assert problems and "cannot restore the size (16, 16)" in problems[0].message
    with pytest.raises(codegen.GraphInvalidError):  # refused before any forward pass
        codegen.compile_graph(graph)
    # what PyTorch would have said at the first forward pass of this unpool
    pool, unpool = graph.nodes["pool1"].params, graph.nodes["unpool1"].params
    y, idx = torch.nn.functional.max_pool2d(torch.randn(1, 4, 16, 16), pool.get("kernel_size", 2),
                                            padding=pool.get("padding", 0), return_indices=True)
    with pytest.raises(ValueError, match="invalid output_size"):
        torch.nn.functional.max_unpool2d(y, idx, unpool.get("kernel_size", 2), unpool.get("stride"),
                                         output_size=(16, 16))


def test_an_unpool_window_that_differs_but_fits_warns_and_runs() -> None:
    import torch

    import codegen

    graph = templates.build("segnet", image_size=16, depth=2, base_channels=4)
    graph.nodes["unpool1"].params.update(kernel_size=3, stride=2)
    issues = [i for i in gc.validate(graph) if i.node == "unpool1"]
    assert [i.severity for i in issues] == [gc.WARNING]
    assert "(kernel (3, 3), stride (2, 2)) differs" in issues[0].message
    out = codegen.compile_graph(graph)(torch.randn(2, 1, 16, 16))
    assert out.shape[-2:] == (16, 16)


@pytest.mark.parametrize("name", ["x\u2028y", "a\nb", "c\x1ed", "e\udcff"])
def test_a_block_name_that_would_break_a_line_is_printed_as_one(name: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzz suite: a block named 'x\\u2028y' with a bad parameter inside was refused
    in two lines (a terminal breaks lines at U+2028 too)."""
    doc = _doc("gan")
    doc["blocks"][name] = doc["blocks"].pop("discriminator")
    for node in doc["nodes"]:
        if node["type"] == "Discriminator":
            node.setdefault("params", {})["block"] = name
    inner = doc["blocks"][name]["nodes"]
    inner[-2].setdefault("params", {})["bogus"] = 1
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    for command in ("validate", "summary", "codegen"):
        code, _, err = _run([command, str(path)], capsys)
        assert code == 2
        assert len(err.splitlines()) == 1 and len(err.strip().splitlines()) == 1
        err.encode("utf-8")
    assert gc.one_line("a\u2028b\x00c\udcff") == "a\\u2028b\\x00c\\udcff"


@pytest.mark.parametrize("command", ["export", "train", "codegen"])
def test_a_size_that_cannot_run_stops_every_command_with_the_memory(command: str, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """export printed a torch traceback ("can't allocate 256000000000 bytes"), train raw torch text."""
    doc = _doc()
    doc["nodes"][1]["params"]["out_features"] = 10**9
    path = _write(tmp_path, doc)
    extra = {"export": ["-o", str(tmp_path / "m.onnx")], "codegen": [],
             "train": ["--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]}[command]
    code, _, err = _run([command, str(path), *extra], capsys)
    assert code == 1
    assert err.strip().splitlines() == ["hidden2: its weights alone need 128.0 GB (32,000,000,032 parameters × 4 "
                                        "bytes); more than the 64 GB a GPU or a workstation holds: use smaller sizes"]
    assert not (tmp_path / "m.onnx").exists()
