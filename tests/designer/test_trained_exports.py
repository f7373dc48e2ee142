"""What a user trained is what leaves the window: File menu exports carry a run's weights, runs
follow the document when it is saved elsewhere, and Runs -> Refresh re-reads the folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLineEdit,
    QPushButton,
    QTreeWidget,
)

import templates

RUN_TIMEOUT = 180_000


def small_lenet(epochs: int = 2):
    g = templates.build("lenet", input_size=16)
    g.data["limit"] = 160
    g.training.update({"epochs": epochs, "batch_size": 32, "augment": "none"})
    return g


def menu_action(window, menu: str, text: str):
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu:
            for action in top.menu().actions():
                if action.text().replace("&", "") == text:
                    return action
    raise AssertionError(f"no {menu} -> {text}")


def train_once(qtbot, window):
    tc = window.training
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        qtbot.mouseClick(window.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.status == "completed", result.error
    return Path(result.run_dir)


def answer_export_dialog(qtbot, path: Path, seen: dict, untrained: bool = False) -> None:
    """When the export dialog opens: note what it offers, fill in the path, click Export."""
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or dialog.objectName() != "exportDialog":
            QTimer.singleShot(20, answer)
            return
        combo = dialog.findChild(QComboBox, "exportWeights")
        seen["items"] = [combo.itemText(k) for k in range(combo.count())]
        seen["current"] = combo.currentText()
        if untrained:
            combo.setCurrentIndex(combo.count() - 1)
        edit = dialog.findChild(QLineEdit, "exportPath")
        edit.setText(str(path))
        button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, answer)


def onnx_output(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.slow
def test_file_menu_onnx_export_carries_the_trained_run_and_says_so(qtbot, make_window, tmp_path, monkeypatch):
    import torch

    from codegen import compile_graph, load_weights

    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))
    window = make_window(small_lenet())
    run_dir = train_once(qtbot, window)
    best = run_dir / "best.safetensors"
    assert best.is_file()

    target, seen = tmp_path / "lenet.onnx", {}
    answer_export_dialog(qtbot, target, seen)
    with qtbot.waitSignal(window.exporter.onnx_finished, timeout=RUN_TIMEOUT) as done:
        menu_action(window, "File", "Export ONNX…").trigger()
    ok, text = done.args
    assert ok, text
    # the dialog named the run, preselected it, and offered the untrained model last
    assert run_dir.name in seen["current"] and "best.safetensors" in seen["current"]
    assert seen["items"][-1].startswith("Untrained")
    status = window.statusBar().currentMessage()
    assert f"weights of run {run_dir.name}" in status and "best.safetensors" in status

    x = np.random.default_rng(0).random((4, 1, 16, 16), dtype=np.float32)
    trained = compile_graph(window.graph).eval()
    load_weights(trained, best)
    with torch.no_grad():
        expected = trained(torch.from_numpy(x)).numpy()
    assert np.abs(onnx_output(target, x) - expected).max() < 1e-4

    # the untrained model only when the user picks it, and the status says so
    plain, seen = tmp_path / "plain.onnx", {}
    answer_export_dialog(qtbot, plain, seen, untrained=True)
    with qtbot.waitSignal(window.exporter.onnx_finished, timeout=RUN_TIMEOUT) as done:
        menu_action(window, "File", "Export ONNX…").trigger()
    assert done.args[0], done.args[1]
    assert "untrained" in window.statusBar().currentMessage()
    assert np.abs(onnx_output(plain, x) - expected).max() > 1e-3


@pytest.mark.slow
def test_file_menu_python_export_writes_the_run_weights_beside_the_code(qtbot, make_window, tmp_path,
                                                                       monkeypatch):
    import torch
    from safetensors.torch import load_file

    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))
    window = make_window(small_lenet(epochs=1))
    run_dir = train_once(qtbot, window)
    target, seen = tmp_path / "code" / "lenet.py", {}
    target.parent.mkdir()
    answer_export_dialog(qtbot, target, seen)
    menu_action(window, "File", "Export Python code…").trigger()
    qtbot.waitUntil(lambda: target.with_suffix(".safetensors").is_file(), timeout=10_000)
    namespace: dict = {}
    exec(compile(target.read_text(encoding="utf-8"), str(target), "exec"), namespace)  # noqa: S102
    model = namespace["Lenet"]()
    model.load_state_dict(load_file(target.with_suffix(".safetensors")))
    reference = load_file(run_dir / "best.safetensors")
    for key, value in model.state_dict().items():
        assert torch.equal(value, reference[key]), key
    assert f"weights of run {run_dir.name}" in window.statusBar().currentMessage()


@pytest.mark.slow
def test_a_run_made_before_the_first_save_follows_the_graph_into_its_folder(qtbot, make_window, tmp_path,
                                                                          monkeypatch):
    monkeypatch.delenv("NETWRIGHT_RUNS_DIR", raising=False)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    window = make_window(small_lenet(epochs=1))
    run_dir = train_once(qtbot, window)
    assert run_dir.parent == workdir / "runs"

    saved = tmp_path / "elsewhere" / "digits.json"
    saved.parent.mkdir()
    assert window.files.save_as(saved)
    moved = saved.parent / "runs" / run_dir.name
    assert (moved / "best.safetensors").is_file() and not run_dir.exists()
    tree = window.findChild(QTreeWidget, "runsList")
    listed = [tree.topLevelItem(k).text(0) for k in range(tree.topLevelItemCount())]
    assert listed == [run_dir.name]
    assert json.loads((moved / "config.json").read_text())["out"] == str(moved)
    # and its weights are what the File menu exports offer
    assert window.exporter.resolve("auto").checkpoint == moved / "best.safetensors"


def test_runs_refresh_button_lists_a_run_that_appeared(qtbot, make_window, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(root))
    window = make_window(small_lenet())
    tree = window.findChild(QTreeWidget, "runsList")
    assert tree.topLevelItemCount() == 0
    run = root / "lenet-20260101-000000"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"epochs": 1}), encoding="utf-8")
    (run / "summary.json").write_text(json.dumps({"status": "completed", "epochs": 1}), encoding="utf-8")
    refresh = next(b for b in window.training.runs.findChildren(QPushButton) if b.text() == "Refresh")
    qtbot.mouseClick(refresh, Qt.MouseButton.LeftButton)
    assert [tree.topLevelItem(k).text(0) for k in range(tree.topLevelItemCount())] == [run.name]
    assert tree.topLevelItem(0).text(1) == "completed"
