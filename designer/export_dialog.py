"""The File menu's export dialog: where to write, and which weights go out.

What a user trained is what should leave the window: the dialog offers the trained runs of the
open graph (the run selected in the Runs dock first, else the latest), each named with its
result and checkpoint, and the untrained model last, taken only when the user picks it. The
runs come from whoever installed training (`Exporter.trained_runs`); this module imports no
training code and no torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)


@dataclass(frozen=True)
class WeightsChoice:
    """Weights to export: a run's checkpoint, or (checkpoint None) the untrained model."""

    label: str
    checkpoint: Path | None = None
    run: str = ""
    why: str = ""  # "selected in the Runs dock" / "the latest run of this graph"

    @property
    def untrained(self) -> bool:
        return self.checkpoint is None

    def describe(self) -> str:
        """How the status bar names these weights."""
        if self.checkpoint is None:
            return "the untrained model (random initial weights)"
        return f"the weights of run {self.run} ({self.checkpoint.name})"


UNTRAINED = WeightsChoice("Untrained: the initial random weights")


class ExportDialog(QDialog):
    """Path and weights for one export. `path()` and `choice()` after `exec()`."""

    def __init__(self, title: str, suggested: str, filters: str, choices: list[WeightsChoice],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(title)
        self.choices = [*choices, UNTRAINED]
        self._filters = filters
        self.path_edit = QLineEdit(suggested)
        self.path_edit.setObjectName("exportPath")
        self.path_edit.setMinimumWidth(360)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.weights = QComboBox()
        self.weights.setObjectName("exportWeights")
        for choice in self.choices:
            self.weights.addItem(choice.label)
        self.note = QLabel()
        self.note.setObjectName("exportWeightsNote")
        self.note.setWordWrap(True)
        self.weights.currentIndexChanged.connect(self._explain)
        form = QFormLayout(self)
        form.addRow("File:", row)
        form.addRow("Weights:", self.weights)
        form.addRow(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._explain()

    def path(self) -> str:
        return self.path_edit.text().strip()

    def choice(self) -> WeightsChoice:
        return self.choices[max(0, self.weights.currentIndex())]

    def select_untrained(self) -> None:
        self.weights.setCurrentIndex(len(self.choices) - 1)

    def _explain(self) -> None:
        choice = self.choice()
        if choice.untrained:
            self.note.setText("The model as it is before any training: its weights are random."
                              if len(self.choices) > 1 else
                              "No trained run of this graph yet: the model goes out untrained "
                              "(random weights). Train it first to export what it learned.")
        else:
            self.note.setText(f"Exports what run {choice.run} learned ({choice.checkpoint.name}, "
                              f"{choice.why}).")

    def _browse(self) -> None:
        if os.environ.get("NETWRIGHT_NO_DIALOGS") == "1":
            return
        path, _ = QFileDialog.getSaveFileName(self, self.windowTitle(), self.path(), self._filters)
        if path:
            self.path_edit.setText(path)
