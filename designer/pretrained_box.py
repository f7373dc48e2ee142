"""Transfer learning in the inspector: the pretrained weights file of `training.init_weights`,
chosen with a file dialog, and what loading it does (tensors loaded, missing, unexpected).

Shown in the settings form (nothing selected); a graph without an `init_weights` entry (one the
user drew) gets it as an offer. Choosing a file is one undo step ("choose the pretrained weights
file NAME": the whole entry, its key mapping kept), and opens the key map (key_map_dialog) once
the engine has read the file; the key map's Apply is the next step ("apply the key map of NAME").
Checking the file needs torch, so the check runs in the training engine's process: whoever
installed training sets `checker`, which answers later through `show_report` (with the key map's
table). A file whose module paths match no node name does not read "loaded 0": the box says the
key map is needed and what its guess loads; once the graph's mapping changes (Apply, undo), the
box recomputes from the table what loading will do. The mapping and the loading itself are codegen.pretrained's and codegen.key_map's (and training.pretrained.load_pretrained's);
this module only shows them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from codegen.key_map import key_rows, summary
from codegen.pretrained import STATE_DICT
from graph_core import WARNING, Graph, Macro, SetSetting
from training.binding import DataIssue

from .key_map_dialog import KeyMapDialog

WEIGHTS_FILTER = "Pretrained weights (*.pth *.pt *.safetensors);;All files (*)"


def frozen_without_weights(graph: Graph, folder: Path | None, shapes: Mapping[str, Any] | None = None,
                           tables: Mapping[tuple[str, int], dict[str, Any]] | None = None) -> list[str]:
    """Top-level frozen nodes with parameters that no pretrained file fills: no `init_weights`
    path, a path that does not exist, a node the key mapping never names, or, without a mapping
    (loaded by name), a node the file's module paths do not match by name. They train nothing
    and keep their random initial weights.

    Args:
        shapes: infer_shapes; leaves out parameterless nodes.
        tables: the engine's key tables by `file_stamp` of the weights file; without the file's,
            a graph without a mapping counts as filled (the check that follows choosing a file
            reads it).
    """
    def has_params(nid: str) -> bool:
        found = (shapes or {}).get(nid)
        return found is None or found.params is None or found.params > 0

    frozen = [n.id for n in graph.nodes.values() if n.frozen and has_params(n.id)]
    if not frozen:
        return []
    spec = graph.training.get("init_weights")
    file = resolve(str(spec["path"]), folder) if isinstance(spec, dict) and spec.get("path") else None
    if not isinstance(spec, dict) or file is None:
        return frozen
    keys = spec.get("keys")
    if isinstance(keys, dict):
        covered = {str(v).split("/")[0] for v in keys.values() if v}
        return [n for n in frozen if n not in covered]
    table = (tables or {}).get(file_stamp(file))
    if table is None or table.get("by_name") is None:
        return []
    filled = {row.node.split("/")[0] for row in key_rows(*_shapes(table), table["by_name"]) if row.node and row.loaded}
    return [n for n in frozen if n not in filled]


def frozen_weight_issues(graph: Graph, folder: Path | None, shapes: Mapping[str, Any] | None = None,
                         tables: Mapping[tuple[str, int], dict[str, Any]] | None = None) -> list[DataIssue]:
    """An Issues warning for frozen layers no pretrained file fills: they would train nothing and
    keep random weights (transfer_vgg without its .pth trained to 10 % accuracy, one class)."""
    missing = frozen_without_weights(graph, folder, shapes, tables)
    if not missing:
        return []
    spec = graph.training.get("init_weights")
    path = spec.get("path") if isinstance(spec, dict) else None
    why = (f"the pretrained weights file {path} is not there" if path and resolve(str(path), folder) is None
           else "no pretrained weights file names them" if path and isinstance(spec.get("keys"), dict)
           else f"by name, {Path(str(path)).name} loads nothing into them (its module paths match no "
                "node: Key map…, then Apply)" if path
           else "no pretrained weights file is chosen (inspector, nothing selected: Pretrained weights)")
    listed = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
    return [DataIssue(missing[0], f"frozen layers {listed} hold random weights: {why}; choose the "
                      "file or unfreeze them", severity=WARNING)]


def file_stamp(file: Path) -> tuple[str, int]:
    """What a key table of `file` is filed under: its resolved path and modification time, so a
    file rewritten in place is read again rather than matched from its old table."""
    try:
        return str(file.resolve()), file.stat().st_mtime_ns
    except OSError:
        return str(file), -1


def resolve(path: str, folder: Path | None) -> Path | None:
    """The weights file, relative paths taken from the graph's folder; None when it is not there."""
    p = Path(path).expanduser()
    if not p.is_absolute() and folder is not None:
        p = folder / p
    return p if p.is_file() else None


class PretrainedBox(QGroupBox):
    """The "Pretrained weights" group (objectName `group_Pretrained`)."""

    def __init__(self, document: Any, message: Callable[[str], None],
                 graph_folder: Callable[[], Path | None]) -> None:
        super().__init__("Pretrained weights (transfer learning)")
        self.setObjectName("group_Pretrained")
        self.document, self.message, self.graph_folder = document, message, graph_folder
        # Set by the training controller: check(graph, folder) loads the file in the engine and
        # answers with show_report(ok, lines).
        self.checker: Callable[[Graph, Path | None], None] | None = None
        self.path = QLineEdit()
        self.path.setObjectName("field_training.init_weights.path")
        self.path.setPlaceholderText("a torchvision .pth or a .safetensors file")
        self.path.editingFinished.connect(lambda: self.set_path(self.path.text().strip()))
        self.browse = QPushButton("Browse…")
        self.browse.setObjectName("browseWeights")
        self.browse.clicked.connect(self._browse)
        self.check = QPushButton("Check")
        self.check.setObjectName("checkWeights")
        self.check.setToolTip("Load the file into the model (in the training process) and list what fits")
        self.check.clicked.connect(lambda: self.run_check())
        self.map_button = QPushButton("Key map…")
        self.map_button.setObjectName("editKeyMap")
        self.map_button.setToolTip("Which node each module path of the file goes to: shown, editable, "
                                   "saved in the graph")
        self.map_button.clicked.connect(lambda: self.open_key_map())
        row = QHBoxLayout()  # the path on a line of its own: it stays readable in a narrow dock
        row.addStretch(1)
        row.addWidget(self.browse)
        row.addWidget(self.check)
        row.addWidget(self.map_button)
        self.report = QLabel()
        self.report.setObjectName("pretrainedReport")
        self.report.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.path)
        lay.addLayout(row)
        lay.addWidget(self.report)
        self._checked: tuple[str, str] | None = None  # (path, mapping) the report is about
        self.table: dict[str, Any] | None = None  # the last check's key table (codegen.key_map)
        self._table_path = ""
        self.key_map: KeyMapDialog | None = None
        self._open_map = False  # open the key map when the next check answers
        self._pending = ""  # the file a check is out for

    def refresh(self) -> None:
        spec = self.document.graph.training.get("init_weights")
        if not isinstance(spec, dict):  # a drawn graph: any torchvision/timm file can start it
            if not self.path.hasFocus():
                self.path.setText("")
            self.check.setEnabled(False)
            self.map_button.setEnabled(False)
            self._say("Optional: start from a torchvision or timm state dict. Browse… for it, then "
                      "match its module paths to nodes in the Key map.", "#667085")
            return
        path = str(spec.get("path") or "")
        if not self.path.hasFocus():
            self.path.setText(path)
        self.check.setEnabled(bool(path) and self.checker is not None)
        self.map_button.setEnabled(bool(path) and self.checker is not None)
        self._follow_keys(spec.get("keys"), path)
        if self._checked is not None and self._checked != (path, _token(spec.get("keys"))):
            self._checked = None  # the report was about another file or mapping (an undo, an edit)
        if self._checked is None:
            missing = frozen_without_weights(self.document.graph, self.graph_folder(),
                                             tables=self.document.weights_tables)
            plan = _plan(self.table, spec.get("keys")) if self.table is not None and self._table_path == path else None
            if not path:
                self._say("No file chosen: the pretrained layers start from random weights.", "#b54708")
            elif resolve(path, self.graph_folder()) is None:
                self._say(f"{path} is not there.", "#d92d20")
            elif plan is not None:  # the file was read: what loading it with this mapping does
                self._say(*plan)
            elif missing:
                self._say(f"Frozen but not in the file's mapping: {', '.join(missing)}", "#b54708")
            else:
                self._say("Click Check to load it and see what fits.", "#667085")

    def set_path(self, path: str) -> None:
        """Make `path` the weights file (one undo step), then check it."""
        spec = dict(self.document.graph.training.get("init_weights") or {"format": STATE_DICT})
        if str(spec.get("path") or "") == path:
            return
        spec["path"] = path
        text = f"choose the pretrained weights file {Path(path).name}" if path else "clear the pretrained weights file"
        try:  # one gesture, named for the undo history; the key map's Apply is the next one
            self.document.execute(Macro([SetSetting("training", "init_weights", spec)], text))
        except (RuntimeError, ValueError) as exc:
            self.message(str(exc))
            return
        self.message(f"Pretrained weights: {path or '(none)'}")
        if path:
            self.run_check()

    def run_check(self) -> bool:
        """Ask the engine to load the file into the model; False when no checker or no file."""
        spec = self.document.graph.training.get("init_weights") or {}
        if self.checker is None or not spec.get("path"):
            return False
        self._checked = (str(spec["path"]), _token(spec.get("keys")))
        self._pending = str(spec["path"])
        self._say("Loading the file in the training process…", "#667085")
        self.checker(self.document.snapshot(), self.graph_folder())
        return True

    def open_key_map(self) -> bool:
        """Show the key map of the chosen file: at once when the last check read it, else when the
        check this starts answers. False when there is no file (or nobody to check it)."""
        spec = self.document.graph.training.get("init_weights") or {}
        path = str(spec.get("path") or "")
        if self.table is not None and self._table_path == path and path:
            self._show_key_map()
            return True
        self._open_map = (self._pending == path and bool(path)) or self.run_check()
        return self._open_map

    def apply_keys(self, keys: dict[str, str | None]) -> None:
        """The key map's Apply: the mapping into training.init_weights.keys (one undo step), then
        a check with it, whose report comes back to the dialog and this group."""
        spec = dict(self.document.graph.training.get("init_weights") or {"format": STATE_DICT})
        spec["keys"] = keys
        name = Path(str(spec.get("path") or "")).name
        text = f"apply the key map of {name}" if name else "apply the key map"
        try:  # a Macro: its own undo step, never merged into the choice of the file before it
            self.document.execute(Macro([SetSetting("training", "init_weights", spec)], text))
        except (RuntimeError, ValueError) as exc:
            self.message(str(exc))
            return
        self.message(f"Key map applied: {sum(1 for v in keys.values() if v)} module paths go to nodes")
        self.run_check()

    def show_report(self, ok: bool, lines: list[str], table: dict[str, Any] | None = None) -> None:
        """The engine's answer: the first line says what was loaded, each further line a key that
        did not fit (missing, unexpected, of another shape); not ok: why nothing was loaded.
        `table` is the file's key map against the model (None when the file could not be read)."""
        self._pending = ""
        if table is not None:
            self.table, self._table_path = table, self._checked[0] if self._checked else ""
            file = resolve(self._table_path, self.graph_folder()) if self._table_path else None
            if file is not None:  # the Issues' frozen-layers warning follows what loading does
                self.document.weights_tables[file_stamp(file)] = table
                self.document.analyse()
            if self._open_map or (self.key_map is not None and self.key_map.isVisible()):
                self._show_key_map()
        self._open_map = False
        if self.key_map is not None and self.key_map.waiting:
            self.key_map.show_report(ok, lines)
        needed = _map_needed(table)
        if needed:  # loaded by name, nothing or little fits: not "loaded 0", but the way out
            self._say(needed, "#b54708")
            return
        text = "<br>".join(_escape(line) for line in lines[:14])
        if len(lines) > 14:
            text += f"<br>… and {len(lines) - 14} more"
        colour = "#d92d20" if not ok else "#067647" if len(lines) <= 1 else "#b54708"
        self.report.setText(f"<span style='color:{colour}'>{text}</span>")

    def _follow_keys(self, keys: Any, path: str) -> None:
        """The graph's mapping changed (Apply, undo, redo, an edited file): the key map shows it."""
        if self.table is None or path != self._table_path or keys == self.table.get("keys"):
            return
        self.table = {**self.table, "keys": dict(keys) if isinstance(keys, Mapping) else None}
        if self.key_map is not None and self.key_map.isVisible():
            self._show_key_map()

    def _show_key_map(self) -> None:
        if self.table is None:
            return
        if self.key_map is None:
            self.key_map = KeyMapDialog(self.window(), self.apply_keys, self.message)
        self.key_map.set_table(self.table, self._table_path)
        self.key_map.show()
        self.key_map.raise_()

    def _say(self, text: str, colour: str) -> None:
        self.report.setText(f"<span style='color:{colour}'>{_escape(text)}</span>")

    def _browse(self) -> None:
        start = str(self.graph_folder() or Path.cwd())
        if os.environ.get("NETWRIGHT_NO_DIALOGS") == "1":
            self.message("Dialogs are off (NETWRIGHT_NO_DIALOGS): type the weights file's path instead.")
            return
        path, _ = QFileDialog.getOpenFileName(self, "Pretrained weights", start, WEIGHTS_FILTER)
        if path:
            folder = self.graph_folder()
            if folder is not None and Path(path).is_relative_to(folder):
                path = str(Path(path).relative_to(folder))  # the graph and its weights move together
            self.set_path(path)
            # a file just chosen: show where its tensors go once the engine has read it
            self.open_key_map()


def _map_needed(table: dict[str, Any] | None) -> str:
    """For a graph without a mapping (loaded by name): when the key map's guess loads more than the
    names match, the sentence that says the map is needed (else "")."""
    if not table or table.get("keys") is not None or table.get("by_name") is None:
        return ""
    total = len(table["file"])
    named, guessed = _loaded(table, table["by_name"]), _loaded(table, table.get("guess") or {})
    if guessed <= named:
        return ""
    matched = (f"none of its {total} tensors match a node by name" if named == 0
               else f"only {named} of its {total} tensors match a node by name")
    return (f"Key map needed: {matched}. The key map's guess (by order and shape) loads {guessed} "
            f"of {total} tensors: Key map… to check it, then Apply.")


def _plan(table: dict[str, Any], keys: Any) -> tuple[str, str] | None:
    """What loading the read file with the graph's mapping `keys` does, from shapes alone: the
    box's line once the graph's mapping is no longer the one last checked (undo, redo, an edit)."""
    if not isinstance(keys, Mapping):
        needed = _map_needed({**table, "keys": None})
        if needed or table.get("by_name") is None:
            return (needed, "#b54708") if needed else None
        return (f"Loaded by name: {_loaded(table, table['by_name'])} of {len(table['file'])} tensors "
                "match a node. Check loads it.", "#667085")
    counts = summary(key_rows(*_shapes(table), keys))
    return (f"With the graph's key map, loading copies {counts['loaded']} of {len(table['file'])} "
            f"tensors; missing {counts['missing']}, unexpected {counts['unexpected']}, shape mismatch "
            f"{counts['shape_mismatches']}, not used {counts['ignored']}. Check loads it.", "#667085")


def _loaded(table: dict[str, Any], keys: Mapping[str, str | None]) -> int:
    return summary(key_rows(*_shapes(table), keys))["loaded"]


def _shapes(table: dict[str, Any]) -> tuple[dict[str, tuple[int, ...]], dict[str, dict[str, tuple[int, ...]]]]:
    """The key table's file shapes and node tensors as key_rows takes them."""
    files = {k: tuple(s) for k, s in table["file"]}
    return files, {n: {k: tuple(s) for k, s in t.items()} for n, t in table["nodes"]}


def _token(keys: Any) -> str:
    """A mapping as a comparable value ("" for none: loaded by name)."""
    return json.dumps(keys, sort_keys=True) if isinstance(keys, Mapping) else ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
