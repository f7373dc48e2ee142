"""File -> Import model…: an ONNX file opens as an editable graph; freeze its feature layers,
replace the last Dense with a 10-way head, and fine-tune on digits from the window."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QPushButton
from safetensors.torch import load_file
from torch import nn

from graph_core import Edge, Node
from graph_core.commands import AddNode, Macro, RemoveNodes, SetFrozen, SetSetting

RUN_TIMEOUT = 180_000  # ms
IMPORT_TIMEOUT = 120_000  # ms: a child process that imports torch and onnxruntime


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))


def _digits_cnn_file(path: Path) -> Path:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 5))
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        torch.onnx.export(model.eval(), (torch.randn(1, 1, 8, 8),), str(path), dynamo=False, opset_version=13,
                          input_names=["image"], output_names=["scores"], dynamic_axes={"image": {0: "n"}})
    return path


def _start_import(window, monkeypatch, source: Path, target: Path) -> None:
    import designer.import_dialog as dialog

    monkeypatch.setattr(dialog.QFileDialog, "getOpenFileName", lambda *a, **k: (str(source), ""))
    monkeypatch.setattr(dialog.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    action = next(a for a in file_menu.actions() if a.objectName() == "importModelAction")
    action.trigger()


def _trigger_import(qtbot, window, monkeypatch, source: Path, target: Path) -> bool:
    """Import from the File menu and wait for the outcome; True when it was imported."""
    with qtbot.waitSignal(window.importer.finished, timeout=IMPORT_TIMEOUT) as blocker:
        _start_import(window, monkeypatch, source, target)
        # the import runs in a child process: the menu action returns at once, the window
        # shows a busy dialog, and the document is not replaced yet
        assert window.importer.busy and window.importer.dialog.isVisible()
        assert window.files.path != target
    return blocker.args[0]


def test_import_freeze_replace_head_and_fine_tune(qtbot, make_window, tmp_path, monkeypatch):
    source = _digits_cnn_file(tmp_path / "cnn.onnx")
    window = make_window()
    assert _trigger_import(qtbot, window, monkeypatch, source, tmp_path / "model" / "cnn.json")
    assert window.importer.last_error == ""
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["cnn.json", "cnn.safetensors"]
    assert "Imported cnn.onnx: 11 nodes" in window.statusBar().currentMessage()
    assert window.files.path == tmp_path / "model" / "cnn.json"
    graph = window.graph
    types = [n.type for n in graph.nodes.values()]
    assert types == ["Input", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Dense", "ReLU",
                     "Dense", "Output"]
    convs = [n.id for n in graph.nodes.values() if n.type == "Conv2d"]
    window.document.execute(SetFrozen(convs, True))
    # replace the last Dense (5 classes) with a new 10-way head
    last = [n for n in graph.nodes.values() if n.type == "Dense"][-1]
    feed = next(e.src for e in graph.edges if e.dst[0] == last.id)
    out = next(e.dst for e in graph.edges if e.src[0] == last.id)
    head = Node("head", "Dense", {"out_features": 10}, ui=dict(last.ui))
    window.document.execute(Macro([RemoveNodes([last.id]),
                                   AddNode(head, [Edge(feed, ("head", "in")), Edge(("head", "out"), out)])],
                                  "replace head"))
    for section, key, value in (("data", "dataset", "digits"), ("data", "limit", 256), ("training", "epochs", 2),
                                ("training", "batch_size", 32)):
        window.document.execute(SetSetting(section, key, value))
    qtbot.waitUntil(lambda: window.document.ready, timeout=20_000)
    button = window.findChild(QPushButton, "trainButton")
    qtbot.waitUntil(button.isEnabled, timeout=20_000)
    with qtbot.waitSignal(window.training.finished, timeout=RUN_TIMEOUT) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.status == "completed", result.error
    assert result.final.get("val_accuracy") is not None
    imported = load_file(str(tmp_path / "model" / "cnn.safetensors"))
    trained = load_file(str(Path(result.run_dir) / "last.safetensors"))
    prefix = {node: attr for attr, node in graph.training["init_weights"]["keys"].items()}
    for conv in convs:  # frozen: the imported filters came through training unchanged
        assert torch.equal(trained[f"{prefix[conv]}.weight"], imported[f"{prefix[conv]}.weight"])
    assert trained["head.weight"].shape == (10, 16)
    dense = next(n.id for n in graph.nodes.values() if n.type == "Dense" and n.id != "head")
    key = f"{prefix[dense]}.weight"
    assert not torch.equal(trained[key], imported[key])  # fine-tuned from the imported weights
    assert (trained[key] - imported[key]).abs().max() < 0.5


def test_refused_import_names_the_nodes_and_keeps_the_document(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    before = dict(window.graph.nodes)
    (tmp_path / "junk.onnx").write_bytes(b"not a model at all")
    assert not _trigger_import(qtbot, window, monkeypatch, tmp_path / "junk.onnx",
                               tmp_path / "out" / "junk.json")
    assert "not an ONNX file" in window.importer.last_error
    assert dict(window.graph.nodes) == before and not (tmp_path / "out").exists()
    assert "not an ONNX file" in window.importer.dialog.errors.toPlainText()


def test_each_unmappable_node_is_listed_in_the_import_dialog(qtbot, make_window, tmp_path, monkeypatch):
    from onnx import TensorProto, helper, save

    nodes = [helper.make_node("Sin", ["x"], ["s"], name="wave1"), helper.make_node("Relu", ["s"], ["y"], name="relu1")]
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 4]) for n in ("x", "y")]
    model = helper.make_model(helper.make_graph(nodes, "waves", io[:1], io[1:]),
                              opset_imports=[helper.make_opsetid("", 13)])
    save(model, str(tmp_path / "waves.onnx"))
    window = make_window()
    assert not _trigger_import(qtbot, window, monkeypatch, tmp_path / "waves.onnx",
                               tmp_path / "out" / "waves.json")
    dialog = window.importer.dialog
    assert dialog.isVisible() and dialog.errors.isVisible() and not dialog.bar.isVisible()
    shown = dialog.errors.toPlainText().splitlines()
    assert shown[0] == "cannot import waves: 1 node cannot be mapped"
    assert shown[1].startswith("  wave1 (Sin): ")
    assert window.importer.last_error == "\n".join(shown)
    assert not (tmp_path / "out").exists()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()
    assert not dialog.isVisible()


def test_a_file_with_open_sizes_imports_again_with_the_shape_given_in_the_dialog(qtbot, make_window, tmp_path,
                                                                                monkeypatch):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1)).eval()
    source = tmp_path / "open.onnx"
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        torch.onnx.export(model, (torch.randn(1, 1, 8, 8),), str(source), dynamo=False, opset_version=13,
                          input_names=["image"], output_names=["mask"],
                          dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "mask": {0: "n", 2: "h", 3: "w"}})
    window = make_window()
    target = tmp_path / "out" / "open.json"
    assert not _trigger_import(qtbot, window, monkeypatch, source, target)
    dialog = window.importer.dialog
    assert "has no fixed size" in dialog.errors.toPlainText() and dialog.shape_row.isVisible()
    qtbot.keyClicks(dialog.shape, "1,twelve")  # not a shape: said so, nothing starts
    dialog.retry.click()
    assert not window.importer.busy and "like 3,224,224" in dialog.status.text()
    dialog.shape.setText("1,12,12")
    with qtbot.waitSignal(window.importer.finished, timeout=IMPORT_TIMEOUT) as blocker:
        dialog.retry.click()
        assert window.importer.busy
    assert blocker.args[0] is True, window.importer.last_error
    assert window.files.path == target
    image = next(n for n in window.graph.nodes.values() if n.type == "Input")
    assert image.params["shape"] == [1, 12, 12]


def test_cancel_stops_the_import_and_leaves_no_file(qtbot, make_window, tmp_path, monkeypatch):
    source = _digits_cnn_file(tmp_path / "cnn.onnx")
    window = make_window()
    before = dict(window.graph.nodes)
    with qtbot.waitSignal(window.importer.finished, timeout=IMPORT_TIMEOUT) as blocker:
        _start_import(window, monkeypatch, source, tmp_path / "out" / "cnn.json")
        assert window.importer.busy
        window.importer.dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert blocker.args[0] is False and "cancelled" in blocker.args[1]
    assert not window.importer.busy and not window.importer.dialog.isVisible()
    assert dict(window.graph.nodes) == before and window.files.path != tmp_path / "out" / "cnn.json"
    # the folders made for the import go once the killed process has ended
    qtbot.waitUntil(lambda: not (tmp_path / "out").exists(), timeout=10_000)
    # and a new import runs as before
    assert _trigger_import(qtbot, window, monkeypatch, source, tmp_path / "out" / "cnn.json")
    assert window.files.path == tmp_path / "out" / "cnn.json"


def test_closing_the_window_abandons_a_running_import(qtbot, make_window, tmp_path, monkeypatch):
    source = _digits_cnn_file(tmp_path / "cnn.onnx")
    window = make_window()
    with qtbot.waitSignal(window.importer.finished, timeout=5_000) as blocker:
        _start_import(window, monkeypatch, source, tmp_path / "out" / "cnn.json")
        assert window.importer.busy
        assert window.close()
    assert blocker.args[0] is False and not window.importer.busy
    assert not (tmp_path / "out").exists()  # the child is gone, and so are its folder and the one made for it


def test_a_child_that_crashes_is_reported_and_leaves_no_file(qtbot, make_window, tmp_path, monkeypatch):
    import sys

    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'the import process lost its mind' >&2\nkill -9 $$\n")
    fake.chmod(0o755)
    source = _digits_cnn_file(tmp_path / "cnn.onnx")
    window = make_window()
    monkeypatch.setattr(sys, "executable", str(fake))  # what the importer runs as its child
    assert not _trigger_import(qtbot, window, monkeypatch, source, tmp_path / "out" / "cnn.json")
    assert window.importer.last_error == "the import process lost its mind"
    assert window.importer.dialog.errors.isVisible() and not (tmp_path / "out").exists()


def test_a_target_folder_that_cannot_be_made_is_shown_in_the_dialog(qtbot, make_window, tmp_path, monkeypatch):
    source = _digits_cnn_file(tmp_path / "cnn.onnx")
    (tmp_path / "taken").write_text("a file where the folder would go")
    window = make_window()
    with qtbot.waitSignal(window.importer.finished, timeout=5_000) as blocker:
        _start_import(window, monkeypatch, source, tmp_path / "taken" / "cnn.json")
    assert blocker.args[0] is False and not window.importer.busy
    assert window.importer.dialog.isVisible() and "taken" in window.importer.dialog.errors.toPlainText()


def test_the_suggested_graph_file_never_overwrites_the_graph_the_onnx_came_from(make_window, tmp_path, monkeypatch):
    """Seen in the window: `netwright new lenet -o l.json && netwright export l.json -o l.onnx`, then
    File -> Import model… l.onnx suggested saving over l.json."""
    import designer.import_dialog as dialog

    source = _digits_cnn_file(tmp_path / "l.onnx")
    (tmp_path / "l.json").write_text("{}")
    suggested: list[str] = []

    def save_as(_parent, _title, path, _filter):
        suggested.append(path)
        return "", ""  # the user cancels

    monkeypatch.setattr(dialog.QFileDialog, "getOpenFileName", lambda *a, **k: (str(source), ""))
    monkeypatch.setattr(dialog.QFileDialog, "getSaveFileName", save_as)
    window = make_window()
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    next(a for a in file_menu.actions() if a.objectName() == "importModelAction").trigger()
    assert suggested == [str(tmp_path / "l_imported.json")]
    assert (tmp_path / "l.json").read_text() == "{}"
    (tmp_path / "l_imported.safetensors").write_text("")  # a weights file left by an earlier import
    assert dialog.free_name(source) == tmp_path / "l_imported_2.json"
    (tmp_path / "l.json").unlink()
    assert dialog.free_name(source) == tmp_path / "l.json"


@pytest.mark.parametrize(("text", "sizes"), [("3,224,224", [3, 224, 224]), (" 3 x 224x224 ", [3, 224, 224]),
                                             ("1 28 28", [1, 28, 28]), ("", None), ("3,0,4", None),
                                             ("3,-4", None), ("3,a", None)])
def test_the_input_shape_field_reads_sizes(text, sizes):
    from designer.import_dialog import parse_shape

    assert parse_shape(text) == sizes
