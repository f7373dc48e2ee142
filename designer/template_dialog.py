"""New from template: a dialog listing the templates with their descriptions and parameters.

Reads `templates.catalog()` and builds with `templates.build(name, **params)`; when the
templates package cannot be imported the dialog says so instead of failing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from graph_core import Graph, ParamSpec
from graph_core.specs import PARAM_KINDS

from .param_widgets import ParamEditor, make_editor


def _field(entry: Any, key: str, default: Any = None) -> Any:
    """Read a catalog entry whether it is a dict or an object with attributes."""
    if isinstance(entry, dict):
        return entry.get(key, default)
    return getattr(entry, key, default)


def load_catalog() -> tuple[list[Any], str]:
    """The template catalog, or ([], reason) when templates are unavailable."""
    try:
        import templates

        return list(templates.catalog()), ""
    except Exception as exc:  # a missing or broken package: degrade to a message
        return [], f"Templates are not available: {exc}"


def param_specs(entry: Any) -> list[ParamSpec]:
    """A catalog entry's parameters as ParamSpecs, so the inspector's widgets can edit them."""
    out = []
    for p in _field(entry, "params", []) or []:
        kind = str(_field(p, "kind", "text"))
        default = _field(p, "default")
        if kind not in PARAM_KINDS:
            kind = "text"
        out.append(ParamSpec(str(_field(p, "name")), kind, default, str(_field(p, "help", "") or ""),
                             minimum=_field(p, "minimum"), maximum=_field(p, "maximum"),
                             choices=tuple(_field(p, "choices", ()) or ()),
                             nullable=default is None))
    return out


class TemplateDialog(QDialog):
    """Pick a template, adjust its parameters, get a Graph from `build()`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New from template")
        self.resize(760, 460)
        self.catalog, problem = load_catalog()
        self.list = QListWidget()
        self.description = QLabel(problem)
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.RichText)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setStyleSheet("color: #d92d20;")
        self.fields: dict[str, ParamEditor] = {}
        right = QVBoxLayout()
        right.addWidget(self.description)
        right.addLayout(self.form)
        right.addStretch(1)
        # the description and parameters scroll in their own pane, with hints wrapped: long
        # help lines (dcgan, vgg) once widened this side until the list was a sliver
        pane = QWidget()
        pane.setLayout(right)
        self.pane = QScrollArea()
        self.pane.setObjectName("templatePane")
        self.pane.setWidgetResizable(True)
        self.pane.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pane.setWidget(pane)
        side = QVBoxLayout()
        side.addWidget(self.pane, 1)
        side.addWidget(self.error)
        self.error.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.list, 0)
        row.addLayout(side, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        for entry in self.catalog:
            self.list.addItem(str(_field(entry, "name")))
        names = [str(_field(e, "name")) for e in self.catalog] or [""]
        widest = max(self.list.fontMetrics().horizontalAdvance(n) for n in names)
        self.list.setObjectName("templateList")
        self.list.setMinimumWidth(widest + 40)  # every name whole, beside its scroll bar
        self.list.setMaximumWidth(max(widest + 80, 200))
        self.list.currentRowChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _i: self._accept())
        self.graph: Graph | None = None
        if self.catalog:
            self.list.setCurrentRow(0)

    def select(self, name: str) -> None:
        for k, entry in enumerate(self.catalog):
            if str(_field(entry, "name")) == name:
                self.list.setCurrentRow(k)

    def _show(self, row: int) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        if row < 0:
            return
        entry = self.catalog[row]
        self.description.setText(f"<b>{_field(entry, 'name')}</b><br>{_field(entry, 'description', '')}")
        for spec in param_specs(entry):
            editor = make_editor(spec)
            editor.set_value(spec.default)
            editor.widget.setToolTip(spec.help)
            editor.widget.setObjectName(f"template_{spec.name}")
            self.form.addRow(spec.name, editor.widget)
            if spec.help:
                hint = QLabel(spec.help)
                hint.setWordWrap(True)
                hint.setStyleSheet("color: #667085;")
                self.form.addRow("", hint)
            self.fields[spec.name] = editor

    def build(self) -> Graph:
        """Build the chosen template with the typed parameters (raises on bad input)."""
        import templates

        entry = self.catalog[self.list.currentRow()]
        params = {}
        for name, editor in self.fields.items():
            value = editor.value()
            if value != editor.spec.default:
                params[name] = list(value) if isinstance(value, tuple) else value
        return templates.build(str(_field(entry, "name")), **params)

    def _accept(self) -> None:
        if self.list.currentRow() < 0:
            return
        try:
            self.graph = self.build()
        except Exception as exc:  # a bad parameter: show the template's own message
            self.error.setText(str(exc))
            return
        self.accept()
