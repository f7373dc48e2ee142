"""The key map of a pretrained weights file, shown and edited: which node each module path of a
torchvision- or timm-style state dict goes to (objectName `keyMapDialog`).

One row per module path of the file: its tensors and shapes, the node (a list of the nodes that
take those tensors at those shapes, or any node path typed in; "(no node)" leaves the tensors
unexpected, "(not used)" leaves them out on purpose), the node's shapes and what loading will do
(loaded, missing, unexpected, shape mismatch). The statuses are recomputed here at every edit
from shapes alone (codegen.key_map); the table's data comes from the training engine's process,
which reads the file and compiles the model. A template's mapping is shown as the graph holds
it; a drawn graph's starts from a guess (names, then order and shape). Apply writes the mapping
to `training.init_weights.keys` (one undo step; what `netwright pretrained --save-map` writes,
and what training and Check read), then checks it: the loaded / missing / unexpected report
comes back into this dialog and the Pretrained weights group. Save map… / Load map… use the
`PREFIX=node` lines of `netwright pretrained --map-file`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from codegen.key_map import (
    LOADED,
    MISMATCH,
    NO_NODE,
    NOT_USED,
    KeyRow,
    compatible_nodes,
    format_key_map,
    group_by_module,
    key_rows,
    parse_key_map,
    summary,
)

NO_NODE_TEXT, NOT_USED_TEXT = "(no node)", "(not used)"
MAP_FILTER = "Key maps (*.txt *.map);;All files (*)"
COLUMNS = ("Module path (file)", "In the file", "Node", "In the model", "Status")
_COLOURS = {LOADED: "#067647", NOT_USED: "#667085", MISMATCH: "#d92d20", NO_NODE: "#d92d20"}
_WARN = "#b54708"


class KeyMapDialog(QDialog):
    """The table of one weights file against the open graph's model.

    Args:
        parent: the window (the dialog is not modal: the canvas stays usable beside it).
        apply: called with the edited mapping (module path -> node path or None) on Apply.
        message: shows a line in the status bar.
    """

    def __init__(self, parent: QWidget | None, apply: Callable[[dict[str, str | None]], None],
                 message: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.setObjectName("keyMapDialog")
        self.setWindowTitle("Pretrained weights: key map")
        self.apply_keys, self.message = apply, message
        self.file_shapes: dict[str, tuple[int, ...]] = {}
        self.nodes: dict[str, dict[str, tuple[int, ...]]] = {}
        self.guess: dict[str, str] = {}
        self.keys: dict[str, str | None] = {}
        self.rows: list[KeyRow] = []
        self.path = ""
        self.waiting = False  # Apply sent: the engine's report is on its way
        self.intro = QLabel()
        self.intro.setObjectName("keyMapSource")
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("keyMapTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        modes = (QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Interactive,
                 QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Interactive,
                 QHeaderView.ResizeMode.Stretch)
        for col, mode in enumerate(modes):
            header.setSectionResizeMode(col, mode)
        for col in (1, 3):  # a batch norm's five tensors are long: elided, whole in the tooltip
            header.resizeSection(col, 190)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.totals = QLabel()
        self.totals.setObjectName("keyMapSummary")
        self.totals.setWordWrap(True)
        self.report = QLabel()
        self.report.setObjectName("keyMapReport")
        self.report.setWordWrap(True)
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for name, text, tip, slot in (
                ("keyMapGuess", "Guess", "Match by name, then by order and shape", self.use_guess),
                ("keyMapLoad", "Load map…", "Read PREFIX=node lines (netwright pretrained --map-file)",
                 self._load_dialog),
                ("keyMapSave", "Save map…", "Write PREFIX=node lines for netwright pretrained --map-file",
                 self._save_dialog)):
            button = QPushButton(text)
            button.setObjectName(name)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("keyMapApply")
        self.apply_button.setToolTip("Keep this mapping in the graph (training.init_weights.keys) and "
                                     "load the file with it")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        close = QPushButton("Close")
        close.setObjectName("keyMapClose")
        close.clicked.connect(self.close)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.intro)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.totals)
        lay.addWidget(self.report)
        lay.addLayout(buttons)
        width = parent.width() - 40 if parent is not None else 1000
        self.resize(max(700, min(1000, width)), 300)

    # ---- data --------------------------------------------------------------------------------

    def set_table(self, table: dict[str, Any], path: str) -> None:
        """Show the engine's table (codegen.key_map.key_table) for the weights file `path`."""
        self.path = path
        self.file_shapes = {k: tuple(s) for k, s in table["file"]}
        self.nodes = {n: {k: tuple(s) for k, s in t.items()} for n, t in table["nodes"]}
        self.guess = dict(table.get("guess") or {})
        keys = table.get("keys")
        if keys is None:
            self.keys = dict(self.guess)
            source = ("The graph has no mapping yet: this one is guessed (names first, then order "
                      "and shape). Check it, change a node where it is wrong, then Apply.")
        else:
            self.keys = dict(keys)
            source = ("The graph's mapping (training.init_weights.keys: a template's, or one applied "
                      "here); Apply keeps your edits in the graph.")
        self.setWindowTitle(f"Pretrained weights: key map of {Path(path).name}")
        if not self.waiting:  # a report about another mapping than the one now shown
            self.report.setText("<span style='color:#667085'>Not applied yet: Apply keeps this mapping "
                                "in the graph and loads the file with it.</span>"
                                if keys is None else "")
        self.intro.setText(f"<b>{_escape(path)}</b>: {len(self.file_shapes)} tensors in "
                           f"{len(group_by_module(self.file_shapes))} modules, {len(self.nodes)} nodes "
                           f"with weights. {source}")
        self._fill()

    def mapping(self) -> dict[str, str | None]:
        """The mapping as edited: module path -> node path, None for "not used" (unmapped left out)."""
        return {prefix: node for prefix, node in self.keys.items() if node != ""}

    def set_node(self, prefix: str, node: str | None) -> None:
        """Send module `prefix` to `node` ("" : no node, None: not used) and redo the statuses."""
        self.keys[prefix] = node
        self._refresh_statuses()

    def use_guess(self) -> None:
        self.keys = dict(self.guess)
        self._fill()
        self.message("Key map: guessed by name, then by order and shape")

    def apply(self) -> None:
        self.waiting = True  # the next report is about this mapping
        self.report.setText("<span style='color:#667085'>Loading the file with this mapping…</span>")
        self.apply_keys(self.mapping())

    def show_report(self, ok: bool, lines: list[str]) -> None:
        """The engine's answer after Apply: what loading with the applied mapping really did."""
        self.waiting = False
        colour = "#d92d20" if not ok else "#067647" if len(lines) <= 1 else _WARN
        text = "<br>".join(_escape(line) for line in lines[:8])
        if len(lines) > 8:
            text += f"<br>… and {len(lines) - 8} more"
        self.report.setText(f"<span style='color:{colour}'>{text}</span>")

    # ---- map files ---------------------------------------------------------------------------

    def save_map(self, path: str | os.PathLike) -> None:
        Path(path).write_text(format_key_map(self.mapping()), encoding="utf-8")
        self.message(f"Key map saved to {path} (netwright pretrained GRAPH --map-file {Path(path).name})")

    def load_map(self, path: str | os.PathLike) -> bool:
        """Read a map file over the current mapping; False (and a message) when it cannot be read."""
        try:
            keys = parse_key_map(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.message(f"Cannot read the key map {path}: {exc}")
            return False
        self.keys.update(keys)
        self._fill()
        self.message(f"Key map read from {path}: {len(keys)} module paths")
        return True

    def _save_dialog(self) -> None:
        path = self._ask(QFileDialog.getSaveFileName, "Save the key map")
        if path:
            self.save_map(path)

    def _load_dialog(self) -> None:
        path = self._ask(QFileDialog.getOpenFileName, "Load a key map")
        if path:
            self.load_map(path)

    def _ask(self, dialog: Callable[..., tuple[str, str]], title: str) -> str:
        if os.environ.get("NETWRIGHT_NO_DIALOGS") == "1":
            self.message("Dialogs are off (NETWRIGHT_NO_DIALOGS)")
            return ""
        start = str(Path(self.path).with_suffix(".keys.txt")) if self.path else ""
        return dialog(self, title, start, MAP_FILTER)[0]

    # ---- table -------------------------------------------------------------------------------

    def _fill(self) -> None:
        modules = group_by_module(self.file_shapes)
        self.table.setRowCount(len(modules))
        for row, (prefix, tensors) in enumerate(modules.items()):
            self.table.setItem(row, 0, _item(prefix))
            self.table.setItem(row, 1, _item(_shapes(tensors)))
            self.table.setCellWidget(row, 2, self._node_combo(row, prefix, tensors))
        self._refresh_statuses()
        # as tall as its rows (a small net's map is no taller than it needs), within the screen
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setMinimumHeight(min(420, rows + self.table.horizontalHeader().height() + 24))

    def _node_combo(self, row: int, prefix: str, tensors: dict[str, tuple[int, ...]]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"keyMapNode_{row}")
        combo.setEditable(True)  # any node path can be typed, compatible or not
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItem(NO_NODE_TEXT, "")
        combo.addItem(NOT_USED_TEXT, None)
        current = self.keys.get(prefix, "")
        choices = compatible_nodes(tensors, self.nodes)
        if current and current not in choices:
            choices.append(current)
        for node in choices:
            combo.addItem(node, node)
        others = [n for n in self.nodes if n not in choices]
        if others:  # listed too, so a wrong guess can be seen for what it is
            combo.insertSeparator(combo.count())
            for node in others:
                combo.addItem(f"{node} (other shapes)", node)
        completer = QCompleter(list(self.nodes), combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        combo.setCompleter(completer)
        combo.setCurrentIndex(combo.findData(current) if current is not None else 1)
        combo.setToolTip(f"{len(choices)} nodes take these tensors at these shapes (listed first); "
                         "type any node path")
        combo.activated.connect(lambda _i, c=combo, p=prefix: self.set_node(p, _node_of(c)))
        combo.lineEdit().editingFinished.connect(lambda c=combo, p=prefix: self._typed(c, p))
        return combo

    def _typed(self, combo: QComboBox, prefix: str) -> None:
        node = _node_of(combo)
        if node != self.keys.get(prefix, ""):
            self.set_node(prefix, node)

    def _refresh_statuses(self) -> None:
        self.rows = key_rows(self.file_shapes, self.nodes, self.mapping())
        for row, key_row in enumerate(self.rows):
            node = key_row.node
            self.table.setItem(row, 3, _item(_shapes(self.nodes[node]) if node and node in self.nodes else ""))
            status = _item(key_row.status + (f" ({key_row.detail()})" if key_row.status != LOADED else ""))
            status.setForeground(QColor(_COLOURS.get(key_row.status, _WARN)))
            status.setToolTip(key_row.detail() or "every tensor fits")
            self.table.setItem(row, 4, status)
        counts = summary(self.rows)
        unmapped = [n for n in self.nodes if n not in {r.node for r in self.rows}]
        text = (f"Loading will copy {counts['loaded']} tensors; missing {counts['missing']}, "
                f"unexpected {counts['unexpected']}, shape mismatch {counts['shape_mismatches']}, "
                f"not used {counts['ignored']}")
        if counts["missing_nodes"]:
            text += f", {counts['missing_nodes']} nodes not in the model"
        if unmapped:
            text += (f". Nodes no module fills (they keep their initial weights): "
                     f"{', '.join(unmapped[:6])}{' …' if len(unmapped) > 6 else ''}")
        self.totals.setText(text)


def _node_of(combo: QComboBox) -> str | None:
    """The node a combo names: its item's data when the text is an item's, else the typed text."""
    text = combo.currentText().strip()
    index = combo.findText(text)
    if index >= 0:
        return combo.itemData(index)
    return text


def _shapes(tensors: dict[str, tuple[int, ...]]) -> str:
    return ", ".join(f"{name} {list(shape)}" for name, shape in tensors.items())


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    return item


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
