"""The results panel: what the model does, shown as pictures while and after it trains.

Tabs by regime: the engine's sample grid (reconstructions beside inputs, GAN samples from fixed
noise, image / mask / prediction for segmentation), a confusion matrix and a grid of labelled
predictions for classifiers, the latent space and a grid decoded across it for autoencoders,
and feature maps of a chosen convolution on a chosen sample. The pictures arrive computed
(see analysis.py); these widgets only paint them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .analysis import FeatureMaps, Predictions, Results
from .explain_view import ExplainTab

CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf")
SAMPLE_CAPTIONS = {
    "reconstruction": "inputs (top row) and their reconstructions (bottom row)",
    "generated": "the generator's samples from the same fixed noise every epoch",
    "segmentation": "input, true mask and predicted mask (one row each)",
}


def to_qimage(array: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 array as a QImage that owns its pixels."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PictureView(QWidget):
    """An image scaled to fit with sharp pixels (8x8 digits stay crisp), and a caption."""

    def __init__(self, name: str, placeholder: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.placeholder = placeholder
        self.image: QImage | None = None
        self.caption = ""
        self.setMinimumSize(160, 120)

    @property
    def has_image(self) -> bool:
        return self.image is not None

    def set_picture(self, array: np.ndarray | None, caption: str = "") -> None:
        self.image = None if array is None else to_qimage(array)
        self.caption = caption
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(320, 320)

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        area = self.rect().adjusted(4, 4, -4, -22)
        if self.image is None:
            p.setPen(QColor("#667085"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        w, h = self.image.width(), self.image.height()
        scale = min(area.width() / w, area.height() / h)  # nearest-neighbour: pixels stay sharp
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(QRectF(area).center())
        p.drawImage(target, self.image)
        p.setPen(QColor("#344054"))
        caption = p.fontMetrics().elidedText(self.caption, Qt.TextElideMode.ElideRight, self.width() - 8)
        p.drawText(self.rect().adjusted(4, 0, -4, -4), Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
                   caption)


class ConfusionView(QWidget):
    """A confusion matrix: rows are true classes, columns predicted; counts in the cells."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("confusionView")
        self.matrix: np.ndarray | None = None
        self.names: list[str] = []
        self.caption = ""
        self.setMinimumSize(160, 140)  # a short screen keeps room for the canvas

    def set_matrix(self, matrix: np.ndarray | None, names: list[str] | None, caption: str = "") -> None:
        self.matrix, self.names, self.caption = matrix, list(names or []), caption
        self.update()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if self.matrix is None:
            p.setPen(QColor("#667085"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "The confusion matrix appears after the first epoch.")
            return
        m = self.matrix
        n = len(m)
        margin_l, margin_t, margin_b = 70, 40, 24
        size = min(self.width() - margin_l - 10, self.height() - margin_t - margin_b)
        cell = max(size / max(n, 1), 4.0)
        rows = m.sum(axis=1, keepdims=True).clip(min=1)
        share = m / rows
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(10.0, cell / 3.2)))
        p.setFont(font)
        p.setPen(QColor("#344054"))
        p.drawText(QRectF(margin_l, 2, n * cell, 18), Qt.AlignmentFlag.AlignCenter, "predicted →")
        p.save()
        p.translate(12, margin_t + n * cell / 2)
        p.rotate(-90)
        p.drawText(QRectF(-60, -10, 120, 20), Qt.AlignmentFlag.AlignCenter, "true →")
        p.restore()
        for i in range(n):
            label = self.names[i] if i < len(self.names) else str(i)
            p.setPen(QColor("#344054"))
            p.drawText(QRectF(margin_l + i * cell, 20, cell, 18), Qt.AlignmentFlag.AlignCenter, label[:6])
            p.drawText(QRectF(22, margin_t + i * cell, margin_l - 26, cell),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label[:8])
            for j in range(n):
                v = float(share[i, j])
                color = QColor.fromRgbF(1 - 0.8 * v, 1 - 0.55 * v, 1 - 0.25 * v)
                r = QRectF(margin_l + j * cell, margin_t + i * cell, cell, cell)
                p.fillRect(r, color)
                p.setPen(QPen(QColor("#d0d5dd")))
                p.drawRect(r)
                if m[i, j] and cell >= 14:
                    p.setPen(QColor("#ffffff") if v > 0.55 else QColor("#101828"))
                    p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(int(m[i, j])))
        p.setPen(QColor("#344054"))
        p.drawText(QRectF(0, self.height() - margin_b, self.width(), margin_b), Qt.AlignmentFlag.AlignCenter,
                   self.caption)


class PredictionGrid(QWidget):
    """Samples with their true and predicted labels (green when right, red when wrong)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("predictionGrid")
        self.predictions: Predictions | None = None
        self.images: list[QImage] = []
        self.setMinimumSize(200, 160)

    def set_predictions(self, predictions: Predictions | None) -> None:
        self.predictions = predictions
        self.images = [] if predictions is None else [to_qimage(a) for a in predictions.images]
        self.update()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        pr = self.predictions
        if pr is None or not self.images:
            p.setPen(QColor("#667085"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Labelled predictions appear after the first epoch.")
            return
        n = len(self.images)
        columns = max(1, int(np.ceil(np.sqrt(n * self.width() / max(self.height(), 1)))))
        rows = -(-n // columns)
        cw, ch = self.width() / columns, self.height() / rows
        side = max(4.0, min(cw - 6, ch - 18))
        for k, img in enumerate(self.images):
            r, c = divmod(k, columns)
            x, y = c * cw + (cw - side) / 2, r * ch + 2
            p.drawImage(QRectF(x, y, side, side), img)
            right = pr.truth[k] == pr.predicted[k]
            names = pr.class_names
            text = f"{names[pr.truth[k]]} → {names[pr.predicted[k]]}"
            p.setPen(QColor("#067647") if right else QColor("#b42318"))
            p.drawText(QRectF(c * cw, y + side, cw, 16), Qt.AlignmentFlag.AlignCenter, text)


class LatentView(pg.PlotWidget):
    """Latent codes of validation samples as a scatter, coloured by class.

    One scatter item holds every point (a brush per point, brushes shared per class) and the
    legend is built once per set of classes: re-creating legend entries every epoch costs the
    GUI thread a tenth of a second.
    """

    def __init__(self) -> None:
        super().__init__(background="w")
        self.setObjectName("latentPlot")
        self.item = self.getPlotItem()
        self.item.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.item.addLegend(offset=(-6, 6), labelTextSize="8pt")
        self.scatter = pg.ScatterPlotItem(size=6, pen=None)
        self.item.addItem(self.scatter)
        self.brushes = [pg.mkBrush(c) for c in CLASS_COLORS]
        self._legend_for: tuple[str, ...] | None = None
        self._legend_items: list[pg.ScatterPlotItem] = []
        self.item.setTitle("Latent space (after the first epoch)", size="9pt")

    def set_latent(self, latent: Any) -> None:
        if latent is None:
            self.scatter.clear()
            return
        pts, labels = latent.points, latent.labels
        if labels is None:
            brushes: Any = self.brushes[0]
        else:
            brushes = [self.brushes[int(k) % len(self.brushes)] for k in labels]
        self.scatter.setData(pts[:, 0], pts[:, 1], brush=brushes)
        self._set_legend(tuple(latent.class_names or []) if labels is not None else ())
        self.item.setTitle(f"Latent space: {latent.method}", size="9pt")

    def _set_legend(self, names: tuple[str, ...]) -> None:
        if names == self._legend_for:
            return
        self._legend_for = names
        self.legend.clear()
        self._legend_items = []
        for k, name in enumerate(names):
            swatch = pg.ScatterPlotItem(size=8, pen=None, brush=self.brushes[k % len(self.brushes)])
            self._legend_items.append(swatch)
            self.legend.addItem(swatch, name)

    @property
    def point_count(self) -> int:
        return len(self.scatter.data)


class FeatureMapsTab(QWidget):
    """Pick a convolution and a sample; see its activations and its kernels.

    Signal: requested(node_id, sample) — the controller computes off the GUI thread and calls
    `show_maps`.
    """

    requested = Signal(str, int)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("featureMapsTab")
        self.node = QComboBox()
        self.node.setObjectName("featureNodeCombo")
        self.node.setToolTip("A convolution layer of the trained model")
        self.sample = QSpinBox()
        self.sample.setObjectName("featureSampleSpin")
        self.sample.setRange(0, 511)
        self.sample.setToolTip("Which validation sample to feed through the model")
        self.show_button = QPushButton("Show")
        self.show_button.setObjectName("featureShowButton")
        self.info = QLabel("Train the model (or pick a run) to look inside its convolutions.")
        self.info.setWordWrap(True)
        self.activations = PictureView("activationsView", "Activations of the chosen layer")
        self.kernels = PictureView("kernelsView", "Learned kernels of the chosen layer")
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer"))
        row.addWidget(self.node, 1)
        row.addWidget(QLabel("Sample"))
        row.addWidget(self.sample)
        row.addWidget(self.show_button)
        pictures = QHBoxLayout()
        pictures.addWidget(self.activations, 3)
        pictures.addWidget(self.kernels, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.info)
        layout.addLayout(pictures, 1)
        self.show_button.clicked.connect(self._request)
        self.node.activated.connect(lambda _i: self._request())
        self.sample.valueChanged.connect(lambda _v: self._request())
        self.set_nodes([])

    def set_nodes(self, nodes: list[str]) -> None:
        current = self.node.currentText()
        self.node.blockSignals(True)
        self.node.clear()
        self.node.addItems(nodes)
        if current in nodes:
            self.node.setCurrentText(current)
        self.node.blockSignals(False)
        for w in (self.node, self.sample, self.show_button):
            w.setEnabled(bool(nodes))

    def show_maps(self, maps: FeatureMaps | None, message: str = "") -> None:
        if maps is None:
            self.info.setText(message)
            return
        self.info.setText(maps.description)
        self.activations.set_picture(maps.activations, "activations per channel")
        self.kernels.set_picture(maps.kernels, "kernels per output channel")

    def _request(self) -> None:
        if self.node.count():
            self.info.setText("Computing…")
            self.requested.emit(self.node.currentText(), self.sample.value())


class ResultsPanel(QTabWidget):
    """All result tabs; `set_regime` shows the ones that apply."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsPanel")
        self.samples = PictureView("samplesView", "Sample pictures appear after the first epoch.")
        self.confusion = ConfusionView()
        self.predictions = PredictionGrid()
        self.latent = LatentView()
        self.latent_grid = PictureView("latentGridView", "A grid decoded across the latent plane "
                                                         "appears after the first epoch.")
        self.feature_maps = FeatureMapsTab()
        self.explain = ExplainTab()
        self._tabs = {"samples": (self.samples, "Samples"), "confusion": (self.confusion, "Confusion matrix"),
                      "predictions": (self.predictions, "Predictions"), "latent": (self.latent, "Latent space"),
                      "latent_grid": (self.latent_grid, "Latent grid"),
                      "feature_maps": (self.feature_maps, "Feature maps"), "explain": (self.explain, "Explain")}
        for widget, title in self._tabs.values():
            self.addTab(widget, title)
        self.set_regime("supervised")

    def set_regime(self, regime: str) -> None:
        shown = {"supervised": ("confusion", "predictions"), "autoencoder": ("samples", "latent", "latent_grid"),
                 "vae": ("samples", "latent", "latent_grid"), "gan": ("samples",),
                 "segmentation": ("samples",)}.get(regime, ())
        for key, (widget, _) in self._tabs.items():
            self.setTabVisible(self.indexOf(widget), key in shown or key in ("feature_maps", "explain"))
        first = shown[0] if shown else "feature_maps"
        self.setCurrentWidget(self._tabs[first][0])

    def clear(self) -> None:
        self.samples.set_picture(None)
        self.confusion.set_matrix(None, None)
        self.predictions.set_predictions(None)
        self.latent.set_latent(None)
        self.latent_grid.set_picture(None)

    def show_samples(self, event: dict[str, Any]) -> None:
        """An engine `samples` event: its picture, with what it shows."""
        image = event.get("image")
        if image is None and event.get("path"):
            from PIL import Image

            image = np.asarray(Image.open(event["path"]).convert("RGB"))
        what = SAMPLE_CAPTIONS.get(str(event.get("kind")), str(event.get("kind") or "samples"))
        self.samples.set_picture(image, f"Epoch {event.get('epoch')}: {what}")

    def show_results(self, results: Results) -> None:
        if results.confusion is not None:
            acc = f" — accuracy {results.accuracy:.1%}" if results.accuracy is not None else ""
            self.confusion.set_matrix(results.confusion, results.class_names,
                                      f"Epoch {results.epoch}, validation samples{acc}")
        if results.predictions is not None:
            self.predictions.set_predictions(results.predictions)
        if results.latent is not None:
            self.latent.set_latent(results.latent)
        if results.latent_grid is not None:
            ext = results.latent.extent if results.latent is not None else None
            where = f" over x {ext[0]:.2g}…{ext[1]:.2g}, y {ext[2]:.2g}…{ext[3]:.2g}" if ext else ""
            self.latent_grid.set_picture(results.latent_grid, f"Epoch {results.epoch}: decoded{where}")
