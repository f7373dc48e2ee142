"""Training runs in a child engine process: the window's process never imports torch, a killed
engine is a failed run that unlocks the document, the engine is kept between runs, and it never
outlives the window's process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import templates

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 180_000  # ms: generous, the CI machine is small and shared


@pytest.fixture(autouse=True)
def _runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))


def lenet(limit: int = 64, epochs: int = 1):
    g = templates.build("lenet")
    g.data["limit"] = limit
    g.training.update({"epochs": epochs, "batch_size": 32})
    return g


def fresh_python(code: str, tmp_path: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `code` as a script file (no `__main__` guard, as a user's script may be) in a fresh
    interpreter."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NETWRIGHT_NO_DIALOGS": "1",
           "NETWRIGHT_NO_AUTOSAVE_RESTORE": "1", "NETWRIGHT_RUNS_DIR": str(tmp_path / "runs"),
           "NETWRIGHT_SETTINGS_PATH": str(tmp_path / "settings.ini"),
           "NETWRIGHT_RECOVERY_DIR": str(tmp_path / "recovery"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_the_window_trains_shows_feature_maps_and_exports_without_importing_torch(tmp_path):
    # a script without a __main__ guard: the engine process must not run it again
    done = fresh_python("""
        import sys
        from PySide6.QtCore import Qt, QTimer, QEventLoop
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication, QPushButton
        app = QApplication([])
        import templates
        from designer import MainWindow

        def wait(signal, seconds=240):
            loop = QEventLoop()
            box = []
            signal.connect(lambda *args: (box.append(args), loop.quit()))
            QTimer.singleShot(int(seconds * 1000), loop.quit)
            loop.exec()
            assert box, "timed out"
            return box[0]

        g = templates.build("lenet")
        g.data["limit"] = 64
        g.training.update({"epochs": 1, "batch_size": 32})
        window = MainWindow(g)
        window.show()
        tc = window.training
        QTest.mouseClick(window.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
        (result,) = wait(tc.finished)
        assert result.status == "completed", result.error
        assert tc.plots.store.get("train/loss"), "no loss points"
        assert tc.results.confusion.matrix is not None  # results computed in the engine too
        tab = tc.results.feature_maps
        tab.node.setCurrentText("conv2")
        tc.request_feature_maps("conv2", 1)
        loop = QEventLoop()
        poll = QTimer()
        poll.timeout.connect(lambda: tab.activations.has_image and loop.quit())
        poll.start(50)
        QTimer.singleShot(120_000, loop.quit)
        loop.exec()
        assert tab.activations.has_image, tab.info.text()
        print("conv2 maps:", tab.info.text())
        tc.runs.refresh()
        tc.runs.select([result.run_dir])
        assert tc.runs.export_onnx(str(result.run_dir) + "/model.onnx")  # Runs > Export ONNX…
        ok, text = wait(tc.runs.export_finished)
        assert ok, text
        print("export:", text)
        print("torch imported:", "torch" in sys.modules)
        window.document.undo_stack.setClean()
        window.close()
    """, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "16×10×10 activations" in done.stdout
    assert "matches PyTorch" in done.stdout
    assert "torch imported: False" in done.stdout
    assert done.stdout.count("conv2 maps:") == 1  # the script ran once, not again in the engine


def test_the_engine_process_imports_no_qt(tmp_path):
    done = fresh_python("""
        import sys
        import designer.training.engine_child, designer.training.analysis, designer.training.worker
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6")))
    """, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def loss_points(window) -> int:
    return len(window.training.plots.store.get("train/loss") or [])


def click(qtbot, window, name: str) -> None:
    from PySide6.QtWidgets import QPushButton

    button = window.findChild(QPushButton, name)
    assert button is not None and button.isEnabled(), f"{name} is not clickable"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_killed_engine_is_a_failed_run_and_the_next_train_starts_a_fresh_one(qtbot, make_window):
    window = make_window(lenet(limit=64, epochs=500))
    tc = window.training
    click(qtbot, window, "trainButton")
    qtbot.waitUntil(lambda: loss_points(window) > 0, timeout=RUN_TIMEOUT)
    first = tc.engine.pid
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        os.kill(first, signal.SIGKILL)
    assert blocker.args[0].status == "failed"
    assert tc.panel.status.text() == (
        "Training failed: the training process ended unexpectedly (exit code -9)")
    assert tc.panel.progress.format().startswith("Failed")
    assert not window.editing_locked and tc.panel.train_button.isEnabled()
    click(qtbot, window, "trainButton")  # a fresh engine process
    assert tc.engine.pid not in (None, first)
    qtbot.waitUntil(lambda: loss_points(window) > 0, timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "stopButton")
    assert blocker.args[0].status == "stopped"


def test_the_engine_is_kept_between_runs(qtbot, make_window):
    window = make_window(lenet(limit=64, epochs=1))
    tc = window.training
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
    assert blocker.args[0].status == "completed"
    pid = tc.engine.pid
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
    assert blocker.args[0].status == "completed"
    assert tc.engine.pid == pid and tc.engine.starts == 1
    run_dir = Path(blocker.args[0].run_dir)
    window.close()  # the window's close ends its engine
    assert not tc.engine.alive and (run_dir / "last.safetensors").is_file()


def process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie has exited; only its parent's reaping is left


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to see the process go")
def test_the_engine_exits_when_the_window_process_dies(qtbot, tmp_path):
    done = fresh_python("""
        import os
        from designer.training.engine_process import EngineProcess
        engine = EngineProcess()
        engine.devices()  # started, busy answering
        print(engine.pid, flush=True)
        os._exit(0)  # no clean-up at all: as if the window's process were killed
    """, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    pid = int(done.stdout.split()[0])
    qtbot.waitUntil(lambda: process_gone(pid), timeout=60_000)


def test_a_graph_ready_to_train_warms_the_engine_and_the_first_train_uses_it(qtbot, make_window,
                                                                              monkeypatch):
    monkeypatch.setenv("NETWRIGHT_ENGINE_PREWARM", "1")
    empty = make_window()
    assert not empty.training._warm_timer.isActive()  # nothing to train yet: nothing started
    window = make_window(lenet())
    tc = window.training
    qtbot.waitUntil(lambda: tc.engine.alive, timeout=10_000)
    assert tc.warm_requested and tc.engine.starts == 1 and not empty.training.engine.alive
    warmed: list[dict] = []
    qtbot.waitUntil(lambda: warmed.extend(e for e in tc.engine.poll() if e["type"] == "warm")
                    or bool(warmed), timeout=RUN_TIMEOUT)  # torch and the engine are imported
    pid = tc.engine.pid
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        qtbot.mouseClick(tc.panel.train_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].status == "completed"
    assert tc.engine.pid == pid and tc.engine.starts == 1  # the first Train used the warm engine


def image_folder(root: Path, per_class: int = 12) -> Path:
    """A tiny folder of 16x16 RGB PNGs in two class sub-folders."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("bright", "dark"):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            base = 200 if name == "bright" else 30
            pixels = (base + rng.integers(0, 40, (16, 16, 3))).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_a_streamed_image_folder_trains_from_the_window_with_decoding_workers(qtbot, make_window,
                                                                             tmp_path):
    # The engine is the parent of the DataLoader workers that decode a streamed folder: as a
    # daemon process it could not start them ("daemonic processes are not allowed to have
    # children"), so every streamed run from the window failed at its first step.
    g = templates.build("lenet", input_size=16, in_channels=3, num_classes=2)
    g.data = {"dataset": str(image_folder(tmp_path / "photos")), "image_size": 16,
              "stream": "on", "workers": 1}
    g.training.update({"epochs": 1, "batch_size": 8})
    window = make_window(g)
    with qtbot.waitSignal(window.training.finished, timeout=RUN_TIMEOUT) as blocker:
        click(qtbot, window, "trainButton")
    assert blocker.args[0].status == "completed", blocker.args[0].error
    assert loss_points(window) > 0
    pid = window.training.engine.pid
    window.close()
    qtbot.waitUntil(lambda: process_gone(pid), timeout=60_000)  # it still ends with the window
