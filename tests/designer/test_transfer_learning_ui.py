"""Transfer learning in the window: Browse… for the pretrained weights, the loaded / missing /
unexpected report, no "not used" note for init_weights, and an Issues warning while frozen
layers would keep random weights."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QLineEdit, QPushButton

import templates

RUN_TIMEOUT = 180_000


def issue_texts(w) -> list[str]:
    return [w.issues.item(k).text() for k in range(w.issues.count())]


def fake_torchvision_file(graph, path, drop: str, extra: str) -> None:
    """A torchvision-layout state dict for the graph's mapping, less `drop`, plus `extra`."""
    import torch

    from codegen import compile_graph

    model = compile_graph(graph)
    state = {}
    for prefix, node_path in graph.training["init_weights"]["keys"].items():
        if node_path is None:
            continue
        module = model.get_submodule(model.generated.node_paths[tuple(node_path.split("/"))])
        for name, tensor in module.named_parameters(recurse=False):
            state[f"{prefix}.{name}"] = torch.randn_like(tensor)
    del state[drop]
    state[extra] = torch.zeros(3)
    torch.save(state, path)


@pytest.mark.slow
def test_browse_loads_the_pretrained_file_reports_it_and_clears_the_frozen_warning(
        qtbot, make_window, tmp_path, monkeypatch):
    graph = templates.build("transfer_vgg", depth=11, input_size=32)
    pth = tmp_path / "vgg11.pth"
    fake_torchvision_file(graph, pth, drop="features.0.bias", extra="features.99.weight")
    w = make_window(graph)
    qtbot.waitUntil(lambda: any("hold random weights" in t for t in issue_texts(w)), timeout=10_000)
    form = w.inspector.settings_form
    assert w.inspector.widget() is form  # nothing selected: the graph's settings
    box = form.findChild(QGroupBox, "group_Pretrained")
    assert box.isVisibleTo(w.inspector)
    assert "init_weights" not in form.ignored.text()

    monkeypatch.delenv("NETWRIGHT_NO_DIALOGS")
    from designer import pretrained_box

    monkeypatch.setattr(pretrained_box.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(pth), "")))
    steps = w.document.undo_stack.count()
    qtbot.mouseClick(box.findChild(QPushButton, "browseWeights"), Qt.MouseButton.LeftButton)
    spec = w.graph.training["init_weights"]
    assert spec["path"] == str(pth) and spec["keys"]  # the mapping is kept
    assert w.document.undo_stack.count() == steps + 1
    assert box.findChild(QLineEdit, "field_training.init_weights.path").text() == str(pth)

    report = box.findChild(QLabel, "pretrainedReport")
    qtbot.waitUntil(lambda: "loaded" in report.text(), timeout=RUN_TIMEOUT)
    text = report.text()
    assert "features.99.weight: no node takes this tensor" in text  # unexpected
    assert "features.0.bias: not in the file" in text  # missing
    qtbot.waitUntil(lambda: not any("hold random weights" in t for t in issue_texts(w)), timeout=5000)

    w.document.undo_stack.undo()
    assert not w.graph.training["init_weights"].get("path")
    qtbot.waitUntil(lambda: any("hold random weights" in t for t in issue_texts(w)), timeout=5000)


def test_a_missing_weights_file_is_said_in_the_box_and_the_issues(qtbot, make_window, tmp_path):
    graph = templates.build("transfer_vgg", depth=11, input_size=32)
    graph.training["init_weights"]["path"] = str(tmp_path / "nowhere.pth")
    w = make_window(graph)
    qtbot.waitUntil(lambda: any("is not there" in t for t in issue_texts(w)), timeout=10_000)
    report = w.inspector.settings_form.findChild(QLabel, "pretrainedReport")
    assert "is not there" in report.text()
    # unfreezing every stage (multi-selection, one click) leaves nothing to warn about
    frozen = [n.id for n in w.graph.nodes.values() if n.frozen]
    w.scene.select_nodes(frozen)
    from PySide6.QtWidgets import QCheckBox

    qtbot.waitUntil(lambda: w.inspector.multi is not None, timeout=3000)
    box = w.inspector.findChild(QCheckBox, "field_frozen")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert not any(w.graph.nodes[i].frozen for i in frozen)
    qtbot.waitUntil(lambda: not any("hold random weights" in t for t in issue_texts(w)), timeout=5000)
