"""Undo is exact (issue 13): over random command sequences — merges, failing commands and
failing macros included — undoing everything gives back the byte-identical file, redoing
everything gives the bytes of the forward run, and every step in between matches too.

The stack here behaves as the designer's: a command is applied first and reaches the stack
only when it did not raise; a command the top of the stack merges with joins that step.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graph_core as gc
import templates
from graph_core import UNSET, Edge, Node

STARTS = {name: gc.graph_to_json(templates.build(name, **params)) for name, params in (
    ("mlp", {}), ("lenet", {}), ("segnet", {"image_size": 16, "depth": 2, "base_channels": 4}),
    ("vae", {}))}
TYPES = ["Dense", "ReLU", "Conv2d", "MaxPool2d", "Flatten", "Concat", "Add", "Dropout", "Output", "Nope"]
VALUES = [1, 2, 3, 8, 0.5, True, "same", [2, 2], UNSET, UNSET]


class Stack:
    """A QUndoStack in miniature: push applies, merges or drops a command that raised."""

    def __init__(self, graph: gc.Graph) -> None:
        self.graph = graph
        self.commands: list[gc.Command] = []
        self.snapshots = [gc.graph_to_json(graph)]  # the file after 0, 1, ... steps

    def push(self, command: gc.Command, merge: bool) -> bool:
        before = gc.graph_to_json(self.graph)
        try:
            command.apply(self.graph)
        except (ValueError, KeyError, gc.ParamError):
            assert gc.graph_to_json(self.graph) == before, "a command that raised changed the document"
            return False
        top = self.commands[-1] if self.commands else None
        if merge and top is not None and type(top) is type(command) and top.merge(command):
            self.snapshots[-1] = gc.graph_to_json(self.graph)
        else:
            self.commands.append(command)
            self.snapshots.append(gc.graph_to_json(self.graph))
        return True


def _command(data: st.DataObject, graph: gc.Graph, gesture: object) -> tuple[gc.Command, bool]:
    """One random command on the current graph (often a plausible one, sometimes one that fails)."""
    ids = list(graph.nodes) + ["ghost"]
    kind = data.draw(st.sampled_from(["param", "param", "param", "add", "remove", "connect", "disconnect",
                                      "rename", "frozen", "lr", "move", "move", "setting", "macro"]))
    pick = lambda options: data.draw(st.sampled_from(list(options)))  # noqa: E731
    if kind == "param":
        nid = pick(ids)
        node = graph.nodes.get(nid)
        names = [p.name for p in gc.get_spec(node.type).params] if node and gc.has_spec(node.type) else []
        name = pick(names + ["bogus"])
        return gc.SetParam(nid, name, pick(VALUES)), True
    if kind == "add":
        nid = pick([graph.unique_id("n"), ids[0]])
        src = pick(ids)
        return gc.AddNode(Node(nid, pick(TYPES)), [Edge((src, "out"), (nid, "in"))]), False
    if kind == "remove":
        return gc.RemoveNodes(data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))), False
    if kind == "connect":
        return gc.Connect(Edge((pick(ids), pick(["out", "indices"])), (pick(ids), pick(["in", "indices"])))), False
    if kind == "disconnect":
        edges = graph.edges + [Edge(("ghost", "out"), ("ghost", "in"))]
        return gc.Disconnect(pick(edges)), False
    if kind == "rename":
        return gc.Rename(pick(ids), pick(["a", "conv 1", " ", "x\u00e9"])), False
    if kind == "frozen":
        return gc.SetFrozen(pick(ids), pick([True, False])), False
    if kind == "lr":
        return gc.SetLrFactor(pick(ids), pick([0.0, 0.5, 1.0, 2.0])), False
    if kind == "move":
        nid = pick(ids)
        xy = (data.draw(st.integers(-50, 50)), data.draw(st.integers(-50, 50)))
        return gc.MoveNodes({nid: xy}, gesture=gesture), True
    if kind == "setting":
        return gc.SetSetting(pick(["training", "data"]), pick(["lr", "epochs", "zzz"]),
                             pick([0.1, 3, "x", UNSET])), True
    parts = [_command(data, graph, None)[0] for _ in range(data.draw(st.integers(1, 3)))]
    return gc.Macro(parts, "macro"), False


@settings(derandomize=True, max_examples=300, deadline=None, database=None)
@given(data=st.data(), start=st.sampled_from(sorted(STARTS)))
def test_undo_all_restores_the_bytes_and_redo_all_reaches_the_forward_run(data: st.DataObject,
                                                                           start: str) -> None:
    graph = gc.loads_graph(STARTS[start])
    stack = Stack(graph)
    gesture: object = object()
    for _ in range(data.draw(st.integers(1, 25))):
        if data.draw(st.booleans()):
            gesture = object()  # a new drag / a new editing gesture
        stack.push(*_command(data, graph, gesture))
    forward = gc.graph_to_json(graph)
    assert stack.snapshots[-1] == forward
    for depth in range(len(stack.commands), 0, -1):
        stack.commands[depth - 1].revert(graph)
        assert gc.graph_to_json(graph) == stack.snapshots[depth - 1], f"undo of step {depth}"
    assert gc.graph_to_json(graph) == STARTS[start]
    for depth, command in enumerate(stack.commands, start=1):
        command.apply(graph)
        assert gc.graph_to_json(graph) == stack.snapshots[depth], f"redo of step {depth}"
    assert gc.graph_to_json(graph) == forward


def test_set_param_back_to_default_then_a_new_value_undoes_byte_identically() -> None:
    """The issue's case: UNSET then a value, merged into one step, undid into another key order."""
    graph = templates.build("lenet")
    before = gc.graph_to_json(graph)
    stack = Stack(graph)
    stack.push(gc.SetParam("conv1", "kernel_size", UNSET), merge=True)
    stack.push(gc.SetParam("conv1", "kernel_size", 3), merge=True)
    assert len(stack.commands) == 2  # two steps: removing a key is a gesture of its own
    for command in reversed(stack.commands):
        command.revert(graph)
    assert gc.graph_to_json(graph) == before


def test_a_macro_whose_second_command_fails_leaves_nothing_applied() -> None:
    graph = templates.build("mlp")
    before = gc.graph_to_json(graph)
    macro = gc.Macro([gc.Rename("hidden1", "first"), gc.SetParam("ghost", "out_features", 3)])
    with pytest.raises(KeyError):
        macro.apply(graph)
    assert gc.graph_to_json(graph) == before


def test_rename_to_empty_is_refused_and_an_empty_name_round_trips_as_the_id() -> None:
    with pytest.raises(ValueError, match="a name cannot be empty"):
        gc.Rename("hidden1", "")
    graph = templates.build("mlp")
    graph.nodes["hidden1"].name = ""  # a script may still write it
    text = gc.graph_to_json(graph)
    assert '"name": ""' not in text
    assert gc.loads_graph(text).nodes["hidden1"].name == "hidden1"


