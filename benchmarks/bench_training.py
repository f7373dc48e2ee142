"""Training-step overhead: Netwright's engine against a plain hand-written loop, same module.

    .venv/bin/python benchmarks/bench_training.py [--steps 1500] [--rounds 5] [--threads 1] [--device cpu]
    .venv/bin/python benchmarks/bench_training.py --fast-mode --device cuda   # VGG-16, 224², batch 64

For each model, the same compiled module (same initial weights) and the same data run (a) inside
`training.train` with an event sink attached, as the designer and the CLI use it, (b) in the
textbook loop with the engine's optimizer (Adam with fused=True, one vectorised kernel for the
update): zero_grad, forward, loss, backward, step, loss.item(), and (c) in the same textbook loop
with torch's default Adam, as a user would write it. (a)/(b) is the engine's own cost per step,
the figure the budget is about; (a)/(c) is what a user sees against their own loop.
Augmentation is off in all three (lenet's template turns it on; the textbook loop has none).

A round runs (a), (b), (c), side by side; rounds repeat, and each ratio is taken
per round (1.00 = no overhead), so a neighbour's load that comes and goes hits both sides of a
ratio alike. Per step is the median over spans inside epochs, warm-up (the first WARMUP_STEPS)
and epoch boundaries (validation, checkpoints) left out: an engine span runs from one loss
report to the next within an epoch (a report carries the steps since the last, and its host read
and events are inside the span); the hand loop's spans are blocks of as many steps. Both
wall time and this process's CPU time are taken; on a shared machine CPU time is the steadier
figure at 1 thread (a neighbour's load stretches wall time, not the CPU time a step needs), and
at 2 threads OpenMP's spinning makes CPU time mean little, so wall time is the figure there.
The mlp trains on 40,000 moons (1,000 steps an epoch) so that its epochs hold several reports:
outside torchrun the engine reports at most every 50 ms (engine.REPORT_MIN_SECONDS).

`--fast-mode` is the GPU comparison from the training issue: VGG-16 at 3x224x224, batch 64, on
random data written to a temporary NPZ; images/s of a plain fp32 eager loop of the compiled
module against Netwright's defaults (bf16 autocast, channels_last, cudnn.benchmark) and against
the defaults plus torch.compile, in one run.
"""

from __future__ import annotations

import argparse
import os
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

MODELS = {"mlp (moons 40,000, batch 32)": ("mlp", {"dataset": "moons", "n_samples": 40000}, {}),
          "lenet (digits 28x28, batch 32)": ("lenet", None, {})}
WARMUP_STEPS = 20
STEPS_PER_FAST_EPOCH = 25


def engine_step_times(graph, steps: int, device: str, out: Path, extra: dict | None = None) -> list[float]:
    """Per-step times measured between the engine's reports (for --fast-mode)."""
    return [wall / n for wall, _, n in engine_spans(graph, steps, device, out, extra)]


def engine_spans(graph, steps: int, device: str, out: Path,
                 extra: dict | None = None) -> list[tuple[float, float, int]]:
    """(wall seconds, CPU seconds, steps) of each span between two loss reports in one epoch.

    The engine reads losses back in reports of several steps (one step event per step, emitted
    together), so a report's first event marks when its steps were done.
    """
    reports: list[tuple[float, float, int, int]] = []  # (wall, cpu, last step of the report, epoch)
    left = [0]

    def on_event(e):
        if e["type"] != "step":
            return
        if left[0] == 0:
            size = int(e.get("steps") or 1)
            reports.append((time.perf_counter(), time.process_time(), e["step"] + size - 1, e["epoch"]))
            left[0] = size
        left[0] -= 1

    result = train(graph, {"out": str(out), "device": device, "max_steps": steps, "epochs": 1000,
                           "seed": 0, "samples": False, **(extra or {})}, on_event=on_event)
    if not result.ok:
        raise SystemExit(f"training failed: {result.error}")
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    # spans within one epoch only (validation and checkpoints are not steps), after the warm-up
    return [(b[0] - a[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(reports, reports[1:])
            if b[3] == a[3] and b[2] > a[2] and a[2] >= WARMUP_STEPS]


def hand_loop_spans(graph, steps: int, device: str, block: int = 1,
                    fused: bool | None = None) -> list[tuple[float, float, int]]:
    """(wall seconds, CPU seconds, steps) of the textbook loop's blocks of `block` steps inside
    epochs (the engine's report interval), after the warm-up; `fused=True` gives it the
    engine's optimizer (torch's fused Adam) instead of the default one."""
    c = graph.training
    data = prepare(graph.data, seed=0)
    head = next(graph.nodes_of_type("Output"))
    field = next(graph.nodes_of_type("Input")).params.get("field") or next(graph.nodes_of_type("Input")).id
    target = head.params.get("target", "label")
    x_all = torch.from_numpy(data.train.fields[field]).float()
    y_all = torch.from_numpy(data.train.fields[target]).long()
    torch.manual_seed(0)
    model = codegen.compile_graph(graph).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=c.get("lr", 1e-3), fused=fused)
    bs = c.get("batch_size", 64)
    per_epoch = len(x_all) // bs
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(x_all), generator=g)
    spans, mark = [], (time.perf_counter(), time.process_time(), 0)
    for i in range(steps):
        start = (i % per_epoch) * bs
        idx = order[start:start + bs]
        x, y = x_all[idx].to(device), y_all[idx].to(device)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        done = i + 1
        if done % per_epoch == 0 or done - mark[2] == block:
            now = (time.perf_counter(), time.process_time(), done)
            if mark[2] >= WARMUP_STEPS:
                spans.append((now[0] - mark[0], now[1] - mark[1], done - mark[2]))
            mark = now
    return spans


def per_step(spans: list[tuple[float, float, int]]) -> tuple[float, float]:
    """(wall, CPU) seconds per step: the median over the spans (a neighbour's burst of load
    lengthens a few spans, not the median)."""
    return (statistics.median(w / n for w, _, n in spans), statistics.median(c / n for _, c, n in spans))


def fast_mode(device: str, image_size: int, batch: int, steps: int) -> None:
    """VGG-16 images/s: plain fp32 eager loop vs Netwright defaults vs defaults + compile."""
    import numpy as np

    graph = templates.build("vgg", depth=16, in_channels=3, input_size=image_size, num_classes=10)
    # Epochs of STEPS_PER_FAST_EPOCH steps: spans are measured inside an epoch, and each epoch ends
    # in a checkpoint (VGG-16 with its optimizer state is 1.6 GB), so short epochs would time it
    # writing files rather than stepping.
    n = batch * STEPS_PER_FAST_EPOCH
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.npz"
        np.savez(path, image=rng.standard_normal((n, 3, image_size, image_size), dtype=np.float32),
                 label=np.arange(n) % 10)
        graph.data = {"dataset": str(path), "val_fraction": 0.0, "normalize": False}
        graph.training = {"optimizer": "sgd", "lr": 0.01, "batch_size": batch}
        x = torch.from_numpy(np.load(path)["image"][:batch]).to(device)
        y = torch.from_numpy(np.load(path)["label"][:batch]).to(device)
        torch.manual_seed(0)
        model = codegen.compile_graph(graph).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        stamps = []
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            stamps.append(time.perf_counter())
        del model, opt
        plain = batch / statistics.median(np.diff(stamps[2:]))
        rows = [("plain fp32 eager loop", plain)]
        for label, extra in (("Netwright defaults", {}), ("Netwright defaults + torch.compile", {"compile": True})):
            times = engine_step_times(graph, steps, device, Path(tmp) / label.replace(" ", "_"), extra)
            rows.append((label, batch / statistics.median(times)))
    print(f"VGG-16, 3x{image_size}x{image_size}, batch {batch}, {device}:\n")
    print("| loop | images/s | vs plain fp32 |")
    print("|---|---|---|")
    for label, rate in rows:
        print(f"| {label} | {rate:,.0f} | {rate / plain:.2f}x |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="1500 (120 with --fast-mode)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--fast-mode", action="store_true", help="the VGG-16 GPU comparison instead")
    parser.add_argument("--image-size", type=int, default=224, help="for --fast-mode")
    parser.add_argument("--batch", type=int, default=64, help="for --fast-mode")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fast_mode:
        fast_mode(args.device, args.image_size, args.batch, args.steps or 120)
        return 0
    args.steps = args.steps or 1500
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.steps} steps x {args.rounds} rounds (engine then hand loop, side by side), "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| model | textbook loop ms/step | same loop, fused Adam | Netwright ms/step "
          "| Netwright / same loop (wall), median [range] | (CPU time), median [range] "
          "| Netwright / textbook loop (wall) |")
    print("|---|---|---|---|---|---|---|")
    for label, (name, data, params) in MODELS.items():
        graph = templates.build(name, **params)
        # the hand loop warps nothing: the engine does the same work (lenet's template augments)
        graph.training["augment"] = "none"
        if data:
            graph.data = data
        textbook, hand, engine = [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                spans = engine_spans(graph, args.steps, args.device, Path(tmp) / str(r))
                block = int(statistics.median(n for *_, n in spans))  # the engine's report interval
                hand.append(per_step(hand_loop_spans(graph, args.steps, args.device, block, fused=True)))
                textbook.append(per_step(hand_loop_spans(graph, args.steps, args.device, block)))
                engine.append(per_step(spans))
        med = statistics.median
        wall = [e[0] / h[0] for h, e in zip(hand, engine)]
        cpu = [e[1] / h[1] for h, e in zip(hand, engine)]
        plain = [e[0] / t[0] for t, e in zip(textbook, engine)]
        print(f"| {label} | {med(t[0] for t in textbook) * 1e3:.3f} | {med(h[0] for h in hand) * 1e3:.3f} "
              f"| {med(e[0] for e in engine) * 1e3:.3f} "
              f"| {med(wall):.3f} [{min(wall):.2f}–{max(wall):.2f}] "
              f"| {med(cpu):.3f} [{min(cpu):.2f}–{max(cpu):.2f}] "
              f"| {med(plain):.2f} [{min(plain):.2f}–{max(plain):.2f}] |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
