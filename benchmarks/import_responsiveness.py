"""How long the GUI thread stalls while File -> Import model… runs (python benchmarks/import_responsiveness.py [MODEL.onnx]).

Opens the window offscreen and, with a 5 ms heartbeat timer, imports an ONNX file (default: the
segnet template, exported first) through the window's importer: reports how long starting the
import took on the GUI thread, the longest gap the event loop saw until the result arrived (the
import itself runs in a child process), the longest gap including opening the imported graph,
and, for comparison, File -> Open of the same graph.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")
os.environ.setdefault("NETWRIGHT_NO_DIALOGS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def _largest_gap(ticks: list[float], start: float, end: float) -> str:
    """The longest stretch without a heartbeat between `start` and `end`, when it began, and how
    much of it the GUI thread spent on the CPU (the rest it waited for a core: on a loaded
    machine the scheduler, not the window, makes most of a gap)."""
    seen = [t for t in ticks if start <= t <= end]
    gap, at = max(((b - a, a) for a, b in zip([start, *seen], [*seen, end])), default=(end - start, start))
    cpu = CPU.get(at)
    after = CPU.get(at + gap)
    busy = f", {1000 * (after - cpu):.1f} ms of it on the CPU" if cpu is not None and after is not None else ""
    return f"{gap * 1000:.1f} ms (from {(at - start) * 1000:.0f} ms in{busy})"


CPU: dict[float, float] = {}  # heartbeat time -> the GUI thread's CPU time then


def main(source: Path | None) -> None:
    app = QApplication.instance() or QApplication([])
    from designer import MainWindow

    work = Path(tempfile.mkdtemp(prefix="netwright-import-bench-"))
    if source is None:  # in child processes: the window's process holds no torch, as in real use
        import subprocess

        cli = [sys.executable, "-m", "netwright"]
        subprocess.run([*cli, "new", "segnet", "-o", str(work / "segnet.json")], check=True, capture_output=True)
        source = work / "segnet.onnx"
        subprocess.run([*cli, "export", str(work / "segnet.json"), "-o", str(source)], check=True,
                       capture_output=True)
    w = MainWindow(None, settings=QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    w.resize(1400, 900)
    w.show()
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(5)
    def beat() -> None:
        now = time.perf_counter()
        ticks.append(now)
        CPU[now] = time.thread_time()

    heartbeat.timeout.connect(beat)
    heartbeat.start()
    for _ in range(20):
        app.processEvents()
    loop, ended = QEventLoop(), []
    w.importer.finished.connect(lambda ok, message: (ended.append((ok, message, time.perf_counter())), loop.quit()))
    target = work / "out" / f"{source.stem}.json"
    t0 = time.perf_counter()
    w.importer.run(source, target)
    started = time.perf_counter()
    arrivals: list[float] = []  # the child's result read (after the importer's own slot)
    w.importer.process.finished.connect(lambda *_: arrivals.append(time.perf_counter()))
    loop.exec()
    ok, message, t_end = ended[0]
    arrived = arrivals[0] if arrivals else t_end
    print(message)
    print(f"starting the import on the GUI thread: {(started - t0) * 1000:.1f} ms; import {t_end - t0:.1f} s")
    print(f"longest event-loop gap until the child's result: "
          f"{_largest_gap(ticks, t0, arrived)} (heartbeat 5 ms)")
    print(f"longest gap including opening the imported graph: {_largest_gap(ticks, t0, t_end)}")
    t1 = time.perf_counter()
    w.open_file(target)
    for _ in range(5):
        app.processEvents()
    time.sleep(0.05)
    app.processEvents()
    print(f"File -> Open of the same graph, for comparison: longest gap {_largest_gap(ticks, t1, time.perf_counter() - 0.04)}")
    w.document.undo_stack.setClean()
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
