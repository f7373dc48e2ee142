"""Cost of one explanation: one sample of lenet and of dna_cnn, per method, on this CPU.

    .venv/bin/python benchmarks/bench_explain.py            # prints a Markdown table
    .venv/bin/python benchmarks/bench_explain.py --threads 2

Budgets (DESIGN.md): saliency, Integrated Gradients and Grad-CAM under 2 s; LIME and occlusion
under 10 s. Each model is trained briefly first (the cost of an explanation does not depend on
how well the model learned); then each method explains one validation sample `--repeats` times
after one warm-up call (the first call of a method imports Captum's modules). The time is the
attribution alone (`Explanation.seconds`) and, beside it, the whole `explain` call with the
deletion curve (126 forward passes in one batch). Exits 1 if a budget is missed.
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
