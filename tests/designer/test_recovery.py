"""Recovery files (issue 13): one per window, locked while the window lives, so one instance
closing cleanly never deletes another's; start-up survives a damaged recovery file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from designer.files import orphaned_recovery_files, recovery_dir
from graph_core import SetParam, load_graph

from .conftest import small_net

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restoring(monkeypatch):
    """Windows made now skip the start-up offer (the test calls offer_recovery itself, after
    connecting to its messages); offer_recovery asks, and the user says yes."""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)

    def allow() -> None:
        monkeypatch.delenv("NETWRIGHT_NO_AUTOSAVE_RESTORE")

    return allow


def _edited(make_window, value: int):
    w = make_window(small_net())
    w.editor.run(SetParam("fc", "out_features", value))
    assert w.files.autosave()
    return w


def test_each_window_has_its_own_recovery_file_and_a_clean_close_removes_only_its_own(make_window, restoring):
    first, second = _edited(make_window, 3), _edited(make_window, 4)
    assert first.files.recovery_path != second.files.recovery_path
    first.document.undo_stack.setClean()
    assert first.close()
    assert not first.files.recovery_path.exists()
    assert load_graph(second.files.recovery_path).node("fc").params["out_features"] == 4
    # a window starting now does not take the file of a window that is still open
    third = make_window()
    restoring()
    assert orphaned_recovery_files() == []
    assert not third.files.offer_recovery()
    assert second.files.recovery_path.exists()


def test_a_crashed_instance_leaves_a_file_the_next_start_up_restores(make_window, restoring):
    """A real crash: another process autosaves, holds its lock, and dies without cleaning up."""
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from PySide6.QtCore import QLockFile
        import graph_core as gc, templates
        path = {str(folder / "recovery-crashed.json")!r}
        lock = QLockFile(path + ".lock"); lock.setStaleLockTime(0); assert lock.tryLock(0)
        gc.save_graph(templates.build("mlp", hidden=7), path)
        os._exit(9)  # no clean-up: the lock file stays, naming a dead process
    """)
    subprocess.run([sys.executable, "-c", script], check=False, timeout=120)
    assert (folder / "recovery-crashed.json.lock").exists()
    w = make_window()
    restoring()
    messages = []
    w.files.message.connect(messages.append)
    assert w.files.offer_recovery()
    assert w.graph.node("hidden1").params["out_features"] == 7
    assert w.files.modified
    assert not (folder / "recovery-crashed.json").exists()
    assert messages[-1] == "Restored the autosaved document; save it to keep it."


@pytest.mark.parametrize("content", [
    b"\xff\xfe not utf-8 \x80",
    b'{"format": "netwright.graph", "schema_version": 1, "nodes": [{"id": "a", "type": "Input", "ui": '
    + b'{"a": ' * 900 + b"{}" + b"}" * 900 + b"}]}",
    b'{"format": "netwright.graph", "schema_version": 1, "nodes": [',
    b"",
], ids=["not utf-8", "nested 900 deep", "truncated", "empty"])
def test_a_damaged_recovery_file_is_set_aside_with_a_message(content: bytes, make_window, restoring):
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recovery-damaged.json").write_bytes(content)
    w = make_window(small_net())
    restoring()
    messages = []
    w.files.message.connect(messages.append)
    assert not w.files.offer_recovery()  # start-up goes on
    assert messages and messages[-1].startswith("Could not restore the autosaved document (")
    assert (folder / "recovery-damaged.json.damaged").read_bytes() == content  # kept, not lost
    assert not (folder / "recovery-damaged.json").exists()
    assert not w.files.offer_recovery()  # not offered again
    assert w.graph.node("fc")  # the window works
