"""Cost of one explanation: one sample of lenet and of dna_cnn, per method, on this CPU.

    .venv/bin/python benchmarks/bench_explain.py            # prints a Markdown table
    .venv/bin/python benchmarks/bench_explain.py --threads 2
    .venv/bin/python benchmarks/bench_explain.py --window   # the GUI thread's stalls meanwhile

Budgets (DESIGN.md): saliency, Integrated Gradients and Grad-CAM under 2 s; LIME and occlusion
under 10 s. Each model is trained briefly first (the cost of an explanation does not depend on
how well the model learned); then each method explains one validation sample `--repeats` times
after one warm-up call (the first call of a method imports Captum's modules). The time is the
attribution alone (`Explanation.seconds`) and, beside it, the whole `explain` call with the
deletion curve (126 forward passes in one batch). Exits 1 if a budget is missed.

With --window the same lenet run is explained from the designer's Explain tab (offscreen), each
method in turn, while a 5 ms heartbeat timer on the GUI thread records the longest gap between
its ticks from the click to the answer (budget: 50 ms; the explanation runs in the engine
process). The first request also starts the engine process (its torch import is the child's).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import templates  # noqa: E402
from explain import METHODS, explain, load_subject  # noqa: E402
from training import train  # noqa: E402

BUDGETS = {"saliency": 2.0, "integrated_gradients": 2.0, "gradcam": 2.0, "occlusion": 10.0, "lime": 10.0}
CASES = {"lenet": ({}, {"max_steps": 40, "epochs": 1, "augment": "none"}),
         "dna_cnn": ({"n_samples": 1000}, {"epochs": 3})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: a shared machine)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window", action="store_true", help="measure the window's stalls instead")
    args = parser.parse_args()
    if args.window:
        return window_stalls()
    import torch

    torch.set_num_threads(args.threads)
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for name, (data, config) in CASES.items():
            graph = templates.build(name)
            graph.data.update(data)
            result = train(graph, {"out": f"{tmp}/{name}", "samples": False, **config})
            subject = load_subject(graph, result.run_dir)
            for method in METHODS:
                explain(subject, method, sample=0)  # warm-up: imports, first allocations
                attribution, whole = [], []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    e = explain(subject, method, sample=1)
                    whole.append(time.perf_counter() - start)
                    attribution.append(e.seconds)
                worst = max(whole)
                passed = worst < BUDGETS[method]
                ok &= passed
                rows.append(f"| {name} | {method} | {min(attribution):.3f}–{max(attribution):.3f} s | "
                            f"{min(whole):.3f}–{worst:.3f} s | {BUDGETS[method]:.0f} s | {'yes' if passed else '**no**'} |")
    print(f"CPU: {platform.processor() or platform.machine()}, torch threads: {args.threads}, "
          f"{args.repeats} repeats after a warm-up\n")
    print("| model | method | attribution | explain() with deletion curve | budget | within |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0 if ok else 1


def window_stalls() -> int:
    """Explain from the designer's tab; the longest GUI-thread gap per request (ms)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.update({"NETWRIGHT_NO_DIALOGS": "1", "NETWRIGHT_NO_AUTOSAVE_RESTORE": "1",
                       "NETWRIGHT_ENGINE_PREWARM": "0"})
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NETWRIGHT_RUNS_DIR"] = f"{tmp}/runs"
        os.environ["NETWRIGHT_SETTINGS_PATH"] = f"{tmp}/settings.ini"
        os.environ["NETWRIGHT_RECOVERY_DIR"] = f"{tmp}/recovery"
        graph = templates.build("lenet")
        result = train(graph, {"out": f"{tmp}/runs/lenet-1", "samples": False, **CASES["lenet"][1]})
        from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication

        from designer import MainWindow

        app = QApplication.instance() or QApplication([])
        window = MainWindow(graph)
        window.resize(1400, 900)
        window.show()
        tc = window.training
        tc.runs.refresh()
        tc.runs.select([result.run_dir])
        tab = tc.results.explain
        tc.results.setCurrentWidget(tab)
        app.processEvents()
        clock, gaps = QElapsedTimer(), []
        heartbeat = QTimer()
        heartbeat.setInterval(5)

        def beat() -> None:
            gaps.append((clock.restart(), time.perf_counter() - start))

        heartbeat.timeout.connect(beat)
        rows, worst_all, start = [], 0, time.perf_counter()
        for method in ("saliency", *[m for m in METHODS if m != "saliency"]):
            tab.answer = None
            tab.method.setCurrentIndex(tab.method.findData(method))
            gaps.clear()
            start = time.perf_counter()
            clock.start()
            heartbeat.start()
            tab.request()
            loop = QEventLoop()
            poll = QTimer()
            poll.timeout.connect(lambda loop=loop: tab.answer is not None and loop.quit())
            poll.start(20)
            QTimer.singleShot(180_000, loop.quit)
            loop.exec()
            poll.stop()
            heartbeat.stop()
            waited = time.perf_counter() - start
            worst, when = max(gaps) if gaps else (0, 0.0)
            worst_all = max(worst_all, worst)
            ok = tab.answer is not None and tab.answer.get("png") is not None
            rows.append(f"| {method} | {waited:.2f} s | {worst} ms at {when:.2f} s | {'figure' if ok else 'no answer'} |")
        window.document.undo_stack.setClean()
        window.close()
    print("lenet from the Explain tab (offscreen), click to figure, longest GUI-thread gap\n")
    print("| method | click to figure | longest gap | answer |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    return 0 if worst_all < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
