"""The canvas's right-click menu: what can be done to the clicked card or the selection.

Built fresh for each click (entries enabled by what is selected and whether the document is
locked) from the editor's operations, so it does nothing the Edit menu cannot; each entry shows
its shortcut after a tab, so the menu also teaches the keys.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QMenu, QWidget

from .scene import GraphScene
from .view import GraphView


def build_canvas_menu(parent: QWidget, view: GraphView, editor, pos: QPoint,
                      add_at: Callable[[QPointF], None]) -> QMenu:
    """The menu for viewport point `pos`. A right-click on a card that is not selected selects
    it first, so the menu acts on what was clicked.

    Args:
        parent: the window that owns the menu.
        view: the canvas.
        editor: the window's `Editor` (group, ungroup, copy, ... as undoable commands).
        pos: where the user right-clicked, in viewport coordinates.
        add_at: opens quick-add at a scene point.

    Returns:
        The menu, not yet shown (deleted when closed).
    """
    scene: GraphScene = view.scene()
    card = scene.card_at(view.mapToScene(pos))
    if card is not None and not card.isSelected():
        scene.select_nodes([card.node_id])
    ids = scene.selected_node_ids()
    types = [scene.graph.node(n).type for n in ids]
    blocks = [n for n, t in zip(ids, types, strict=True) if t in ("Block", "Discriminator")]
    editable = not scene.document.locked
    menu = QMenu(parent)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    entries = [
        ("&Add layer…\tTab", lambda: add_at(view.mapToScene(pos)), editable),
        ("&Open block\tDouble-click", lambda: scene.open_block(blocks[0]), len(blocks) == 1),
        None,
        ("&Group into block\tCtrl+G", editor.group_selected, editable and bool(ids)),
        ("U&ngroup\tCtrl+Shift+G", editor.ungroup_selected, editable and types == ["Block"]),
        None,
        ("&Copy\tCtrl+C", editor.copy, bool(ids)),
        ("&Duplicate\tCtrl+D", editor.duplicate, editable and bool(ids)),
        ("&Delete\tDel", editor.delete_selected, editable and bool(ids)),
        None,
        ("Auto &layout\tCtrl+L", editor.auto_layout, editable),
        ("&Fit to window\tF", view.fit_all, True),
    ]
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            continue
        text, slot, enabled = entry
        action = menu.addAction(text)
        action.setEnabled(enabled)
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
    return menu
