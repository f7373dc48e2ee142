"""The training panel's controls: Train, Pause, Stop, device, epochs, batch size, learning rate,
and a progress bar with ETA and throughput.

The panel is a view: it emits what the user asked for (`train_requested`, `pause_toggled`,
`stop_requested`) and shows what the controller tells it (`set_running`, `show_progress`,
`show_status`). Device, epochs, batch size and learning rate are views of the document's
training section, like the inspector's fields: these four are the ones a user turns between
runs, so they are at hand here too. The mouse wheel never changes them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
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

from ..param_widgets import DecimalSpinBox, guard_wheel

# the bar is laid out to fit a run's text on one line (Qt wraps a longer one and clips it)
TYPICAL_PROGRESS = "Epoch 10/10 · step 450/450 · 1,379 samples/s · ETA 0:25"


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
    stop_requested.

    Device, Epochs, Batch and LR are views of the document's `training` section (`attach`): a
    change is a SetSetting at once (one undo step, merged while typing or stepping; refused
    while the document is locked), and they follow undo, redo and file open. The row wraps
    into two when the dock is narrow.
    """

    train_requested = Signal()
    pause_toggled = Signal(bool)
    stop_requested = Signal()

    KEYS = ("device", "epochs", "batch_size", "lr")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.document: Any = None
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
        self.lr = DecimalSpinBox()
        self.lr.setObjectName("lrSpin")
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 10.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setToolTip("Learning rate")
        self.progress = QProgressBar()
        self.progress.setObjectName("progressBar")
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(160)
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.progress.setFormat("Ready — click Train")
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build()
        guard_wheel(self)
        self.train_button.clicked.connect(self.train_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.epochs.valueChanged.connect(lambda v: self._edit("epochs", int(v)))
        self.batch_size.valueChanged.connect(lambda v: self._edit("batch_size", int(v)))
        self.lr.valueChanged.connect(lambda v: self._edit("lr", float(v)))
        self.device.currentIndexChanged.connect(lambda _i: self._edit("device", self.device.device()))
        self.set_running(False)

    def _build(self) -> None:
        self._buttons = QHBoxLayout()
        for w in (self.train_button, self.pause_button, self.stop_button):
            self._buttons.addWidget(w)
        self._settings = QHBoxLayout()
        for label, w in (("Device", self.device), ("Epochs", self.epochs), ("Batch", self.batch_size),
                         ("LR", self.lr)):
            text = QLabel(label)
            text.setBuddy(w)
            self._settings.addWidget(text)
            self._settings.addWidget(w)
        self._settings_box = QWidget()
        self._settings_box.setLayout(self._settings)
        self._settings.setContentsMargins(0, 0, 0, 0)
        self._rows = QGridLayout()
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setHorizontalSpacing(12)
        self._rows.addLayout(self._buttons, 0, 0)
        self._wide: bool | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 2)
        layout.addLayout(self._rows)
        layout.addWidget(self.status)
        self._arrange(wide=True)
        # the narrow (two-row) arrangement sets the least room the panel needs
        buttons = self._buttons.sizeHint().width()
        settings = self._settings_box.sizeHint().width()
        # one row only while the bar still fits a run's text on one line (Qt wraps and clips it)
        room = self.progress.fontMetrics().horizontalAdvance(TYPICAL_PROGRESS) + 24
        self._one_row = buttons + settings + max(room, self.progress.minimumWidth()) + 40
        self.setMinimumWidth(max(buttons + self.progress.minimumWidth(), settings) + 20)

    def _arrange(self, wide: bool) -> None:
        """One row (buttons, settings, progress) or two (buttons and progress; settings)."""
        if wide == self._wide:
            return
        self._wide = wide
        for w in (self._settings_box, self.progress):
            self._rows.removeWidget(w)
        if wide:
            self._rows.addWidget(self._settings_box, 0, 1)
            self._rows.addWidget(self.progress, 0, 2)
            self._rows.setColumnStretch(1, 0)
            self._rows.setColumnStretch(2, 1)
        else:
            self._rows.addWidget(self.progress, 0, 1)
            self._rows.addWidget(self._settings_box, 1, 0, 1, 2, Qt.AlignmentFlag.AlignLeft)
            self._rows.setColumnStretch(1, 1)
            self._rows.setColumnStretch(2, 0)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        self._arrange(event.size().width() >= self._one_row)
        super().resizeEvent(event)

    # ---- the document's training section ------------------------------------------------------

    def attach(self, document: Any) -> None:
        """Show (and edit) `document`'s training section from now on; idempotent."""
        if document is not self.document:
            self.document = document
            document.analysed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show the document's values (after an edit, undo, redo or open)."""
        if self.document is not None:
            self.load_settings(self.document.graph.training)

    def load_settings(self, training: dict[str, Any]) -> None:
        """Show a graph's training section (device, epochs, batch size, learning rate)."""
        values = _resolved(training)
        for key, widget in self._widgets().items():
            widget.blockSignals(True)
            try:
                if key == "device":
                    index = self.device.findData(values["device"])
                    if index < 0:  # e.g. cuda:1 before the list was probed: show what runs
                        self.device.addItem(str(values["device"]), values["device"])
                        index = self.device.count() - 1
                    self.device.setCurrentIndex(index)
                elif widget.value() != values[key]:
                    widget.setValue(values[key])
            finally:
                widget.blockSignals(False)

    def overrides(self) -> dict[str, Any]:
        """The four settings as TrainConfig overrides: what the document says (the panel shows it)."""
        if self.document is not None:
            values = _resolved(self.document.graph.training)
            return {k: values[k] for k in ("epochs", "batch_size", "lr", "device")}
        return {"epochs": self.epochs.value(), "batch_size": self.batch_size.value(),
                "lr": self.lr.value(), "device": self.device.device()}

    def _edit(self, key: str, value: Any) -> None:
        """A panel change -> one SetSetting (nothing when it already is what runs)."""
        if self.document is None:
            return
        from graph_core import SetSetting

        if value == _resolved(self.document.graph.training)[key]:
            return
        try:
            self.document.execute(SetSetting("training", key, value))
        except (RuntimeError, ValueError) as exc:  # locked: show why, and the value that stays
            self.show_status(f"Not changed: {exc}", error=True)
            self.refresh()

    def _widgets(self) -> dict[str, Any]:
        return {"device": self.device, "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr}

    # ---- what the controller shows -----------------------------------------------------------

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

    def clear(self) -> None:
        """Back to the state before any run: empty progress, no status line."""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Ready — click Train")
        self.show_status("")

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)


def _resolved(training: dict[str, Any]) -> dict[str, Any]:
    """The values that run for a training section (TrainConfig's defaults where keys are missing)."""
    from training import ConfigError, TrainConfig

    try:
        config = TrainConfig.resolve(training)
    except ConfigError:  # a bad value elsewhere in the section: these four still resolve alone
        config = TrainConfig.resolve({k: v for k, v in training.items() if k in TrainingPanel.KEYS
                                      and _valid(k, v)})
    return {k: getattr(config, k) for k in TrainingPanel.KEYS}


def _valid(key: str, value: Any) -> bool:
    from training import ConfigError, TrainConfig

    try:
        TrainConfig.resolve({key: value})
    except ConfigError:
        return False
    return True


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


def data_progress_text(event: dict[str, Any]) -> tuple[int, int, str]:
    """(done, total, bar text) of a large dataset's first pass (a `data` event): listing an image
    folder's files (total unknown yet), reading their headers, decoding them into memory."""
    done, total = int(event.get("done") or 0), int(event.get("total") or 0)
    stage = str(event.get("stage") or "reading the data")
    if not total:
        return 0, 0, f"Data: {stage}… {done:,} so far"
    return done, total, f"Data: {stage} {done:,}/{total:,}"


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
