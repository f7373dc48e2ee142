"""The Results dock's Explain tab: why did the trained model decide as it did, for one sample?

Pick a validation sample (or a file), a method and a class; the engine process computes the
attribution and its deletion curve with `explain` and sends back the figure as PNG bytes, which
this tab only decodes and paints (the window's process never imports torch or Captum). The
canvas's right-click menu offers "Explain from here (Grad-CAM)" on a convolution card: Grad-CAM
at that layer on the chosen sample.

`ExplainTab` is the widget; `Explainer` connects it to the training controller's engine and
runs (the controller forwards `explained` events to `Explainer.receive`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

METHODS = (("integrated_gradients", "Integrated Gradients"), ("saliency", "Saliency"),
           ("gradcam", "Grad-CAM"), ("occlusion", "Occlusion"), ("lime", "LIME"))
PREDICTED = "predicted class"
LAST_CONV = "last convolution"


class ExplainTab(QWidget):
    """Sample (or file), method, class and layer; the explanation's figure below.

    Signal: requested(dict) — the request's fields (sample or input, method, target, layer).
    """

    requested = Signal(dict)

    def __init__(self) -> None:
        super().__init__()
        from .results import PictureView  # the same sharp, scaled picture as the other tabs

        self.setObjectName("explainTab")
        self.input_path: str | None = None
        self.answer: dict[str, Any] | None = None  # the last `explained` event
        self.sample = QSpinBox()
        self.sample.setObjectName("explainSampleSpin")
        self.sample.setRange(0, 99_999)
        self.sample.setToolTip("Which validation sample to explain")
        self.file_button = QPushButton("File…")
        self.file_button.setObjectName("explainFileButton")
        self.file_button.setToolTip("Explain a sample read from a file (image, .npy, DNA text, CSV row)")
        self.method = QComboBox()
        self.method.setObjectName("explainMethodCombo")
        for key, title in METHODS:
            self.method.addItem(title, key)
        self.target = QComboBox()
        self.target.setObjectName("explainClassCombo")
        self.target.addItem(PREDICTED)
        self.target.setToolTip("The class whose score is explained")
        self.layer = QComboBox()
        self.layer.setObjectName("explainLayerCombo")
        self.layer.addItem(LAST_CONV)
        self.layer.setToolTip("The convolution Grad-CAM reads")
        self.pixel = QLineEdit()
        self.pixel.setObjectName("explainPixelEdit")
        self.pixel.setPlaceholderText("centre")
        self.pixel.setMaximumWidth(70)
        self.pixel.setMinimumWidth(self.pixel.fontMetrics().horizontalAdvance("centre") + 16)
        self.pixel.setToolTip("A segmentation head's pixel as row,column (empty: the centre)")
        self.explain_button = QPushButton("Explain")
        self.explain_button.setObjectName("explainButton")
        self.info = QLabel("Pick a sample, a method and a class, then click Explain: it explains the "
                           "latest training run, or the run picked in the Runs dock.")
        self.info.setObjectName("explainInfo")
        self.info.setWordWrap(True)
        self.picture = PictureView("explainView", "The attribution and its deletion curve appear here.")
        # Two short rows: the Results dock must still fit a 1024-pixel-wide window.
        for combo in (self.method, self.target, self.layer):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        layout = QVBoxLayout(self)
        # Explain beside the line under the controls, so the rows have room for "Integrated Gradients",
        # "predicted class" and "last convolution" in a 450-pixel dock
        for entries in ((("Sample", self.sample), (None, self.file_button), ("Method", self.method)),
                        (("Class", self.target), ("Layer", self.layer), ("Pixel", self.pixel))):
            row = QHBoxLayout()
            for label, widget in entries:
                if label:
                    row.addWidget(QLabel(label))
                row.addWidget(widget, 1 if isinstance(widget, QComboBox) else 0)
            layout.addLayout(row)
        info_row = QHBoxLayout()
        info_row.addWidget(self.info, 1)
        info_row.addWidget(self.explain_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(info_row)
        layout.addWidget(self.picture, 1)
        self.explain_button.clicked.connect(self.request)
        self.file_button.clicked.connect(self._pick_file)
        self.sample.valueChanged.connect(self._use_sample)
        self.method.currentIndexChanged.connect(self._method_changed)
        self._method_changed()

    def request(self) -> None:
        """Ask for the explanation the controls describe."""
        target = self.target.currentText()
        layer = self.layer.currentText()
        params = {"method": self.method.currentData(), "target": None if target == PREDICTED else target,
                  "layer": None if layer == LAST_CONV else layer, "pixel": None}
        text = self.pixel.text().replace(" ", "")
        if text:
            try:
                row, col = (int(v) for v in text.split(","))
            except ValueError:
                self.info.setText(f"Pixel {text!r}: write row,column such as 16,16 (or leave it empty).")
                return
            params["pixel"] = (row, col)
        if self.input_path:
            params["input"] = self.input_path
        else:
            params["sample"] = self.sample.value()
        self.info.setText("Computing in the engine process…")
        self.requested.emit(params)

    def explain_layer(self, node: str) -> None:
        """Grad-CAM at `node` on the chosen sample ("Explain from here")."""
        self.method.setCurrentIndex(self.method.findData("gradcam"))
        if self.layer.findText(node) < 0:
            self.layer.addItem(node)
        self.layer.setCurrentText(node)
        self.request()

    def show_answer(self, answer: dict[str, Any]) -> None:
        """An `explained` event: the figure and its figures, or why there is none."""
        self._fill(self.target, PREDICTED, [str(c) for c in answer.get("classes") or []])
        self._fill(self.layer, LAST_CONV, answer.get("layers") or [])
        self.answer = answer
        png, summary = answer.get("png"), answer.get("summary")
        if not png or summary is None:
            self.info.setText(answer.get("message") or "Could not explain.")
            return
        self.picture.image = QImage.fromData(png, "PNG")
        self.picture.caption = ""
        self.picture.update()
        self.info.setText(describe(summary))

    def _fill(self, combo: QComboBox, first: str, items: list[str]) -> None:
        current = combo.currentText()
        if [combo.itemText(i) for i in range(1, combo.count())] == items:
            return
        combo.blockSignals(True)
        combo.clear()
        combo.addItems([first, *items])
        combo.setCurrentText(current if current in items else first)
        combo.blockSignals(False)

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Explain a sample from a file", "",
                                              "Samples (*.png *.jpg *.jpeg *.bmp *.npy *.txt *.fa *.fasta *.csv)")
        if path:
            self.input_path = path
            self.file_button.setText(Path(path).name)
            self.request()

    def _use_sample(self) -> None:
        self.input_path = None
        self.file_button.setText("File…")

    def _method_changed(self) -> None:
        self.layer.setEnabled(self.method.currentData() == "gradcam")


def describe(summary: dict[str, Any]) -> str:
    """One line under the figure: the decision, and how far the deletion curve trusts the map."""
    where = f"sample {summary['sample']}" if summary.get("sample") is not None else "the file"
    faster = summary.get("faithful", summary["area"] < summary["random_area"])  # the engine's verdict, ties included
    verdict = "falls faster than a random order" if faster else \
        "does not fall faster than a random order: do not trust this map"
    text = (f"Why '{summary['target_name']}' (p = {summary['probability']:.2f}) for {where}; predicted "
            f"'{summary['predicted_name']}'. Deletion area {summary['area']:.3f} against "
            f"{summary['random_area']:.3f} at random: the probability {verdict}.")
    if summary.get("motif_attribution_share") is not None:
        text += (f" {summary['motif_attribution_share']:.0%} of the attribution lies on the planted motif "
                 f"({summary['motif_length_share']:.0%} of the sequence).")
    return text


class Explainer(QObject):
    """Sends the tab's requests to the engine and hands the answers back (GUI thread)."""

    def __init__(self, controller: Any, tab: ExplainTab) -> None:
        super().__init__(controller)
        self.controller, self.tab = controller, tab
        self.pending = 0  # the request whose answer the tab waits for
        tab.requested.connect(self.request)

    def request(self, params: dict[str, Any]) -> None:
        c = self.controller
        chosen = c.runs.selected()
        run_dir = chosen[0].path if len(chosen) == 1 else c.run_dir
        if run_dir is None:
            self.tab.info.setText("Train the model first (or pick a run).")
            return
        root = c.window.files.path.parent if c.window.files.path else None
        self.pending = c.engine.explain({**params, "run_dir": str(run_dir), "root": str(root) if root else None})
        c.drain_timer.start()

    def receive(self, event: dict[str, Any]) -> None:
        if event.get("request") == self.pending:
            self.pending = 0
            self.tab.show_answer(event)

    def engine_died(self, why: str) -> None:
        if self.pending:
            self.pending = 0
            self.tab.info.setText(f"Could not explain: {why}")

    def explain_from_here(self, node: str) -> None:
        """Raise the Explain tab and run Grad-CAM at convolution `node`."""
        panel = self.controller.results
        panel.setCurrentWidget(self.tab)
        dock = getattr(self.controller, "results_dock", None)
        if dock is not None:
            dock.raise_()
        self.tab.explain_layer(node)

    def extend_canvas_menu(self, menu: QMenu, node_ids: list[str], graph: Any, path: list[str]) -> None:
        """Add "Explain from here (Grad-CAM)" when one convolution card is selected."""
        if len(node_ids) != 1 or not graph.node(node_ids[0]).type.startswith("Conv"):
            return
        node = "/".join([*path, node_ids[0]])
        menu.addSeparator()
        action = menu.addAction("E&xplain from here (Grad-CAM)")
        action.setObjectName("explainFromHere")
        action.triggered.connect(lambda _checked=False: self.explain_from_here(node))
