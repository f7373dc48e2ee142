"""Live training curves: pyqtgraph plots fed from a `MetricStore`, redrawn by a timer.

The store fills as events arrive; a QTimer redraws at most `REDRAW_HZ` times a second (less
when the GUI thread gets busy, so training keeps the CPU) and only the curves whose series
changed, with peak downsampling and clip-to-view so a curve of 100,000 steps draws about as
fast as one of 100. Which plots show follows the regime: loss always;
accuracy for classifiers, mean absolute error for regressors; reconstruction and KL for autoencoders;
d_loss/g_loss and D(x)/D(G(z)) for GANs; IoU for segmentation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsWidget,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from .loss_terms import CurveText
from .series import MetricStore, Series

REDRAW_HZ = 10  # the fastest redraw rate (DESIGN.md: <= 20 Hz); 10 leaves more CPU to training
SLOWEST_REDRAW_MS = 1000
# While training, the plots slow their redraws down when the GUI thread's CPU share goes above
# this: on a small CPU every millisecond the GUI thread holds the GIL is one the training
# thread's Python code waits for.
GUI_CPU_SHARE = 0.03
LEGEND_ROOM = 38  # px under each plot for its legend (two rows of two curves)
LEGEND_INDENT = 50  # px: the legend starts past the y axis

BLUE, ORANGE, GREEN, RED, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"


@dataclass(frozen=True)
class CurveSpec:
    """One curve of a plot: the store key it draws and how."""

    key: str
    label: str
    color: str
    per_epoch: bool  # epoch points get markers and a line; step curves are plain lines


@dataclass(frozen=True)
class PlotSpec:
    name: str  # objectName of the PlotWidget
    title: str
    y_label: str
    curves: tuple[CurveSpec, ...]
    loglike: bool  # follows the log-scale toggle (losses do; accuracies and probabilities do not)
    unit_range: bool = False  # a share or probability: the y axis stays 0..1


PLOTS = (
    PlotSpec("lossPlot", "Loss", "loss", (
        CurveSpec("train/loss", "train (step)", BLUE, False),
        CurveSpec("epoch_train/loss", "train (epoch)", BLUE, True),
        CurveSpec("val/loss", "validation", ORANGE, True)), True),
    PlotSpec("accuracyPlot", "Accuracy", "accuracy", (
        CurveSpec("epoch_train/accuracy", "train", BLUE, True),
        CurveSpec("val/accuracy", "validation", ORANGE, True)), False, True),
    PlotSpec("errorPlot", "Mean absolute error", "MAE", (
        CurveSpec("epoch_train/mae", "train", BLUE, True),
        CurveSpec("val/mae", "validation", ORANGE, True)), True),
    PlotSpec("reconstructionPlot", "Reconstruction and KL", "loss", (
        CurveSpec("train/reconstruction", "reconstruction (step)", BLUE, False),
        CurveSpec("train/kl", "KL (step)", PURPLE, False),
        CurveSpec("val/reconstruction", "reconstruction (val)", ORANGE, True),
        CurveSpec("val/kl", "KL (val)", RED, True)), True),
    PlotSpec("ganLossPlot", "D and G loss", "loss", (
        CurveSpec("train/d_loss", "d_loss", BLUE, False),
        CurveSpec("train/g_loss", "g_loss", GREEN, False),
        CurveSpec("val/d_loss", "d_loss (val)", ORANGE, True),
        CurveSpec("val/g_loss", "g_loss (val)", RED, True)), True),
    PlotSpec("ganScorePlot", "D(x) and D(G(z))", "probability", (
        CurveSpec("train/d_x", "D(x)", BLUE, False),
        CurveSpec("train/d_g_z", "D(G(z))", GREEN, False),
        CurveSpec("val/d_x", "D(x) (val)", ORANGE, True),
        CurveSpec("val/d_g_z", "D(G(z)) (val)", RED, True)), False, True),
    PlotSpec("iouPlot", "Mean IoU and pixel accuracy", "score", (
        CurveSpec("epoch_train/miou", "IoU (train)", BLUE, True),
        CurveSpec("val/miou", "IoU (val)", ORANGE, True),
        CurveSpec("val/pixel_accuracy", "pixel accuracy (val)", GREEN, True)), False, True),
)

REGIME_PLOTS = {
    "supervised": ("lossPlot", "accuracyPlot"),
    "regression": ("lossPlot", "errorPlot"),
    "autoencoder": ("lossPlot", "reconstructionPlot"),
    "vae": ("lossPlot", "reconstructionPlot"),
    "gan": ("lossPlot", "ganLossPlot", "ganScorePlot"),
    "segmentation": ("lossPlot", "iouPlot"),
    "seq2seq": ("lossPlot", "accuracyPlot"),  # token accuracy; exact match and BLEU in the table
}


class LivePlots(QWidget):
    """The plots and their controls (x axis, log scale, smoothing)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("livePlots")
        self.store = MetricStore()
        self.axis = "step"
        self.plots: dict[str, pg.PlotWidget] = {}
        self._curves: dict[str, list[tuple[CurveSpec, pg.PlotDataItem, pg.PlotDataItem | None]]] = {}
        self._drawn: dict[int, tuple[int, str, float]] = {}
        self._legends: dict[str, pg.LegendItem] = {}
        self._labelled: set[int] = set()  # curves named in their legend (only once they have data)
        self._turn = 0
        self.text = CurveText()  # what this run's curves add up (loss_terms): labels, titles
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / REDRAW_HZ))
        self.timer.timeout.connect(self._tick)
        self._clock = (time.perf_counter(), time.thread_time())
        self.set_regime("supervised")

    # ---- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        self.axis_combo = QComboBox()
        self.axis_combo.setObjectName("plotAxisCombo")
        self.axis_combo.addItem("by step", "step")
        self.axis_combo.addItem("by epoch", "epoch")
        self.axis_combo.currentIndexChanged.connect(lambda _i: self.set_axis(self.axis_combo.currentData()))
        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName("logScaleCheck")
        self.log_check.setToolTip("Logarithmic y axis for the loss plots")
        self.log_check.toggled.connect(self.set_log)
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setObjectName("smoothingSlider")
        self.smoothing.setRange(0, 99)
        self.smoothing.setFixedWidth(140)
        self.smoothing.setToolTip("Exponential moving average of the per-step curves (0 = raw)")
        self.smoothing_label = QLabel("Smoothing 0.00")
        self.smoothing.valueChanged.connect(self._smoothing_changed)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("x axis"))
        bar.addWidget(self.axis_combo)
        bar.addWidget(self.log_check)
        bar.addSpacing(8)
        bar.addWidget(self.smoothing_label)
        bar.addWidget(self.smoothing)
        bar.addStretch(1)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        for spec in PLOTS:
            self.plots[spec.name] = self._make_plot(spec)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(self.grid, 1)

    def _make_plot(self, spec: PlotSpec) -> pg.PlotWidget:
        widget = pg.PlotWidget(background="w")
        widget.setObjectName(spec.name)
        widget.setMinimumHeight(140)
        item = widget.getPlotItem()
        item.setTitle(spec.title, size="9pt")
        item.setLabel("left", spec.y_label)
        item.setLabel("bottom", self.axis)
        for side in ("left", "bottom"):
            item.getAxis(side).enableAutoSIPrefix(False)  # 0.8 stays 0.8, never "800 (x0.001)"
        if spec.unit_range:
            item.setYRange(0, 1, padding=0.02)
            item.enableAutoRange(y=False)
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        # The legend sits in its own row under the axis, never over the curves (inside the plot
        # it hid D(x) and D(G(z)), which run along the top and bottom edges of a GAN's plots).
        room = QGraphicsWidget()
        room.setMinimumHeight(LEGEND_ROOM)
        room.setMaximumHeight(LEGEND_ROOM)
        item.layout.addItem(room, 5, 1)
        legend = pg.LegendItem(labelTextSize="8pt", colCount=2, verSpacing=-6)
        legend.setParentItem(item)  # the plot item, not its view box (addLegend's choice)
        legend.anchor(itemPos=(0, 1), parentPos=(0, 1), offset=(LEGEND_INDENT, 0))
        self._legends[spec.name] = legend
        curves = []
        for c in spec.curves:
            raw = None
            if c.per_epoch:
                main = item.plot([], [], pen=pg.mkPen(c.color, width=2), symbol="o",
                                 symbolSize=6, symbolBrush=c.color, symbolPen=None)
            else:
                raw = item.plot([], [], pen=pg.mkPen(c.color + "40", width=1))
                main = item.plot([], [], pen=pg.mkPen(c.color, width=1.5))
            for curve in (main, raw):
                if curve is not None:
                    curve.setDownsampling(auto=True, method="peak")
                    curve.setClipToView(True)
            curves.append((c, main, raw))
        self._curves[spec.name] = curves
        widget.hide()
        return widget

    # ---- public ------------------------------------------------------------------------------

    def reset(self, store: MetricStore | None = None) -> None:
        """Start over with a fresh (or given) store, e.g. when a new run starts."""
        self.store = store or MetricStore()
        self.store.set_smoothing(self.smoothing.value() / 100)
        self._drawn.clear()
        self._labelled.clear()
        for legend in self._legends.values():
            legend.clear()
        self.redraw(force=True)
        # the axes follow the new curves, not the previous run's (or the previous graph's) range;
        # with no curve yet auto-range keeps the old one (a new graph showed steps 0-500)
        empty = not any(len(series) for series in self.store.series.values())
        for spec in PLOTS:
            item = self.plots[spec.name].getPlotItem()
            if empty:
                item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            if spec.unit_range:
                item.setYRange(0, 1, padding=0.02)
                item.enableAutoRange(x=True, y=False)
            else:
                item.enableAutoRange()

    def set_regime(self, regime: str, text: CurveText | None = None) -> None:
        """Show the plots this regime reports, side by side, with `text`'s labels and titles (the
        defaults when None) and the plots it adds."""
        self.text = text or CurveText()
        names = REGIME_PLOTS.get(regime, ("lossPlot",))
        names += tuple(n for n in self.text.extra_plots if n not in names)
        for spec in PLOTS:
            self.plots[spec.name].getPlotItem().setTitle(self.text.titles.get(spec.name, spec.title), size="9pt")
        self._labelled.clear()  # the legends name the curves again, with this text's labels
        for legend in self._legends.values():
            legend.clear()
        for w in self.plots.values():
            self.grid.removeWidget(w)
            w.hide()
        for k, name in enumerate(names):  # one row: the dock is wide and short
            self.grid.addWidget(self.plots[name], 0, k)
            self.plots[name].show()
        for k in range(self.grid.columnCount()):
            self.grid.setColumnStretch(k, 1 if k < len(names) else 0)
        self.regime = regime

    def set_axis(self, axis: str) -> None:
        self.axis = axis
        for widget in self.plots.values():
            widget.getPlotItem().setLabel("bottom", axis)
        self.redraw(force=True)
        for widget in self.plots.values():
            widget.getPlotItem().enableAutoRange()

    def set_log(self, on: bool) -> None:
        for spec in PLOTS:
            if spec.loglike:
                self.plots[spec.name].getPlotItem().setLogMode(y=on)

    def start(self) -> None:
        self.timer.setInterval(self._fastest_ms())
        self._clock = (time.perf_counter(), time.thread_time())
        self.timer.start()

    def _tick(self) -> None:
        """Redraw one plot, pacing the timer by the GUI thread's CPU use since the last tick.

        One plot per tick, in turn: a pyqtgraph plot repaints in 10-20 ms on a small CPU, so
        updating three at once would hold the GUI thread for a visible 50 ms.
        """
        wall, cpu = time.perf_counter(), time.thread_time()
        share = (cpu - self._clock[1]) / max(wall - self._clock[0], 1e-6)
        self._clock = (wall, cpu)
        interval = self.timer.interval()
        if share > GUI_CPU_SHARE:
            interval = min(SLOWEST_REDRAW_MS, int(interval * 1.5))
        elif share < GUI_CPU_SHARE / 2:
            interval = max(self._fastest_ms(), int(interval / 1.25))
        self.timer.setInterval(interval)
        shown = [n for n in self._curves if self.plots[n].isVisible()]
        if shown:
            self._turn = (self._turn + 1) % len(shown)
            self.redraw(only=shown[self._turn])

    def _fastest_ms(self) -> int:
        """The tick interval that redraws each shown plot REDRAW_HZ times a second."""
        shown = sum(1 for w in self.plots.values() if w.isVisible()) or 1
        return max(10, int(1000 / REDRAW_HZ / shown))

    def stop(self) -> None:
        self.timer.stop()
        self.redraw(force=True)

    def point_count(self, name: str) -> int:
        """How many points the curves of plot `name` hold (what a test can check)."""
        total = 0
        for _, main, _ in self._curves[name]:
            x, _ = main.getData()
            total += 0 if x is None else len(x)
        return total

    def redraw(self, force: bool = False, only: str | None = None) -> None:
        """Push changed series into their curves (all plots, or the one named `only`)."""
        alpha = self.store.smoothing
        for name, curves in self._curves.items():
            if (only is not None and name != only) or (not self.plots[name].isVisible() and not force):
                continue
            for spec, main, raw in curves:
                series = self.store.get(spec.key)
                stamp = (series.version if series is not None else -1, self.axis, alpha)
                if not force and self._drawn.get(id(main)) == stamp:
                    continue
                self._drawn[id(main)] = stamp
                self._draw(series, spec, main, raw, alpha)
                if series is not None and len(series) and id(main) not in self._labelled:
                    self._labelled.add(id(main))
                    self._legends[name].addItem(main, self.text.labels.get(spec.key, spec.label))

    def _draw(self, series: Series | None, spec: CurveSpec, main: pg.PlotDataItem,
              raw: pg.PlotDataItem | None, alpha: float) -> None:
        if series is None or len(series) == 0:
            main.setData([], [])
            if raw is not None:
                raw.setData([], [])
            return
        x = series.x(self.axis)
        if raw is None:
            main.setData(x, series.y)
            return
        main.setData(x, series.smoothed if alpha > 0 else series.y)
        if alpha > 0:  # the raw steps stay visible, faint, behind the smoothed curve
            raw.setData(x, series.y)
        else:
            raw.setData([], [])

    def _smoothing_changed(self, value: int) -> None:
        alpha = value / 100
        self.smoothing_label.setText(f"Smoothing {alpha:.2f}")
        self.store.set_smoothing(alpha)
        self.redraw(force=True)
