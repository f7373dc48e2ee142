"""The graph file: format and version keys, defaults, migrations, atomic saves, and bad input.

Every malformed file must give a GraphLoadError that names the place (a JSON path or a node
id) — never another exception — and a failed load must leave the file byte-identical.
"""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import pytest

import graph_core as gc
from tests.registry_samples import all_types, sample_graph

DATA = Path(__file__).parent / "data"
HEAD = '"format": "netwright.graph", "schema_version": 1'


def _doc(nodes: str, edges: str = "[]", extra: str = "") -> str:
    return f'{{{HEAD}, "nodes": {nodes}, "edges": {edges}{extra}}}'


def test_a_saved_file_starts_with_format_and_version(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    gc.save_graph(sample_graph("Conv2d"), path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert list(doc)[:3] == ["format", "schema_version", "name"]
    assert (doc["format"], doc["schema_version"]) == ("netwright.graph", gc.SCHEMA_VERSION)
    assert list(doc) == ["format", "schema_version", "name", "nodes", "edges", "blocks", "training", "data"]


def test_omitted_keys_take_their_defaults() -> None:
    g = gc.loads_graph(_doc('[{"id": "x", "type": "Input"}, {"id": "c", "type": "Conv2d"}]',
                            '[{"src": "x", "dst": "c"}]'))
    assert g.name == "untitled" and g.blocks == {} and g.training == {} and g.data == {}
    conv = g.nodes["c"]
    assert (conv.name, conv.frozen, conv.lr_factor, conv.ui, conv.params) == ("c", False, 1.0, {}, {})
    assert gc.resolved_params(conv) == {"out_channels": 16, "kernel_size": 3, "stride": 1, "padding": 0,
                                        "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"}
    assert g.edges == [gc.Edge(("x", "out"), ("c", "in"))]  # a bare node id means its out / in port
    assert gc.infer_shapes(g)["c"].output_shape == (16, 26, 26)


def test_defaults_are_left_out_when_saving() -> None:
    text = gc.graph_to_json(gc.loads_graph(_doc('[{"id": "x", "type": "Input", "name": "x", "frozen": false, '
                                                '"lr_factor": 1, "ui": {}, "params": {}}]')))
    assert json.loads(text)["nodes"] == [{"id": "x", "type": "Input"}]


def test_node_keys_have_a_stable_order() -> None:
    g = gc.loads_graph(_doc('[{"ui": {"y": 2, "x": 1}, "lr_factor": 0.1, "frozen": true, "params": {"p": 0.2},'
                            ' "name": "drop it", "type": "Dropout", "id": "d"}]'))
    node = gc.graph_to_dict(g)["nodes"][0]
    assert list(node) == ["id", "type", "name", "params", "frozen", "lr_factor", "ui"]
    assert node["ui"] == {"y": 2, "x": 1}  # ui is the designer's: stored as given, never interpreted


# ---- frozen files from earlier versions -------------------------------------------------------


def test_frozen_v1_file_loads_and_saves_byte_for_byte() -> None:
    path = DATA / "segmenter_v1.json"
    text = path.read_text(encoding="utf-8")
    g = gc.load_graph(path)
    assert gc.graph_to_json(g) == text
    assert list(g.nodes) == ["image", "enc", "pool", "dec", "unpool", "skip", "classify", "mask"]
    assert g.nodes["enc"].frozen and g.nodes["enc"].name == "encoder stage"
    assert g.nodes["dec"].lr_factor == 0.5
    assert g.training["epochs"] == 3 and g.data["dataset"] == "shapes"
    summary = gc.summarize(g)
    shapes = {r.id: r.output_shape for r in summary.rows}
    assert shapes["pool"] == (8, 16, 16) and shapes["unpool"] == (8, 32, 32) and shapes["skip"] == (16, 32, 32)
    # stage: conv 3->8 (224) + batch norm (16); again 8->8 (584 + 16); 1x1 classifier 16->4 (68)
    assert summary.total_params == 240 + 600 + 68
    assert summary.trainable_params == 600 + 68  # the encoder stage is frozen
    assert gc.validate(g) == []


def test_schema_0_file_migrates_and_the_file_stays_as_it_was() -> None:
    path = DATA / "mlp_schema0.json"
    before = path.read_bytes()
    g = gc.load_graph(path)
    assert path.read_bytes() == before
    assert g.name == "digits_mlp"
    assert list(g.nodes) == ["pixels", "hidden", "act", "scores", "label"]
    assert [n.type for n in g.nodes.values()] == ["Input", "Dense", "ReLU", "Dense", "Output"]
    assert g.nodes["hidden"].name == "hidden layer" and g.nodes["scores"].frozen
    assert [str(e) for e in g.edges] == ["pixels.out -> hidden.in", "hidden.out -> act.in",
                                         "act.out -> scores.in", "scores.out -> label.in"]
    assert g.training == {"optimizer": "sgd", "lr": 0.1} and g.data == {"dataset": "digits"}
    assert gc.validate(g) == []
    summary = gc.summarize(g)
    assert (summary.total_params, summary.trainable_params) == (64 * 32 + 32 + 32 * 10 + 10, 64 * 32 + 32)
    saved = json.loads(gc.graph_to_json(g))
    assert saved["schema_version"] == gc.SCHEMA_VERSION and "layers" not in saved


def test_a_newer_schema_version_is_refused_clearly() -> None:
    with pytest.raises(gc.GraphLoadError) as err:
        gc.loads_graph('{"format": "netwright.graph", "schema_version": 7, "nodes": []}', "future.json")
    assert str(err.value) == ("future.json: schema_version 7 was written by a newer Netwright; this one "
                              "reads up to 1 — upgrade Netwright")


# ---- atomic saves ----------------------------------------------------------------------------


def test_save_leaves_no_temporary_files_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "net.json"
    graph = gc.load_graph(DATA / "segmenter_v1.json")
    gc.save_graph(graph, path)
    gc.save_graph(graph, path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["net.json"]
    assert path.read_text(encoding="utf-8") == (DATA / "segmenter_v1.json").read_text(encoding="utf-8")


def test_a_failed_save_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "net.json"
    gc.save_graph(sample_graph("Dense"), path)
    before = path.read_bytes()

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        gc.save_graph(sample_graph("Conv2d"), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]


def test_unsaveable_content_never_touches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    gc.save_graph(sample_graph("Dense"), path)
    before = path.read_bytes()
    graph = sample_graph("Dense")
    graph.training["callback"] = {1, 2}  # not JSON: refused before anything is written
    with pytest.raises(TypeError):
        gc.save_graph(graph, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saving_keeps_the_file_permissions(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    gc.save_graph(sample_graph("Dense"), path)
    assert stat.S_IMODE(path.stat().st_mode) & 0o044, "a new file is readable by others, like any file"
    path.chmod(0o640)
    gc.save_graph(sample_graph("Conv2d"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# ---- malformed input ---------------------------------------------------------------------------

NODE_X = '{"id": "x", "type": "Input"}'
BAD_FILES = [
    ("not json", "hello, graph", "bad.json: not valid JSON (line 1, column 1: Expecting value)"),
    ("truncated", _doc(f"[{NODE_X}")[:-12], "bad.json: truncated JSON"),
    ("empty", "", "bad.json: truncated JSON"),
    ("a list", "[1, 2]", "bad.json: expected a JSON object at the top level, got list"),
    ("deeply nested", "[" * 100_000 + "]" * 100_000, "bad.json: not a graph: nested too deeply"),
    ("other format", '{"format": "keras", "schema_version": 1}',
     "bad.json: format: expected 'netwright.graph', got 'keras' — not a Netwright graph"),
    ("no version", '{"format": "netwright.graph", "nodes": []}',
     "bad.json: schema_version: expected a whole number, got None"),
    ("version as text", '{"format": "netwright.graph", "schema_version": "1"}',
     "bad.json: schema_version: expected a whole number, got '1'"),
    ("unknown old version", '{"format": "netwright.graph", "schema_version": -1}',
     "bad.json: schema_version -1 is not supported (no migration to 1)"),
    ("nodes not a list", f'{{{HEAD}, "nodes": {{"x": 1}}}}', 'bad.json: nodes: expected a list, got {"x": 1}'),
    ("node not an object", _doc("[3]"), "bad.json: nodes[0]: expected a node object, got 3"),
    ("node without id", _doc('[{"type": "Input"}]'), "bad.json: nodes[0].id: every node needs a non-empty text id"),
    ("node id a number", _doc('[{"id": 7, "type": "Input"}]'),
     "bad.json: nodes[0].id: every node needs a non-empty text id"),
    ("node without type", _doc('[{"id": "x"}]'), "bad.json: nodes[0] (x): missing 'type'"),
    ("unknown type", _doc(f'[{NODE_X}, {{"id": "c", "type": "Conv4d"}}]'),
     "bad.json: nodes[1] (c): unknown node type 'Conv4d'"),
    ("duplicate ids", _doc(f"[{NODE_X}, {NODE_X}]"), "bad.json: nodes[1]: duplicate id 'x'"),
    ("negative kernel", _doc(f'[{NODE_X}, {{"id": "c", "type": "Conv2d", "params": {{"kernel_size": -3}}}}]'),
     "bad.json: nodes[1] (c).params.kernel_size: must be at least 1; got -3"),
    ("param of wrong type", _doc('[{"id": "d", "type": "Dense", "params": {"out_features": "64"}}]'),
     "bad.json: nodes[0] (d).params.out_features: must be a whole number; got '64'"),
    ("unknown param", _doc('[{"id": "d", "type": "Dense", "params": {"units": 64}}]'),
     "bad.json: nodes[0] (d).params.units: Dense has no parameter 'units' (it has: out_features, bias)"),
    ("params a list", _doc('[{"id": "d", "type": "Dense", "params": [64]}]'),
     "bad.json: nodes[0] (d).params: expected an object, got [64]"),
    ("frozen as text", _doc('[{"id": "d", "type": "Dense", "frozen": "yes"}]'),
     'bad.json: nodes[0] (d).frozen: expected true or false, got "yes"'),
    ("negative lr factor", _doc('[{"id": "d", "type": "Dense", "lr_factor": -1}]'),
     "bad.json: nodes[0] (d).lr_factor: expected a number >= 0, got -1"),
    ("infinite lr factor", _doc('[{"id": "d", "type": "Dense", "lr_factor": Infinity}]'),
     "bad.json: nodes[0] (d).lr_factor: expected a number >= 0, got inf"),
    ("dangling edge", _doc(f"[{NODE_X}]", '[{"src": ["x", "out"], "dst": ["ghost", "in"]}]'),
     "bad.json: edges[0]: wire x.out -> ghost.in names unknown node 'ghost'"),
    ("edge without dst", _doc(f"[{NODE_X}]", '[{"src": ["x", "out"]}]'),
     'bad.json: edges[0]: expected {"src": [node, port], "dst": [node, port]}'),
    ("edge end malformed", _doc(f"[{NODE_X}]", '[{"src": ["x"], "dst": "x"}]'),
     'bad.json: edges[0].src: expected [node-id, port], got ["x"]'),
    ("edge twice", _doc(f'[{NODE_X}, {{"id": "r", "type": "ReLU"}}]',
                        '[{"src": "x", "dst": "r"}, {"src": ["x", "out"], "dst": ["r", "in"]}]'),
     "bad.json: edges[1]: wire x.out -> r.in appears twice"),
    ("blocks a list", _doc("[]", extra=', "blocks": []'), "bad.json: blocks: expected an object, got []"),
    ("bad node in a block", _doc("[]", extra=', "blocks": {"enc": {"nodes": [{"id": "c", "type": "Conv2d", '
                                               '"params": {"stride": 0}}]}}'),
     "bad.json: blocks.enc.nodes[0] (c).params.stride: must be at least 1; got 0"),
    ("training a list", _doc("[]", extra=', "training": [1]'), "bad.json: training: expected an object, got [1]"),
    ("old layers not a list", '{"schema_version": 0, "layers": 5}', "bad.json: layers: expected a list, got 5"),
    ("old wire malformed", '{"schema_version": 0, "layers": [], "wires": ["a.out => b.in"]}',
     "bad.json: wires[0]: expected 'node.port -> node.port', got \"a.out => b.in\""),
    ("old layer not an object", '{"schema_version": 0, "layers": [null]}',
     "bad.json: layers[0]: expected a layer object, got null"),
]


@pytest.mark.parametrize("text,message", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_malformed_input_names_the_place(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    with pytest.raises(gc.GraphLoadError) as err:
        gc.load_graph(path)
    assert str(err.value).replace(str(tmp_path) + os.sep, "").startswith(message)
    assert err.value.__cause__ is None or isinstance(err.value.__cause__, gc.GraphLoadError)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(gc.GraphLoadError, match="no such file"):
        gc.load_graph(tmp_path / "missing.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(gc.GraphLoadError, match="cannot read"):
        gc.load_graph(tmp_path / "binary.json")
    with pytest.raises(gc.GraphLoadError, match="cannot read"):
        gc.load_graph(tmp_path)


def test_loading_never_executes_anything() -> None:
    # strings that would do something if evaluated stay plain text
    text = _doc('[{"id": "x", "type": "Input", "name": "__import__(\'os\').system(\'false\')", '
                '"params": {"field": "${HOME}"}}]')
    g = gc.loads_graph(text)
    assert g.nodes["x"].name == "__import__('os').system('false')"
    assert g.nodes["x"].params["field"] == "${HOME}"


_JUNK = [None, True, 0, -1, 1.5, "", "x", "out", [], [1], ["a", "b"], {}, {"a": 1}, 10**30, [[[]]], "in"]


def _mutate(doc: dict, rng: random.Random) -> None:
    """Replace or delete one random value anywhere in the document."""
    paths: list[tuple] = []

    def walk(value, path):
        paths.append(path)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in items:
            walk(child, path + (key,))

    walk(doc, ())
    path = rng.choice(paths[1:])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = json.loads(json.dumps(rng.choice(_JUNK)))


def test_randomly_damaged_files_give_load_errors_only() -> None:
    """Thousands of damaged documents: each loads (and validates) or raises GraphLoadError."""
    rng = random.Random(20240229)
    originals = [gc.graph_to_dict(sample_graph(t)) for t in all_types()]
    originals.append(json.loads((DATA / "mlp_schema0.json").read_text(encoding="utf-8")))
    originals.append(json.loads((DATA / "segmenter_v1.json").read_text(encoding="utf-8")))
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(5000):
        doc = json.loads(json.dumps(rng.choice(originals)))
        for _ in range(rng.randint(1, 3)):
            _mutate(doc, rng)
        text = json.dumps(doc)
        if rng.random() < 0.1:
            text = text[:rng.randrange(len(text))]
        try:
            graph = gc.loads_graph(text)
        except gc.GraphLoadError as exc:
            assert str(exc).startswith("<text>: ")
            outcomes["refused"] += 1
            continue
        gc.validate(graph)  # whatever loads can be validated and summarised without raising
        gc.summarize(graph)
        again = gc.graph_to_json(graph)
        assert gc.graph_to_json(gc.loads_graph(again)) == again
        outcomes["loaded"] += 1
    assert outcomes["loaded"] > 300 and outcomes["refused"] > 300  # both paths were exercised
