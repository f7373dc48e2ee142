"""Edit commands, headless: apply then revert gives back the same document byte for byte.

The designer wraps each command in one QUndoCommand, so these properties are what make undo
and redo trustworthy: every edit announces itself, reverting restores the exact file, and
re-applying after a revert lands on the exact same state again.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import graph_core as gc
from graph_core import (
    UNSET,
    AddNode,
    Connect,
    Disconnect,
    Edge,
    Graph,
    GroupIntoBlock,
    Macro,
    MoveNodes,
    Node,
    RemoveNodes,
    Rename,
    SetFrozen,
    SetLrFactor,
    SetParam,
    SetSetting,
    Ungroup,
)

DATA = Path(__file__).parent / "data"


def _segmenter() -> Graph:
    return gc.load_graph(DATA / "segmenter_v1.json")


def _vgg_like() -> Graph:
    """Two conv stages with a residual Add and a Concat skip, a classifier head: template-like."""
    g = Graph(name="vgg_like")
    layers = [
        ("img", "Input", {"shape": [3, 32, 32]}), ("c1", "Conv2d", {"out_channels": 8, "padding": 1}),
        ("r1", "ReLU", {}), ("c2", "Conv2d", {"out_channels": 8, "padding": 1}), ("res", "Add", {}),
        ("p1", "MaxPool2d", {}), ("c3", "Conv2d", {"out_channels": 16, "padding": "same"}),
        ("bn", "BatchNorm", {}), ("side", "Conv2d", {"out_channels": 4, "kernel_size": 1}),
        ("cat", "Concat", {}), ("gap", "GlobalAvgPool", {}), ("fc", "Dense", {"out_features": 10}),
        ("drop", "Dropout", {"p": 0.3}), ("label", "Output", {}),
    ]
    for k, (nid, type_name, params) in enumerate(layers):
        g.nodes[nid] = Node(nid, type_name, params, ui={"x": 100 * k, "y": 0})
    for a, b in (("img", "c1"), ("c1", "r1"), ("r1", "c2"), ("c2", "res"), ("r1", "res"), ("res", "p1"),
                 ("p1", "c3"), ("c3", "bn"), ("p1", "side"), ("bn", "cat"), ("side", "cat"), ("cat", "gap"),
                 ("gap", "fc"), ("fc", "drop"), ("drop", "label")):
        g.edges.append(Edge((a, "out"), (b, "in")))
    g.training = {"optimizer": "adam", "lr": 0.001}
    return g


def test_the_template_like_graphs_are_valid() -> None:
    assert gc.validate(_vgg_like()) == []
    assert gc.validate(_segmenter()) == []


# ---- each command alone -------------------------------------------------------------------------

SINGLE_EDITS: list[tuple[str, Any]] = [
    ("add node", lambda g: AddNode(Node("extra", "ReLU"), [Edge(("fc", "out"), ("extra", "in"))])),
    ("remove nodes", lambda g: RemoveNodes(["c2", "side"])),
    ("remove first and last", lambda g: RemoveNodes(["label", "img"])),
    ("connect", lambda g: Connect(Edge(("c1", "out"), ("cat", "in")))),
    ("connect replaces a one-wire input", lambda g: Connect(Edge(("r1", "out"), ("c3", "in")))),
    ("disconnect", lambda g: Disconnect(Edge(("r1", "out"), ("res", "in")))),
    ("set a stated param", lambda g: SetParam("c1", "out_channels", 32, g)),
    ("set a new param", lambda g: SetParam("c1", "stride", 2, g)),
    ("reset a param to its default", lambda g: SetParam("c1", "out_channels", UNSET, g)),
    ("reset the first of two params", lambda g: SetParam("c3", "out_channels", UNSET, g)),
    ("rename", lambda g: Rename("fc", "classifier")),
    ("freeze", lambda g: SetFrozen(["c1", "c2"], True)),
    ("lr factor", lambda g: SetLrFactor("fc", 0.1)),
    ("move", lambda g: MoveNodes({"c1": (5, 7), "bn": (1.5, -2)})),
    ("setting", lambda g: SetSetting("training", "epochs", 12)),
    ("remove a setting", lambda g: SetSetting("training", "lr", UNSET)),
    ("data setting", lambda g: SetSetting("data", "dataset", "digits")),
    ("group", lambda g: GroupIntoBlock(["c3", "bn", "side", "cat"], "mixer")),
    ("group a chain", lambda g: GroupIntoBlock(["c1", "r1", "c2", "res"], "residual", "stage1")),
    ("macro", lambda g: Macro([Rename("c1", "first"), SetParam("c1", "kernel_size", 5, g),
                               RemoveNodes(["drop"]), Connect(Edge(("fc", "out"), ("label", "in")))])),
]


@pytest.mark.parametrize("make", [m for _, m in SINGLE_EDITS], ids=[n for n, _ in SINGLE_EDITS])
def test_apply_then_revert_restores_the_bytes(make) -> None:
    g = _vgg_like()
    before = gc.graph_to_json(g)
    events: list[str] = []
    g.subscribe(lambda kind, info: events.append(kind))
    command = make(g)
    command.apply(g)
    after = gc.graph_to_json(g)
    assert after != before
    assert events, "every mutation is announced"
    command.revert(g)
    assert gc.graph_to_json(g) == before
    command.apply(g)  # redo lands on the same state
    assert gc.graph_to_json(g) == after


def test_ungroup_then_revert_on_the_frozen_file() -> None:
    g = _segmenter()
    before = gc.graph_to_json(g)
    command = Ungroup("enc")
    command.apply(g)
    assert "enc" not in g.nodes and {"conv", "norm", "act"} <= set(g.nodes)
    command.revert(g)
    assert gc.graph_to_json(g) == before


def test_events_name_what_changed() -> None:
    g = _vgg_like()
    events: list[tuple[str, dict]] = []
    unsubscribe = g.subscribe(lambda kind, info: events.append((kind, info)))
    AddNode(Node("n", "ReLU"), [Edge(("fc", "out"), ("n", "in"))]).apply(g)
    assert events == [("node_added", {"node": "n"}), ("edge_added", {"edge": Edge(("fc", "out"), ("n", "in"))})]
    events.clear()
    RemoveNodes(["n"]).apply(g)
    assert [k for k, _ in events] == ["edge_removed", "node_removed"]
    events.clear()
    SetParam("fc", "out_features", 5).apply(g)
    Rename("fc", "x").apply(g)
    SetFrozen("fc", True).apply(g)
    MoveNodes({"fc": (1, 1)}).apply(g)
    assert events == [("node_changed", {"node": "fc", "what": w}) for w in ("params", "name", "frozen", "ui")]
    events.clear()
    SetSetting("training", "epochs", 3).apply(g)
    GroupIntoBlock(["c1"], "one").apply(g)
    assert [k for k, _ in events] == ["settings_changed", "reset"]
    unsubscribe()
    events.clear()
    Rename("fc", "y").apply(g)
    assert events == []


def test_move_nodes_of_one_drag_merge_into_one_step() -> None:
    g = _vgg_like()
    before = gc.graph_to_json(g)
    drag = object()
    first = MoveNodes({"c1": (10, 10)}, gesture=drag)
    first.apply(g)
    for step in range(1, 6):
        nxt = MoveNodes({"c1": (10 + step, 10 + 2 * step), "c2": (step, step)}, gesture=drag)
        nxt.apply(g)
        assert first.merge(nxt)
    assert (g.nodes["c1"].ui["x"], g.nodes["c1"].ui["y"]) == (15, 20)
    assert not first.merge(MoveNodes({"c1": (0, 0)}, gesture=object())), "another drag is another step"
    assert not first.merge(Rename("c1", "x"))
    first.revert(g)
    assert gc.graph_to_json(g) == before
    first.apply(g)
    assert (g.nodes["c1"].ui["x"], g.nodes["c1"].ui["y"], g.nodes["c2"].ui["x"]) == (15, 20, 5)


def test_moves_without_a_gesture_never_merge() -> None:
    assert not MoveNodes({"a": (0, 0)}).merge(MoveNodes({"a": (1, 1)}))


def test_set_param_edits_of_one_field_merge() -> None:
    g = _vgg_like()
    before = gc.graph_to_json(g)
    first = SetParam("fc", "out_features", 11, g)
    first.apply(g)
    second = SetParam("fc", "out_features", 12, g)
    second.apply(g)
    assert first.merge(second)
    assert not first.merge(SetParam("fc", "bias", False, g))
    first.revert(g)
    assert gc.graph_to_json(g) == before


@pytest.mark.parametrize("node,name,value,message", [
    ("fc", "out_features", 0, "out_features: must be at least 1; got 0"),
    ("fc", "out_features", "many", "out_features: must be a whole number; got 'many'"),
    ("drop", "p", 2.0, "p: must be at most 1; got 2"),
    ("c1", "padding", "full", "padding: must be a whole number, a list of them, 'same' or 'valid'; got 'full'"),
    ("fc", "bias", 1, "bias: must be true or false; got 1"),
])
def test_set_param_refuses_invalid_values(node: str, name: str, value: Any, message: str) -> None:
    g = _vgg_like()
    with pytest.raises(gc.ParamError) as err:
        SetParam(node, name, value, g)
    assert str(err.value) == message


def test_set_param_refuses_an_unknown_parameter() -> None:
    with pytest.raises(KeyError):
        SetParam("fc", "units", 3, _vgg_like())


# ---- group and ungroup ----------------------------------------------------------------------------


def _wiring(g: Graph) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Per input port, its sources in wire order (the order a Concat joins them)."""
    ports: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for e in g.edges:
        ports.setdefault(e.dst, []).append(e.src)
    return ports


@pytest.mark.parametrize("selection", [
    ["c3", "bn", "side", "cat"], ["c1", "r1", "c2", "res"], ["bn", "side"], ["side"], ["cat", "gap", "fc"],
    ["c2", "res", "p1", "c3"],
])
def test_group_then_ungroup_keeps_shapes_params_and_wire_order(selection: list[str]) -> None:
    g = _vgg_like()
    g.edges.reverse()  # wire order must survive whatever it is, including Concat inputs listed last-first
    shapes = {n: s.output_shape for n, s in gc.infer_shapes(g).items()}
    total = gc.summarize(g).total_params
    wiring = _wiring(g)

    GroupIntoBlock(selection, "grouped", "group_node").apply(g)
    assert not set(selection) & set(g.nodes)
    grouped = gc.infer_shapes(g)
    assert gc.summarize(g, grouped).total_params == total
    assert gc.errors(gc.validate(g, grouped)) == []
    for nid, shape in shapes.items():
        if nid in g.nodes:
            assert grouped[nid].output_shape == shape, nid

    Ungroup("group_node").apply(g)
    assert set(g.nodes) == set(shapes)
    assert {n: s.output_shape for n, s in gc.infer_shapes(g).items()} == shapes
    assert gc.summarize(g).total_params == total
    assert _wiring(g) == wiring
    assert gc.errors(gc.validate(g)) == []


def test_group_makes_ports_from_the_boundary() -> None:
    g = _vgg_like()
    GroupIntoBlock(["c3", "bn", "side", "cat"], "mixer").apply(g)
    block = g.blocks["mixer"]
    assert list(g.nodes)[6] == "mixer", "the block node takes the place of the first grouped node"
    inputs, outputs = gc.node_ports(g.nodes["mixer"], g.blocks)
    assert [p.name for p in inputs] == ["in_p1"]  # p1 feeds two grouped nodes: one port
    assert [p.name for p in outputs] == ["out_cat"]
    assert block.nodes["in_p1"].params == {"shape": []}, "block inputs take whatever arrives"
    assert block.nodes["out_cat"].params == {"loss": "none"}
    assert g.nodes["mixer"].ui == {"x": 750.0, "y": 0.0}  # the middle of the grouped nodes
    assert gc.infer_shapes(g)["mixer"].output_shape == (20, 16, 16)


@pytest.mark.parametrize("selection,block,message", [
    ([], "b", "select nodes to group"),
    (["c1"], "b", None),
    (["img", "c1"], "b", "img is an Input: a graph's inputs and heads stay outside blocks"),
    (["drop", "label"], "b", "label is an Output: a graph's inputs and heads stay outside blocks"),
    (["c2", "c3"], "b", "res, p1 lies between the selected nodes and would wire the block into itself: "
                        "select it too, or group fewer nodes"),
])
def test_group_refusals(selection: list[str], block: str, message: str | None) -> None:
    g = _vgg_like()
    before = gc.graph_to_json(g)
    command = GroupIntoBlock(selection, block)
    if message is None:
        command.apply(g)
        with pytest.raises(ValueError, match="a block named 'b' already exists"):
            GroupIntoBlock(["c2"], "b").apply(g)
        return
    with pytest.raises(ValueError) as err:
        command.apply(g)
    assert str(err.value) == message
    assert gc.graph_to_json(g) == before, "a refused edit changes nothing"


def test_pool_indices_cannot_cross_a_block_boundary() -> None:
    g = _segmenter()
    before = gc.graph_to_json(g)
    with pytest.raises(ValueError, match="carries indices: group the pool together with its unpool"):
        GroupIntoBlock(["unpool", "skip"], "up").apply(g)
    assert gc.graph_to_json(g) == before
    GroupIntoBlock(["pool", "dec", "unpool"], "down_up").apply(g)
    assert gc.infer_shapes(g)["down_up"].output_shape == (8, 32, 32)


def test_ungroup_refuses_what_is_not_a_block() -> None:
    g = _vgg_like()
    with pytest.raises(ValueError, match="c1 is not a Block"):
        Ungroup("c1").apply(g)
    g.nodes["b"] = Node("b", "Block", {"block": "missing"})
    with pytest.raises(ValueError, match="b names no block of this file"):
        Ungroup("b").apply(g)


def test_ungroup_renames_inner_nodes_that_clash() -> None:
    g = _segmenter()
    Ungroup("enc").apply(g)
    Ungroup("dec").apply(g)  # the same block again: its conv/norm/act ids are taken now
    assert [n for n in g.nodes if n.startswith(("conv", "norm", "act"))] == [
        "conv", "norm", "act", "conv_2", "norm_2", "act_2"]
    shapes = gc.infer_shapes(g)
    assert shapes["act_2"].output_shape == (8, 16, 16)
    assert gc.summarize(g).total_params == 908
    assert gc.errors(gc.validate(g)) == []


# ---- a long random session --------------------------------------------------------------------

_ADDABLE = ["ReLU", "Dense", "Conv2d", "Dropout", "BatchNorm", "Identity", "Concat", "Add", "MaxPool2d",
            "Flatten", "Sigmoid"]


def _value_for(p: gc.ParamSpec, rng: random.Random, g: Graph) -> Any:
    if rng.random() < 0.15:
        return UNSET
    low = int(p.minimum) if p.minimum is not None else -2
    if p.kind == "int":
        return rng.randint(max(low, 1) if p.name != "dim" else -2, 6)
    if p.kind == "float":
        hi = p.maximum if p.maximum is not None else 4.0
        return round(rng.uniform(p.minimum or 0.0, hi), 3)
    if p.kind == "bool":
        return rng.random() < 0.5
    if p.kind == "choice":
        return rng.choice(p.choices)
    if p.kind == "ints":
        return rng.choice([rng.randint(max(low, 0), 4), [rng.randint(max(low, 1), 4)] * 2, *p.words])
    if p.kind == "shape":
        return [rng.randint(1, 8) for _ in range(rng.randint(1, 3))]
    if p.name == "block" and g.blocks:
        return rng.choice(sorted(g.blocks))
    return rng.choice(["image", "label", "note", ""])


def _random_command(g: Graph, rng: random.Random, step: int):
    """One plausible user edit of the current graph (None when nothing fits)."""
    ids = list(g.nodes)
    kind = rng.choice(["add", "add", "remove", "connect", "connect", "disconnect", "param", "param",
                       "rename", "move", "frozen", "lr", "setting", "group", "ungroup", "macro"])
    if kind == "add" or not ids:
        type_name = rng.choice(_ADDABLE)
        nid = g.unique_id(type_name)
        sources = [(n, p.name) for n in ids for p in gc.node_ports(g.nodes[n], g.blocks)[1] if p.kind == "tensor"]
        edges = [Edge(rng.choice(sources), (nid, "in"))] if sources and rng.random() < 0.8 else []
        return AddNode(Node(nid, type_name, ui={"x": step, "y": -step}), edges)
    if kind == "remove":
        return RemoveNodes(rng.sample(ids, min(len(ids), rng.randint(1, 3))))
    if kind == "connect":
        src, dst = g.nodes[rng.choice(ids)], g.nodes[rng.choice(ids)]
        outs, ins = gc.node_ports(src, g.blocks)[1], gc.node_ports(dst, g.blocks)[0]
        if not outs or not ins:
            return None
        edge = Edge((src.id, rng.choice(outs).name), (dst.id, rng.choice(ins).name))
        return None if edge in g.edges else Connect(edge)
    if kind == "disconnect":
        return Disconnect(rng.choice(g.edges)) if g.edges else None
    node = g.nodes[rng.choice(ids)]
    if kind == "param":
        spec = gc.get_spec(node.type)
        if not spec.params:
            return None
        p = rng.choice(spec.params)
        return SetParam(node.id, p.name, _value_for(p, rng, g), g)
    if kind == "rename":
        return Rename(node.id, rng.choice(["a", "stage 2", node.id, "ünïcode"]))
    if kind == "move":
        chosen = rng.sample(ids, min(len(ids), rng.randint(1, 4)))
        return MoveNodes({n: (rng.uniform(-500, 500), rng.uniform(-500, 500)) for n in chosen})
    if kind == "frozen":
        return SetFrozen(rng.sample(ids, min(len(ids), 2)), rng.random() < 0.5)
    if kind == "lr":
        return SetLrFactor(node.id, rng.choice([0.0, 0.1, 1.0, 2.5]))
    if kind == "setting":
        return SetSetting(rng.choice(["training", "data"]), rng.choice(["lr", "epochs", "dataset"]),
                          rng.choice([UNSET, 1, 0.01, "digits", [1, 2]]))
    if kind == "group":
        inner = [n for n in ids if g.nodes[n].type not in ("Input", "Output")]
        if not inner:
            return None
        return GroupIntoBlock(rng.sample(inner, min(len(inner), rng.randint(1, 4))), f"block{step}")
    if kind == "ungroup":
        blocks = [n for n in ids if g.nodes[n].type == "Block"]
        return Ungroup(rng.choice(blocks)) if blocks else None
    return Macro([Rename(node.id, f"renamed{step}"), MoveNodes({node.id: (step, step)})])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_random_session_reverts_to_the_original_bytes(seed: int) -> None:
    rng = random.Random(seed)
    g = _vgg_like() if seed % 2 else _segmenter()
    original = gc.graph_to_json(g)
    events: list[str] = []
    g.subscribe(lambda kind, info: events.append(kind))
    done, states = [], [original]
    while len(done) < 200:
        try:
            command = _random_command(g, rng, len(done))
        except gc.ParamError:
            continue
        if command is None:
            continue
        before, n_events = gc.graph_to_json(g), len(events)
        try:
            command.apply(g)
        except ValueError:  # a refused edit (e.g. grouping across pool indices) changes nothing
            assert gc.graph_to_json(g) == before
            continue
        after = gc.graph_to_json(g)
        assert len(events) > n_events, f"{command.text} changed the graph silently"
        gc.validate(g)  # the document stays analysable after any edit, however odd
        for graph in (g, *g.blocks.values()):
            dangling = [str(e) for e in graph.edges if e.src[0] not in graph.nodes or e.dst[0] not in graph.nodes]
            assert dangling == [], f"{command.text} left dangling wires"
        done.append(command)
        states.append(after)
    kinds = {type(c).__name__ for c in done}
    assert {"AddNode", "RemoveNodes", "Connect", "Disconnect", "SetParam", "GroupIntoBlock"} <= kinds
    for k in range(len(done) - 1, -1, -1):
        done[k].revert(g)
        assert gc.graph_to_json(g) == states[k], f"undo of step {k} ({done[k].text})"
    assert gc.graph_to_json(g) == original
    for k, command in enumerate(done):  # redo everything
        command.apply(g)
        assert gc.graph_to_json(g) == states[k + 1], f"redo of step {k} ({command.text})"
