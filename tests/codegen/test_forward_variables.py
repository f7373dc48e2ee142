"""forward's variables: a linear chain reuses `x` so dead tensors are freed, and no name is
overwritten before its last use.

The data-flow check replays every generated forward line: each name a node's line reads must
hold exactly the values wired into that node at that moment, and each head must return its
own value. It runs on the golden graphs, hostile names, every registry sample and every
template, so a bad reuse anywhere fails here rather than as a silently wrong model.
"""

from __future__ import annotations

import ast
import weakref

import pytest
import torch
from torch import nn

import graph_core as gc
import templates
from codegen import compile_graph, generate_source
from graph_core import Graph
from tests.registry_samples import all_types, sample_graph

from . import graphs
from .graphs import Builder
from .test_hostile_names import hostile_graph

NOT_VALUES = {"self", "torch", "nn", "F", "causal_mask"}  # causal_mask: a helper function


def _reads(stmt: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            and n.id not in NOT_VALUES]


def _out_ports(graph: Graph, node_id: str) -> list[str]:
    return [p.name for p in gc.node_ports(graph.nodes[node_id], graph.blocks)[1]]


def dataflow_errors(graph: Graph, source: str | None = None) -> list[str]:
    """Replay the top-level forward lines of `graph`'s source (or `source`) against its wires.

    Returns one message per line that reads a name holding the wrong value (empty: correct).
    GAN graphs are not replayed (their graph class calls the generator, not the nodes).
    """
    generated = generate_source(graph)
    source = generated.source if source is None else source
    lines = source.splitlines()
    tree = ast.parse(source)
    forwards = [f for c in tree.body if isinstance(c, ast.ClassDef) for f in c.body
                if isinstance(f, ast.FunctionDef) and f.name == "forward"]
    main = forwards[-1]
    holder: dict[str, tuple[str, str]] = {name: (nid, "out") for nid, name in generated.inputs}
    assert [a.arg for a in main.args.args[1:]] == [name for _, name in generated.inputs]
    problems = []
    for lineno in range(main.lineno, main.end_lineno + 1):
        node_id = generated.line_to_node.get(lineno)
        if node_id is None:
            continue
        text = lines[lineno - 1].strip()
        if text.startswith("return") or graph.nodes[node_id].type == "Output":
            stmt = ast.parse(text if text.startswith("return") else "{" + text + "}")
            expected = {graph.edges_into(node_id, "in")[0].src}
            got = {holder.get(v) for v in _reads(stmt)}
            if got != expected:
                problems.append(f"line {lineno} {text!r}: returns {got}, wired {expected}")
            continue
        stmt = ast.parse(text).body[0]
        assert isinstance(stmt, ast.Assign), text
        if graph.nodes[node_id].type == "Input":  # `tokens_padding = tokens == 0`: a padding mask
            assert {holder.get(v) for v in _reads(stmt.value)} == {(node_id, "out")}, text
            holder[stmt.targets[0].id] = ("padding", node_id)
            continue
        got = {holder.get(v) for v in _reads(stmt.value)}
        masks = {v for v in got if v is not None and v[0] == "padding"}
        for _, tokens in masks:  # a padding mask read must come from the tokens behind a port
            ports = [p.name for p in gc.get_spec(graph.nodes[node_id].type).inputs]
            if not any((gc.padding_source(graph, node_id, p) or ("",))[0] == tokens for p in ports):
                problems.append(f"line {lineno} {text!r}: reads the padding of {tokens}, which it does not see")
        got -= masks
        expected = {e.src for e in graph.edges_into(node_id)}
        if got != expected:
            problems.append(f"line {lineno} {text!r}: reads {got}, wired {expected}")
        target = stmt.targets[0]
        ports = _out_ports(graph, node_id)
        if isinstance(target, ast.Tuple):  # `out, (h, c) = ...`: a pair holds one port's value
            for element, port in zip(target.elts, ports):
                for name in ast.walk(element):
                    if isinstance(name, ast.Name) and name.id != "_":
                        holder[name.id] = (node_id, port)
        else:
            holder[target.id] = (node_id, ports[0])
    return problems


def _cases() -> dict[str, Graph]:
    cases = {
        "mlp": graphs.mlp(), "segnet": graphs.segnet(), "vae": graphs.vae(),
        "two_heads": graphs.two_heads(), "blocks": graphs.with_block(), "hostile": hostile_graph(),
        "skip_from_x": _skip_from_input("x"), "layer_named_x": _layer_named_x(),
    }
    for t in all_types():
        if t != "Discriminator":
            cases[f"sample_{t}"] = sample_graph(t)
    for entry in templates.catalog():
        name = entry["name"] if isinstance(entry, dict) else entry.name
        g = templates.build(name)
        if not any(g.nodes_of_type("Discriminator")):
            cases[f"template_{name}"] = g
    return cases


def _skip_from_input(input_name: str) -> Graph:
    """input -> fc1 -> act -> fc2 -> add(fc2, input): the input is read again at the end."""
    b = Builder("skip")
    b.node("inp", "Input", name=input_name, shape=[6]).node("fc1", "Dense", out_features=6)
    b.node("act", "ReLU").node("fc2", "Dense", out_features=6).node("add", "Add")
    b.node("head", "Output", loss="none")
    b.chain("inp", "fc1", "act", "fc2", "add", "head").wire("inp", "add")
    return b.graph


def _layer_named_x() -> Graph:
    b = Builder("named x")
    b.node("img", "Input", shape=[4]).node("a", "Dense", name="x", out_features=5)
    b.node("b", "ReLU", name="x").node("c", "Dense", name="x", out_features=2)
    b.node("head", "Output", loss="none")
    return b.chain("img", "a", "b", "c", "head").graph


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_line_reads_the_values_wired_into_its_node(name):
    assert dataflow_errors(CASES[name]) == []


def test_the_replay_catches_a_name_overwritten_too_early():
    # guard against a check that cannot fail: read the chain where the input was wired
    g = _skip_from_input("x")
    source = generate_source(g).source
    assert "        add = x_2 + x  # (6,)\n" in source
    assert dataflow_errors(g, source.replace("add = x_2 + x ", "add = x_2 + x_2 ")) != []


def test_a_linear_chain_reads_like_hand_written_pytorch():
    source = generate_source(graphs.segnet()).source
    assert "        x = self.enc(image)  # (4, 8, 8)\n" in source
    assert "        x, pool_indices = self.pool(x)  # (4, 4, 4)\n" in source
    assert "        x = self.unpool(x, pool_indices, output_size=(8, 8))  # (4, 8, 8)\n" in source
    assert "        classes = self.classes(x)  # (3, 8, 8)\n        return classes\n" in source


def test_values_read_later_keep_their_node_names():
    vae = generate_source(graphs.vae()).source
    assert "act = self.act(x)" in vae  # read by mu and logvar
    assert "z = self.z(mu, logvar)" in vae
    heads = generate_source(graphs.two_heads()).source
    assert "trunk = self.trunk(x)" in heads and "'label': cls_," in heads


def test_an_input_named_x_becomes_the_chain_once_it_is_dead():
    source = generate_source(graphs.mlp()).source
    assert "    def forward(self, x):\n        x = self.fc1(x)  # (16,)\n        x = self.act(x)" in source
    model = compile_graph(graphs.mlp()).eval()
    data = torch.randn(4, 8)
    expected = model.fc2(model.act(model.fc1(data)))
    assert torch.equal(model(data), expected)
    assert torch.equal(model(x=data), expected)


def test_an_input_named_x_read_later_is_never_overwritten():
    g = _skip_from_input("x")
    generated = generate_source(g)
    assert generated.inputs == [("inp", "x")]
    forward = generated.source.split("def forward(self, x):")[1].split("\n\n")[0]
    assert "\n        x = " not in forward  # the chain takes another name
    assert "x_2 = self.fc1(x)" in forward
    model = compile_graph(g).eval()
    data = torch.randn(3, 6)
    expected = model.fc2(model.act(model.fc1(data))) + data
    assert torch.allclose(model(data), expected)
    assert torch.allclose(model(x=data), expected)


def test_layers_named_x_keep_their_attributes_and_the_chain_takes_a_fresh_name():
    # attribute names are state_dict keys: the chain variable must not change them
    g = _layer_named_x()
    source = generate_source(g).source
    assert "self.x = nn.Linear(4, 5)" in source and "self.x_3 = nn.Linear(5, 2)" in source
    assert "        x_4 = self.x(img)  # (5,)\n        x_4 = self.x_2(x_4)  # (5,)\n" in source
    model = compile_graph(g).eval()
    data = torch.randn(2, 4)
    layers = [model.get_submodule(model.node_modules[n]) for n in ("a", "b", "c")]
    assert len({id(m) for m in layers}) == 3
    assert torch.equal(model(data), layers[2](layers[1](layers[0](data))))


# ---- memory: the generated module frees what hand-written PyTorch frees ------------------

def _conv_chain(pairs: int) -> Graph:
    b = Builder("conv chain")
    b.node("image", "Input", shape=[3, 16, 16])
    ids = ["image"]
    for k in range(pairs):
        b.node(f"conv{k}", "Conv2d", out_channels=8, kernel_size=3, padding=1).node(f"relu{k}", "ReLU")
        ids += [f"conv{k}", f"relu{k}"]
    b.node("features", "Output", loss="none")
    return b.chain(*ids, "features").graph


class _HandChain(nn.Module):
    """The same network as hand-written PyTorch: `x = self.relu_k(self.conv_k(x))`."""

    def __init__(self, pairs: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(3 if k == 0 else 8, 8, 3, padding=1) for k in range(pairs))
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(pairs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, relu in zip(self.convs, self.relus):
            x = relu(conv(x))
        return x


def peak_alive_outputs(model: nn.Module, data: torch.Tensor) -> tuple[int, int]:
    """(most module outputs alive at once during forward, module outputs in all).

    A weak reference to every leaf module's output; each time a module finishes (in training
    mode, with grad) the outputs still alive are counted: those a variable of forward or
    autograd keeps. The last count is taken inside forward, before its locals go.
    """
    refs: list[weakref.ref] = []
    peak = 0

    def hook(_module: nn.Module, _inputs: object, out: torch.Tensor) -> None:
        nonlocal peak
        refs.append(weakref.ref(out))
        peak = max(peak, sum(r() is not None for r in refs))

    hooks = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        model(data)
    finally:
        for h in hooks:
            h.remove()
    return peak, len(refs)


def test_generated_forward_keeps_no_more_tensors_alive_than_hand_written_code():
    pairs = 12
    model = compile_graph(_conv_chain(pairs)).train()
    hand = _HandChain(pairs).train()
    data = torch.randn(2, 3, 16, 16)
    generated_peak, generated_total = peak_alive_outputs(model, data)
    hand_peak, hand_total = peak_alive_outputs(hand, data)
    assert generated_total == hand_total == 2 * pairs
    # ReLU's backward needs only its output, so each conv output goes once its ReLU has run:
    # at the end, the ReLU outputs and the last conv's output are left
    assert hand_peak == pairs + 1
    assert generated_peak <= hand_peak
    model(data).sum().backward()  # and the freed tensors were indeed not needed
    assert all(p.grad is not None for p in model.parameters())
