"""A strip of sample thumbnails for the Data dock's image fields, made off the GUI thread.

Seeing a few samples tells a user more than a shape does (digits at 28 pixels look blurred, a
GAF image looks nothing like the series). Building them means building the data (scikit-learn's
import, resizing, a file read), so a job on the designer's worker pool loads the raw samples and
hands back small uint8 arrays; the GUI thread only wraps them in pixmaps. Results are cached per
data section and folder, and a request made while the user is still typing waits for a pause.
torch is never imported here.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

COUNT = 8
THUMB = 56
DEBOUNCE_MS = 400


class SampleStrip(QWidget):
    """Thumbnails of the first samples of one image field (objectName `dataSamples`).

    Signals:
        shown(): new thumbnails (or none) are on show.
    """

    shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataSamples")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addStretch(1)
        self.labels: list[QLabel] = []
        self._cache: dict[str, tuple[str, list[np.ndarray]]] = {}
        self._wanted: tuple[str, dict[str, Any], Path | None, str] | None = None
        self._signals = _Signals()  # not a child: a job may outlive the widget
        self._signals.done.connect(self._arrived, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self.setVisible(False)

    @property
    def requested(self) -> str | None:
        """The field whose samples are on show or being made, or None."""
        return self._wanted[3] if self._wanted is not None else None

    def request(self, section: dict[str, Any] | None, root: Path | None, field: str | None) -> None:
        """Show `field`'s first samples for this data section (None: show nothing)."""
        if section is None or field is None:
            self._wanted = None
            self._timer.stop()
            self._show("", [])
            return
        key = json.dumps([section, str(root), field], sort_keys=True, default=str)
        if self._wanted is not None and self._wanted[0] == key:
            return
        self._wanted = (key, dict(section), root, field)
        if key in self._cache:
            self._show(*self._cache[key])
        else:
            self._timer.start()

    def _start(self) -> None:
        if self._wanted is None:
            return
        from .code_view import worker_pool

        key, section, root, field = self._wanted
        worker_pool().start(_SamplesJob(key, section, root, field, self._signals))

    def _arrived(self, key: str, field: str, images: list[np.ndarray]) -> None:
        self._cache[key] = (field, images)
        if self._wanted is not None and self._wanted[0] == key:
            self._show(field, images)

    def _show(self, field: str, images: list[np.ndarray]) -> None:
        for label in self.labels:
            label.setParent(None)
            label.deleteLater()
        self.labels = []
        for k, array in enumerate(images):
            label = QLabel()
            label.setPixmap(_pixmap(array).scaled(QSize(THUMB, THUMB), Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.SmoothTransformation))
            label.setToolTip(f"{field}: sample {k}")
            self._layout.insertWidget(k, label)
            self.labels.append(label)
        self.setVisible(bool(images))
        self.shown.emit()


class _Signals(QObject):
    done = Signal(str, str, object)  # key, field, list of uint8 arrays


class _SamplesJob(QRunnable):
    def __init__(self, key: str, section: dict[str, Any], root: Path | None, field: str,
                 signals: _Signals) -> None:
        super().__init__()
        self.key, self.section, self.root, self.field, self.signals = key, section, root, field, signals

    def run(self) -> None:
        try:
            images = sample_images(self.section, self.root, self.field)
        except Exception:  # the Issues list reports what is wrong with the data; show no samples
            images = []
        with contextlib.suppress(RuntimeError):  # the window went away meanwhile
            self.signals.done.emit(self.key, self.field, images)


def sample_images(section: dict[str, Any], root: Path | None, field: str, count: int = COUNT) -> list[np.ndarray]:
    """`count` samples of an image field spread over the dataset (a folder lists its files class
    by class: the first ones would all be of one class), as (H, W) or (H, W, 3) uint8 arrays."""
    from training.datasets import load_raw

    from .data_schema import headers_only

    values = load_raw(headers_only(section), root).fields[field]  # only these samples decoded
    rows = np.unique(np.linspace(0, len(values) - 1, min(count, len(values))).round().astype(np.int64))
    array = np.asarray(values[rows]).astype(np.float32)
    out = []
    for sample in array:
        lo, hi = float(sample.min()), float(sample.max())
        scaled = (sample - lo) / (hi - lo) if hi > lo else np.zeros_like(sample)
        pixels = (scaled * 255).round().astype(np.uint8)
        # (C, H, W): one channel is grey, three are RGB, two (GASF + GADF) show the first.
        out.append(np.ascontiguousarray(pixels.transpose(1, 2, 0) if pixels.shape[0] == 3 else pixels[0]))
    return out


def _pixmap(array: np.ndarray) -> QPixmap:
    h, w = array.shape[:2]
    if array.ndim == 2:
        image = QImage(array.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        image = QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())  # copy: the array may go before the pixmap does
