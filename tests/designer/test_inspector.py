"""The inspector: a form from the spec, live edits through commands, refusals with reasons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from .conftest import code_after_edit, lenet, small_net


def select(w, node_id):
    w.scene.select_nodes([node_id])
    w._selection_changed()  # what the 0 ms selection timer does
    assert w.inspector.node_id == node_id


def test_the_form_follows_the_parameter_kinds(make_window):
    w = make_window(small_net())
    select(w, "conv")
    widgets = {k: e.widget for k, e in w.inspector.editors.items()}
    assert isinstance(widgets["out_channels"], QSpinBox)
    assert isinstance(widgets["kernel_size"], QLineEdit) and widgets["kernel_size"].text() == "5"
    assert isinstance(widgets["bias"], QCheckBox) and widgets["bias"].isChecked()
    select(w, "image")
    assert isinstance(w.inspector.editors["dtype"].widget, QComboBox)
    assert w.inspector.editors["shape"].widget.text() == "1, 28, 28"
    assert "Conv" not in w.inspector.title.text()


def test_a_parameter_edit_updates_downstream_shapes_on_canvas_and_in_code(make_window, qtbot):
    w = make_window(lenet())
    code_before = code_after_edit(qtbot, w)
    assert "nn.Conv2d(1, 6" in code_before
    assert w.scene.node_items["fc1"].shape_text == "(120,)"
    assert w.scene.node_items["flat"].shape_text == "(400,)"
    select(w, "conv2")
    box = w.inspector.editors["out_channels"].widget
    box.setValue(32)
    assert w.graph.node("conv2").params["out_channels"] == 32
    assert w.scene.node_items["pool2"].shape_text == "(32, 5, 5)"
    assert w.scene.node_items["flat"].shape_text == "(800,)"
    assert "(32, 5, 5)" in w.scene.edge_items[next(e for e in w.graph.edges if e.src[0] == "pool2")].label
    code = code_after_edit(qtbot, w)
    assert "nn.Conv2d(6, 32" in code and "nn.Linear(800, 120" in code
    # undo and redo, each seen on the canvas, in the form and in the code
    w.document.undo_stack.undo()
    assert w.scene.node_items["flat"].shape_text == "(400,)"
    assert box.value() == 16
    assert "nn.Linear(400, 120" in code_after_edit(qtbot, w)
    w.document.undo_stack.redo()
    assert w.scene.node_items["flat"].shape_text == "(800,)"
    assert "nn.Linear(800, 120" in code_after_edit(qtbot, w)


def test_typing_a_number_in_a_spin_box_is_one_undo_step(make_window, qtbot):
    w = make_window(small_net())
    select(w, "fc")
    box = w.inspector.editors["out_features"].widget
    box.selectAll()
    qtbot.keyClicks(box, "128")
    assert w.graph.node("fc").params["out_features"] == 128
    assert w.document.undo_stack.count() == 1
    w.document.undo_stack.undo()
    assert w.graph.node("fc").params["out_features"] == 10


def test_an_invalid_value_is_refused_with_the_reason(make_window, qtbot):
    w = make_window(small_net())
    select(w, "conv")
    edit = w.inspector.editors["kernel_size"].widget
    edit.setText("three")
    edit.editingFinished.emit()
    assert w.graph.node("conv").params["kernel_size"] == 5
    error = w.inspector.errors["kernel_size"]
    assert not error.isHidden() and "kernel_size" in error.text() and "3, 3" in error.text()
    assert "Refused" in w.statusBar().currentMessage()
    assert w.document.undo_stack.count() == 0
    edit.setText("3, 3")
    edit.editingFinished.emit()
    assert w.graph.node("conv").params["kernel_size"] == [3, 3]
    assert error.isHidden()
    assert w.scene.node_items["conv"].shape_text == "(6, 26, 26)"
    edit.setText("0")
    edit.editingFinished.emit()
    assert "at least 1" in error.text()
    assert w.graph.node("conv").params["kernel_size"] == [3, 3]


def test_name_frozen_and_lr_factor(make_window, qtbot):
    w = make_window(small_net())
    select(w, "conv")
    name = w.inspector._attr_widgets["name"]
    name.setText("features")
    name.editingFinished.emit()
    assert w.graph.node("conv").name == "features"
    w.inspector._attr_widgets["frozen"].setChecked(True)
    assert w.graph.node("conv").frozen
    assert "Frozen" in w.scene.node_items["conv"].toolTip()
    lr = w.inspector._attr_widgets["lr_factor"]
    assert isinstance(lr, QDoubleSpinBox)
    lr.setValue(0.1)
    assert w.graph.node("conv").lr_factor == 0.1
    w.document.undo_stack.undo()
    w.document.undo_stack.undo()
    assert not w.graph.node("conv").frozen and w.graph.node("conv").lr_factor == 1.0


def test_with_nothing_selected_it_edits_training_and_data_settings(make_window):
    w = make_window(small_net())
    w.scene.clearSelection()
    w._selection_changed()
    assert w.inspector.node_id is None
    epochs = w.inspector.editors["training.epochs"].widget
    epochs.setValue(3)
    assert w.graph.training["epochs"] == 3
    dataset = w.inspector.editors["data.dataset"].widget.lineEdit()  # an editable combo
    dataset.setText("iris")
    dataset.editingFinished.emit()
    assert w.graph.data["dataset"] == "iris"
    w.document.undo_stack.undo()
    assert "dataset" not in w.graph.data


def test_clicking_an_issue_selects_and_centres_its_node(make_window, qtbot):
    g = small_net()
    g.nodes["conv"].params["kernel_size"] = 40
    w = make_window(g)
    items = [w.issues.item(k) for k in range(w.issues.count())]
    conv_issue = next(i for i in items if i.text().startswith("✖ conv:"))
    rect = w.issues.visualItemRect(conv_issue)
    qtbot.mouseClick(w.issues.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert w.scene.selected_node_ids() == ["conv"]
    centre = w.view.mapToScene(w.view.viewport().rect().center())
    assert (centre - w.scene.node_items["conv"].center()).manhattanLength() < 5


def test_the_summary_table_lists_every_node_with_totals(make_window):
    w = make_window(lenet())
    table = w.summary.table
    assert table.rowCount() == 12
    assert [table.item(1, c).text() for c in range(5)] == ["conv1", "Conv2d", "(6, 28, 28)", "156", "156"]
    # 156 + (6*25*16 + 16) + (400*120 + 120) + (120*10 + 10)
    assert "51,902 parameters" in w.summary.totals.text()
    from graph_core import SetFrozen
    w.editor.run(SetFrozen("conv1", True))
    assert [table.item(1, c).text() for c in (3, 4)] == ["156", "0"]
    assert "51,746 trainable, 156 frozen" in w.summary.totals.text()
