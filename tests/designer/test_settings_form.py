"""The inspector with nothing selected: what it shows is what the engine runs, and what it
edits is what the file saves (Data and Training sections built from the settings tables)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit

from training import TrainConfig
from training.config import SETTINGS
from training.datasets.options import COMMON_OPTIONS

from .conftest import lenet, small_net


def settings_of(w):
    w.scene.clearSelection()
    w._selection_changed()
    assert w.inspector.node_id is None
    return w.inspector.settings_form


def shown(row):
    value = row.editor.value()
    return list(value) if isinstance(value, tuple) else value


def test_every_training_setting_shows_what_the_engine_will_use(make_window):
    g = lenet()
    g.training = {"optimizer": "SGD", "lr": 0.05, "betas": [0.8, 0.99], "channels_last": False,
                  "monitor": "val_accuracy", "epochs": 3}
    w = make_window(g)
    form = settings_of(w)
    config = TrainConfig.resolve(w.graph.training)
    for spec in SETTINGS:
        row = form.rows[f"training.{spec.name}"]
        assert shown(row) == getattr(config, spec.name), spec.name
        # a key the file leaves out is marked as the default; a stated one is not
        is_default = spec.name not in w.graph.training
        assert row.default_mark.isVisibleTo(form) == is_default, spec.name
        assert row.reset.isVisibleTo(form) == (not is_default), spec.name
    assert form.rows["training.optimizer"].editor.widget.currentText() == "sgd"
    assert form.rows["training.betas"].editor.widget.text() == "0.8, 0.99"
    assert form.rows["training.channels_last"].editor.widget.currentText() == "false"


def test_an_empty_data_section_shows_no_dataset_but_a_prompt(make_window):
    g = small_net()
    g.data = {}
    w = make_window(g)
    form = settings_of(w)
    combo = form.rows["data.dataset"].editor.widget
    assert isinstance(combo, QComboBox) and combo.isEditable()
    assert combo.currentText() == ""
    assert combo.lineEdit().placeholderText() == "choose a dataset"
    assert [combo.itemText(k) for k in range(3)] == ["digits", "iris", "breast_cancer"]
    # only the common options: no dataset, no options of its own
    data_rows = sorted(k for k in form.rows if k.startswith("data."))
    assert data_rows == sorted(["data.dataset"] + [f"data.{s.name}" for s in COMMON_OPTIONS])


def test_an_edit_writes_exactly_its_key_and_the_saved_file_holds_it(make_window, qtbot, tmp_path):
    w = make_window(small_net())
    form = settings_of(w)
    schedule = form.rows["training.schedule"].editor.widget
    schedule.setCurrentText("cosine")
    assert w.graph.training == {"schedule": "cosine"}
    assert not form.rows["training.schedule"].default_mark.isVisibleTo(form)
    betas = form.rows["training.betas"].editor.widget
    betas.setText("0.85, 0.995")
    betas.editingFinished.emit()
    combo = form.rows["training.cudnn_benchmark"].editor.widget
    combo.setCurrentIndex(combo.findText("true"))
    combo.activated.emit(combo.currentIndex())
    assert w.files.save_as(tmp_path / "net.json")
    saved = json.loads((tmp_path / "net.json").read_text(encoding="utf-8"))
    assert saved["training"] == {"schedule": "cosine", "betas": [0.85, 0.995], "cudnn_benchmark": True}
    assert w.document.undo_stack.count() == 3
    # choosing what already runs (the default) writes nothing
    epochs = form.rows["training.epochs"].editor.widget
    epochs.setValue(TrainConfig().epochs)
    assert "epochs" not in w.graph.training and w.document.undo_stack.count() == 3


def test_typing_into_a_setting_is_one_undo_step_and_reset_removes_the_key(make_window, qtbot):
    w = make_window(small_net())
    form = settings_of(w)
    box = form.rows["training.batch_size"].editor.widget
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "128")
    assert w.graph.training["batch_size"] == 128
    assert w.document.undo_stack.count() == 1  # 1, 12, 128 merged
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert w.graph.training["batch_size"] == 129 and w.document.undo_stack.count() == 1
    form.rows["training.batch_size"].reset.click()
    assert "batch_size" not in w.graph.training
    assert box.value() == TrainConfig().batch_size
    assert form.rows["training.batch_size"].default_mark.isVisibleTo(form)
    w.document.undo_stack.undo()
    assert box.value() == 129


def test_a_refused_value_is_not_written_and_says_why(make_window):
    w = make_window(small_net())
    form = settings_of(w)
    betas = form.rows["training.betas"].editor.widget
    betas.setText("0.9")
    betas.editingFinished.emit()
    assert "betas" not in w.graph.training
    error = form.rows["training.betas"].error
    assert not error.isHidden() and "betas" in error.text()
    assert w.document.undo_stack.count() == 0


def test_changing_the_dataset_rebuilds_its_options_and_drops_the_old_ones(make_window):
    g = lenet()
    g.data = {"dataset": "digits", "image_size": 28, "limit": 100}
    w = make_window(g)
    form = settings_of(w)
    assert form.rows["data.image_size"].editor.widget.text() == "28"
    assert form.rows["data.limit"].editor.value() == 100
    combo = form.rows["data.dataset"].editor.widget
    combo.setCurrentText("iris")
    combo.activated.emit(combo.currentIndex())
    # image_size was digits' own option (iris has none); limit is common to all
    assert w.graph.data == {"dataset": "iris", "limit": 100}
    assert "data.image_size" not in form.rows
    assert w.document.undo_stack.count() == 1
    w.document.undo_stack.undo()
    assert w.graph.data == {"dataset": "digits", "image_size": 28, "limit": 100}
    assert form.rows["data.image_size"].editor.widget.text() == "28"
    # cbf: its own options appear (at their defaults, marked); an option both share stays
    combo.setCurrentText("cbf")
    combo.activated.emit(combo.currentIndex())
    assert w.graph.data == {"dataset": "cbf", "image_size": 28, "limit": 100}
    assert {"data.transform", "data.length", "data.n_samples"} <= set(form.rows)
    assert form.rows["data.transform"].editor.value() == "gasf"
    assert form.rows["data.transform"].default_mark.isVisibleTo(form)
    assert not form.rows["data.image_size"].default_mark.isVisibleTo(form)


def test_an_option_edit_is_written_as_the_loader_reads_it(make_window):
    w = make_window(lenet())
    form = settings_of(w)
    w.inspector.editors["data.dataset"].widget.lineEdit().setText("digits")
    w.inspector.editors["data.dataset"].widget.lineEdit().editingFinished.emit()
    size = form.rows["data.image_size"].editor.widget
    assert isinstance(size, QLineEdit) and size.text() == "8"  # digits' own default, marked
    assert form.rows["data.image_size"].default_mark.isVisibleTo(form)
    size.setText("28")
    size.editingFinished.emit()
    assert w.graph.data == {"dataset": "digits", "image_size": 28}
    limit = form.rows["data.limit"]
    limit.editor.set_value(64)
    limit.editor.widget.valueChanged.emit(64)
    assert w.graph.data["limit"] == 64


def test_a_browsed_file_is_stored_relative_to_the_graph_file(make_window, tmp_path):
    w = make_window(small_net())
    assert w.files.save_as(tmp_path / "net.json")
    (tmp_path / "data").mkdir()
    table = tmp_path / "data" / "cells.csv"
    table.write_text("a,b,kind\n1,2,x\n3,4,y\n", encoding="utf-8")
    form = settings_of(w)
    form.set_dataset_path(table)
    assert w.graph.data["dataset"] == "data/cells.csv"
    assert {"data.label", "data.task", "data.delimiter", "data.format"} <= set(form.rows)
    elsewhere = tmp_path.parent / f"{tmp_path.name}-other.csv"
    elsewhere.write_text("a,kind\n1,x\n", encoding="utf-8")
    try:
        form.set_dataset_path(elsewhere)
        assert w.graph.data["dataset"] == str(elsewhere.resolve())
    finally:
        elsewhere.unlink()


def wheel(widget, down: bool = True) -> None:
    angle = QPoint(0, -120 if down else 120)
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(), angle,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


@pytest.mark.parametrize("key", ["training.epochs", "training.lr", "training.optimizer",
                                 "training.channels_last", "data.val_fraction"])
def test_the_wheel_over_the_inspector_never_changes_a_value(make_window, key):
    g = lenet()
    g.data = {"dataset": "digits"}
    w = make_window(g)
    form = settings_of(w)
    widget = form.rows[key].editor.widget
    before = form.rows[key].editor.value()
    widget.setFocus()
    for down in (True, False, True):
        wheel(widget, down)
    assert form.rows[key].editor.value() == before
    assert w.document.undo_stack.count() == 0


def test_the_wheel_over_a_node_field_never_changes_it(make_window):
    w = make_window(small_net())
    w.scene.select_nodes(["fc"])
    w._selection_changed()
    box = w.inspector.editors["out_features"].widget
    wheel(box)
    assert box.value() == 10 and w.graph.node("fc").params["out_features"] == 10


def test_the_form_survives_selecting_a_node_and_coming_back(make_window):
    w = make_window(small_net())
    form = settings_of(w)
    w.scene.select_nodes(["conv"])
    w._selection_changed()
    assert w.inspector.widget() is not form and "out_channels" in w.inspector.editors
    again = settings_of(w)
    assert again is form and w.inspector.widget() is form and form.isVisible()
    assert "training.lr" in w.inspector.editors


def test_the_wheel_over_a_field_scrolls_the_form_instead(make_window):
    w = make_window(lenet())
    form = settings_of(w)
    bar = w.inspector.verticalScrollBar()
    assert bar.maximum() > 0  # the form is taller than the dock
    widget = form.rows["training.epochs"].editor.widget
    w.inspector.ensureWidgetVisible(widget)
    start = bar.value()
    assert start > 0  # the field is below the first screenful
    wheel(widget, down=False)
    assert bar.value() < start
    assert form.rows["training.epochs"].editor.value() == TrainConfig().epochs


def test_keys_the_form_does_not_offer_are_named_not_hidden(make_window):
    g = small_net()
    g.training = {"warmup": 5}
    g.data = {"dataset": "iris", "custom": 1}
    w = make_window(g)
    form = settings_of(w)
    assert not form.ignored.isHidden() and "warmup" in form.ignored.text()
    assert not form.extra.isHidden() and "custom" in form.extra.text()
