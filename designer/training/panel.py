"""The training panel's controls: Train, Pause, Stop, device, epochs, batch size, learning rate,
and a progress bar with ETA and throughput.

The panel is a view: it emits what the user asked for (`train_requested`, `pause_toggled`,
`stop_requested`) and shows what the controller tells it (`set_running`, `show_progress`,
`show_status`). The rest of the settings live in the graph's training section; these four are
the ones a user turns between runs, so they are at hand here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)


class DeviceCombo(QComboBox):
    """Auto / CPU, plus the CUDA devices the engine process finds.

    The GUI process never imports torch: the first time the list opens it shows Auto and CPU
    at once and emits `devices_wanted`; the controller asks the engine process, and
    `add_devices` adds the CUDA entries when the answer arrives (the open list grows in place).
    """

    devices_wanted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("deviceCombo")
        self.addItem("Auto", "auto")
        self.addItem("CPU", "cpu")
        self.setToolTip("Where to train. Auto picks a CUDA GPU when there is one, else the CPU.")
        self._asked = False
        self._answered = False

    def showPopup(self) -> None:  # noqa: N802 (Qt override)
        if not self._asked:
            self._asked = True
            self.devices_wanted.emit()
        super().showPopup()

    def add_devices(self, names: list[str]) -> None:
        """Add one entry per CUDA device (once; a repeated answer changes nothing)."""
        if self._answered:
            return
        self._answered = True
        for i, name in enumerate(names):
            self.addItem(f"CUDA {i}: {name}" if len(names) > 1 else f"CUDA ({name})",
                         f"cuda:{i}" if len(names) > 1 else "cuda")

    def reset_probe(self) -> None:
        """Ask again the next time the list opens (the engine that was asked went away)."""
        self._asked = self._answered

    def device(self) -> str:
        return str(self.currentData())


class TrainingPanel(QWidget):
    """Buttons, run settings and progress. Signals: train_requested, pause_toggled(bool),
    stop_requested."""

    train_requested = Signal()
    pause_toggled = Signal(bool)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        style = self.style()
        icon = QStyle.StandardPixmap
        # standard icons, not emoji: many desktop fonts have no glyph for ⏸ and show a box
        self.train_button = QPushButton(style.standardIcon(icon.SP_MediaPlay), "Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip("Train the graph on its data (F5). The graph is locked while it runs.")
        self.pause_button = QPushButton(style.standardIcon(icon.SP_MediaPause), "Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton(style.standardIcon(icon.SP_MediaStop), "Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop after the current step; the last checkpoint is kept.")
        self.device = DeviceCombo()
        self.epochs = _spin(QSpinBox(), "epochsSpin", 1, 100000, "Passes over the training data")
        self.batch_size = _spin(QSpinBox(), "batchSizeSpin", 1, 65536, "Samples per step")
        self.lr = QDoubleSpinBox()
        self.lr.setObjectName("lrSpin")
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 10.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setToolTip("Learning rate")
        self.progress = QProgressBar()
        self.progress.setObjectName("progressBar")
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(260)
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.progress.setFormat("Ready — click Train")
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build()
        self.train_button.clicked.connect(self.train_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.set_running(False)

    def _build(self) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.train_button, self.pause_button, self.stop_button):
            row.addWidget(w)
        row.addSpacing(12)
        for label, w in (("Device", self.device), ("Epochs", self.epochs), ("Batch", self.batch_size),
                         ("LR", self.lr)):
            text = QLabel(label)
            text.setBuddy(w)
            row.addWidget(text)
            row.addWidget(w)
        row.addSpacing(12)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 2)
        layout.addLayout(row)
        layout.addWidget(self.status)

    # ---- what the controller shows -----------------------------------------------------------

    def load_settings(self, training: dict[str, Any]) -> None:
        """Show a graph's training section (epochs, batch size, learning rate)."""
        from training import ConfigError, TrainConfig

        try:
            config = TrainConfig.resolve(training)
        except ConfigError:
            config = TrainConfig()
        self.epochs.setValue(config.epochs)
        self.batch_size.setValue(config.batch_size)
        self.lr.setValue(config.lr)
        device = str(training.get("device", "auto"))
        index = self.device.findData(device)
        self.device.setCurrentIndex(max(index, 0))

    def overrides(self) -> dict[str, Any]:
        """The settings on the panel, as TrainConfig overrides."""
        return {"epochs": self.epochs.value(), "batch_size": self.batch_size.value(),
                "lr": self.lr.value(), "device": self.device.device()}

    def set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        for w in (self.device, self.epochs, self.batch_size, self.lr):
            w.setEnabled(not running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)

    def show_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        self.progress.setFormat(text)

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b42318;" if error else "color: #344054;")

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)


def _spin(box: QSpinBox, name: str, low: int, high: int, tip: str) -> QSpinBox:
    box.setObjectName(name)
    box.setRange(low, high)
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


def format_seconds(seconds: float | None) -> str:
    """1:02:03 / 4:05 / 0:07, or '?' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_text(event: dict[str, Any], epochs: int) -> tuple[int, int, str]:
    """(steps done, steps in the run, bar text) from the latest step event."""
    per = int(event.get("epoch_steps") or 1)
    epoch = int(event.get("epoch") or 1)
    done = (epoch - 1) * per + int(event.get("epoch_step") or 0)
    total = per * max(epochs, epoch)
    rate = event.get("throughput")
    rate_text = f"{rate:,.0f} samples/s" if isinstance(rate, int | float) and rate >= 10 else \
        f"{rate:.1f} samples/s" if isinstance(rate, int | float) else "… samples/s"
    text = (f"Epoch {epoch}/{epochs} · step {event.get('epoch_step')}/{per} · {rate_text} · "
            f"ETA {format_seconds(event.get('eta'))}")
    return done, total, text
