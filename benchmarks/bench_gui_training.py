"""Training with the designer open against headless training, and the GUI thread's longest stall.

    .venv/bin/python benchmarks/bench_gui_training.py [--rounds 3] [--scale 1.0]

For each model, the same graph, data and settings are trained three ways, side by side in one
process, round after round: (a) `cli`: `training.train` on the main thread with an event sink,
as `netwright train` runs it; (b) `worker thread`: the same call on a plain Python thread, no
Qt (the designer's threading without the window); (c) `window`: from a shown `MainWindow` by
the Train button's code path (`window.training.start()`): the engine on the worker thread,
plots, progress and per-epoch results live. Step time is the median interval between
consecutive step events (epoch boundaries excluded, so validation, checkpoints and per-epoch
results are not counted). "window vs worker thread" is what the window itself costs; "window
vs cli" is what a user sees against the command line (it also contains how torch's CPU
threads behave on a non-main thread, which on a loaded VM is a large effect of its own).

While (c) runs, a QTimer ticking every 5 ms on the GUI thread records the gaps between its
ticks; the longest gap minus 5 ms is the longest stall, reported for the whole run and for its
part after the first step (before it the worker builds the model and loads the data). For each
gap the GUI thread's own CPU time is recorded too: the longest "busy" stretch is time spent in
our handlers and painting; the rest of a stall is waiting for the GIL or for a CPU.

Timing on this VM varies by 2x from minute to minute: only ratios measured side by side mean
anything, and the medians over rounds are what docs/benchmarks.md reports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETWRIGHT_NO_DIALOGS", "1")
os.environ.setdefault("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")

import templates  # noqa: E402
from training import train  # noqa: E402

# (template, batch size, steps per run): the vae's steps take a millisecond or two, so it runs
# more of them; it is the case where the GUI thread's share of the GIL matters most.
MODELS = {"lenet (digits 28x28, batch 64)": ("lenet", 64, 120),
          "vae (digits 8x8, batch 64)": ("vae", 64, 400)}
TICK_MS = 5


def graph_for(name: str) -> object:
    g = templates.build(name)
    g.data["limit"] = 1024
    return g


def step_intervals(stamps: list[tuple[float, int]]) -> list[float]:
    """Intervals between consecutive steps of the same epoch, warm-up steps dropped."""
    return [b[0] - a[0] for a, b in zip(stamps, stamps[1:]) if b[1] != 1][5:]


def headless(name: str, batch: int, steps: int, out: Path) -> list[float]:
    stamps: list[tuple[float, int]] = []

    def on_event(e):
        if e["type"] == "step":
            stamps.append((time.perf_counter(), e["epoch_step"]))

    result = train(graph_for(name), {"out": str(out), "max_steps": steps, "epochs": 1000,
                                     "batch_size": batch, "seed": 0}, on_event=on_event)
    assert result.ok, result.error
    return step_intervals(stamps)


def in_thread(name: str, batch: int, steps: int, out: Path) -> list[float]:
    """The engine on a plain worker thread, no window: the designer's threading without Qt."""
    box: list[list[float]] = []
    thread = threading.Thread(target=lambda: box.append(headless(name, batch, steps, out)))
    thread.start()
    thread.join()
    return box[0]


@dataclass
class Window:
    """One run from the window: step intervals and the GUI thread's stalls (ms).

    A stall is the longest gap between 5 ms ticks minus 5 ms; `busy` is the most CPU time the
    GUI thread itself spent inside one gap (our handlers and painting), as opposed to waiting
    for the GIL or for a CPU.
    """

    steps: list[float]
    stall: float
    stall_stepping: float
    busy_stepping: float
    busy: float
    gui_share: float  # the GUI thread's CPU time / wall time while the run lasted


def with_window(app, name: str, batch: int, steps: int, out: Path) -> Window:
    """Train from a shown MainWindow, timing steps and the GUI thread's ticks."""
    from PySide6.QtCore import QEventLoop, QTimer

    from designer import MainWindow
    from designer.training import worker

    stamps: list[tuple[float, int]] = []
    original_put = worker.EventBuffer.put

    def put(self, event):  # time steps where the engine emits them, on the worker thread
        if event.get("type") == "step":
            stamps.append((time.perf_counter(), event["epoch_step"]))
        original_put(self, event)

    worker.EventBuffer.put = put
    window = MainWindow(graph_for(name))
    window.resize(1600, 1000)
    window.show()
    for _ in range(20):
        app.processEvents()
    gaps: list[tuple[float, float, float]] = []  # (time, gap, GUI-thread CPU spent in the gap)
    last = [time.perf_counter(), time.thread_time()]

    def tick():
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append((now, now - last[0], cpu - last[1]))
        last[0], last[1] = now, cpu

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    window.training.finished.connect(lambda _r: loop.quit())
    window.training.panel.batch_size.setValue(batch)
    window.training.panel.epochs.setValue(1000)
    last[0], last[1] = time.perf_counter(), time.thread_time()
    timer.start()
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    started = window.training.start({"max_steps": steps, "seed": 0, "out": str(out)})
    assert started, window.training.panel.status.text()
    loop.exec()
    share = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
    timer.stop()
    worker.EventBuffer.put = original_put
    window.close()
    window.deleteLater()
    app.processEvents()
    first_step = stamps[0][0] if stamps else float("inf")
    steady = [(g, c) for t, g, c in gaps if t > first_step + 0.2]
    return Window(step_intervals(stamps), max(g for _, g, _ in gaps) * 1000 - TICK_MS,
                  max(g for g, _ in steady) * 1000 - TICK_MS, max(c for _, c in steady) * 1000,
                  max(c for _, _, c in gaps) * 1000, share)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every model's step count")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; "
          f"{args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NETWRIGHT_RUNS_DIR"] = tmp
        for label, (name, batch, steps) in MODELS.items():
            steps = max(20, int(steps * args.scale))
            rows = []
            for r in range(args.rounds):
                out = Path(tmp) / f"{name}-{r}"
                cli = statistics.median(headless(name, batch, steps, out.with_suffix(".cli")))
                thread = statistics.median(in_thread(name, batch, steps, out.with_suffix(".thread")))
                w = with_window(app, name, batch, steps, out.with_suffix(".window"))
                gui = statistics.median(w.steps)
                rows.append((gui / cli, gui / thread, w))
                print(f"  {label} round {r + 1}: step time cli {cli * 1000:.1f} ms, worker thread "
                      f"{thread * 1000:.1f} ms, window {gui * 1000:.1f} ms; GUI stall {w.stall:.0f} ms "
                      f"(while stepping {w.stall_stepping:.0f} ms, GUI thread busy at most "
                      f"{w.busy_stepping:.0f} ms of it; busy at most {w.busy:.0f} ms overall; GUI thread CPU "
                      f"{w.gui_share:.1%} of the run)")
            med = statistics.median
            print(f"{label}: window vs cli {med(r[0] for r in rows) - 1:+.1%}, window vs worker thread "
                  f"{med(r[1] for r in rows) - 1:+.1%} (medians of {args.rounds}); longest GUI stall "
                  f"{med(r[2].stall for r in rows):.0f} ms (worst {max(r[2].stall for r in rows):.0f}), "
                  f"while stepping {med(r[2].stall_stepping for r in rows):.0f} ms; longest busy stretch "
                  f"of the GUI thread {med(r[2].busy for r in rows):.0f} ms "
                  f"(worst {max(r[2].busy for r in rows):.0f})", flush=True)

if __name__ == "__main__":
    main()
