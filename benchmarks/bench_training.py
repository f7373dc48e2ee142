"""Training-step overhead: Netwright's engine against a plain hand-written loop, same module.

    .venv/bin/python benchmarks/bench_training.py [--steps 120] [--rounds 3] [--device cpu]
    .venv/bin/python benchmarks/bench_training.py --fast-mode --device cuda   # VGG-16, 224², batch 64

For each model, the same compiled module (same initial weights), the same data and the same
optimizer run (a) inside `training.train` with an event sink attached, as the designer and the
CLI use it, and (b) in the textbook loop: zero_grad, forward, loss, backward, step, loss.item().
Step time is the median interval between consecutive steps (epoch boundaries excluded, so
validation and checkpoints are not counted). Augmentation is off in both (lenet's template turns
it on; the textbook loop has none). Rounds alternate a/b side by side in one process,
and the reported ratio is engine / hand loop (1.00 = no overhead); timing on this VM varies, so
only the ratio measured side by side means anything.

`--fast-mode` is the GPU comparison from the training issue: VGG-16 at 3x224x224, batch 64, on
random data written to a temporary NPZ; images/s of a plain fp32 eager loop of the compiled
module against Netwright's defaults (bf16 autocast, channels_last, cudnn.benchmark) and against
the defaults plus torch.compile, in one run.
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


def engine_step_times(graph, steps: int, device: str, out: Path, extra: dict | None = None) -> list[float]:
    """Per-step times measured between the engine's reports.

    The engine reads losses back in reports of `steps` steps each (one step event per step,
    emitted together), so a report's first event marks when its steps were done.
    """
    reports: list[tuple[float, int, int]] = []  # (time, last step of the report, epoch)
    left = [0]

    def on_event(e):
        if e["type"] != "step":
            return
        if left[0] == 0:
            size = int(e.get("steps") or 1)
            reports.append((time.perf_counter(), e["step"] + size - 1, e["epoch"]))
            left[0] = size
        left[0] -= 1

    result = train(graph, {"out": str(out), "device": device, "max_steps": steps, "epochs": 1000,
                           "seed": 0, "samples": False, **(extra or {})}, on_event=on_event)
    if not result.ok:
        raise SystemExit(f"training failed: {result.error}")
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    # pairs within one epoch only: validation and checkpoints are not steps
    intervals = [(b[0] - a[0]) / (b[1] - a[1]) for a, b in zip(reports, reports[1:])
                 if b[2] == a[2] and b[1] > a[1]]
    return intervals[min(5, len(intervals) // 3):]  # skip warm-up (allocator, autotuning)


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


def fast_mode(device: str, image_size: int, batch: int, steps: int) -> None:
    """VGG-16 images/s: plain fp32 eager loop vs Netwright defaults vs defaults + compile."""
    import numpy as np

    graph = templates.build("vgg", depth=16, in_channels=3, input_size=image_size, num_classes=10)
    n = batch * 4
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
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--fast-mode", action="store_true", help="the VGG-16 GPU comparison instead")
    parser.add_argument("--image-size", type=int, default=224, help="for --fast-mode")
    parser.add_argument("--batch", type=int, default=64, help="for --fast-mode")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fast_mode:
        fast_mode(args.device, args.image_size, args.batch, args.steps)
        return 0
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.steps} steps x {args.rounds} rounds\n")
    print("| model | hand loop ms/step | Netwright ms/step | ratio |")
    print("|---|---|---|---|")
    for label, (name, data, params) in MODELS.items():
        graph = templates.build(name, **params)
        # the hand loop warps nothing: the engine does the same work (lenet's template augments)
        graph.training["augment"] = "none"
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
