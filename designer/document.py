"""The open document as the designer sees it: the graph, its undo stack, and what analysis
(shape inference + validation) says about it.

Views subscribe to two things: the graph's own events (structure: nodes, wires, names,
positions) and this object's `analysed` signal (shapes, parameter counts, issues), emitted once
per edit after inference and validation have run. graph_core is fast (milliseconds for
hundreds of nodes), so analysis runs on the GUI thread, coalesced: any number of graph events
inside one command produce one analysis pass.

Analysis also checks the graph against its data section (`training.binding.check_data`): the
Issues list shows those `data_issues` beside graph_core's, each with its one-click fixes. A
built-in's schema is known at once; a user's file is read on a worker thread
(`data_schema.SchemaSource`), and the check runs again when it arrives. A new document reads
the built-in digits at 28x28, which the default Input (1, 28, 28) fits.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from graph_core import ERROR, Command, Graph, Issue, Node, NodeShapes, infer_shapes, validate
from graph_core.serialization import graph_to_json
from training.binding import DataIssue, check_data

from .data_schema import DataState, SchemaSource
from .pretrained_box import frozen_weight_issues
from .undo import GraphUndoCommand

# What a new, empty document trains on: the Input's default shape (1, 28, 28) reads it as it is.
DEFAULT_DATA = {"dataset": "digits", "image_size": 28}


def new_graph() -> Graph:
    """An empty document, its data section already naming a dataset (so the file says it)."""
    return Graph(data=dict(DEFAULT_DATA))


class Document(QObject):
    """The graph being edited plus its undo stack and latest analysis.

    Signals:
        analysed: shapes and issues are fresh (after every edit, undo, redo or load).
        replaced: a different graph object became the document (New, Open).
        locked_changed(bool, str): editing was locked or unlocked, with the reason.
    """

    analysed = Signal()
    replaced = Signal()
    locked_changed = Signal(bool, str)

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.graph = graph if graph is not None else new_graph()
        self.shapes: dict[str, NodeShapes] = {}
        self.issues: list[Issue] = []
        self.data_issues: list[DataIssue] = []
        self.data_state = DataState()
        self.data_root: Path | None = None
        # The engine's key tables (codegen.key_map.key_table) by weights file (path, mtime): what
        # loading the file does, known without reading it again at every analysis.
        self.weights_tables: dict[tuple[str, int], dict[str, Any]] = {}
        self.schemas = SchemaSource(self)
        self.schemas.arrived.connect(self._data_arrived)
        self.locked_reason = ""
        self._unsubscribe = self.graph.subscribe(self._on_graph_event)
        self._pending = False
        # A zero-delay timer coalesces the events of one command into one analysis pass, and
        # also catches edits made by scripts directly on the graph (outside the undo stack).
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.analyse)
        self.undo_stack.indexChanged.connect(self._on_index_changed)
        self.analyse()

    # ---- edits ---------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        return bool(self.locked_reason)

    def set_locked(self, locked: bool, reason: str = "") -> None:
        """Refuse (or allow again) every edit; `reason` is what the user is told."""
        self.locked_reason = (reason or "the document is locked") if locked else ""
        self.locked_changed.emit(locked, self.locked_reason)

    def execute(self, command: Command, target: Graph | None = None) -> None:
        """Apply one gesture as one undo step. Raises ValueError/KeyError from the command
        (the graph is left unchanged) and RuntimeError when editing is locked."""
        if self.locked:
            raise RuntimeError(f"editing is locked: {self.locked_reason}")
        target = self.graph if target is None else target
        command.apply(target)  # raises before anything reaches the stack
        self.undo_stack.push(GraphUndoCommand(command, target, applied=True))

    def replace_graph(self, graph: Graph) -> None:
        """Make `graph` the document (New/Open): clears undo history and re-analyses."""
        self._unsubscribe()
        self.graph = graph
        self._unsubscribe = graph.subscribe(self._on_graph_event)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.weights_tables = {}  # matched against the graph that goes
        self.analyse()
        self.replaced.emit()

    def set_data_root(self, root: Path | None) -> None:
        """The folder relative dataset paths resolve against (the graph file's folder)."""
        if root != self.data_root:
            self.data_root = root
            self.analyse()

    @property
    def ready(self) -> bool:
        """True when nothing stands between the graph and Train: no graph or data error."""
        return (not self.data_state.pending and not any(i.severity == ERROR for i in self.issues)
                and not any(i.severity == ERROR for i in self.data_issues))

    def snapshot(self) -> Graph:
        """A copy of the document for worker threads, much cheaper than a deep copy.

        Commands replace parameter values rather than mutating them in place, so copying each
        node's dicts (not the values inside) is enough to isolate the copy from later edits.
        """
        g = self.graph
        nodes = {nid: Node(n.id, n.type, dict(n.params), n.name, n.frozen, n.lr_factor, dict(n.ui))
                 for nid, n in g.nodes.items()}
        blocks = {name: b.copy() for name, b in g.blocks.items()}
        return Graph(g.name, nodes, list(g.edges), blocks, copy.deepcopy(g.training),
                     copy.deepcopy(g.data), g.description)

    def snapshot_json(self) -> str:
        """The document as file text (used for autosave and change detection)."""
        return graph_to_json(self.graph)

    # ---- analysis ------------------------------------------------------------------------

    def analyse(self) -> None:
        """Run inference and validation now and tell the views."""
        self._timer.stop()
        self._pending = False
        self.shapes = infer_shapes(self.graph)
        self.issues = validate(self.graph, self.shapes)
        self._check_data()
        self.analysed.emit()

    def _check_data(self) -> None:
        state = self.schemas.lookup(self.graph.data, self.data_root)
        self.data_state = state
        if state.pending:
            self.data_issues = []
            return
        self.data_issues = check_data(self.graph, state.schema, self.shapes, state.problem)
        self.data_issues += frozen_weight_issues(self.graph, self.data_root, self.shapes, self.weights_tables)

    def _data_arrived(self) -> None:
        if self.data_state.pending:
            self._check_data()
            self.analysed.emit()

    def _on_index_changed(self, _index: int) -> None:
        self.analyse()  # after push, undo or redo: one analysis pass per step

    def _on_graph_event(self, kind: str, info: dict[str, Any]) -> None:
        if not self._pending:
            self._pending = True
            self._timer.start()
