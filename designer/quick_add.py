"""Quick add (Tab or Space on the canvas): type a few letters, press Enter, the layer appears
at the cursor, wired after the selected node."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QVBoxLayout, QWidget

from graph_core import all_specs


def rank_types(query: str) -> list[str]:
    """Layer types matching `query`, best first: exact, prefix, substring, then help text."""
    q = query.strip().lower()
    scored = []
    for spec in all_specs():
        t = spec.type.lower()
        if not q:
            score = 3
        elif t == q:
            score = 0
        elif t.startswith(q):
            score = 1
        elif q in t or q in spec.display_name.lower():
            score = 2
        elif q in spec.help.lower() or q == spec.category:
            score = 4
        else:
            continue
        scored.append((score, spec.type))
    return [t for _s, t in sorted(scored, key=lambda st: st[0])]


class QuickAdd(QFrame):
    """A small search popup. Signal chosen(str): a type was picked."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("quickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.search = QLineEdit(placeholderText="Add layer… type to search, Enter to add")
        self.list = QListWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(280, 300)
        self.search.textChanged.connect(self._fill)
        self.search.returnPressed.connect(self._accept)
        self.list.itemActivated.connect(lambda _i: self._accept())
        self._fill("")

    def popup(self, global_pos: QPoint) -> None:
        self.search.clear()
        self.move(global_pos)
        self.show()
        self.search.setFocus()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
            self.list.setCurrentRow(row)
            return
        super().keyPressEvent(event)

    def _fill(self, text: str) -> None:
        self.list.clear()
        self.list.addItems(rank_types(text))
        if self.list.count():
            self.list.setCurrentRow(0)

    def _accept(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.hide()
            self.chosen.emit(item.text())
