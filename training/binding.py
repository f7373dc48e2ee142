"""Does the graph fit its data? Structured issues, each with the one-click fixes that resolve it.

One set of checks serves both ends: `training.bind` raises them as `node-id: message` lines
before a run (the CLI prints them), and the designer shows them in its Issues list after every
edit, next to graph_core's own issues. The designer cannot build the data on every keystroke, so
the checks read only field descriptions (`FieldInfo`: shape, dtype, classes), which a
`DataSchema` gives without generating anything. They work on a partly invalid graph too: what
cannot be checked yet (a head whose input shape is unknown) is skipped, not guessed.

A `Fix` is plain data (a label and the parameter / setting changes it makes), so issues compare
equal between two analyses and a view need not repaint; `Fix.command()` turns it into graph_core
commands applied as one undo step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import graph_core as gc

from .datasets.core import DataError
from .datasets.schema import DataSchema, describe_builtin
from .task import GAN, NOTHING_TO_TRAIN, Head, InputBinding, Task, collect

ERROR, WARNING = gc.ERROR, gc.WARNING
# Layers a head's class scores pass through unchanged in width, when looking for the layer to resize.
_SAME_WIDTH = {"ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "GELU", "Identity",
               "Dropout", "BatchNorm", "LayerNorm"}
_WIDTH_PARAM = {"Dense": "out_features", "Conv1d": "out_channels", "Conv2d": "out_channels",
                "Conv3d": "out_channels", "ConvTranspose1d": "out_channels",
                "ConvTranspose2d": "out_channels", "ConvTranspose3d": "out_channels"}


@dataclass(frozen=True)
class Change:
    """One edit a fix makes: a node parameter (`where` = node id), a setting (`where` = section),
    or (kind "reshape") a Reshape node `key` with shape `value` put on the wire into node `where`."""

    kind: str  # "param" or "setting"
    where: str
    key: str
    value: Any

    def command(self) -> gc.Command:
        """A fresh graph_core command making this change."""
        if self.kind == "param":
            return gc.SetParam(self.where, self.key, self.value)
        if self.kind == "reshape":
            return _ReshapeBefore(self.where, self.key, list(self.value))
        return gc.SetSetting(self.where, self.key, self.value)


class _ReshapeBefore(gc.Command):
    """Put a Reshape on the single wire into `before`'s `in` port, where `before` stood (which
    moves one column to the right)."""

    def __init__(self, before: str, node_id: str, shape: list[int]) -> None:
        self.before, self.node_id, self.shape = before, node_id, shape
        self.text = f"reshape to {shape} before {before}"
        self._done: gc.Macro | None = None

    def apply(self, graph: gc.Graph) -> None:
        wires = graph.edges_into(self.before, "in")
        if len(wires) != 1:
            raise ValueError(f"{self.before} needs exactly one wire into 'in' to put a Reshape on it")
        head = graph.nodes[self.before]
        x, y = float(head.ui.get("x", 0.0)), float(head.ui.get("y", 0.0))
        node = gc.Node(self.node_id, "Reshape", {"shape": self.shape}, ui={"x": x, "y": y})
        self._done = gc.Macro([gc.Disconnect(wires[0]), gc.MoveNodes({self.before: (x + 300.0, y)}),
                               gc.AddNode(node, [gc.Edge(wires[0].src, (self.node_id, "in")),
                                                 gc.Edge((self.node_id, "out"), (self.before, "in"))])])
        self._done.apply(graph)

    def revert(self, graph: gc.Graph) -> None:
        if self._done is not None:
            self._done.revert(graph)


@dataclass(frozen=True)
class Fix:
    """A one-click fix: what the button says and the changes it makes (one undo step)."""

    label: str
    changes: tuple[Change, ...]

    def command(self) -> gc.Macro:
        """The changes as one graph_core command, named after the fix (the undo history shows it)."""
        return gc.Macro([c.command() for c in self.changes], self.label)


@dataclass(frozen=True)
class DataIssue:
    """A mismatch between the graph and its data; `str()` is the `node-id: message` line."""

    node: str | None
    message: str
    fixes: tuple[Fix, ...] = ()
    severity: str = ERROR

    @property
    def fix(self) -> Fix | None:
        """The first (preferred) fix, or None."""
        return self.fixes[0] if self.fixes else None

    def __str__(self) -> str:
        return f"{self.node or 'data'}: {self.message}"


def check_data(graph: gc.Graph, schema: DataSchema | None,
               shapes: Mapping[str, gc.NodeShapes] | None = None,
               problem: str | None = None) -> list[DataIssue]:
    """Every data issue of a graph being edited (never raises).

    Args:
        graph: the document, valid or not.
        schema: its data section's schema, or None when that section failed to describe.
        shapes: `infer_shapes(graph)` when the caller has it already.
        problem: the DataError message when `schema` is None (no dataset, missing file, ...).
    """
    if schema is None:
        return [_data_problem(graph, problem or "no dataset given")]
    task = collect(graph, shapes)
    issues = binding_issues(task, schema.fields, schema.name, graph)
    heads = list(graph.nodes_of_type("Output"))
    if heads and task.regime != GAN and all(gc.resolved_params(n)["loss"] == "none" for n in heads):
        issues.append(DataIssue(heads[0].id if heads else None, NOTHING_TO_TRAIN))
    return issues


def binding_issues(task: Task, info: Mapping[str, Any], dataset: str = "the dataset",
                   graph: gc.Graph | None = None) -> list[DataIssue]:
    """Every mismatch between a task's inputs and heads and the data's field infos.

    Args:
        task: from `analyse` or `collect`.
        info: field name -> FieldInfo.
        dataset: the dataset's name, for messages.
        graph: the graph the task came from; with it, issues carry fixes.
    """
    ctx = _Context(task, info, dataset, graph)
    issues: list[DataIssue] = []
    for b in task.inputs:
        if not b.noise:
            issues += ctx.input_issues(b)
    for h in task.heads:
        issues += ctx.head_issues(h)
    if task.regime == GAN and task.gan_real is None:
        issues.append(DataIssue("discriminator", "its real input must come straight from a data Input node (or through one OneHot)"))
    return issues


def suggest_dataset(graph: gc.Graph) -> Fix | None:
    """A built-in that fits the graph's first data Input (digits at its size for grey images);
    None when none does (an RGB network needs the user's own images)."""
    shape, dtype = (1, 28, 28), "float32"
    for node in graph.nodes_of_type("Input"):
        p = gc.resolved_params(node)
        if p["source"] == "data":
            shape, dtype = tuple(p["shape"]), p["dtype"]
            break
    if len(shape) == 3 and shape[0] == 1:
        size: Any = shape[1] if shape[1] == shape[2] else [shape[1], shape[2]]
        if size == 8:
            return Fix("use digits", (Change("setting", "data", "dataset", "digits"),))
        at = size if isinstance(size, int) else f"{size[0]}x{size[1]}"
        return Fix(f"use digits at {at}", (Change("setting", "data", "dataset", "digits"),
                                          Change("setting", "data", "image_size", size)))
    named = {(4,): "iris", (30,): "breast_cancer", (2,): "moons"}.get(shape)
    if named and dtype == "float32":
        return Fix(f"use {named}", (Change("setting", "data", "dataset", named),))
    if dtype == "int64":
        return _token_dataset(graph)
    if not any(gc.resolved_params(n)["source"] == "data" for n in graph.nodes_of_type("Input")):
        return Fix("use digits at 28", (Change("setting", "data", "dataset", "digits"),
                                        Change("setting", "data", "image_size", 28)))
    return None


def _token_candidates(length: int) -> list[tuple[str, dict[str, Any]]]:
    """Built-ins that read int64 ids, each with the settings that fit an Input of `length` ids."""
    return [("translation_synth", {}), ("tokens_synth", {"length": length}),
            ("tokens_synth", {"length": length, "segments": True}), ("dna_motif", {"length": length})]


def _token_dataset(graph: gc.Graph) -> Fix | None:
    """The built-in that fits a graph of int64 ids: first one whose fields carry the data Inputs'
    names, dtypes and shapes and the heads' target fields; else one with a field of the first
    Input's dtype and shape (to bind it to). A built-in whose settings cannot take the Input's
    length (dna_motif under its motif's 8 bases) is never offered."""
    task = collect(graph)
    inputs = [b for b in task.inputs if not b.noise]
    if not inputs or len(inputs[0].shape) != 1:
        return None
    fits: list[tuple[str, dict[str, Any], DataSchema]] = []
    for name, opts in _token_candidates(inputs[0].shape[0]):
        try:
            schema = describe_builtin({"dataset": name, **opts})
        except DataError:
            continue  # these settings are refused: the fix would only fail
        if schema is not None:
            fits.append((name, opts, schema))

    def same(fi: Any, b: InputBinding) -> bool:
        return fi is not None and tuple(fi.shape) == b.shape and str(fi.dtype) == b.dtype

    named = [f for f in fits if all(same(f[2].fields.get(b.field), b) for b in inputs)
             and all(h.target_field is None or h.target_field in f[2].fields for h in task.heads)]
    loose = [f for f in fits if any(same(fi, inputs[0]) for fi in f[2].fields.values())]
    loose.sort(key=lambda f: -sum(h.target_field in f[2].fields for h in task.heads))  # stable
    for name, opts, _ in named or loose[:1]:
        changes = [Change("setting", "data", "dataset", name)]
        changes += [Change("setting", "data", key, value) for key, value in opts.items()]
        return Fix(f"use {name}", tuple(changes))
    return None


# ---- the checks ----------------------------------------------------------------------------------


def _data_problem(graph: gc.Graph, problem: str) -> DataIssue:
    """The data section itself fails: offer a built-in when no (known) dataset is named."""
    message = problem[len("data: "):] if problem.startswith("data: ") else problem
    name = graph.data.get("dataset")
    unnamed = not isinstance(name, str) or not name.strip()
    fix = suggest_dataset(graph) if unnamed or message.startswith("unknown dataset") else None
    fixes = (fix,) if fix is not None else ()
    return DataIssue(None, message, fixes)


class _Context:
    """What the checks share: the task, the field infos and (for fixes) the graph and data section."""

    def __init__(self, task: Task, info: Mapping[str, Any], dataset: str, graph: gc.Graph | None) -> None:
        self.task, self.info, self.dataset, self.graph = task, info, dataset, graph
        self.available = ", ".join(sorted(info)) or "none"
        self.section = dict(graph.data) if graph is not None else {}

    # ---- inputs ----------------------------------------------------------------------------

    def input_issues(self, b: InputBinding) -> Iterator[DataIssue]:
        fi = self.info.get(b.field)
        if fi is None:
            yield DataIssue(b.node, f"field {b.field!r} is not in {self.dataset} (it has: {self.available})",
                            self._bind_input(b))
            return
        got = tuple(fi.shape)
        if got != b.shape:
            yield DataIssue(b.node, f"field {b.field!r} has samples of shape {gc.format_shape(got)} but "
                            f"this Input expects {gc.format_shape(b.shape)}", self._reshape(b, fi))
        symbols = getattr(fi, "num_classes", None)
        for consumer, type_name, size in b.vocab_limits if symbols else ():
            if symbols > size:
                what = "num_classes" if type_name == "OneHot" else "num_embeddings"
                names = getattr(fi, "class_names", None)
                listed = f" ({', '.join(map(str, names))})" if names and len(names) <= 12 else ""
                yield DataIssue(consumer, f"field {b.field!r} holds {symbols} different ids{listed} but "
                                f"this {type_name} has {what} {size}: set {what} to {symbols}",
                                self._param_fix(consumer, what, symbols))
        is_int = str(fi.dtype).startswith(("int", "uint"))
        if b.dtype == "int64" and not is_int:
            yield DataIssue(b.node, f"field {b.field!r} holds {fi.dtype} values but this Input reads int64 "
                            "ids: set the Input's dtype to float32", self._param_fix(b.node, "dtype", "float32"))
        elif b.dtype == "float32" and is_int and b.vocab_limits:
            yield DataIssue(b.node, f"field {b.field!r} holds int64 ids for the {b.vocab_limits[0][1]} it "
                            "feeds, but this Input reads float32: set the Input's dtype to int64",
                            self._param_fix(b.node, "dtype", "int64"))

    def _bind_input(self, b: InputBinding) -> tuple[Fix, ...]:
        if self.graph is None:
            return ()
        taken = {other.field for other in self.task.inputs if other.node != b.node}
        free = [name for name, fi in self.info.items()
                if name not in taken and getattr(fi, "kind", "") not in ("label", "mask")]
        free.sort(key=lambda name: (tuple(self.info[name].shape) != b.shape,
                                    str(self.info[name].dtype) != b.dtype))
        return tuple(Fix(f"bind {b.node} to field {name}", (Change("param", b.node, "field", name),))
                     for name in free[:2])

    def _reshape(self, b: InputBinding, fi: Any) -> tuple[Fix, ...]:
        if self.graph is None:
            return ()
        fixes = [fix for fix in (self._resize_data(b, fi),) if fix is not None]
        text = ", ".join(str(s) for s in fi.shape)
        fixes.append(Fix(f"set {b.node} shape to {text}", (Change("param", b.node, "shape", list(fi.shape)),)))
        return tuple(fixes)

    def _resize_data(self, b: InputBinding, fi: Any) -> Fix | None:
        """Change the dataset's image_size or length so the field has the Input's shape."""
        shape, kind = b.shape, getattr(fi, "kind", "")
        if kind == "image" and len(shape) == 3 and len(fi.shape) == 3 and shape[0] == fi.shape[0]:
            key, value = "image_size", shape[1] if shape[1] == shape[2] else [shape[1], shape[2]]
            words = f"{shape[1]}" if shape[1] == shape[2] else f"{shape[1]}x{shape[2]}"
        elif kind in ("sequence", "tokens", "series") and len(shape) == len(fi.shape) \
                and shape[:-1] == tuple(fi.shape[:-1]):
            key, value, words = "length", shape[-1], f"length {shape[-1]}"
        else:
            return None
        trial = {**self.section, key: value}
        try:
            schema = describe_builtin(trial)
        except DataError:
            return None  # the builder refuses that value (e.g. shapes_seg below 12 pixels)
        if schema is not None:
            got = schema.fields.get(b.field)
            if got is None or tuple(got.shape) != shape:
                return None
        elif key == "length" or str(self.section.get("dataset", "")).lower().endswith(".npz") \
                or self.section.get("format") not in (None, "images", "idx"):
            return None  # a user's file: only image folders and IDX files resize on load
        return Fix(f"resize {self.dataset} to {words}", (Change("setting", "data", key, value),))

    # ---- heads -----------------------------------------------------------------------------

    def head_issues(self, h: Head) -> list[DataIssue]:
        if h.target_input is not None:
            src = next((b for b in self.task.inputs if b.node == h.target_input), None)
            if src is None:
                return [DataIssue(h.node, f"target input:{h.target_input} names no Input node")]
            if _numel(src.shape) != _numel(h.shape):
                return [DataIssue(h.node, f"reconstructs {h.target_input} {gc.format_shape(src.shape)} but "
                                  f"receives {gc.format_shape(h.shape)}", self._width_fix(h, _numel(src.shape)))]
            return []
        fi = self.info.get(h.target_field or "")
        if fi is None:
            return [DataIssue(h.node, f"target field {h.target_field!r} is not in {self.dataset} "
                              f"(it has: {self.available})", self._target_fix(h))]
        return self._check_target(h, fi)

    def _check_target(self, h: Head, fi: Any) -> list[DataIssue]:
        target = tuple(fi.shape)
        classes = getattr(fi, "num_classes", None)
        if h.kind == "tokens":
            return _check_tokens(h, fi, classes, target)
        if h.kind in ("classify", "segment"):
            width = h.shape[0] if h.shape else 1
            out = []
            if classes is None:
                out.append(DataIssue(h.node, f"cross-entropy needs class labels but field {h.target_field!r} "
                                     "holds numbers: use loss mse or l1", self._param_fix(h.node, "loss", "mse")))
            elif classes != width:
                out.append(DataIssue(h.node, f"field {h.target_field!r} has {classes} classes but this head "
                                     f"gives {width} scores: set the layer before it to {classes} outputs",
                                     self._reconstruct_fix(h) + self._width_fix(h, classes)))
            if target != tuple(h.shape[1:]):
                out.append(DataIssue(h.node, f"labels of shape {gc.format_shape(target)} do not match scores of "
                                     f"shape {gc.format_shape(h.shape)} (expected labels "
                                     f"{gc.format_shape(h.shape[1:])})"))
            return out
        if h.kind == "binary" and classes is not None and classes > 2:
            fixes = ()
            widen = self._width_fix(h, classes)
            if widen:
                fixes = (Fix(f"use cross_entropy with {classes} outputs",
                             (Change("param", h.node, "loss", "cross_entropy"), *widen[0].changes)),)
            return [DataIssue(h.node, f"field {h.target_field!r} has {classes} classes; bce is for yes/no "
                              f"targets: use cross_entropy with {classes} outputs", fixes)]
        if h.kind == "regress" and classes is not None and len(h.shape) == 2 and target == tuple(h.shape[:1]):
            # (L, V) scores against L ids: a sequence of words over a vocabulary, not numbers
            fixes = (Fix("set loss to cross_entropy", (Change("param", h.node, "loss", "cross_entropy"),)),) \
                if self.graph is not None else ()
            return [DataIssue(h.node, f"field {h.target_field!r} holds {gc.format_shape(target)} ids of "
                              f"{classes} words and this head scores every position over "
                              f"{h.shape[-1]}: use loss cross_entropy, not {h.loss}", fixes)]
        if _numel(target) != _numel(h.shape):
            return [DataIssue(h.node, f"targets of shape {gc.format_shape(target)} do not match the head's "
                              f"{gc.format_shape(h.shape)}",
                              self._reconstruct_fix(h) + self._width_fix(h, _numel(target)))]
        return []

    def _reconstruct_fix(self, h: Head) -> tuple[Fix, ...]:
        """A head as large as a data Input (an autoencoder's decoder): reconstruct that Input —
        loss mse, target input:<id>, and a Reshape to its shape when the head's shape differs."""
        if self.graph is None or not h.shape or h.node not in self.graph.nodes:
            return ()
        for b in self.task.inputs:
            if b.noise or not b.shape or _numel(b.shape) != _numel(h.shape):
                continue
            changes = [Change("param", h.node, "loss", "mse"), Change("param", h.node, "target", f"input:{b.node}")]
            if tuple(h.shape) != tuple(b.shape):
                if len(self.graph.edges_into(h.node, "in")) != 1:
                    continue
                changes.insert(0, Change("reshape", h.node, self.graph.unique_id("Reshape"), tuple(b.shape)))
            return (Fix(f"reconstruct {b.node}", tuple(changes)),)
        return ()

    def _target_fix(self, h: Head) -> tuple[Fix, ...]:
        if self.graph is None:
            return ()
        wanted = "mask" if h.kind == "segment" else "label"
        names = [name for name, fi in self.info.items() if getattr(fi, "kind", "") == wanted]
        return tuple(Fix(f"compare {h.node} with field {name}", (Change("param", h.node, "target", name),))
                     for name in names[:1])

    def _width_fix(self, h: Head, width: int) -> tuple[Fix, ...]:
        """Resize the layer that decides a head's width (through activations, dropout, norms)."""
        if self.graph is None or (h.kind not in ("classify", "segment") and len(h.shape) != 1):
            return ()
        node = _width_layer(self.graph, h.node)
        if node is None:
            return ()
        return self._param_fix(node.id, _WIDTH_PARAM[node.type], width)

    def _param_fix(self, node: str, param: str, value: Any) -> tuple[Fix, ...]:
        if self.graph is None:
            return ()
        return (Fix(f"set {node} {param} to {value}", (Change("param", node, param, value),)),)


def _check_tokens(h: Head, fi: Any, classes: int | None, target: tuple[int, ...]) -> list[DataIssue]:
    """A head scoring every position of a sequence (L, vocabulary) against token ids (L,)."""
    if classes is None:
        return [DataIssue(h.node, f"field {h.target_field!r} holds numbers, not token ids")]
    out = []
    if classes != h.shape[-1]:
        out.append(DataIssue(h.node, f"field {h.target_field!r} has a vocabulary of {classes} words but this "
                             f"head scores {h.shape[-1]}: set the Dense before it to {classes} outputs"))
    if target != tuple(h.shape[:-1]):
        out.append(DataIssue(h.node, f"target sentences have {gc.format_shape(target)} positions but the head "
                             f"scores {gc.format_shape(h.shape[:-1])}: give the decoder's Input the target's "
                             "length"))
    return out


def _width_layer(graph: gc.Graph, head: str) -> gc.Node | None:
    node_id = head
    for _ in range(len(graph.nodes)):
        wires = graph.edges_into(node_id, "in")
        if len(wires) != 1 or wires[0].src[0] not in graph.nodes:
            return None
        node = graph.nodes[wires[0].src[0]]
        if node.type in _WIDTH_PARAM:
            return node
        if node.type not in _SAME_WIDTH:
            return None
        node_id = node.id
    return None


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n
