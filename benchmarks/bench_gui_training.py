"""Training from the designer against headless training, and the GUI thread's longest stalls.

    .venv/bin/python benchmarks/bench_gui_training.py [--rounds 3] [--scale 1.0] [--no-thread]

For each model, the same graph, data and settings are trained side by side, round after round:

- `engine cold` / `engine warm`: from a shown `MainWindow` by the Train button's code path
  (`window.training.start()`), training in the engine child process as the designer does:
  the first Train of a window starts the process (which imports torch), the second reuses it.
  These run in this process, which never imports torch (checked at the end), as a user's
  designer session;
- `engine prewarmed`: a fresh window whose graph is ready to train warms the engine by itself
  (1.5 s after opening: the process starts and imports torch); its first Train comes once the
  engine has said it is warm, as for a user who opens a file and then reaches for Train;
- `thread`: the same window with the engine served from a thread of the GUI's own process (the
  design before the engine process: torch imported and trained under the GUI process's GIL),
  in a fresh subprocess each round, so its first Train includes the torch import as a user's
  would;
- `cli`: `training.train` on the main thread with an event sink, as `netwright train` runs it,
  in a subprocess.

Step time is the median interval between consecutive step events, stamped where the engine
emits them (`emitted`, CLOCK_MONOTONIC, which every process shares), epoch boundaries excluded.
A QTimer ticking every 5 ms on the GUI thread records the gaps between its ticks; a stall is a
gap minus 5 ms. Reported: the longest stall from the Train click to the first point on the loss
plot, the longest after it until the run finished, and the most CPU time the GUI thread itself
spent inside one gap ("busy": our handlers, painting and garbage collection; the rest of a
stall is waiting for the GIL or for a CPU).

Timing on a shared VM varies by 2x from minute to minute: only ratios measured side by side mean
anything, and the medians over rounds are what docs/benchmarks.md reports.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETWRIGHT_NO_DIALOGS", "1")
os.environ.setdefault("NETWRIGHT_NO_AUTOSAVE_RESTORE", "1")

import templates  # noqa: E402

# (template, batch size, steps per run): the vae's steps take a millisecond or two, so it runs
# more of them; it is the case where event traffic matters most.
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
    from training import train

    stamps: list[tuple[float, int]] = []

    def on_event(e):
        if e["type"] == "step":
            stamps.append((time.monotonic(), e["epoch_step"]))

    result = train(graph_for(name), {"out": str(out), "max_steps": steps, "epochs": 1000,
                                     "batch_size": batch, "seed": 0}, on_event=on_event)
    assert result.ok, result.error
    return step_intervals(stamps)


@dataclass
class WindowRun:
    """One run from the window (times in ms unless named otherwise)."""

    steps: list[float]  # step intervals (s)
    first_point: float  # s from the click to the first point on the loss plot
    stall_start: float  # longest stall from the click to the first point
    stall_training: float  # longest stall after it, until the run finished
    busy: float  # longest busy stretch of the GUI thread itself, whole run
    gui_share: float  # the GUI thread's CPU time / wall time while the run lasted


def loss_points(window) -> int:
    plot = window.training.plots.plots["lossPlot"]
    return sum(len(item.getData()[0] if item.getData()[0] is not None else [])
               for item in plot.getPlotItem().listDataItems())


def train_in_window(app, window, batch: int, steps: int, out: Path) -> WindowRun:
    """Press Train (its code path) in a shown window and watch the GUI thread until finished."""
    from PySide6.QtCore import QEventLoop, QTimer

    tc = window.training
    stamps: list[tuple[float, int]] = []
    poll = tc.engine.poll

    def stamped_poll():  # the engine's own emit times, as the events arrive
        events = poll()
        stamps.extend((e["emitted"], e["epoch_step"]) for e in events if e.get("type") == "step")
        return events

    tc.engine.poll = stamped_poll
    gaps: list[tuple[float, float, float]] = []  # (time, gap, GUI-thread CPU spent in the gap)
    last = [0.0, 0.0]
    first: list[float] = []

    def tick():
        now, cpu = time.monotonic(), time.thread_time()
        gaps.append((now, now - last[0], cpu - last[1]))
        last[0], last[1] = now, cpu
        if not first and loss_points(window) > 0:
            first.append(now)

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    tc.finished.connect(loop.quit)
    tc.panel.batch_size.setValue(batch)
    tc.panel.epochs.setValue(1000)
    app.processEvents()
    last[0], last[1] = time.monotonic(), time.thread_time()
    timer.start()
    clicked, cpu0 = last[0], last[1]
    assert tc.start({"max_steps": steps, "seed": 0, "out": str(out)}), tc.panel.status.text()
    loop.exec()
    share = (time.thread_time() - cpu0) / (time.monotonic() - clicked)
    timer.stop()
    if not first:  # a short run can end before the plots' first redraw: its points come with the last
        app.processEvents()
        first.append(time.monotonic())
    tc.finished.disconnect(loop.quit)
    tc.engine.poll = poll
    assert tc.last_result is not None and tc.last_result.ok, tc.panel.status.text()
    at = first[0] if first else float("inf")
    start = [g for t, g, _ in gaps if t <= at] or [0.0]
    after = [g for t, g, _ in gaps if t > at] or [0.0]
    return WindowRun(step_intervals(stamps), at - clicked, max(start) * 1000 - TICK_MS,
                     max(after) * 1000 - TICK_MS, max(c for _, _, c in gaps) * 1000, share)


def window_runs(app, name: str, batch: int, steps: int, out: Path, in_thread: bool,
                runs: int, prewarmed: bool = False) -> list[WindowRun]:
    """`runs` Trains, one after another, in one fresh window (its first starts the engine,
    unless `prewarmed`: then the window warms the engine itself, as it does for a user once the
    graph is ready to train, and the first Train comes after the engine said it is warm)."""
    from designer import MainWindow
    from designer.training.engine_process import EngineProcess

    os.environ["NETWRIGHT_ENGINE_PREWARM"] = "1" if prewarmed else "0"
    window = MainWindow(graph_for(name))
    if in_thread:
        window.training.engine = EngineProcess(in_thread=True)
    window.resize(1600, 1000)
    window.show()
    for _ in range(20):
        app.processEvents()
    if prewarmed:
        deadline = time.monotonic() + 120
        while not any(e["type"] == "warm" for e in (window.training.engine.poll()
                                                    if window.training.engine.alive else [])):
            assert time.monotonic() < deadline, "the engine never said it was warm"
            app.processEvents()
            time.sleep(0.02)
    done = [train_in_window(app, window, batch, steps, out.with_suffix(f".{k}")) for k in range(runs)]
    window.document.undo_stack.setClean()
    window.close()
    window.deleteLater()
    app.processEvents()
    return done


def report(label: str, rows: dict[str, list], cli: list[float]) -> None:
    med = statistics.median
    print(f"{label}: cli {med(cli) * 1000:.1f} ms/step")
    for design, runs in rows.items():
        step = med(med(r.steps) for r in runs)
        print(f"  {design:12s} {step * 1000:6.1f} ms/step ({step / med(cli) - 1:+.1%} vs cli); "
              f"click to first point {med(r.first_point for r in runs):.2f} s, longest stall in it "
              f"{med(r.stall_start for r in runs):.0f} ms (worst {max(r.stall_start for r in runs):.0f}); "
              f"while training {med(r.stall_training for r in runs):.0f} ms "
              f"(worst {max(r.stall_training for r in runs):.0f}); GUI thread busy at most "
              f"{max(r.busy for r in runs):.0f} ms, CPU {med(r.gui_share for r in runs):.1%}", flush=True)


def in_subprocess(mode: str, name: str, steps: int, out: Path) -> object:
    """Run one `cli` or `thread` measurement in a fresh interpreter; its JSON answer."""
    done = subprocess.run([sys.executable, __file__, "--mode", mode, "--model", name,
                           "--steps", str(steps), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(mode: str, name: str, steps: int, out: Path) -> None:
    """The subprocess side of `in_subprocess`: print one JSON line."""
    batch = next(b for n, b, _ in MODELS.values() if n == name)
    if mode == "cli":
        print(json.dumps(headless(name, batch, steps, out)))
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    (run,) = window_runs(app, name, batch, steps, out, True, 1)
    print(json.dumps(asdict(run)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every model's step count")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-thread", action="store_true", help="skip the old in-process design")
    parser.add_argument("--only", help="one template of MODELS (lenet or vae)")
    parser.add_argument("--mode", choices=("cli", "thread"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        measure(args.mode, args.model, args.steps, Path(args.out))
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    print(f"{os.cpu_count()} CPUs; {args.rounds} rounds; load average {os.getloadavg()[0]:.1f}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NETWRIGHT_RUNS_DIR"] = tmp
        for label, (name, batch, steps) in MODELS.items():
            if args.only and name != args.only:
                continue
            steps = max(20, int(steps * args.scale))
            rows: dict[str, list] = {"thread": [], "engine cold": [], "engine prewarmed": [],
                                     "engine warm": []}
            cli: list[float] = []
            for r in range(args.rounds):
                out = Path(tmp) / f"{name}-{r}"
                if not args.no_thread:
                    answer = in_subprocess("thread", name, steps, out.with_suffix(".t"))
                    rows["thread"].append(WindowRun(**answer))
                cold, warm = window_runs(app, name, batch, steps, out.with_suffix(".e"), False, 2)
                rows["engine cold"].append(cold)
                rows["engine warm"].append(warm)
                rows["engine prewarmed"] += window_runs(app, name, batch, steps, out.with_suffix(".p"),
                                                        False, 1, prewarmed=True)
                cli.append(statistics.median(in_subprocess("cli", name, steps, out.with_suffix(".cli"))))
                print(f"  round {r + 1}: cli {cli[-1] * 1000:.1f} ms/step, engine warm "
                      f"{statistics.median(warm.steps) * 1000:.1f} ms/step, stalls cold "
                      f"{cold.stall_start:.0f}/{cold.stall_training:.0f} ms, warm "
                      f"{warm.stall_start:.0f}/{warm.stall_training:.0f} ms"
                      + (f", thread {rows['thread'][-1].stall_start:.0f}/"
                         f"{rows['thread'][-1].stall_training:.0f} ms" if rows["thread"] else "")
                      + f"; load average {os.getloadavg()[0]:.1f}", flush=True)
            report(label, {k: v for k, v in rows.items() if v}, cli)
    print(f"torch imported in this (the GUI's) process: {'torch' in sys.modules}")


if __name__ == "__main__":
    main()
