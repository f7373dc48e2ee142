"""The issues list: graph and data issues, errors first; clicking one selects its node.

Graph issues come from graph_core's validation, data issues from `training.binding` (Input
fields, shapes, class counts against the data section's schema): both are refreshed after every
edit. A data issue that has a fix shows a button for it in its row (objectName `fixButton`), and
the row's context menu lists the same fixes; applying one is one undo step named after it. The
"No issues" line says the graph is ready to train only when its data binds too.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QWidget,
)

from graph_core import ERROR
from training.binding import Fix

from .document import Document

_NODE_ROLE = Qt.ItemDataRole.UserRole
_ERROR_COLOUR, _WARNING_COLOUR, _OK_COLOUR, _WAIT_COLOUR = "#b42318", "#b54708", "#067647", "#667085"
READY_TEXT = "✓ No issues: the graph is ready to train and export."


class IssuesList(QListWidget):
    """The issues dock's widget (objectName `issuesList`).

    Signals:
        node_chosen(str): the user clicked an issue that names a node.
        message(str): a line for the status bar (a fix applied or refused).
    """

    node_chosen = Signal(str)
    message = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("issuesList")
        self.setWordWrap(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        self.document = document
        document.analysed.connect(self.refresh)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self._shown: tuple = ()
        self._fixes: list[tuple[Fix, ...]] = []  # per row
        self.refresh()

    def refresh(self) -> None:
        doc = self.document
        shown = (tuple(doc.issues), tuple(doc.data_issues), doc.data_state.pending)
        if shown == self._shown:
            return  # most edits leave the issues as they were: skip the repaint
        self._shown = shown
        self._drop_row_widgets()
        self.clear()
        self._fixes = []
        rows = [i for i in (*doc.issues, *doc.data_issues) if i.severity == ERROR]
        rows += [i for i in (*doc.issues, *doc.data_issues) if i.severity != ERROR]
        for issue in rows:
            self._add_issue(issue)
        if doc.data_state.pending:
            name = doc.data_state.section.get("dataset")
            self._add_note(f"… Reading {name} to check the graph against its data.", _WAIT_COLOUR)
        elif not rows:
            self._add_note(READY_TEXT, _OK_COLOUR)
        self._fit_rows()

    def fixes_at(self, row: int) -> tuple[Fix, ...]:
        """The fixes offered for the issue in `row` (none for graph issues)."""
        return self._fixes[row] if 0 <= row < len(self._fixes) else ()

    def apply_fix(self, fix: Fix) -> bool:
        """Apply a fix to the document as one undo step; a refusal becomes a message."""
        try:
            self.document.execute(fix.command())
        except RuntimeError as exc:
            self.message.emit(str(exc))
            return False
        except (ValueError, KeyError) as exc:
            self.message.emit(f"Cannot {fix.label}: {exc}")
            return False
        self.message.emit(f"Fixed: {fix.label}.")
        return True

    def menu_for(self, item: QListWidgetItem | None) -> QMenu:
        """The context menu of a row: its fixes, then selecting its node."""
        menu = QMenu(self)
        row = self.row(item) if item is not None else -1
        for fix in self.fixes_at(row):
            menu.addAction(f"Fix: {fix.label}", lambda f=fix: self.apply_fix(f))
        node = item.data(_NODE_ROLE) if item is not None else None
        if node:
            menu.addAction(f"Select {node}", lambda: self.node_chosen.emit(node))
        if menu.isEmpty():
            menu.addAction("No fix to offer").setEnabled(False)
        return menu

    # ---- rows --------------------------------------------------------------------------------

    def _add_issue(self, issue) -> None:
        error = issue.severity == ERROR
        text = f"{'✖' if error else '⚠'} {issue}"
        colour = _ERROR_COLOUR if error else _WARNING_COLOUR
        item = QListWidgetItem(text)
        item.setForeground(QColor(colour))
        item.setData(_NODE_ROLE, issue.node)
        fixes = tuple(getattr(issue, "fixes", ()))
        tip = f"{issue.severity}: {issue.message}" + ("\nClick to select the node." if issue.node else "")
        if fixes:
            tip += "\nRight-click for the fixes."
        item.setToolTip(tip)
        self.addItem(item)
        self._fixes.append(fixes)
        if fixes:
            # The row's widget draws the text beside its buttons; the item keeps the text for
            # item.text() (tests, accessibility) but paints none of it.
            item.setForeground(QColor(0, 0, 0, 0))
            self.setItemWidget(item, self._row_widget(text, colour, fixes))

    def _drop_row_widgets(self) -> None:
        # clear() deletes row widgets later; their buttons must not stay findable (or clickable).
        for k in range(self.count()):
            widget = self.itemWidget(self.item(k))
            if widget is not None:
                self.removeItemWidget(self.item(k))
                widget.setParent(None)
                widget.deleteLater()

    def _add_note(self, text: str, colour: str) -> None:
        item = QListWidgetItem(text)
        item.setForeground(QColor(colour))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.addItem(item)
        self._fixes.append(())

    def _row_widget(self, text: str, colour: str, fixes: tuple[Fix, ...]) -> QWidget:
        row = QWidget()
        row.setObjectName("issueRow")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(4, 1, 4, 1)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {colour};")
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # clicks select the row
        layout.addWidget(label, 1)
        for fix in fixes:
            button = QPushButton(fix.label)
            button.setObjectName("fixButton")
            button.setToolTip(f"Fix it: {fix.label} (one undo step)")
            button.clicked.connect(lambda _c=False, f=fix: self.apply_fix(f))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        return row

    def _fit_rows(self) -> None:
        """Give each row with buttons the height its wrapped text needs at the current width."""
        width = max(100, self.viewport().width() - 4)
        for k in range(self.count()):
            widget = self.itemWidget(self.item(k))
            if widget is not None:
                height = widget.heightForWidth(width) if widget.hasHeightForWidth() else -1
                height = max(height, widget.sizeHint().height() if height < 0 else 0,
                             widget.minimumSizeHint().height())
                self.item(k).setSizeHint(QSize(width, height))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def _show_menu(self, pos: QPoint) -> None:
        self.menu_for(self.itemAt(pos)).popup(self.viewport().mapToGlobal(pos))

    def _clicked(self, item: QListWidgetItem) -> None:
        node = item.data(_NODE_ROLE)
        if node:
            self.node_chosen.emit(node)
