"""The Results dock's Explain tab: a sample, a method and a class in, the engine's figure out;
"Explain from here" on a convolution card runs Grad-CAM at that layer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import templates


@pytest.fixture(scope="module")
def trained_lenet(tmp_path_factory):
    from training import train

    root = tmp_path_factory.mktemp("explain-runs")
    g = templates.build("lenet")
    g.data["limit"] = 64
    result = train(g, {"epochs": 1, "batch_size": 32, "augment": "none", "samples": False,
                       "out": str(root / "runs" / "lenet-1")})
    assert result.status == "completed"
    return root / "runs", Path(result.run_dir)


@pytest.fixture
def lenet_window(make_window, trained_lenet, monkeypatch):
    runs, run_dir = trained_lenet
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(runs))
    window = make_window(templates.build("lenet"))
    window.training.runs.refresh()
    window.training.runs.select([run_dir])
    return window


def test_the_explain_tab_shows_the_engine_figure_for_a_sample_method_and_class(qtbot, lenet_window):
    tc = lenet_window.training
    tab = tc.results.explain
    tc.results.setCurrentWidget(tab)
    assert tc.results.isTabVisible(tc.results.indexOf(tab))
    assert not tab.layer.isEnabled()  # the layer is Grad-CAM's alone
    tab.sample.setValue(4)
    tab.method.setCurrentIndex(tab.method.findData("saliency"))
    QTest.mouseClick(tab.explain_button, Qt.MouseButton.LeftButton)
    assert "Computing" in tab.info.text()
    qtbot.waitUntil(lambda: tab.answer is not None, timeout=120_000)
    answer = tab.answer
    assert answer["pid"] != os.getpid()  # computed in the engine process, not the window's
    assert tab.picture.has_image and tab.picture.image.width() > 600
    assert "Deletion area" in tab.info.text() and "sample 4" in tab.info.text()
    assert [tab.target.itemText(i) for i in range(1, tab.target.count())] == [str(k) for k in range(10)]
    assert [tab.layer.itemText(i) for i in range(1, tab.layer.count())] == ["conv1", "conv2"]
    # another class: the same sample, the score of "7"
    tab.answer = None
    tab.target.setCurrentText("7")
    tab.request()
    qtbot.waitUntil(lambda: tab.answer is not None, timeout=60_000)
    assert tab.answer["summary"]["target_name"] == "7" and tab.answer["summary"]["method"] == "saliency"


def test_explain_from_here_runs_gradcam_at_the_clicked_convolution(qtbot, lenet_window):
    window = lenet_window
    tab = window.training.results.explain
    card = window.scene.node_items["conv1"]
    pos = window.view.mapFromScene(card.sceneBoundingRect().center())
    menu = window.canvas_menu(pos)
    action = next(a for a in menu.actions() if a.objectName() == "explainFromHere")
    assert "Explain from here" in action.toolTip()
    action.trigger()
    assert window.training.results.currentWidget() is tab
    assert tab.method.currentData() == "gradcam" and tab.layer.currentText() == "conv1"
    qtbot.waitUntil(lambda: tab.answer is not None, timeout=120_000)
    assert tab.answer["summary"]["layer"] == "conv1", tab.info.text()
    # a Dense card offers no Grad-CAM
    fc = window.scene.node_items["fc3"]
    menu = window.canvas_menu(window.view.mapFromScene(fc.sceneBoundingRect().center()))
    assert not [a for a in menu.actions() if a.objectName() == "explainFromHere"]


def test_an_untrained_graph_says_to_train_first(make_window, monkeypatch, tmp_path):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "none"))
    window = make_window(templates.build("lenet"))
    tab = window.training.results.explain
    tab.pixel.setText("middle")
    tab.request()
    assert "row,column" in tab.info.text()  # a pixel that is no row,column is refused at once
    tab.pixel.setText("16, 16")
    tab.request()
    assert "Train the model first" in tab.info.text()
    assert not window.training.engine.alive  # nothing was started for it


def test_a_tie_with_the_random_order_is_not_called_faster():
    """Seen in the window on husky_wolf: 'Deletion area 0.987 against 0.987 at random: the probability
    falls faster than a random order' (0.98677 < 0.98697). A tie must not read as a trustworthy map."""
    from designer.training.explain_view import describe
    from explain.faithfulness import DeletionCurve

    def summary(area, random_area):
        curve = DeletionCurve([0.0, 1.0], [1.0, 1.0], [1.0, 1.0], area, random_area)
        return {"sample": 0, "target_name": "husky", "probability": 0.97, "predicted_name": "husky",
                "area": area, "random_area": random_area, "faithful": curve.faster_than_random}

    assert "does not fall faster" in describe(summary(0.98677, 0.98697))
    assert "does not fall faster" in describe(summary(0.6, 0.4))
    assert "falls faster than a random order." in describe(summary(0.2, 0.5))


def test_the_controls_read_whole_at_the_results_dock_width(qtbot):
    """Seen at 1280x800: 'predicted class' and 'last convolution' cut by their arrows, the Pixel
    field's 'centre' shown as 'c…'."""
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    from designer.training.explain_view import ExplainTab

    tab = ExplainTab()
    qtbot.addWidget(tab)
    tab.resize(480, 360)  # the Results dock's width in a 1280-pixel window
    tab.show()
    qtbot.waitExposed(tab)
    for combo in (tab.method, tab.target, tab.layer):
        option = QStyleOptionComboBox()
        combo.initStyleOption(option)
        room = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, combo).width()
        assert combo.fontMetrics().horizontalAdvance(combo.currentText()) <= room, combo.currentText()
    assert tab.pixel.width() >= tab.pixel.fontMetrics().horizontalAdvance(tab.pixel.placeholderText()) + 12
    assert tab.explain_button.isVisible() and tab.explain_button.width() >= tab.explain_button.sizeHint().width()
