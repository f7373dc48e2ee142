"""Semantic parameter kinds -> editor widgets (the only place that maps kinds to Qt).

int -> QSpinBox, float -> QDoubleSpinBox, bool -> QCheckBox, choice -> QComboBox,
ints -> a line edit that takes "3", "3, 3" or one of the spec's words ("same"), shape -> a line
edit "1, 28, 28", text -> a line edit; the training settings' own kinds: auto_bool -> a combo
auto / true / false, floats -> a line edit "0.9, 0.999" (empty: unset), suggest -> an editable
combo offering the spec's choices. Each editor offers `value()` (raises ValueError with a
readable reason for text that does not parse), `set_value(v)` and a `changed` callback hook.

`guard_wheel(widget)` keeps the mouse wheel from changing spin boxes and combos under a widget:
the wheel scrolls the form they sit in instead (a value must never change on the way past).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from graph_core import ParamSpec

_INT_LIMIT = 2_000_000_000


class ParamEditor:
    """A widget for one parameter plus how to read and write its value."""

    def __init__(self, spec: ParamSpec, widget: QWidget, read: Callable[[], Any],
                 write: Callable[[Any], None], connect: Callable[[Callable[[], None]], None]) -> None:
        self.spec, self.widget = spec, widget
        self._read, self._write, self._connect = read, write, connect

    def value(self) -> Any:
        return self._read()

    def set_value(self, value: Any) -> None:
        self.widget.blockSignals(True)
        try:
            self._write(value)
        finally:
            self.widget.blockSignals(False)

    def on_change(self, callback: Callable[[], None]) -> None:
        self._connect(callback)


def make_editor(spec: ParamSpec) -> ParamEditor:
    """The editor for `spec`'s kind."""
    return _FACTORIES[spec.kind](spec)


def error_label() -> QLabel:
    """The red line under a field that says why its value was refused; hidden until it does."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #d92d20;")
    label.hide()
    return label


def guard_wheel(root: QWidget) -> None:
    """Make every spin box and combo in `root` (and `root` itself) pass the wheel to its parent."""
    kinds = (QAbstractSpinBox, QComboBox)
    widgets = [root] if isinstance(root, kinds) else []
    widgets += [w for kind in kinds for w in root.findChildren(kind)]
    for widget in widgets:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel does not focus it either
        widget.installEventFilter(_WHEEL_GUARD)


class _WheelGuard(QObject):
    """A wheel event on a guarded widget goes to the scroll area around it (the form scrolls);
    with none around it, it is dropped. Either way the widget never sees it."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() != QEvent.Type.Wheel:
            return False
        area = obj.parentWidget() if isinstance(obj, QWidget) else None
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:
            # Sent on explicitly: Qt propagates only wheel events that come from the system.
            QApplication.sendEvent(area.viewport(), event)
        event.accept()
        return True


_WHEEL_GUARD = _WheelGuard()


def format_value(value: Any) -> str:
    """A parameter value as the text a line edit shows ("3, 3", "same", "")."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_ints(spec: ParamSpec, text: str) -> Any:
    """"3" -> 3, "3, 3" or "3x3" -> (3, 3), a word -> the word, "" -> None when allowed."""
    text = text.strip()
    if not text:
        if spec.nullable:
            return None
        raise ValueError(f"{spec.name}: a value is required")
    if text.lower() in spec.words:
        return text.lower()
    parts = [p for p in text.replace("x", ",").replace("×", ",").replace(" ", ",").split(",") if p]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        words = f" or {' / '.join(spec.words)}" if spec.words else ""
        raise ValueError(f"{spec.name}: type a whole number or a list like 3, 3{words}; got {text!r}") from None
    return numbers[0] if len(numbers) == 1 else tuple(numbers)


def parse_shape(spec: ParamSpec, text: str) -> tuple[int, ...]:
    """"1, 28, 28" (or "1x28x28") -> (1, 28, 28)."""
    parts = [p for p in text.replace("x", ",").replace("×", ",").replace(" ", ",").split(",") if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{spec.name}: type sizes separated by commas, like 1, 28, 28; got {text!r}") from None


def _int_editor(spec: ParamSpec) -> ParamEditor:
    box = QSpinBox()
    low = int(spec.minimum) if spec.minimum is not None else -_INT_LIMIT
    high = int(spec.maximum) if spec.maximum is not None else _INT_LIMIT
    if spec.nullable:
        # One below the minimum stands for None, shown as "none".
        low -= 1
        box.setSpecialValueText("none")
    box.setRange(low, high)
    box.setKeyboardTracking(True)

    def read() -> Any:
        return None if spec.nullable and box.value() == box.minimum() else box.value()

    def write(v: Any) -> None:
        box.setValue(box.minimum() if v is None else int(v))

    return ParamEditor(spec, box, read, write, lambda cb: box.valueChanged.connect(lambda _v: cb()))


class DecimalSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox that shows 0.2 as "0.2", not "0.200000" (it still takes six decimals)."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        text = super().textFromValue(value)
        point = self.locale().decimalPoint()
        if point in text:
            text = text.rstrip("0").rstrip(point)
        return text


def _float_editor(spec: ParamSpec) -> ParamEditor:
    box = DecimalSpinBox()
    box.setDecimals(6)
    box.setRange(spec.minimum if spec.minimum is not None else -1e9,
                 spec.maximum if spec.maximum is not None else 1e9)
    step = getattr(spec, "step", None)  # training settings name theirs (lr steps by 1e-4)
    box.setSingleStep(step or (0.1 if (spec.maximum or 10) > 1 else 0.05))
    return ParamEditor(spec, box, box.value, lambda v: box.setValue(float(v)),
                       lambda cb: box.valueChanged.connect(lambda _v: cb()))


def _bool_editor(spec: ParamSpec) -> ParamEditor:
    box = QCheckBox()
    return ParamEditor(spec, box, box.isChecked, lambda v: box.setChecked(bool(v)),
                       lambda cb: box.toggled.connect(lambda _v: cb()))


def _choice_editor(spec: ParamSpec) -> ParamEditor:
    box = QComboBox()
    box.addItems(list(spec.choices))
    return ParamEditor(spec, box, box.currentText, lambda v: box.setCurrentText(str(v)),
                       lambda cb: box.currentTextChanged.connect(lambda _v: cb()))


def _line_editor(spec: ParamSpec, parse: Callable[[str], Any], placeholder: str) -> ParamEditor:
    edit = QLineEdit(placeholderText=placeholder)
    return ParamEditor(spec, edit, lambda: parse(edit.text()), lambda v: edit.setText(format_value(v)),
                       lambda cb: edit.editingFinished.connect(cb))


def _ints_editor(spec: ParamSpec) -> ParamEditor:
    hint = "e.g. 3 or 3, 3" + (f" or {' / '.join(spec.words)}" if spec.words else "")
    if spec.nullable:
        hint += " (empty: default)"
    return _line_editor(spec, lambda t: parse_ints(spec, t), hint)


def _shape_editor(spec: ParamSpec) -> ParamEditor:
    return _line_editor(spec, lambda t: parse_shape(spec, t), "e.g. 1, 28, 28")


def _text_editor(spec: ParamSpec) -> ParamEditor:
    return _line_editor(spec, lambda t: t.strip(), "")


def _auto_bool_editor(spec: ParamSpec) -> ParamEditor:
    box = QComboBox()
    values: list[Any] = ["auto", True, False]
    for v in values:
        box.addItem(str(v).lower(), v)

    def write(v: Any) -> None:
        box.setCurrentIndex(next((k for k, x in enumerate(values) if x is v or x == v and
                                  type(x) is type(v)), 0))

    return ParamEditor(spec, box, lambda: values[box.currentIndex()], write,
                       lambda cb: box.activated.connect(lambda _i: cb()))


def parse_floats(spec: ParamSpec, text: str) -> list[float] | None:
    """"0.9, 0.999" -> [0.9, 0.999]; "" -> None (unset)."""
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    if not parts:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{spec.name}: type numbers separated by commas, like 0.9, 0.999; "
                         f"got {text!r}") from None


def _floats_editor(spec: ParamSpec) -> ParamEditor:
    return _line_editor(spec, lambda t: parse_floats(spec, t), "e.g. 0.9, 0.999 (empty: default)")


def _suggest_editor(spec: ParamSpec) -> ParamEditor:
    box = QComboBox()
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    box.addItems([str(c) for c in spec.choices])

    def connect(cb: Callable[[], None]) -> None:
        box.activated.connect(lambda _i: cb())
        box.lineEdit().editingFinished.connect(cb)

    return ParamEditor(spec, box, lambda: box.currentText().strip(),
                       lambda v: box.setEditText(format_value(v)), connect)


_FACTORIES: dict[str, Callable[[ParamSpec], ParamEditor]] = {
    "int": _int_editor, "float": _float_editor, "bool": _bool_editor, "choice": _choice_editor,
    "ints": _ints_editor, "shape": _shape_editor, "text": _text_editor,
    "auto_bool": _auto_bool_editor, "floats": _floats_editor, "suggest": _suggest_editor,
}
