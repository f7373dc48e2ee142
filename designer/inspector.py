"""The inspector: a form for the selected node, generated from its spec's parameters; for
several selected nodes the parameters they share (multi_inspector.py); with nothing selected,
the graph's data and training settings (settings_form.py).

Every field applies its edit at once through one command (SetParam, Rename, SetFrozen,
SetLrFactor, SetSetting). A value the spec refuses is not applied: the field turns red and the
reason is shown under it. When the model changes (undo, redo), the fields follow. The mouse
wheel scrolls the form and never changes a value.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from graph_core import (
    UNSET,
    Node,
    ParamError,
    ParamSpec,
    Rename,
    SetFrozen,
    SetLrFactor,
    SetParam,
    format_shape,
    get_spec,
    has_spec,
)

from .document import Document
from .editor import Editor
from .multi_inspector import MultiNodeForm
from .param_widgets import ParamEditor, error_label, guard_wheel, make_editor
from .settings_form import SettingsForm

_ERROR_STYLE = "border: 2px solid #d92d20;"


class Inspector(QScrollArea):
    """The inspector dock's widget (objectName `inspector`)."""

    def __init__(self, document: Document, editor: Editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self.document, self.editor = document, editor
        # The open file's folder (relative data paths start there); the window sets it.
        self.graph_folder: Callable[[], Path | None] = lambda: None
        self.settings_form: SettingsForm | None = None
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.title = QLabel()
        self.info = QLabel()
        self._node_type = ""
        self._form_widget: QWidget | None = None
        self.multi: MultiNodeForm | None = None  # the form for several selected nodes
        # Set by the training controller: checks a pretrained weights file in the engine.
        self.pretrained_checker: Callable[..., None] | None = None
        document.analysed.connect(self.refresh)
        self.show_node(None)

    # ---- what is shown -----------------------------------------------------------------------

    def show_nodes(self, ids: list[str]) -> None:
        """The form for the selection: one node's own, the shared one for several, else settings."""
        ids = [i for i in ids if i in self.editor.graph.nodes]
        if len(ids) < 2:
            self.show_node(ids[0] if ids else None)
            return
        if self.multi is not None and self.multi.ids == ids and self.widget() is self.multi:
            self.multi.refresh()
            return
        self._take_settings()
        self.node_id, self._node_type = None, ""
        self.multi = MultiNodeForm(self.editor, ids)
        self.editors, self.errors = self.multi.editors, self.multi.errors
        self.title, self.info = self.multi.title, QLabel()
        self.setWidget(self.multi)
        self._form_widget = self.multi

    def show_node(self, node_id: str | None) -> None:
        """Build the form for a node of the shown graph (None: the graph's settings)."""
        self.multi = None
        node = self.editor.graph.nodes.get(node_id) if node_id else None
        if self._form_widget is not None and node is not None and node.id == self.node_id \
                and node.type == self._node_type:
            self.refresh()  # same node again: keep the form (and the field being typed in)
            return
        self.node_id = node.id if node else None
        self._node_type = node.type if node else ""
        self.editors, self.errors = {}, {}
        if node is None:
            self._show_settings()
            return
        body = QWidget()
        outer = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.info = QLabel()
        self.info.setWordWrap(True)
        outer.addWidget(self.title)
        outer.addWidget(self.info)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        outer.addStretch(1)
        self._build_node(form, node)
        guard_wheel(body)
        self._take_settings()
        self.setWidget(body)
        self._form_widget = body
        self.refresh()

    def _show_settings(self) -> None:
        """The graph's settings form: built once, kept while a node's form is on show."""
        if self.settings_form is None:
            self.settings_form = SettingsForm(self.document, self.editor.message.emit,
                                              lambda: self.graph_folder())
            self.settings_form.pretrained.checker = lambda *a: self.pretrained_checker and self.pretrained_checker(*a)
        if self.widget() is not self.settings_form:
            self._take_settings()
            self.setWidget(self.settings_form)
        self._form_widget = self.settings_form
        self.editors, self.errors = self.settings_form.editors, self.settings_form.errors
        self.title, self.info = self.settings_form.title, QLabel()
        self.refresh()

    def _take_settings(self) -> None:
        """Take the settings form out of the scroll area without deleting it."""
        if self.settings_form is not None and self.widget() is self.settings_form:
            self.takeWidget()
            self.settings_form.setParent(self)  # still owned (and deleted) with the inspector
            self.settings_form.hide()

    def _build_node(self, form: QFormLayout, node: Node) -> None:
        spec = get_spec(node.type) if has_spec(node.type) else None
        help_text = spec.help if spec else "unknown node type"
        self.title.setText(f"<b>{node.type}</b> <span style='color:#667085'>id: {node.id}</span>"
                           f"<br><span style='color:#475467'>{help_text}</span>")
        name = QLineEdit()
        name.editingFinished.connect(lambda: self._apply_attr("name", name.text().strip()))
        self._add_row(form, "name", "name", name, "the label on the card and in the code", None)
        for p in spec.params if spec else ():
            ed = make_editor(p)
            ed.on_change(lambda p=p, ed=ed: self._apply_param(p, ed))
            self._add_row(form, p.name, p.name, ed.widget, p.help, ed)
        frozen = QCheckBox("no gradient (transfer learning)")
        frozen.toggled.connect(lambda v: self._apply_attr("frozen", bool(v)))
        self._add_row(form, "frozen", "frozen", frozen, "keep this layer's weights fixed", None)
        lr = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=100.0, singleStep=0.1)
        lr.valueChanged.connect(lambda v: self._apply_attr("lr_factor", float(v)))
        self._add_row(form, "lr_factor", "lr factor", lr, "multiplies the learning rate for this layer", None)
        self._attr_widgets = {"name": name, "frozen": frozen, "lr_factor": lr}

    def _add_row(self, form: QFormLayout, key: str, label: str, widget: QWidget, help_text: str,
                 editor: ParamEditor | None) -> None:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.setSpacing(1)
        lay.addWidget(widget)
        if help_text:
            hint = QLabel(help_text)
            hint.setWordWrap(True)
            hint.setStyleSheet("color: #667085; font-size: 8pt;")
            lay.addWidget(hint)
        error = error_label()
        lay.addWidget(error)
        widget.setObjectName(f"field_{key}")
        widget.setToolTip(help_text)
        form.addRow(label, box)
        self.errors[key] = error
        if editor is not None:
            self.editors[key] = editor

    # ---- model -> fields ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the current values (after any edit, undo or redo)."""
        if self.multi is not None:
            if len(self.multi.nodes()) < 2:
                self.show_nodes([n.id for n in self.multi.nodes()])
            else:
                self.multi.refresh()
            return
        if self.node_id is not None:
            node = self.editor.graph.nodes.get(self.node_id)
            if node is None or node.type != self._node_type:
                self.show_node(None)
                return
            self._refresh_node(node)
        elif self.settings_form is not None:
            self.settings_form.refresh()
            self.editors, self.errors = self.settings_form.editors, self.settings_form.errors

    def _refresh_node(self, node: Node) -> None:
        spec = get_spec(node.type) if has_spec(node.type) else None
        for name, ed in self.editors.items():
            if not self.errors[name].isHidden():
                continue  # keep the user's refused text in view until they fix it
            ed.set_value(node.params.get(name, spec.param(name).default if spec else None))
        w = self._attr_widgets
        for key, value in (("name", node.name), ("frozen", node.frozen), ("lr_factor", node.lr_factor)):
            widget = w[key]
            widget.blockSignals(True)
            if key == "name" and not widget.hasFocus():
                widget.setText(value)
            elif key == "frozen":
                widget.setChecked(value)
            elif key == "lr_factor":
                widget.setValue(value)
            widget.blockSignals(False)
        shapes = self.editor.scene.shapes.get(node.id)
        if shapes is None:
            self.info.setText("")
        elif shapes.error:
            self.info.setText(f"<span style='color:#d92d20'>⚠ {shapes.error}</span>")
        else:
            out = format_shape(shapes.output_shape) if shapes.output_shape is not None else "? (wire its inputs)"
            params = "?" if shapes.params is None else f"{shapes.params:,}"
            warn = "".join(f"<br><span style='color:#b54708'>⚠ {w}</span>" for w in shapes.warnings)
            self.info.setText(f"output {out} · {params} parameters{warn}")

    # ---- fields -> model ---------------------------------------------------------------------

    def _apply_param(self, p: ParamSpec, ed: ParamEditor) -> None:
        if self.node_id is None:
            return
        try:
            value = ed.value()
            value = _plain(value)
            current = self.editor.graph.node(self.node_id).params.get(p.name, UNSET)
            if value == _plain(current) or (current is UNSET and value == _plain(p.default)):
                self._show_error(p.name, "")
                return
            command = SetParam(self.node_id, p.name, value, self.editor.graph)
        except (ValueError, ParamError) as exc:
            self._show_error(p.name, str(exc))
            return
        self._show_error(p.name, "")
        if not self.editor.run(command):
            self.refresh()

    def _apply_attr(self, attr: str, value: Any) -> None:
        if self.node_id is None:
            return
        node = self.editor.graph.node(self.node_id)
        if getattr(node, attr) == value:
            return
        if attr == "name" and not value:
            self._show_error("name", "a name cannot be empty")
            return
        self._show_error(attr, "")
        command = {"name": Rename, "frozen": SetFrozen, "lr_factor": SetLrFactor}[attr](self.node_id, value)
        self.editor.run(command)

    def _show_error(self, key: str, message: str) -> None:
        label = self.errors.get(key)
        if label is None:
            return
        label.setText(message)
        label.setVisible(bool(message))
        widget = self.editors[key].widget if key in self.editors else None
        if widget is not None:
            widget.setStyleSheet(_ERROR_STYLE if message else "")
        if message:
            self.editor.message.emit(f"Refused: {message}")


def _plain(value: Any) -> Any:
    """Tuples as lists, the way the file stores them (so equal values compare equal)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
