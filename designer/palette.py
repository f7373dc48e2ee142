"""The layer palette: every registered node type, grouped by category, with a search field.

Built from the registry alone (adding a spec adds an entry). Dragging an entry starts a real
QDrag whose mime data carries the type string; double-clicking (or Enter) asks for the node to
be added next to the selection.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from graph_core import CATEGORIES, all_specs

from .canvas.view import LAYER_MIME
from .quick_add import rank_types

CATEGORY_TITLES = {
    "io": "Input / output", "dense": "Dense", "conv": "Convolution", "pool": "Pooling",
    "unpool": "Upsampling / unpooling", "embedding": "Embedding", "generative": "Generative",
    "shape": "Shape", "normalise": "Normalisation", "activation": "Activation", "block": "Blocks",
}
_TYPE_ROLE = Qt.ItemDataRole.UserRole


def layer_mime_data(type_name: str) -> QMimeData:
    """The mime data a palette drag carries (also what the canvas accepts on drop)."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode("utf-8"))
    mime.setText(type_name)
    return mime


class _LayerTree(QTreeWidget):
    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items) -> QMimeData:
        type_name = items[0].data(0, _TYPE_ROLE) if items else None
        return layer_mime_data(type_name) if type_name else QMimeData()

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        type_name = None if item is None else item.data(0, _TYPE_ROLE)
        if not type_name:
            return
        drag = QDrag(self)
        drag.setMimeData(layer_mime_data(type_name))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """The palette dock's widget (objectName `palette`).

    Signals:
        add_requested(str): the user double-clicked (or pressed Enter on) a layer type.
    """

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.search = QLineEdit(placeholderText="Search layers… (e.g. conv, pool, relu)")
        self.search.setClearButtonEnabled(True)
        self.tree = _LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.no_match = QLabel()
        self.no_match.setObjectName("paletteNoMatch")
        self.no_match.setWordWrap(True)
        self.no_match.setStyleSheet("color: #b54708; padding: 6px;")
        self.no_match.hide()
        layout.addWidget(self.search)
        layout.addWidget(self.no_match)
        layout.addWidget(self.tree)
        self._populate()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_visible)
        self.tree.itemActivated.connect(self._activated)

    def _populate(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        specs = sorted(all_specs(), key=lambda s: CATEGORIES.index(s.category)
                       if s.category in CATEGORIES else len(CATEGORIES))
        for spec in specs:
            group = groups.get(spec.category)
            if group is None:
                group = QTreeWidgetItem([CATEGORY_TITLES.get(spec.category, spec.category)])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(group)
                groups[spec.category] = group
            item = QTreeWidgetItem([spec.display_name])
            item.setData(0, _TYPE_ROLE, spec.type)
            item.setToolTip(0, f"<b>{spec.type}</b><br>{spec.help}<br><i>Drag onto the canvas, "
                               "or double-click to add it after the selection.</i>")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            group.addChild(item)
        self.tree.expandAll()

    def items(self) -> dict[str, QTreeWidgetItem]:
        """Type string -> its entry."""
        out = {}
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            for k in range(group.childCount()):
                out[group.child(k).data(0, _TYPE_ROLE)] = group.child(k)
        return out

    def filter(self, text: str) -> None:
        """Show the entries whose type or title mention `text`; only when none do, those whose
        category does, then those whose help text does (so "output" finds the Output head alone,
        not the Input beside it in "Input / output", nor 15 layers whose help says "output")."""
        needle = text.strip().lower()
        entries = [(g, self.tree.topLevelItem(g).child(k)) for g in range(self.tree.topLevelItemCount())
                   for k in range(self.tree.topLevelItem(g).childCount())]

        def by_name(item: QTreeWidgetItem) -> bool:
            return needle in f"{item.data(0, _TYPE_ROLE)} {item.text(0)}".lower()

        hits = {id(item) for _g, item in entries if not needle or by_name(item)}
        if not hits:
            hits = {id(item) for g, item in entries if needle in self.tree.topLevelItem(g).text(0).lower()}
        if not hits:
            hits = {id(item) for _g, item in entries if needle in item.toolTip(0).lower()}
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            shown = 0
            for k in range(group.childCount()):
                hit = id(group.child(k)) in hits
                group.child(k).setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)
        # an empty list alone reads as a broken palette: say that nothing matched, and what to try
        self.no_match.setText(f"No layer matches “{text.strip()}”. Try a shorter word (conv, pool, norm) "
                              "or clear the search." if needle and not hits else "")
        self.no_match.setVisible(bool(needle) and not hits)

    def visible_types(self) -> list[str]:
        return [t for t, item in self.items().items() if not item.isHidden() and not item.parent().isHidden()]

    def _add_first_visible(self) -> None:
        """Enter in the search field adds the best match (exact type name first), not merely
        the first entry shown: "flatten" must add Flatten, not a pool whose help mentions it."""
        visible = set(self.visible_types())
        ranked = [t for t in rank_types(self.search.text()) if t in visible] or sorted(visible)
        if ranked:
            self.add_requested.emit(ranked[0])

    def _activated(self, item: QTreeWidgetItem, column: int) -> None:
        type_name = item.data(0, _TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)
