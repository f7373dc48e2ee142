"""Files: save and reopen, refused files, unsaved-changes prompt, recent files, autosave."""

from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QMessageBox

from graph_core import AddNode, Node, SetParam, load_graph
from graph_core.serialization import graph_to_json

from .conftest import lenet, small_net


def test_save_and_reopen_gives_an_identical_document(make_window, tmp_path):
    w = make_window(lenet())
    w.editor.run(SetParam("fc1", "out_features", 84))
    w.editor.run(AddNode(Node("extra", "Dropout", {"p": 0.25}, ui={"x": 5.0, "y": 300.0})))
    assert w.windowTitle().startswith("*")
    path = tmp_path / "lenet.json"
    assert w.files.save_as(path)
    assert not w.windowTitle().startswith("*") and "lenet.json" in w.windowTitle()
    text = graph_to_json(w.graph)
    other = make_window()
    assert other.open_file(path)
    assert graph_to_json(other.graph) == text
    assert set(other.scene.node_items) == set(w.graph.nodes)
    assert other.scene.node_items["fc1"].shape_text == "(84,)"
    assert other.document.undo_stack.count() == 0 and not other.files.modified
    assert str(path.resolve()) == other.files.recent_files()[0]


def test_a_corrupt_file_is_refused_and_the_open_document_stays(make_window, tmp_path):
    w = make_window(small_net())
    w.editor.run(SetParam("fc", "out_features", 7))
    before = graph_to_json(w.graph)
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "netwright.graph", "schema_version": 1, "nodes": [', encoding="utf-8")
    assert not w.open_file(bad)
    assert graph_to_json(w.graph) == before
    assert w.document.undo_stack.count() == 1  # history kept too
    assert "broken.json" in w.statusBar().currentMessage()
    assert bad.read_text(encoding="utf-8").endswith("[")  # never touched
    assert not w.open_file(tmp_path / "missing.json")
    assert graph_to_json(w.graph) == before


def test_a_failed_load_shows_the_loader_message(make_window, tmp_path, monkeypatch):
    monkeypatch.delenv("NETWRIGHT_NO_DIALOGS")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    w = make_window(small_net())
    bad = tmp_path / "future.json"
    bad.write_text('{"format": "netwright.graph", "schema_version": 99, "nodes": [], "edges": []}')
    assert not w.open_file(bad)
    assert shown and "99" in shown[0]
    assert set(w.graph.nodes) == set(small_net().nodes)


@pytest.mark.parametrize("answer, proceeds, saved", [
    (QMessageBox.StandardButton.Cancel, False, False),
    (QMessageBox.StandardButton.Discard, True, False),
    (QMessageBox.StandardButton.Save, True, True),
])
def test_unsaved_changes_prompt_before_open(make_window, tmp_path, monkeypatch, answer, proceeds, saved):
    monkeypatch.delenv("NETWRIGHT_NO_DIALOGS")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or answer)
    w = make_window(small_net())
    mine = tmp_path / "mine.json"
    w.files.save_as(mine)
    w.editor.run(SetParam("fc", "out_features", 3))
    other = tmp_path / "other.json"
    other.write_text(graph_to_json(lenet()), encoding="utf-8")
    assert w.open_file(other) is proceeds
    assert len(asked) == 1
    assert ("fc1" in w.graph.nodes) is proceeds
    assert (load_graph(mine).node("fc").params["out_features"] == 3) is saved


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_the_window(make_window, monkeypatch):
    monkeypatch.delenv("NETWRIGHT_NO_DIALOGS")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    w = make_window(small_net())
    w.editor.run(SetParam("fc", "out_features", 3))
    assert not w.close()
    assert w.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert w.close()


def test_autosave_writes_a_recovery_file_that_can_be_restored(make_window, monkeypatch):
    w = make_window(small_net())
    assert not w.files.autosave()  # nothing unsaved yet
    w.editor.run(SetParam("fc", "out_features", 3))
    assert w.files.autosave()
    assert load_graph(w.files.recovery_path).node("fc").params["out_features"] == 3
    # a "crash": w's process dies, its lock with it (a live window's file is never offered);
    # the next window finds the recovery file and offers it
    w.files._lock.unlock()
    monkeypatch.delenv("NETWRIGHT_NO_AUTOSAVE_RESTORE")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    again = make_window()
    assert again.files.offer_recovery()
    assert again.graph.node("fc").params["out_features"] == 3
    assert again.files.modified
    # a clean close removes it
    w.files.autosave_timer.stop()
    os.environ["NETWRIGHT_NO_DIALOGS"] = "1"
    assert again.close()
    assert not w.files.recovery_path.exists()


def test_recent_files_and_layout_are_remembered(make_window, tmp_path):
    w = make_window(small_net())
    for name in ("a.json", "b.json"):
        w.files.save_as(tmp_path / name)
    assert [os.path.basename(f) for f in w.files.recent_files()] == ["b.json", "a.json"]
    w.docks["summary"].hide()
    assert w.close()
    again = make_window()
    assert [os.path.basename(f) for f in again.files.recent_files()] == ["b.json", "a.json"]
    assert again.docks["summary"].isHidden()
