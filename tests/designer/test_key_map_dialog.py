"""The key map in the window: a torchvision-style state dict chosen for a graph the user drew
opens the key map (module path -> node, shapes, status), a row edited and applied becomes the
graph's `training.init_weights.keys`, the engine's loaded / missing / unexpected report comes
back, and the weights land in the compiled model where the map says."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QPushButton, QTableWidget

from designer.key_map_dialog import NOT_USED_TEXT

from .conftest import chain

RUN_TIMEOUT = 180_000


def drawn():
    """What a user redraws from torchvision's layout, with their own node ids."""
    return chain(("image", "Input", {"shape": [1, 8, 8], "field": "image"}),
                 ("stem", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
                 ("norm", "BatchNorm", {}), ("relu", "ReLU", {}),
                 ("conv", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
                 ("flat", "Flatten", {}), ("fc", "Dense", {"out_features": 3}),
                 ("head", "Output", {}), name="drawn")


def torchvision_state():
    """features.0 (conv), features.1 (batch norm), features.3 (conv), classifier: torchvision's names."""
    import torch

    torch.manual_seed(3)
    net = torch.nn.Module()
    net.features = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                       torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 3, padding=1))
    net.classifier = torch.nn.Linear(4 * 8 * 8, 3)
    state = net.state_dict()
    state["features.1.running_mean"].uniform_(-1, 1)  # not the initial zeros: a copy is visible
    return state


def rows_of(table: QTableWidget) -> dict[str, tuple[str, str]]:
    """module path -> (node shown in its combo, status text)."""
    return {table.item(r, 0).text(): (table.cellWidget(r, 2).currentText(), table.item(r, 4).text())
            for r in range(table.rowCount())}


@pytest.mark.slow
def test_a_drawn_graph_maps_a_torchvision_file_edits_a_row_and_the_weights_land(
        qtbot, make_window, tmp_path, monkeypatch):
    import torch

    state = torchvision_state()
    pt = tmp_path / "features.pt"
    torch.save(state, pt)
    w = make_window(drawn())
    box = w.inspector.settings_form.findChild(QGroupBox, "group_Pretrained")
    assert box.isVisibleTo(w.inspector)  # offered for a drawn graph too
    assert "init_weights" not in w.graph.training

    monkeypatch.delenv("NETWRIGHT_NO_DIALOGS")
    from designer import pretrained_box

    monkeypatch.setattr(pretrained_box.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(pt), "")))
    qtbot.mouseClick(box.findChild(QPushButton, "browseWeights"), Qt.MouseButton.LeftButton)
    monkeypatch.setenv("NETWRIGHT_NO_DIALOGS", "1")  # a failing test must not stop at "save changes?"
    assert w.graph.training["init_weights"] == {"format": "state_dict", "path": str(pt)}
    qtbot.waitUntil(lambda: box.key_map is not None and box.key_map.isVisible(), timeout=RUN_TIMEOUT)
    dialog = box.key_map
    table = dialog.findChild(QTableWidget, "keyMapTable")
    # guessed: nothing matches by name, so by order and shape
    assert rows_of(table) == {"features.0": ("stem", "loaded"), "features.1": ("norm", "loaded"),
                              "features.3": ("conv", "loaded"), "classifier": ("fc", "loaded")}
    assert "guessed" in dialog.findChild(QLabel, "keyMapSource").text()
    assert "copy 11 tensors" in dialog.findChild(QLabel, "keyMapSummary").text()
    # the check that ran on choosing the file matched by name (nothing): not what is shown here
    assert "Not applied yet" in dialog.findChild(QLabel, "keyMapReport").text()
    box_report = box.findChild(QLabel, "pretrainedReport").text()
    assert "Key map needed" in box_report and "guess (by order and shape) loads 11 of 11" in box_report

    # the classifier is the part a new head replaces: "not used"
    row = [table.item(r, 0).text() for r in range(table.rowCount())].index("classifier")
    combo = table.cellWidget(row, 2)
    assert combo.objectName() == f"keyMapNode_{row}"
    combo.setCurrentIndex(combo.findText(NOT_USED_TEXT))
    combo.activated.emit(combo.currentIndex())
    assert rows_of(table)["classifier"] == (NOT_USED_TEXT, "not used (left out on purpose)")
    assert "copy 9 tensors" in dialog.findChild(QLabel, "keyMapSummary").text()
    assert "not used 2" in dialog.findChild(QLabel, "keyMapSummary").text()
    # a node of other shapes typed in by hand says so before anything is applied
    first = table.cellWidget(0, 2)
    first.lineEdit().setText("conv")
    first.lineEdit().editingFinished.emit()
    assert rows_of(table)["features.0"][1].startswith("shape mismatch (weight: [4, 1, 3, 3] in the file")
    first.setCurrentIndex(first.findText("stem"))
    first.activated.emit(first.currentIndex())

    steps = w.document.undo_stack.count()
    report = dialog.findChild(QLabel, "keyMapReport")
    qtbot.mouseClick(dialog.findChild(QPushButton, "keyMapApply"), Qt.MouseButton.LeftButton)
    keys = {"features.0": "stem", "features.1": "norm", "features.3": "conv", "classifier": None}
    assert w.graph.training["init_weights"]["keys"] == keys
    assert w.document.undo_stack.count() == steps + 1
    qtbot.waitUntil(lambda: "loaded 9 tensors" in report.text(), timeout=RUN_TIMEOUT)
    assert "missing 0, unexpected 0, ignored 2" in report.text()
    assert "loaded 9 tensors" in box.findChild(QLabel, "pretrainedReport").text()

    # what training does with the graph as the window holds it: the file's tensors where the map says
    from codegen import compile_graph
    from training.pretrained import load_pretrained

    graph = w.document.snapshot()
    model = compile_graph(graph)
    fc_before = model.get_submodule(model.generated.node_paths[("fc",)]).weight.clone()
    lines = load_pretrained(model, graph, tmp_path)
    assert "loaded 9 tensors" in lines[0]
    module = model.get_submodule
    paths = model.generated.node_paths
    assert torch.equal(module(paths[("stem",)]).weight, state["features.0.weight"])
    assert torch.equal(module(paths[("norm",)]).running_mean, state["features.1.running_mean"])
    assert torch.equal(module(paths[("conv",)]).bias, state["features.3.bias"])
    assert torch.equal(module(paths[("fc",)]).weight, fc_before)  # not used: kept its own

    # the map file: what `netwright pretrained --map-file` reads, and read back over an edit
    mapfile = tmp_path / "features.keys.txt"
    dialog.save_map(mapfile)
    assert "classifier=\n" in mapfile.read_text(encoding="utf-8")
    dialog.findChild(QPushButton, "keyMapGuess").click()
    assert rows_of(table)["classifier"][0] == "fc"
    assert dialog.load_map(mapfile)
    assert dialog.mapping() == keys

    # undo: the graph has no mapping again, and the key map shows the guess, not the undone one
    w.document.undo_stack.undo()
    assert "keys" not in w.graph.training["init_weights"]
    qtbot.waitUntil(lambda: rows_of(table)["classifier"][0] == "fc", timeout=5000)
    assert "guessed" in dialog.findChild(QLabel, "keyMapSource").text()


@pytest.mark.slow
def test_browse_then_apply_are_two_named_steps_and_the_box_never_says_loaded_0(
        qtbot, make_window, tmp_path, monkeypatch):
    """A file whose module paths match no node name: the box says the key map is needed (by name
    nothing loads; the guess loads all), never "loaded 0"; Browse and Apply are the undo steps
    "choose the file" and "apply its key map", and undoing Apply says again what the graph does."""
    import torch

    pt = tmp_path / "features.pt"
    torch.save(torchvision_state(), pt)
    w = make_window(drawn())
    box = w.inspector.settings_form.findChild(QGroupBox, "group_Pretrained")
    report = box.findChild(QLabel, "pretrainedReport")
    stack = w.document.undo_stack
    monkeypatch.delenv("NETWRIGHT_NO_DIALOGS")
    from designer import pretrained_box

    monkeypatch.setattr(pretrained_box.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(pt), "")))
    qtbot.mouseClick(box.findChild(QPushButton, "browseWeights"), Qt.MouseButton.LeftButton)
    monkeypatch.setenv("NETWRIGHT_NO_DIALOGS", "1")
    assert stack.text(stack.count() - 1) == "choose the pretrained weights file features.pt"
    qtbot.waitUntil(lambda: box.key_map is not None and box.key_map.isVisible(), timeout=RUN_TIMEOUT)
    text = report.text()
    assert "loaded 0" not in text and "no node takes this tensor" not in text
    assert "Key map needed" in text and "none of its 11 tensors" in text and "loads 11 of 11" in text

    qtbot.mouseClick(box.key_map.findChild(QPushButton, "keyMapApply"), Qt.MouseButton.LeftButton)
    assert stack.text(stack.count() - 1) == "apply the key map of features.pt"
    qtbot.waitUntil(lambda: "loaded 11 tensors" in report.text(), timeout=RUN_TIMEOUT)

    stack.undo()  # the mapping goes: the box must not go on saying 11 tensors load
    assert "keys" not in w.graph.training["init_weights"]
    qtbot.waitUntil(lambda: "Key map needed" in report.text(), timeout=5000)
    assert "loaded 11" not in report.text()
    stack.undo()
    assert "init_weights" not in w.graph.training


def test_the_key_map_waits_for_a_file(qtbot, make_window):
    w = make_window(drawn())
    box = w.inspector.settings_form.findChild(QGroupBox, "group_Pretrained")
    assert not box.findChild(QPushButton, "editKeyMap").isEnabled()
    assert "Optional" in box.findChild(QLabel, "pretrainedReport").text()
    assert box.findChild(QComboBox) is None


def test_a_templates_mapping_is_shown_as_the_graph_holds_it_and_typed_nodes_are_checked(qtbot):
    from designer.key_map_dialog import KeyMapDialog

    applied: list[dict] = []
    dialog = KeyMapDialog(None, applied.append, lambda text: None)
    qtbot.addWidget(dialog)
    table = {"file": [["layer1.0.conv1.weight", [4, 4, 3, 3]], ["fc.weight", [1000, 4]], ["fc.bias", [1000]]],
             "nodes": [["layer1_0/conv1", {"weight": [4, 4, 3, 3]}], ["head", {"weight": [10, 4], "bias": [10]}]],
             "keys": {"layer1.0.conv1": "layer1_0/conv1", "fc": None}, "guess": {}}
    dialog.set_table(table, "resnet18.pth")
    grid = dialog.findChild(QTableWidget, "keyMapTable")
    assert "The graph's mapping" in dialog.findChild(QLabel, "keyMapSource").text()
    assert rows_of(grid) == {"layer1.0.conv1": ("layer1_0/conv1", "loaded"),
                             "fc": (NOT_USED_TEXT, "not used (left out on purpose)")}
    assert dialog.findChild(QLabel, "keyMapReport").text() == ""
    combo = grid.cellWidget(1, 2)
    assert combo.findData("head") >= 0 and combo.itemText(combo.findData("head")) == "head (other shapes)"
    combo.lineEdit().setText("nowhere/conv")  # a node path the model does not have
    combo.lineEdit().editingFinished.emit()
    assert rows_of(grid)["fc"][1] == "no such node (nowhere/conv is not in the model)"
    assert "1 nodes not in the model" in dialog.findChild(QLabel, "keyMapSummary").text()
    qtbot.mouseClick(dialog.findChild(QPushButton, "keyMapApply"), Qt.MouseButton.LeftButton)
    assert applied == [{"layer1.0.conv1": "layer1_0/conv1", "fc": "nowhere/conv"}]


def test_frozen_layers_a_file_fills_by_name_with_nothing_keep_the_random_weights_warning(
        qtbot, make_window, tmp_path):
    """A drawn graph with frozen layers and a file whose module paths match no node name: by name
    nothing loads, so until the key map is applied the Issues warning stays (it went as soon as
    a file was chosen); applying the guess clears it, undoing the Apply brings it back."""
    import torch

    from designer.training.engine_child import _pretrained_report
    from graph_core import graph_to_dict

    pt = tmp_path / "features.pt"
    torch.save(torchvision_state(), pt)
    graph = drawn()
    for nid in ("stem", "norm", "conv"):
        graph.nodes[nid].frozen = True
    w = make_window(graph)
    box = w.inspector.settings_form.findChild(QGroupBox, "group_Pretrained")
    checks: list[str] = []

    def check(g, folder):  # the engine's own function, answered at once
        checks.append(g.training["init_weights"].get("path"))
        box.show_report(*_pretrained_report({"graph": graph_to_dict(g), "root": str(folder) if folder else None}))

    box.checker = check

    def warned() -> str:  # analyses run at once on an undo step and on the engine's answer
        return next((t for t in issue_texts(w) if "hold random weights" in t), "")

    assert "stem, norm, conv" in warned()
    box.set_path(str(pt))
    assert checks == [str(pt)]
    assert "Key map needed" in box.findChild(QLabel, "pretrainedReport").text()
    text = warned()
    assert "stem, norm, conv" in text and "by name, features.pt loads nothing into them" in text

    box.apply_keys(box.table["guess"])  # the key map's Apply with its guess
    assert warned() == ""
    w.document.undo_stack.undo()
    assert "keys" not in w.graph.training["init_weights"]
    assert "stem, norm, conv" in warned()
    # the file rewritten with torchvision's names matching the nodes: the old table no longer applies
    state = torchvision_state()
    renamed = {k.replace("features.0", "stem").replace("features.1", "norm").replace("features.3", "conv")
               .replace("classifier", "fc"): v for k, v in state.items()}
    torch.save(renamed, pt)
    os.utime(pt, ns=(pt.stat().st_atime_ns, pt.stat().st_mtime_ns + 10**9))
    box.run_check()
    assert warned() == ""


def issue_texts(w) -> list[str]:
    return [w.issues.item(k).text() for k in range(w.issues.count())]
