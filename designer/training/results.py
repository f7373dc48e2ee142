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
from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
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
from .sequence_logo import SequenceLogoView
from .translations_view import TranslationsTab

CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf")
SAMPLE_CAPTIONS = {
    "reconstruction": "inputs (top row) and their reconstructions (bottom row)",
    "generated": "the generator's samples from the same fixed noise every epoch",
    "segmentation": "input, true mask and predicted mask (one row each)",
    "conditional": "what the generator reads, the true result and the generator's result, one row each, "
                   "for the same held-out samples every epoch",
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
        self.note, self.note_colour = "", "#b54708"
        self.setMinimumSize(160, 120)

    @property
    def has_image(self) -> bool:
        return self.image is not None

    def set_picture(self, array: np.ndarray | None, caption: str = "") -> None:
        self.image = None if array is None else to_qimage(array)
        self.caption = caption
        if array is None:
            self.note = ""
        self.update()

    def set_note(self, text: str, colour: str = "#b54708") -> None:
        """A line above the picture (the GAN verdict: collapse, D winning), wrapped to fit."""
        self.note, self.note_colour = text, colour
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(320, 320)

    def _text_height(self, p: QPainter, text: str) -> int:
        if not text:
            return 0
        flags = int(Qt.TextFlag.TextWordWrap)
        return p.fontMetrics().boundingRect(QRect(0, 0, max(40, self.width() - 8), 2000), flags, text).height() + 4

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if self.image is None:
            p.setPen(QColor("#667085"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        # the caption and the note wrap onto as many lines as the width needs: never cut off
        top, bottom = self._text_height(p, self.note), max(18, self._text_height(p, self.caption))
        area = self.rect().adjusted(4, 4 + top, -4, -4 - bottom)
        w, h = self.image.width(), self.image.height()
        scale = max(0.0, min(area.width() / w, area.height() / h))  # nearest-neighbour: sharp
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(QRectF(area).center())
        p.drawImage(target, self.image)
        wrap = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter
        if self.note:
            p.setPen(QColor(self.note_colour))
            p.drawText(self.rect().adjusted(4, 2, -4, 0), wrap | Qt.AlignmentFlag.AlignTop, self.note)
        p.setPen(QColor("#344054"))
        p.drawText(self.rect().adjusted(4, 0, -4, -4), wrap | Qt.AlignmentFlag.AlignBottom, self.caption)


class ConfusionView(QWidget):
    """A confusion matrix: rows are true classes, columns predicted; counts in the cells."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("confusionView")
        self.matrix: np.ndarray | None = None
        self.names: list[str] = []
        self.caption = ""
        self.drawn_labels: list[tuple[str, str]] = []  # (row, column) text of each class, as painted
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
        labels = [self.names[i] if i < len(self.names) else str(i) for i in range(n)]
        margin_b = 24
        font = QFont(self.font())
        font.setPointSizeF(9.0)
        fm = QFontMetrics(font)
        widest = max((fm.horizontalAdvance(label) for label in labels), default=0)
        # rows: room for the longest class name (up to 40 % of the width); columns: names laid
        # on their side when they are wider than a cell ("background" was cut to "backgr")
        margin_l = int(min(max(40, widest + 32), self.width() * 0.4))
        cell = max(min((self.width() - margin_l - 10) / max(n, 1), (self.height() - 40 - margin_b) / max(n, 1)), 4.0)
        rotated = widest > cell - 4
        # slanted at 45 degrees the names need 0.71 of their width in height: a 200-pixel dock
        # has room for "background" that way, not upright
        margin_t = int(22 + (min(widest * 0.71, self.height() * 0.45) + 8 if rotated else 18))
        size = min(self.width() - margin_l - 10, self.height() - margin_t - margin_b)
        cell = max(size / max(n, 1), 4.0)
        rows = m.sum(axis=1, keepdims=True).clip(min=1)
        share = m / rows
        p.setFont(font)
        p.setPen(QColor("#344054"))
        p.drawText(QRectF(margin_l, 2, n * cell, 18), Qt.AlignmentFlag.AlignCenter, "predicted →")
        p.save()
        p.translate(12, margin_t + n * cell / 2)
        p.rotate(-90)
        p.drawText(QRectF(-60, -10, 120, 20), Qt.AlignmentFlag.AlignCenter, "true →")
        p.restore()
        self.drawn_labels = []
        for i, label in enumerate(labels):
            p.setPen(QColor("#344054"))
            row_text = fm.elidedText(label, Qt.TextElideMode.ElideRight, margin_l - 26)
            col_room = (margin_t - 28) / 0.71 if rotated else cell
            col_text = fm.elidedText(label, Qt.TextElideMode.ElideRight, int(max(col_room, 8)))
            self.drawn_labels.append((row_text, col_text))
            if rotated:
                p.save()
                p.translate(margin_l + (i + 0.5) * cell, margin_t - 6)
                p.rotate(-45)
                p.drawText(QRectF(0, -fm.height() / 2, col_room + 4, fm.height()),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, col_text)
                p.restore()
            else:
                p.drawText(QRectF(margin_l + i * cell, margin_t - 20, cell, 18), Qt.AlignmentFlag.AlignCenter, col_text)
            p.drawText(QRectF(22, margin_t + i * cell, margin_l - 26, cell),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, row_text)
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
                   fm.elidedText(self.caption, Qt.TextElideMode.ElideRight, self.width() - 8))


class PredictionGrid(QWidget):
    """Samples with their true and predicted labels (green when right, red when wrong)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("predictionGrid")
        self.predictions: Predictions | None = None
        self.images: list[QImage] = []
        self.drawn_captions: list[list[str]] = []  # each sample's caption lines, as painted
        self.shown = 0  # samples that fit with readable captions (the rest: a tooltip says so)
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
        fm = QFontMetrics(p.font())
        names = pr.class_names
        texts = [(str(names[pr.truth[k]]), str(names[pr.predicted[k]])) for k in range(n)]
        # As many samples as fit with their class names whole: a column at least as wide as the
        # longest name (two caption lines: true, "-> predicted"), a row at least 28 px of picture.
        widest = max(fm.horizontalAdvance(line) for t, q in texts for line in (t, f"→ {q}"))
        fit_columns = max(1, int(self.width() // (widest + 8)))
        fit_rows = max(1, int(self.height() // (2 * fm.height() + 30)))
        n = min(n, fit_columns * fit_rows)
        self.shown = n
        self.setToolTip("" if n == len(self.images) else
                        f"{n} of {len(self.images)} samples shown: enlarge the dock to see more")
        columns = min(fit_columns, max(1, int(np.ceil(np.sqrt(n * self.width() / max(self.height(), 1))))))
        cw = self.width() / columns
        # one caption line "true -> predicted" when it fits the column, else two, each elided to
        # the column as a last resort: neighbours' captions never run together
        two_lines = any(fm.horizontalAdvance(f"{t} → {q}") > cw - 6 for t, q in texts[:n])
        text_h = fm.height() * (2 if two_lines else 1) + 2
        rows = -(-n // columns)
        ch = self.height() / rows
        side = max(4.0, min(cw - 6, ch - text_h - 2))
        self.drawn_captions = []
        for k, img in enumerate(self.images[:n]):
            r, c = divmod(k, columns)
            x, y = c * cw + (cw - side) / 2, r * ch + 2
            p.drawImage(QRectF(x, y, side, side), img)
            right = pr.truth[k] == pr.predicted[k]
            truth, predicted = texts[k]
            lines = [f"{truth}", f"→ {predicted}"] if two_lines else [f"{truth} → {predicted}"]
            lines = [fm.elidedText(line, Qt.TextElideMode.ElideRight, int(cw - 6)) for line in lines]
            self.drawn_captions.append(lines)
            p.setPen(QColor("#067647") if right else QColor("#b42318"))
            for j, line in enumerate(lines):
                p.drawText(QRectF(c * cw + 3, y + side + j * fm.height(), cw - 6, fm.height()),
                           Qt.AlignmentFlag.AlignCenter, line)


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
        self.logos = SequenceLogoView()  # instead of the kernels, for a Conv1d over one-hot DNA
        self.logos.hide()
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer"))
        row.addWidget(self.node, 1)
        row.addWidget(QLabel("Sample"))
        row.addWidget(self.sample)
        row.addWidget(self.show_button)
        pictures = QHBoxLayout()
        pictures.addWidget(self.activations, 3)
        pictures.addWidget(self.kernels, 2)
        pictures.addWidget(self.logos, 3)
        self.pictures = pictures
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
        logo = getattr(maps, "logo", None)
        self.logos.set_logos(logo, getattr(maps, "logo_order", None))
        self.logos.setVisible(logo is not None)
        self.kernels.setVisible(logo is None)
        self.pictures.setStretchFactor(self.activations, 2 if logo is not None else 3)  # logos need width

    def _request(self) -> None:
        if self.node.count():
            self.info.setText("Computing…")
            self.requested.emit(self.node.currentText(), self.sample.value())


COLLAPSED = 0.25  # diversity (sample spread / real spread) below which the samples have collapsed
D_WINS = (0.95, 0.05)  # D(x) above and D(G(z)) below these on held-out data: the discriminator wins


def gan_verdict(metrics: dict[str, Any]) -> tuple[str, str]:
    """How a GAN's epoch went, in words: (text, colour). Reads the validation D(x), D(G(z)) and
    `diversity` (how much the fixed-noise samples differ, against real samples)."""
    d_x, d_g_z, diversity = (metrics.get(k) for k in ("d_x", "d_g_z", "diversity"))
    known = isinstance(d_x, float) and isinstance(d_g_z, float)
    figures = f"D(x) {d_x:.2f}, D(G(z)) {d_g_z:.2f}" if known else ""
    if isinstance(diversity, float):
        figures += f"{', ' if figures else ''}sample spread {diversity:.2f} (real: 1)"
    problems = []
    if isinstance(diversity, float) and diversity < COLLAPSED:
        problems.append("⚠ Mode collapse: the samples have stopped differing (normal in the first epochs "
                        "only). Try batch norm in G, dropout in D, more epochs.")
    if known and d_x > D_WINS[0] and d_g_z < D_WINS[1]:
        problems.append("⚠ The discriminator wins outright: G gets almost no gradient. Weaken D "
                        "(dropout, fewer filters, lower lr).")
    if problems:
        return f"{figures}. " + " ".join(problems), "#b42318"
    if figures:
        return f"{figures}: neither side wins outright and the samples differ.", "#067647"
    return "", "#667085"


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
        self.translations = TranslationsTab()
        self._tabs = {"samples": (self.samples, "Samples"), "confusion": (self.confusion, "Confusion matrix"),
                      "predictions": (self.predictions, "Predictions"), "latent": (self.latent, "Latent space"),
                      "latent_grid": (self.latent_grid, "Latent grid"),
                      "feature_maps": (self.feature_maps, "Feature maps"), "explain": (self.explain, "Explain"),
                      "translations": (self.translations, "Translations")}
        for widget, title in self._tabs.values():
            self.addTab(widget, title)
        self.set_regime("supervised")

    def set_regime(self, regime: str) -> None:
        self.regime = regime
        shown = {"supervised": ("confusion", "predictions"), "autoencoder": ("samples", "latent", "latent_grid"),
                 "vae": ("samples", "latent", "latent_grid"), "gan": ("samples",),
                 "segmentation": ("samples",), "seq2seq": ("translations",)}.get(regime, ())
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
        self.translations.set_translations(None)

    def show_samples(self, event: dict[str, Any]) -> None:
        """An engine `samples` event: its picture, with what it shows."""
        image = event.get("image")
        if image is None and event.get("path"):
            from PIL import Image

            image = np.asarray(Image.open(event["path"]).convert("RGB"))
        what = SAMPLE_CAPTIONS.get(str(event.get("kind")), str(event.get("kind") or "samples"))
        self.samples.set_picture(image, f"Epoch {event.get('epoch')}: {what}")

    def show_epoch(self, event: dict[str, Any]) -> None:
        """An engine `epoch` event: for a GAN, say above its samples how the duel goes."""
        if self.regime == "gan":
            text, colour = gan_verdict(event.get("metrics") or {})
            self.samples.set_note(text, colour)

    def show_results(self, results: Results) -> None:
        if getattr(results, "translations", None) is not None:
            self.translations.set_translations(results.translations, results.epoch)
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
