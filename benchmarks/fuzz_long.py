"""The fuzz suite's long profile: many mutated template files through validate, summary, codegen
and (for those that validate) one forward and backward pass, counting every failure instead of
stopping at the first.

Usage:
    .venv/bin/python benchmarks/fuzz_long.py [--cases 20000] [--seed 13] [--report FILE.json]

Prints a line of counts every 500 cases and, at the end, the totals: cases, loaded, validated,
ran, too large to run here, tracebacks, validated-but-crashing, other failures (with the first
examples of each). docs/reliability.md records a run. One torch thread: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.harness import RandomChooser, make_case, run_case, template_docs  # noqa: E402


def _kind(failure: str) -> str:
    if "traceback" in failure:
        return "tracebacks"
    if failure.startswith("validated but crashed"):
        return "validated_but_crashing"
    return "other_failures"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--report", help="write the counts and examples as JSON here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    docs = template_docs()
    rng = random.Random(args.seed)
    chooser = RandomChooser(rng)
    counts: Counter[str] = Counter()
    examples: dict[str, list] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1, args.cases + 1):
            case = make_case(chooser, docs)
            outcome = run_case(case, Path(tmp))
            counts["cases"] += 1
            for flag in ("loaded", "validated", "ran", "too_big"):
                counts[flag] += bool(getattr(outcome, flag))
            for failure in outcome.failures:
                kind = _kind(failure)
                counts[kind] += 1
                if len(examples.setdefault(kind, [])) < 25:
                    examples[kind].append({"case": k, "template": case.template, "steps": case.steps,
                                           "failure": failure})
            if k % 500 == 0 or k == args.cases:
                print(f"{k} cases, {time.perf_counter() - started:.0f} s: {dict(counts)}", flush=True)
                if args.report:
                    _write(args, counts, examples, started)
    _write(args, counts, examples, started)
    for kind, items in examples.items():
        print(f"{kind}:")
        for item in items[:10]:
            print(f"  case {item['case']} {item['template']} {item['steps']}: {item['failure']}")
    failed = counts["tracebacks"] + counts["validated_but_crashing"] + counts["other_failures"]
    return 1 if failed else 0


def _write(args: argparse.Namespace, counts: Counter, examples: dict, started: float) -> None:
    if args.report:
        Path(args.report).write_text(json.dumps({"seed": args.seed, "counts": dict(counts),
                                                 "seconds": round(time.perf_counter() - started),
                                                 "examples": examples}, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
