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
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from graph_core import Graph


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


def param_items(entry: Any) -> list[tuple[str, Any, str]]:
    """(name, default, help) for each parameter of a catalog entry."""
    params = _field(entry, "params", {}) or _field(entry, "parameters", {}) or {}
    out = []
    if isinstance(params, dict):
        for name, value in params.items():
            default = _field(value, "default", value) if not isinstance(value, int | float | str | bool) else value
            out.append((name, default, str(_field(value, "help", "") or "") if not isinstance(value, int | float | str | bool) else ""))
    else:
        for p in params:
            out.append((str(_field(p, "name")), _field(p, "default"), str(_field(p, "help", "") or "")))
    return out


def parse_value(text: str, default: Any) -> Any:
    """Parse a typed parameter like its default (int, float, bool, list of ints, text)."""
    text = text.strip()
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, list | tuple):
        return [int(p) for p in text.replace("x", ",").replace(" ", ",").split(",") if p]
    return text


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
        self.fields: dict[str, tuple[QLineEdit, Any]] = {}
        right = QVBoxLayout()
        right.addWidget(self.description)
        right.addLayout(self.form)
        right.addStretch(1)
        right.addWidget(self.error)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(right, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        for entry in self.catalog:
            self.list.addItem(str(_field(entry, "name")))
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
        for name, default, help_text in param_items(entry):
            edit = QLineEdit(", ".join(map(str, default)) if isinstance(default, list | tuple) else str(default))
            edit.setToolTip(help_text)
            edit.setObjectName(f"template_{name}")
            self.form.addRow(f"{name}" + (f" — {help_text}" if help_text else ""), edit)
            self.fields[name] = (edit, default)

    def build(self) -> Graph:
        """Build the chosen template with the typed parameters (raises on bad input)."""
        import templates

        entry = self.catalog[self.list.currentRow()]
        params = {}
        for name, (edit, default) in self.fields.items():
            value = parse_value(edit.text(), default)
            if value != default:
                params[name] = value
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
