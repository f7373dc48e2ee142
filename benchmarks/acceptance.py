"""Acceptance runs for the training engine: each course template trained on its built-in data.

    .venv/bin/python benchmarks/acceptance.py                 # all cases, CPU
    .venv/bin/python benchmarks/acceptance.py --only lenet    # one case
    .venv/bin/python benchmarks/acceptance.py --device cuda   # where a GPU is present

Each case trains the template's graph with the template's own training settings (overrides, if
any, are listed in the table and in CASES) and checks the bar from the training issue. Prints a
Markdown table for docs/benchmarks.md and exits 1 if a bar is missed. Training seconds count
only the steps and validation passes (from the first step to the last epoch), not imports.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import templates  # noqa: E402
from training import RunResult, train  # noqa: E402


@dataclass
class Case:
    """One acceptance case: a template, settings that differ from its defaults, and the bar."""

    template: str
    bar: str
    check: Callable[[RunResult, dict[str, Any]], bool]
    overrides: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)


def _lenet(r: RunResult, x: dict) -> bool:
    return (x["first_val_accuracy"] >= 0.97 and x["mean_val_accuracy"] >= 0.97
            and x["max_train_seconds"] < 60)


def _vae(r: RunResult, x: dict) -> bool:
    recon = [row["val_reconstruction"] for row in r.history]
    return recon[-1] < recon[0] and r.final.get("kl", 0) > 0


def _dcgan(r: RunResult, x: dict) -> bool:
    finite = all(math.isfinite(row["val_d_loss"]) and math.isfinite(row["val_g_loss"]) for row in r.history)
    return finite and r.epochs == 5 and x["sample_grids"] == 5


def _translator(r: RunResult, x: dict) -> bool:
    reached = x.get("seconds_to_exact_match")
    return r.final.get("val_exact_match", 0) >= 0.95 and reached is not None and reached < 180


CASES = [
    # The seed also draws the validation split, so the default seed alone could pass on a
    # lucky split: seed 0 must reach the bar and so must the mean of seeds 0-4 (each reported),
    # with the template's own defaults (Adam, lr 0.002, batch 32, cosine, augment affine).
    Case("lenet", "seed 0 and the mean of seeds 0-4: val accuracy >= 0.97, each < 60 s of training",
         _lenet, {}, seeds=(0, 1, 2, 3, 4)),
    Case("vae", "reconstruction falls, KL > 0", _vae),
    Case("dcgan", "d_loss and g_loss finite over 5 epochs, 5 sample grids", _dcgan, {"epochs": 5}),
    Case("segnet", "val mean IoU >= 0.8", lambda r, x: r.final.get("val_miou", 0) >= 0.8),
    Case("dna_cnn", "val accuracy >= 0.95", lambda r, x: r.final.get("val_accuracy", 0) >= 0.95),
    Case("timeseries_gaf", "val accuracy >= 0.90", lambda r, x: r.final.get("val_accuracy", 0) >= 0.90),
    # Sequence models (issue 16): held-out sentences of translation_synth, decoded greedily.
    Case("seq2seq", "val exact match >= 0.95 (greedy decoding), reached within 180 s of training", _translator),
    Case("transformer", "val exact match >= 0.95 (greedy decoding), reached within 180 s of training",
         _translator),
    Case("rnn_classifier", "val accuracy >= 0.95", lambda r, x: r.final.get("val_accuracy", 0) >= 0.95),
    # tokens_synth with segments (the segment ids are fixed halves and carry no label): the class
    # is set by 1-3 marker tokens at random places, and the classifier reads position 0 only,
    # so only attention that carries the markers to that position gets above chance.
    Case("bert_tiny", "val accuracy >= 0.90", lambda r, x: r.final.get("val_accuracy", 0) >= 0.90),
]


def run_case(case: Case, device: str, out: Path) -> dict[str, Any]:
    """Train one case (once per seed) and return its row of figures."""
    runs = [_run_seed(case, device, out, seed) for seed in case.seeds]
    result, extra, graph, wall = runs[-1]
    accuracies = [r.final.get("val_accuracy", 0) for r, *_ in runs]
    extra["first_val_accuracy"] = accuracies[0]
    extra["mean_val_accuracy"] = sum(accuracies) / len(runs)
    extra["min_val_accuracy"] = min(accuracies)
    extra["max_train_seconds"] = max(x["train_seconds"] for _, x, *_ in runs)
    passed = all(r.ok for r, *_ in runs) and case.check(result, extra)
    per_seed = [{"seed": seed, "val_accuracy": r.final.get("val_accuracy"),
                 "train_seconds": round(x["train_seconds"], 1)} for seed, (r, x, *_) in zip(case.seeds, runs)]
    return {"template": case.template, "data": graph.data, "bar": case.bar, "passed": passed,
            "status": result.status, "error": result.error, "final": result.final,
            "epochs": result.epochs, "train_seconds": round(extra["max_train_seconds"], 1),
            "wall_seconds": round(sum(w for *_, w in runs), 1), "overrides": case.overrides,
            "sample_grids": extra["sample_grids"], "first_val": result.history[0] if result.history else {},
            "seconds_to_exact_match": extra.get("seconds_to_exact_match"),
            "cpu_seconds": round(max(x["cpu_seconds"] for _, x, *_ in runs), 1),
            "cpu_seconds_to_exact_match": extra.get("cpu_seconds_to_exact_match"),
            "seeds": per_seed if len(runs) > 1 else None,
            "mean_val_accuracy": extra["mean_val_accuracy"] if len(runs) > 1 else None,
            "min_val_accuracy": extra["min_val_accuracy"] if len(runs) > 1 else None}


def _run_seed(case: Case, device: str, out: Path, seed: int) -> tuple[RunResult, dict, Any, float]:
    graph = templates.build(case.template)
    times: dict[str, float] = {}

    def on_event(e: dict[str, Any]) -> None:
        if e["type"] == "step" and "first" not in times:
            times["first"], times["first_cpu"] = time.perf_counter(), time.process_time()
        if e["type"] == "epoch":
            times["last"], times["last_cpu"] = time.perf_counter(), time.process_time()
            if e["metrics"].get("exact_match", 0) >= 0.95 and "bar" not in times:
                times["bar"], times["bar_cpu"] = times["last"], times["last_cpu"]

    run_dir = out / f"{case.template}-seed{seed}"
    started = time.perf_counter()
    result = train(graph, {"out": str(run_dir), "device": device, "seed": seed, **case.overrides},
                   on_event=on_event)
    wall = time.perf_counter() - started
    samples = run_dir / "samples"
    extra = {"train_seconds": times.get("last", 0) - times.get("first", 0),
             "cpu_seconds": times.get("last_cpu", 0) - times.get("first_cpu", 0),
             "seconds_to_exact_match": times["bar"] - times["first"] if "bar" in times else None,
             "cpu_seconds_to_exact_match": times["bar_cpu"] - times["first_cpu"] if "bar" in times else None,
             "sample_grids": len(list(samples.glob("*.png"))) if samples.exists() else 0}
    return result, extra, graph, wall


def markdown(rows: list[dict[str, Any]], device: str) -> str:
    import torch

    lines = [f"Device: {device} ({platform.processor() or platform.machine()}), "
             f"{torch.get_num_threads()} torch threads. Command: `.venv/bin/python benchmarks/acceptance.py`",
             "", "| template | data | bar | result | epochs | training s | process CPU s | pass |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f = r["final"]
        figures = ", ".join(f"{k} {v:.4f}" for k, v in f.items()
                            if k not in ("epochs", "seconds") and isinstance(v, float))
        if r["template"] == "vae" and r["first_val"]:
            figures += f" (reconstruction after epoch 1: {r['first_val'].get('val_reconstruction', 0):.4f})"
        if r["sample_grids"]:
            figures += f", {r['sample_grids']} sample grids"
        if r.get("seconds_to_exact_match") is not None:
            figures += (f"; exact match >= 0.95 after {r['seconds_to_exact_match']:.0f} s of training "
                        f"({r['cpu_seconds_to_exact_match']:.0f} process CPU s)")
        if r.get("seeds"):
            each = ", ".join(f"seed {s['seed']}: {s['val_accuracy']:.4f} in {s['train_seconds']} s"
                             for s in r["seeds"])
            figures = (f"mean val_accuracy {r['mean_val_accuracy']:.4f}, "
                       f"min {r['min_val_accuracy']:.4f} ({each})")
        data = r["data"].get("dataset")
        over = f" (with {json.dumps(r['overrides'])})" if r["overrides"] else ""
        lines.append(f"| {r['template']}{over} | {data} | {r['bar']} | {figures or r['error']} | "
                     f"{r['epochs']} | {r['train_seconds']} | {r['cpu_seconds']} | {'yes' if r['passed'] else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only these templates")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", help="keep the run directories here (default: a temporary folder)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not args.only or c.template in args.only]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        rows = []
        for case in cases:
            row = run_case(case, args.device, out)
            print(f"{row['template']}: {'pass' if row['passed'] else 'FAIL'} {row['final']} "
                  f"(training {row['train_seconds']} s)", file=sys.stderr, flush=True)
            rows.append(row)
    print(markdown(rows, args.device))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
