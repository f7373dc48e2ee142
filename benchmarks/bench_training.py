"""Training-step overhead: Netwright's engine against a plain hand-written loop, same module.

    .venv/bin/python benchmarks/bench_training.py [--steps 120] [--rounds 3] [--device cpu]

For each model, the same compiled module (same initial weights), the same data and the same
optimizer run (a) inside `training.train` with an event sink attached, as the designer and the
CLI use it, and (b) in the textbook loop: zero_grad, forward, loss, backward, step, loss.item().
Step time is the median interval between consecutive steps (epoch boundaries excluded, so
validation and checkpoints are not counted). Rounds alternate a/b side by side in one process,
and the reported ratio is engine / hand loop (1.00 = no overhead); timing on this VM varies, so
only the ratio measured side by side means anything.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import codegen  # noqa: E402
import templates  # noqa: E402
from training import prepare, train  # noqa: E402

MODELS = {"mlp (moons, batch 32)": ("mlp", None, {}),
          "lenet (digits 28x28, batch 64)": ("lenet", None, {})}


def engine_step_times(graph, steps: int, device: str, out: Path) -> list[float]:
    """Per-step intervals measured between the engine's step events."""
    stamps: list[tuple[float, int]] = []

    def on_event(e):
        if e["type"] == "step":
            stamps.append((time.perf_counter(), e["epoch_step"]))

    train(graph, {"out": str(out), "device": device, "max_steps": steps, "epochs": 1000, "seed": 0,
                  "samples": False}, on_event=on_event)
    return [b[0] - a[0] for a, b in zip(stamps, stamps[1:]) if b[1] != 1][5:]


def hand_loop_step_times(graph, steps: int, device: str) -> list[float]:
    """The textbook loop over the same data, model and optimizer settings."""
    c = graph.training
    data = prepare(graph.data, seed=0)
    head = next(graph.nodes_of_type("Output"))
    field = next(graph.nodes_of_type("Input")).params.get("field") or next(graph.nodes_of_type("Input")).id
    target = head.params.get("target", "label")
    x_all = torch.from_numpy(data.train.fields[field]).float()
    y_all = torch.from_numpy(data.train.fields[target]).long()
    torch.manual_seed(0)
    model = codegen.compile_graph(graph).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=c.get("lr", 1e-3))
    bs = c.get("batch_size", 64)
    times, g = [], torch.Generator().manual_seed(0)
    order = torch.randperm(len(x_all), generator=g)
    t_prev = None
    for i in range(steps):
        start = (i * bs) % (len(order) - bs)
        idx = order[start:start + bs]
        x, y = x_all[idx].to(device), y_all[idx].to(device)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        now = time.perf_counter()
        if t_prev is not None:
            times.append(now - t_prev)
        t_prev = now
    return times[5:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.steps} steps x {args.rounds} rounds\n")
    print("| model | hand loop ms/step | Netwright ms/step | ratio |")
    print("|---|---|---|---|")
    for label, (name, data, params) in MODELS.items():
        graph = templates.build(name, **params)
        if data:
            graph.data = data
        engine, hand = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                hand += hand_loop_step_times(graph, args.steps, args.device)
                engine += engine_step_times(graph, args.steps, args.device, Path(tmp) / str(r))
        h, e = statistics.median(hand) * 1e3, statistics.median(engine) * 1e3
        print(f"| {label} | {h:.3f} | {e:.3f} | {e / h:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
