"""The inspector's form with nothing selected: the graph's Data and Training settings.

Built from two declarative tables, never by hand: `training.config.SETTINGS` (every key of the
`training` section the engine accepts, grouped) and `training.datasets.options` (each dataset's
own options plus the common ones). What the form shows is what the engine will use: a key the
file leaves out shows TrainConfig's (or the loader's) default, marked "default" in grey, and a
file without a dataset shows an empty field asking to choose one, never a made-up name. Every
edit writes exactly its key as one SetSetting (typing merges into one undo step); ↺ removes the
key again. Changing the dataset rebuilds its options and drops the old dataset's own keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph_core import UNSET, Command, Macro, ParamError, ParamSpec, SetSetting
from training.config import SETTING_GROUPS, SETTINGS, ConfigError, TrainConfig
from training.datasets import builtin_names
from training.datasets.options import COMMON_OPTIONS, EMPTY_MEANS_UNSET, dataset_options

from .param_widgets import ParamEditor, error_label, guard_wheel, make_editor
from .pretrained_box import PretrainedBox

DATASET_SPEC = ParamSpec("dataset", "text", "", "a built-in set, or a file or folder of your own "
                         "(relative to the graph file's folder)")
_ERROR_STYLE = "border: 2px solid #d92d20;"
_HINT_STYLE = "color: #667085; font-size: 8pt;"


class SettingRow:
    """One setting's widgets: the editor, the grey "default" mark, ↺ and the error line."""

    def __init__(self, section: str, spec: ParamSpec, editor: ParamEditor) -> None:
        self.section, self.spec, self.editor = section, spec, editor
        self.key = f"{section}.{spec.name}"
        self.box = QWidget()
        lay = QVBoxLayout(self.box)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.setSpacing(1)
        line = QHBoxLayout()
        line.setSpacing(4)
        line.addWidget(editor.widget, 1)
        self.default_mark = QLabel("default")
        self.default_mark.setObjectName(f"default_{self.key}")
        self.default_mark.setStyleSheet("color: #98a2b3; font-style: italic;")
        self.default_mark.setToolTip("Not in the file: this is the value the engine uses when the "
                                     "key is left out.")
        self.reset = QToolButton(text="↺")
        self.reset.setObjectName(f"reset_{self.key}")
        self.reset.setAutoRaise(True)
        self.reset.setToolTip("Back to the default (removes the key from the file)")
        line.addWidget(self.default_mark)
        line.addWidget(self.reset)
        lay.addLayout(line)
        if spec.help:
            hint = QLabel(spec.help)
            hint.setWordWrap(True)
            hint.setStyleSheet(_HINT_STYLE)
            lay.addWidget(hint)
        self.error = error_label()
        self.file_error = False  # the error line is about the file's value, not the user's text
        lay.addWidget(self.error)
        editor.widget.setObjectName(f"field_{self.key}")
        editor.widget.setToolTip(spec.help)

    def show_default(self, is_default: bool) -> None:
        has_default = self.spec is not DATASET_SPEC  # no dataset is a prompt, not a default
        self.default_mark.setVisible(is_default and has_default)
        self.reset.setVisible(not is_default and has_default)

    def show_error(self, message: str, about_file: bool = False) -> None:
        self.file_error = about_file and bool(message)
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.editor.widget.setStyleSheet(_ERROR_STYLE if message else "")


class SettingsForm(QWidget):
    """Data and Training groups for the document's graph (objectName `settingsForm`).

    Args:
        document: the designer's Document (edits go to its top-level graph).
        message: shows a line in the status bar.
        graph_folder: the open file's folder (None for an unsaved graph): relative data paths
            are taken from it.
    """

    def __init__(self, document: Any, message: Callable[[str], None],
                 graph_folder: Callable[[], Path | None]) -> None:
        super().__init__()
        self.setObjectName("settingsForm")
        self.document, self.message, self.graph_folder = document, message, graph_folder
        self.rows: dict[str, SettingRow] = {}
        self._option_names: tuple[str, ...] | None = None
        self._options_key: tuple[Any, ...] | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.title)
        outer.addWidget(self._build_data())
        # right under the data: with frozen layers waiting for it, the weights file comes first
        self.pretrained = PretrainedBox(document, message, graph_folder)
        outer.addWidget(self.pretrained)
        heading = QLabel("<b>Training</b>")
        outer.addWidget(heading)
        for group in SETTING_GROUPS:
            box = QGroupBox(group)
            box.setObjectName(f"group_{group.replace(' ', '_')}")
            form = _form(box)
            for spec in (s for s in SETTINGS if s.group == group):
                self._add(form, "training", spec)
            outer.addWidget(box)
        self.ignored = QLabel()
        self.ignored.setWordWrap(True)
        self.ignored.setStyleSheet(_HINT_STYLE)
        outer.addWidget(self.ignored)
        outer.addStretch(1)
        self.refresh()

    @property
    def editors(self) -> dict[str, ParamEditor]:
        return {key: row.editor for key, row in self.rows.items()}

    @property
    def errors(self) -> dict[str, QLabel]:
        return {key: row.error for key, row in self.rows.items()}

    # ---- building ----------------------------------------------------------------------------

    def _build_data(self) -> QGroupBox:
        box = QGroupBox("Data")
        box.setObjectName("group_Data")
        lay = QVBoxLayout(box)
        top = QFormLayout()
        top.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        lay.addLayout(top)
        row = self._add(top, "data", DATASET_SPEC, _dataset_editor())
        self.browse = QToolButton(text="Browse…")
        self.browse.setObjectName("browseDataset")
        self.browse.setToolTip("Use a file or a folder of your own")
        menu = QMenu(self.browse)
        menu.addAction("File…", lambda: self._browse(folder=False))
        menu.addAction("Folder…", lambda: self._browse(folder=True))
        self.browse.setMenu(menu)
        self.browse.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        row.box.layout().itemAt(0).layout().insertWidget(1, self.browse)
        self.options_box = QWidget()
        self.options_form = _form(self.options_box)
        lay.addWidget(self.options_box)
        common = QFormLayout()
        common.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in COMMON_OPTIONS:
            self._add(common, "data", spec)
        lay.addLayout(common)
        self.extra = QLabel()
        self.extra.setWordWrap(True)
        self.extra.setStyleSheet(_HINT_STYLE)
        lay.addWidget(self.extra)
        return box

    def _add(self, form: QFormLayout, section: str, spec: ParamSpec,
             editor: ParamEditor | None = None) -> SettingRow:
        row = SettingRow(section, spec, editor or make_editor(spec))
        row.editor.on_change(lambda: self._apply(row))
        row.reset.clicked.connect(lambda: self._execute(SetSetting(section, spec.name, UNSET)))
        guard_wheel(row.box)
        form.addRow(spec.name, row.box)
        row.box.show()  # now, not at the layout's next pass: the marks inside are set at once
        self.rows[row.key] = row
        return row

    def _rebuild_options(self, specs: tuple[ParamSpec, ...]) -> None:
        """The dataset's own options (after a dataset change, an undo or an open)."""
        for key in [k for k, r in self.rows.items() if r.box.parent() is self.options_box]:
            del self.rows[key]
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        for spec in specs:
            self._add(self.options_form, "data", spec)
        self.options_box.setVisible(bool(specs))
        self._option_names = tuple(s.name for s in specs)

    # ---- model -> fields ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the document's values; a missing key shows what runs, marked "default"."""
        graph = self.document.graph
        self.title.setText(f"<b>Graph '{graph.name}'</b><br><span style='color:#475467'>Nothing "
                           "selected: its data and training settings. Select a node to edit it."
                           "</span>")
        folder = self.graph_folder()
        key = (graph.data.get("dataset"), graph.data.get("format"), folder)
        if key != self._options_key:  # a file's format is read from disk: not on every edit
            self._options_key = key
            specs = dataset_options(graph.data, folder)
            if tuple(s.name for s in specs) != self._option_names:
                self._rebuild_options(specs)
        resolved = _resolved(graph.training)
        for row in self.rows.values():
            section = getattr(graph, row.section)
            present = row.spec.name in section
            row.show_default(not present)
            if row.file_error:
                row.show_error("")
            if not row.error.isHidden() or _typing(row.editor.widget):
                continue  # keep the user's text (refused, or being typed) in view
            if row.section == "training":
                value = resolved.get(row.spec.name, section.get(row.spec.name))
            else:
                value = section.get(row.spec.name, row.spec.default)
            try:
                row.editor.set_value(value)
            except (ValueError, TypeError):
                row.show_error(f"the file holds {value!r}, which is not a valid {row.spec.name}",
                               about_file=True)
        known = {r.spec.name for r in self.rows.values() if r.section == "data"}
        others = [k for k in graph.data if k not in known]
        self.extra.setText(f"Also in the file: {', '.join(others)}" if others else "")
        self.extra.setVisible(bool(others))
        self.pretrained.refresh()
        unknown = [k for k in graph.training if f"training.{k}" not in self.rows and k != "init_weights"]
        self.ignored.setText(f"In the file but not used by this version: {', '.join(unknown)}"
                             if unknown else "")
        self.ignored.setVisible(bool(unknown))

    # ---- fields -> model ---------------------------------------------------------------------

    def _apply(self, row: SettingRow) -> None:
        try:
            value = _plain(row.spec.check(_plain(row.editor.value())))
        except (ValueError, ParamError) as exc:
            row.show_error(str(exc))
            self.message(f"Refused: {exc}")
            return
        row.show_error("")
        name, section = row.spec.name, getattr(self.document.graph, row.section)
        if value is None or (value == "" and (name in EMPTY_MEANS_UNSET or name == "dataset")):
            value = UNSET  # empty means "not set": the key leaves the file
        current = section.get(name, UNSET)
        if current is UNSET:
            if value is UNSET or value == _default(row):
                return  # already what runs: no undo step
        elif value is not UNSET and value == _canonical(row, current):
            return
        command: Command = SetSetting(row.section, name, value)
        if name == "dataset" and row.section == "data":
            command = self._dataset_change(value)
        self._execute(command)

    def _dataset_change(self, value: Any) -> Command:
        """Set the dataset and drop the old one's own options the new one lacks (one step)."""
        data = self.document.graph.data
        old = {s.name for s in dataset_options(data, self.graph_folder())}
        new_section = {**data, "dataset": value} if value is not UNSET else {}
        new = {s.name for s in dataset_options(new_section, self.graph_folder())}
        stale = [k for k in data if k in old - new]
        commands = [SetSetting("data", "dataset", value)] + [SetSetting("data", k, UNSET) for k in stale]
        return commands[0] if len(commands) == 1 else Macro(commands, "set data.dataset")

    def set_dataset_path(self, path: str | os.PathLike) -> None:
        """Use a file or folder as the dataset, relative to the graph file's folder when under it."""
        chosen = Path(path).resolve()
        folder = self.graph_folder()
        text = str(chosen)
        if folder is not None and chosen.is_relative_to(Path(folder).resolve()):
            text = chosen.relative_to(Path(folder).resolve()).as_posix() or "."
        row = self.rows["data.dataset"]
        row.editor.set_value(text)
        self._apply(row)

    def _browse(self, folder: bool) -> None:
        if os.environ.get("NETWRIGHT_NO_DIALOGS"):
            self.message("Dialogs are off (NETWRIGHT_NO_DIALOGS): type the dataset's path instead.")
            return
        start = str(self.graph_folder() or Path.cwd())
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Dataset folder", start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Dataset file", start)
        if path:
            self.set_dataset_path(path)

    def _execute(self, command: Command) -> None:
        """Settings belong to the top-level document, even while a block is shown."""
        try:
            self.document.execute(command)
        except (RuntimeError, ValueError) as exc:
            self.message(str(exc))
            self.refresh()


def _dataset_editor() -> ParamEditor:
    """An editable combo of the built-ins; empty (with a prompt) when the file names none."""
    box = QComboBox()
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    box.addItems(builtin_names())
    box.lineEdit().setPlaceholderText("choose a dataset")
    box.setCurrentIndex(-1)

    def write(value: Any) -> None:
        box.setEditText("" if value is None else str(value))

    def connect(callback: Callable[[], None]) -> None:
        box.activated.connect(lambda _i: callback())
        box.lineEdit().editingFinished.connect(callback)

    return ParamEditor(DATASET_SPEC, box, lambda: box.currentText().strip(), write, connect)


def _form(parent: QWidget) -> QFormLayout:
    form = QFormLayout(parent)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def _resolved(section: dict[str, Any]) -> dict[str, Any]:
    """What runs for each training key; a key whose file value the engine refuses is left out
    (its field then shows the file's value, and Issues/Train say what is wrong with it)."""
    try:
        config = TrainConfig.resolve(section)
    except ConfigError:
        good = {}
        for key, value in section.items():
            try:
                TrainConfig.resolve({key: value})
                good[key] = value
            except ConfigError:
                continue
        config = TrainConfig.resolve(good)
        return {s.name: getattr(config, s.name) for s in SETTINGS
                if s.name in good or s.name not in section}
    return {s.name: getattr(config, s.name) for s in SETTINGS}


def _default(row: SettingRow) -> Any:
    if row.section == "training":
        return getattr(TrainConfig(), row.spec.name)
    return _plain(row.spec.default)


def _canonical(row: SettingRow, value: Any) -> Any:
    try:
        return _plain(row.spec.check(_plain(value)))
    except (ValueError, ParamError):
        return value


def _typing(widget: QWidget) -> bool:
    """A text field with the keyboard focus: the user may be typing, leave it alone."""
    if isinstance(widget, QComboBox) and widget.isEditable():
        return widget.lineEdit().hasFocus()
    return widget.hasFocus() and widget.metaObject().className() == "QLineEdit"


def _plain(value: Any) -> Any:
    """Tuples as lists, the way the file stores them (so equal values compare equal)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
