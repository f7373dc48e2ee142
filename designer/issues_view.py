"""The issues list: every validation issue, errors first; clicking one selects its node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from graph_core import ERROR

from .document import Document

_NODE_ROLE = Qt.ItemDataRole.UserRole


class IssuesList(QListWidget):
    """The issues dock's widget (objectName `issuesList`).

    Signals:
        node_chosen(str): the user clicked an issue that names a node.
    """

    node_chosen = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("issuesList")
        self.setWordWrap(True)
        self.document = document
        document.analysed.connect(self.refresh)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self._shown: list = []
        self.refresh()

    def refresh(self) -> None:
        issues = list(self.document.issues)
        if issues == self._shown:
            return  # most edits leave the issues as they were: skip the repaint
        self._shown = issues
        self.clear()
        if not issues:
            item = QListWidgetItem("✓ No issues: the graph is ready to train and export.")
            item.setForeground(QColor("#067647"))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addItem(item)
            return
        for issue in issues:
            mark = "✖" if issue.severity == ERROR else "⚠"
            item = QListWidgetItem(f"{mark} {issue}")
            item.setForeground(QColor("#b42318") if issue.severity == ERROR else QColor("#b54708"))
            item.setData(_NODE_ROLE, issue.node)
            item.setToolTip(f"{issue.severity}: {issue.message}"
                            + ("\nClick to select the node." if issue.node else ""))
            self.addItem(item)

    def _clicked(self, item: QListWidgetItem) -> None:
        node = item.data(_NODE_ROLE)
        if node:
            self.node_chosen.emit(node)
