"""Data binding in the designer: checked as the user edits, fixed in one click, shown in the Data dock.

The walkthrough of issue 10 failed three times at Train on a graph the Issues list called ready:
no dataset in the file, an Input reading a field the data lacks, and an Input shape the data
does not have. Each is now an issue with a fix before Train, and a graph built from scratch at
its defaults binds without touching any data setting.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QPushButton

from graph_core import UNSET, Connect, Edge, SetParam, SetSetting, load_graph
from tests.designer.conftest import chain, small_net
from tests.training.data_helpers import write_csv

READY = "✓ No issues: the graph is ready to train and export."
LENET_TYPES = ["Input", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Dense",
               "ReLU", "Dense", "Output"]


def texts(w) -> list[str]:
    return [w.issues.item(k).text() for k in range(w.issues.count())]


def fix_buttons(w) -> list[QPushButton]:
    return [b for b in w.issues.findChildren(QPushButton, "fixButton") if b.isVisibleTo(w.issues)]


def build_lenet(w) -> list[str]:
    """LeNet from an empty canvas: each layer added at its defaults and wired after the last."""
    ids, prev = [], None
    for k, type_name in enumerate(LENET_TYPES):
        nid = w.editor.add_node(type_name, QPointF(220.0 * k, 0.0))
        if prev:
            w.document.execute(Connect(Edge((prev, "out"), (nid, "in"))))
        ids.append(nid)
        prev = nid
    return ids


def test_a_new_document_names_its_dataset_and_saves_it(window, tmp_path):
    assert window.graph.data == {"dataset": "digits", "image_size": 28}
    assert window.files.save_as(tmp_path / "new.json")
    assert json.loads((tmp_path / "new.json").read_text())["data"] == {"dataset": "digits", "image_size": 28}
    window.files.new(ask=False)
    assert window.graph.data == {"dataset": "digits", "image_size": 28}


def test_lenet_from_scratch_binds_and_trains_without_touching_data(window, qtbot, tmp_path):
    ids = build_lenet(window)
    assert window.graph.nodes[ids[0]].params == {"field": "image"}  # the file says what is read
    assert any("10 classes but this head gives 64 scores" in t for t in texts(window))
    window.document.execute(SetParam(ids[10], "out_features", 10))
    assert texts(window) == [READY] and window.document.ready
    path = tmp_path / "lenet.json"
    assert window.files.save_as(path)
    from training import train

    result = train(load_graph(path), {"epochs": 1, "max_steps": 3, "batch_size": 32,
                                      "out": str(tmp_path / "run")})
    assert result.status == "completed", (result.error, result.issues)


def test_no_dataset_is_an_issue_fixed_in_one_click_and_one_undo_step(make_window, qtbot):
    w = make_window(small_net())  # a file whose data section is {}
    assert texts(w)[0].startswith("✖ data: no dataset given")
    assert READY not in texts(w) and not w.document.ready
    [button] = fix_buttons(w)
    assert button.text() == "use digits at 28"
    steps = w.document.undo_stack.count()
    button.click()
    assert w.graph.data == {"dataset": "digits", "image_size": 28}
    assert w.document.undo_stack.count() == steps + 1
    assert w.document.undo_stack.undoText() == "use digits at 28"
    assert texts(w) == [READY]
    w.document.undo_stack.undo()
    assert w.graph.data == {} and texts(w)[0].startswith("✖ data: no dataset given")


def test_an_input_reading_its_own_id_is_bound_from_the_context_menu(make_window):
    g = chain(("input", "Input", {}), ("flat", "Flatten", {}), ("fc", "Dense", {"out_features": 10}),
              ("head", "Output", {}))
    g.data = {"dataset": "digits", "image_size": 28}
    w = make_window(g)  # an Input whose empty field means its node id
    assert texts(w) == ["✖ input: field 'input' is not in digits (it has: image, label)"]
    menu = w.issues.menu_for(w.issues.item(0))
    assert [a.text() for a in menu.actions()] == ["Fix: bind input to field image", "Select input"]
    menu.actions()[0].trigger()
    assert w.graph.nodes["input"].params["field"] == "image"
    assert texts(w) == [READY]
    assert w.document.undo_stack.undoText() == "bind input to field image"


def test_an_input_shape_the_data_lacks_offers_both_fixes(make_window, qtbot):
    g = small_net()
    g.data = {"dataset": "digits"}
    w = make_window(g)
    assert texts(w) == ["✖ image: field 'image' has samples of shape (1, 8, 8) but this Input expects "
                        "(1, 28, 28)"]
    assert [b.text() for b in fix_buttons(w)] == ["resize digits to 28", "set image shape to 1, 8, 8"]
    rect = w.issues.visualItemRect(w.issues.item(0))
    qtbot.mouseClick(w.issues.viewport(), Qt.MouseButton.LeftButton, pos=rect.topLeft() + QPoint(30, 8))
    assert w.scene.selected_node_ids() == ["image"]  # the row's text still selects its node
    qtbot.mouseClick(fix_buttons(w)[1], Qt.MouseButton.LeftButton)
    assert list(w.graph.nodes["image"].params["shape"]) == [1, 8, 8]
    assert not any("shape" in t for t in texts(w))  # the Input now fits (the conv may not)
    w.document.undo_stack.undo()
    qtbot.mouseClick(fix_buttons(w)[0], Qt.MouseButton.LeftButton)
    assert w.graph.data == {"dataset": "digits", "image_size": 28} and texts(w) == [READY]


def test_inputs_added_from_the_canvas_read_the_first_free_field(window):
    window.document.execute(SetSetting("data", "dataset", "dna_motif"))
    first = window.editor.add_node("Input", QPointF(0, 0))
    window.scene.clearSelection()
    window._add_from_palette("Input")  # palette double-click with nothing selected
    second = [n for n in window.graph.nodes if n != first][0]
    assert window.graph.nodes[first].params["field"] == "sequence"
    assert window.graph.nodes[second].params["field"] == "sequence_onehot"
    window.scene.select_nodes([first])
    assert window.editor.copy() and window.editor.paste()
    pasted = [n for n in window.graph.nodes if n not in (first, second)]
    assert [window.graph.nodes[n].params["field"] for n in pasted] == ["sequence"]  # kept as copied


def test_the_data_panel_shows_fields_counts_and_who_reads_them(make_window):
    g = small_net()
    g.data = {"dataset": "digits", "image_size": 28}
    w = make_window(g)
    panel = w.findChild(type(w.data_panel), "dataPanel")
    assert panel is w.data_panel and w.docks["data"].windowTitle() == "Data"
    assert panel.row_texts() == [["image", "image", "(1, 28, 28)", "float32", "", "image (Input)"],
                                 ["label", "label", "()", "int64", "10", "head (target)"]]
    assert "1797 samples → 1438 train, 359 validation" in panel.header.text()
    panel.table.cellDoubleClicked.emit(1, 0)  # the label row: its head is selected
    assert w.scene.selected_node_ids() == ["head"]
    w.document.execute(SetSetting("data", "limit", 500))
    assert "400 train, 100 validation" in panel.header.text()
    w.document.execute(SetSetting("data", "limit", UNSET))
    w.document.execute(SetSetting("data", "dataset", "iris"))
    assert [r[:5] for r in panel.row_texts()] == [
        ["features", "features", "(4,)", "float32", ""],
        ["label", "label", "()", "int64", "3 (setosa, versicolor, virginica)"]]
    assert panel.row_texts()[0][5] == "—"  # no Input reads features yet
    assert any(t.startswith("✖ image: field 'image' is not in iris") for t in texts(w))


def test_a_users_csv_is_read_off_the_gui_thread_and_checked_when_it_arrives(make_window, qtbot, tmp_path):
    write_csv(tmp_path / "table.csv", ["a", "b", "c", "d", "kind"],
              [[i, i * 2, i % 3, 1.5, ["x", "y"][i % 2]] for i in range(20)])
    g = small_net()
    w = make_window(g)
    assert w.files.save_as(tmp_path / "net.json")
    w.document.execute(SetSetting("data", "dataset", "table.csv"))  # relative to the graph file
    assert w.document.data_state.pending
    assert texts(w)[-1].startswith("… Reading table.csv")
    qtbot.waitUntil(lambda: not w.document.data_state.pending, timeout=10000)
    assert w.data_panel.row_texts()[0][:4] == ["features", "features", "(4,)", "float32"]
    assert any(t.startswith("✖ image: field 'image' is not in table") for t in texts(w))
    # Cached by path, mtime and options: the same section again answers at once.
    w.document.execute(SetSetting("data", "val_fraction", 0.5))
    qtbot.waitUntil(lambda: not w.document.data_state.pending, timeout=10000)
    w.document.execute(SetSetting("data", "val_fraction", UNSET))
    assert not w.document.data_state.pending
    assert "16 train, 4 validation" in w.data_panel.header.text()


def test_the_data_panel_shows_sample_thumbnails_of_an_image_field(make_window, qtbot):
    g = small_net()
    g.data = {"dataset": "digits", "image_size": 28}
    w = make_window(g)
    strip = w.data_panel.samples
    w.docks["issues"].raise_()
    qtbot.waitUntil(lambda: not w.data_panel.on_show)
    w.document.execute(SetSetting("data", "image_size", 16))
    assert strip.requested is None and strip.labels == []  # behind the Issues tab: nothing is built
    w.docks["data"].raise_()
    qtbot.waitUntil(lambda: strip.requested == "image")
    qtbot.waitUntil(lambda: len(strip.labels) == 8, timeout=20000)
    image = strip.labels[0].pixmap().toImage()
    assert image.width() > 20 and len({image.pixel(x, y) for x in range(0, image.width(), 3)
                                       for y in range(0, image.height(), 3)}) > 2  # a digit, not a blank
    w.document.execute(SetSetting("data", "dataset", "iris"))  # no image field: no thumbnails
    assert strip.labels == [] and not strip.isVisibleTo(w.data_panel)


def test_the_data_panel_names_the_head_that_reconstructs_a_field(make_window):
    import templates

    w = make_window(templates.build("vae"))
    users = {row[0]: row[5] for row in w.data_panel.row_texts()}
    assert users["image"] == "image (Input), reconstruction (reconstructs)"
    assert users["label"] == "—"  # a VAE learns without labels


def test_an_imported_translator_is_fixed_in_two_clicks(make_window, qtbot):
    """What an import of the transformer looked like: no data and an mse head over (8, 40) words.
    The data fix offered is translation_synth (not dna_motif, which refuses 7 ids), then the head
    is offered cross_entropy."""
    import templates

    graph = templates.build("transformer", d_model=8, nhead=2, num_layers=1)
    graph.data = {}
    graph.nodes["translation"].params["loss"] = "mse"
    w = make_window(graph)
    [button] = fix_buttons(w)
    assert button.text() == "use translation_synth"
    button.click()
    qtbot.waitUntil(lambda: any(b.text() == "set loss to cross_entropy" for b in fix_buttons(w)))
    [button] = [b for b in fix_buttons(w) if b.text() == "set loss to cross_entropy"]
    button.click()
    qtbot.waitUntil(lambda: texts(w) == [READY])
    assert w.graph.nodes["translation"].params["loss"] == "cross_entropy"
