"""`netwright gui FILE --screenshot PNG`, start-up without torch, and the dock seam."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from graph_core import save_graph

from .conftest import lenet

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path) -> dict:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NETWRIGHT_SETTINGS_PATH": str(tmp_path / "s.ini"),
            "NETWRIGHT_RECOVERY_DIR": str(tmp_path / "rec")}


@pytest.mark.slow
def test_screenshot_renders_the_window_with_the_file_open(tmp_path):
    graph_file, png = tmp_path / "lenet.json", tmp_path / "shot.png"
    save_graph(lenet(), graph_file)
    result = subprocess.run([sys.executable, "-m", "netwright", "gui", str(graph_file), "--screenshot", str(png)],
                            cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) >= (1600, 1000)
    # the conv cards' header colour (#2aa198) is on screen: the graph was drawn, not a blank window
    pixels = bytes(image.convertToFormat(QImage.Format.Format_RGB32).constBits())
    assert pixels.count(bytes([0x98, 0xA1, 0x2A, 0xFF])) > 200


@pytest.mark.slow
def test_a_bad_file_makes_the_screenshot_fail_with_the_reason(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "netwright", "gui", str(bad), "--screenshot", str(tmp_path / "x.png")],
                            cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "bad.json" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_opening_the_designer_imports_no_torch(tmp_path):
    code = ("import sys\nfrom PySide6.QtWidgets import QApplication\napp = QApplication([])\n"
            "import designer\nw = designer.MainWindow()\nw.show()\napp.processEvents()\n"
            "print('torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_panel_plugs_in_as_a_dock_and_locking_reaches_the_canvas(make_window):
    w = make_window(lenet())
    panel = QLabel("panel")
    dock = w.add_dock(panel, "Panel", "panel")
    assert w.docks["panel"] is dock and dock.objectName() == "panelDock"
    assert dock.toggleViewAction() in w.view_menu.actions()
    w.set_editing_locked(True, "busy")
    assert w.editing_locked
    assert not any(card.flags() & card.GraphicsItemFlag.ItemIsMovable for card in w.scene.node_items.values())
    w.set_editing_locked(False)
    assert all(card.flags() & card.GraphicsItemFlag.ItemIsMovable for card in w.scene.node_items.values())


def test_widgets_carry_the_documented_object_names(window):
    for name in ("palette", "canvas", "inspector", "codeView", "issuesList"):
        assert window.findChild(object, name) is not None, name
