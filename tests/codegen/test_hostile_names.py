"""Hostile node, block and graph names produce safe, working code: nothing from the file
reaches the source except allocator output and validated values."""

from __future__ import annotations

import ast
import io
import keyword
import tokenize

import torch

from codegen import compile_graph, generate_source

from .graphs import Builder

PAYLOAD = 'x); import os; os.system("touch /tmp/netwright_pwned") #'
EVIL_NAMES = [PAYLOAD, "class", "print", "self", "torch", "F", "forward", "training", "1x",
              "", "Ünïcødé", "__init__", "_parameters", "x", "x"]


def hostile_graph() -> tuple:
    b = Builder('"""; import os #')
    b.graph.name = 'net"""\nimport os\n'
    inner = Builder("inner")
    inner.node("in'\"", "Input", shape=[]).node("dense\n", "Dense", name="return", out_features=5)
    inner.node("out\\", "Output", loss="none").chain("in'\"", "dense\n", "out\\")
    b.graph.blocks['block"); os.system("x'] = inner.graph
    b.node(PAYLOAD, "Input", name=PAYLOAD, shape=[6])
    previous = PAYLOAD
    for k, name in enumerate(EVIL_NAMES):
        nid = f"{name}#{k}"
        b.node(nid, "Dense" if k % 2 else "ReLU", name=name, **({"out_features": 6} if k % 2 else {}))
        b.wire(previous, nid)
        previous = nid
    b.node("blk", "Block", name="def", block='block"); os.system("x')
    b.wire(previous, "blk", dst_port="in'\"")
    b.node(PAYLOAD + " head", "Output", name=PAYLOAD, loss="none")
    b.node("second\n'head'", "Output", name="print", loss="none")
    b.wire("blk", PAYLOAD + " head", src_port="out\\")
    b.wire(previous, "second\n'head'")
    return b.graph


def _names_in(source: str) -> set[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.string for t in tokens if t.type == tokenize.NAME}


def test_hostile_names_generate_safe_source():
    generated = generate_source(hostile_graph())
    source = generated.source
    tree = ast.parse(source)
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [ast.unparse(n) for n in imports] == [
        "import torch", "from torch import nn", "import torch.nn.functional as F"]
    names = _names_in(source)
    assert not names & {"os", "system", "exec", "__import__", "open", "compile", "getattr"}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for arg in node.args.args:
                assert not keyword.iskeyword(arg.arg)
    # string constants are docstrings, fixed strings, or escaped Output ids used as dict keys
    keys = {k.value for r in ast.walk(tree) if isinstance(r, ast.Return) and isinstance(r.value, ast.Dict)
            for k in r.value.keys}
    assert keys == {PAYLOAD + " head", "second\n'head'"}


def test_hostile_names_compile_and_run(tmp_path):
    g = hostile_graph()
    model = compile_graph(g).eval()
    out = model(torch.randn(3, 6))
    assert set(out) == {PAYLOAD + " head", "second\n'head'"}
    assert out[PAYLOAD + " head"].shape == (3, 5)
    assert out["second\n'head'"].shape == (3, 6)
    first_input = model.generated.inputs[0][1]
    assert first_input.isidentifier()
    assert model(**{first_input: torch.randn(1, 6)})[PAYLOAD + " head"].shape == (1, 5)
    assert not (tmp_path / "netwright_pwned").exists()


def test_every_attribute_is_unique_and_only_the_chain_variable_is_reused():
    tree = ast.parse(generate_source(hostile_graph()).source)
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        init = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
        attrs = [t.attr for s in init.body if isinstance(s, ast.Assign) for t in s.targets
                 if isinstance(t, ast.Attribute)]
        assert len(attrs) == len(set(attrs)), cls.name
        forward = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "forward")
        targets = [n.id for s in forward.body if isinstance(s, ast.Assign) for t in s.targets
                   for n in ast.walk(t) if isinstance(n, ast.Name)]
        params = [a.arg for a in forward.args.args]
        # one shared variable carries the linear chain (`x`); every other name is bound once,
        # and a forward argument is only ever rebound as that chain
        reused = {t for t in targets if targets.count(t) > 1}
        assert len(reused) <= 1, cls.name
        once = [t for t in targets if t not in reused]
        assert not set(once) & set(params), cls.name
        assert reused <= {"x", "x_2", "x_3"}, cls.name
