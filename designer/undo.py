"""Undo glue: each graph_core command becomes one QUndoCommand on the window's QUndoStack.

The command object does the work (`apply`/`revert` on the graph); this wrapper only adapts it
to Qt's stack, and forwards `merge` so a drag that moves nodes in many small steps stays one
undo step. `target` is the graph the command edits: the document itself, or a block's
sub-graph while the canvas shows that block.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from graph_core import Command, Graph, MoveNodes, SetParam, SetSetting

# QUndoCommand.id() must be the same for commands that may merge; -1 means "never merge".
_MERGE_IDS = {MoveNodes: 1, SetParam: 2, SetSetting: 3}


class GraphUndoCommand(QUndoCommand):
    """One user gesture: a graph_core command applied to `target`."""

    def __init__(self, command: Command, target: Graph, applied: bool = False) -> None:
        super().__init__(command.text)
        self.command = command
        self.target = target
        # The document applies a command before pushing it (so a command that raises never
        # reaches the stack); QUndoStack.push then calls redo(), which must not apply twice.
        self._skip_redo = applied

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self.command.apply(self.target)

    def undo(self) -> None:
        self.command.revert(self.target)

    def id(self) -> int:
        return _MERGE_IDS.get(type(self.command), -1)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, GraphUndoCommand) or other.target is not self.target:
            return False
        return self.command.merge(other.command)
