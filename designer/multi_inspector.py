"""The inspector's form for several selected nodes: the parameters they share, `frozen` and the
learning-rate factor; an edit applies to every selected node as one undo step.

A parameter is shared when every selected node's spec has it with the same kind and choices
(five Conv2d share all of theirs; a Conv2d and a Dense share none but frozen and lr factor).
Where the nodes disagree the field shows the first node's value and says "mixed"; frozen is a
three-state box then, and a click freezes (or unfreezes) them all. Five VGG stages are frozen
with one click instead of five.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from graph_core import (
    UNSET,
    Macro,
    Node,
    ParamError,
    ParamSpec,
    SetFrozen,
    SetLrFactor,
    SetParam,
    get_spec,
    has_spec,
)

from .editor import Editor
from .param_widgets import ParamEditor, error_label, guard_wheel, make_editor


def shared_params(nodes: list[Node]) -> list[ParamSpec]:
    """The parameters every node has, with the same kind and choices (in the first node's order)."""
    if not nodes or not all(has_spec(n.type) for n in nodes):
        return []
    specs = [get_spec(n.type) for n in nodes]
    out = []
    for p in specs[0].params:
        others = [next((q for q in s.params if q.name == p.name), None) for s in specs[1:]]
        if all(q is not None and (q.kind, q.choices, q.words) == (p.kind, p.choices, p.words) for q in others):
            out.append(p)
    return out


class MultiNodeForm(QWidget):
    """The form for the nodes `ids` of the graph on show (objectName `multiInspector`)."""

    def __init__(self, editor: Editor, ids: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("multiInspector")
        self.editor, self.ids = editor, list(ids)
        self.editors: dict[str, ParamEditor] = {}
        self.mixed: dict[str, QLabel] = {}
        self.errors: dict[str, QLabel] = {}
        nodes = self.nodes()
        kinds = Counter(n.type for n in nodes)
        self.title = QLabel(f"<b>{len(nodes)} nodes selected</b><br><span style='color:#475467'>"
                            + ", ".join(f"{k} × {v}" if v > 1 else k for k, v in kinds.items())
                            + "</span><br><span style='color:#667085'>An edit here applies to all of them "
                              "(one undo step).</span>")
        self.title.setObjectName("multiInspectorTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        outer = QVBoxLayout(self)
        outer.addWidget(self.title)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        outer.addStretch(1)
        for p in shared_params(nodes):
            ed = make_editor(p)
            ed.on_change(lambda p=p, ed=ed: self._apply_param(p, ed))
            self._row(form, p.name, ed.widget, p.help)
            self.editors[p.name] = ed
        self.frozen = QCheckBox("no gradient (transfer learning)")
        self.frozen.clicked.connect(self._apply_frozen)
        self._row(form, "frozen", self.frozen, "keep these layers' weights fixed")
        self.lr = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=100.0, singleStep=0.1)
        self.lr.valueChanged.connect(self._apply_lr)
        self._row(form, "lr_factor", self.lr, "multiplies the learning rate for these layers")
        guard_wheel(self)
        self.refresh()

    def nodes(self) -> list[Node]:
        graph = self.editor.graph
        return [graph.nodes[i] for i in self.ids if i in graph.nodes]

    def _row(self, form: QFormLayout, key: str, widget: QWidget, help_text: str) -> None:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.setSpacing(1)
        lay.addWidget(widget)
        mixed = QLabel("mixed: the selected nodes differ")
        mixed.setStyleSheet("color: #b54708; font-size: 8pt;")
        mixed.hide()
        lay.addWidget(mixed)
        error = error_label()
        lay.addWidget(error)
        widget.setObjectName(f"field_{key}")
        widget.setToolTip(help_text)
        form.addRow(key.replace("_", " ") if key == "lr_factor" else key, box)
        self.mixed[key], self.errors[key] = mixed, error

    # ---- model -> fields ---------------------------------------------------------------------

    def refresh(self) -> None:
        nodes = self.nodes()
        if not nodes:
            return
        for name, ed in self.editors.items():
            values = [_value(n, name) for n in nodes]
            ed.set_value(values[0])
            self.mixed[name].setVisible(any(v != values[0] for v in values))
        frozen = {n.frozen for n in nodes}
        self.frozen.blockSignals(True)
        self.frozen.setTristate(len(frozen) > 1)
        self.frozen.setCheckState(Qt.CheckState.PartiallyChecked if len(frozen) > 1 else
                                  Qt.CheckState.Checked if frozen == {True} else Qt.CheckState.Unchecked)
        self.frozen.blockSignals(False)
        self.mixed["frozen"].setVisible(len(frozen) > 1)
        factors = {n.lr_factor for n in nodes}
        self.lr.blockSignals(True)
        self.lr.setValue(nodes[0].lr_factor)
        self.lr.blockSignals(False)
        self.mixed["lr_factor"].setVisible(len(factors) > 1)

    # ---- fields -> model ---------------------------------------------------------------------

    def _apply_param(self, p: ParamSpec, ed: ParamEditor) -> None:
        graph = self.editor.graph
        try:
            value = _plain(ed.value())
            commands = [SetParam(n.id, p.name, value, graph) for n in self.nodes() if _value(n, p.name) != value]
        except (ValueError, ParamError) as exc:
            self._error(p.name, str(exc))
            return
        self._error(p.name, "")
        if commands and not self.editor.run(Macro(commands, f"set {p.name} of {len(commands)} nodes")):
            self.refresh()

    def _apply_frozen(self) -> None:
        nodes = self.nodes()
        value = not all(n.frozen for n in nodes)  # mixed or all unfrozen: freeze them all
        self.editor.run(SetFrozen([n.id for n in nodes], value))
        self.refresh()

    def _apply_lr(self, value: float) -> None:
        changed = [n.id for n in self.nodes() if n.lr_factor != value]
        if changed:
            self.editor.run(SetLrFactor(changed, float(value)))

    def _error(self, key: str, message: str) -> None:
        self.errors[key].setText(message)
        self.errors[key].setVisible(bool(message))
        if message:
            self.editor.message.emit(f"Refused: {message}")


def _value(node: Node, name: str) -> Any:
    value = node.params.get(name, UNSET)
    if value is UNSET:
        value = get_spec(node.type).param(name).default
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
