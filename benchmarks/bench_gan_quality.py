"""Do the GAN templates draw digits? A LeNet-style classifier trained on the same digits labels
the generator's samples.

    .venv/bin/python benchmarks/bench_gan_quality.py                  # gan and dcgan, defaults
    .venv/bin/python benchmarks/bench_gan_quality.py --only dcgan --threads 2
    .venv/bin/python benchmarks/bench_gan_quality.py -p epochs=10      # override a training key

For each template, at its template defaults (image size, epochs, optimizer), the graph is trained
with `training.train` on CPU; then 512 samples are drawn from the generator of the run's last
checkpoint and a classifier (two convolutions, two Dense layers; trained here on the digits at the
template's image size, its validation accuracy printed beside) labels them. Reported per template:
the classes covered (argmax labels seen at least 1 % of the time), the mean top-class confidence,
the mean pixel standard deviation across samples (near 0: every sample is the same image,
a collapse), the last epoch's D(x) and D(G(z)), and the training seconds: CPU seconds of this
process (with one torch thread, what the run costs on an idle core; the goal is judged on it)
and wall seconds (longer on a shared machine). The goal (issue 14): all
10 classes, mean confidence >= 0.8, each template within 2 minutes of CPU training. Prints a
Markdown table for docs/benchmarks.md; exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import templates  # noqa: E402
from codegen import compile_graph, load_weights  # noqa: E402
from training import train  # noqa: E402
from training.datasets import prepare  # noqa: E402

SAMPLES = 512
GOAL_CLASSES, GOAL_CONFIDENCE, GOAL_SECONDS = 10, 0.8, 120.0


def train_classifier(size: int, seed: int = 0) -> tuple[torch.nn.Module, float]:
    """A small CNN on the digits at `size`x`size` (the same [0, 1] scaling the GANs see).
    Returns the model and its validation accuracy."""
    torch.manual_seed(seed)
    data = prepare({"dataset": "digits", "image_size": size}, seed=seed)
    x_tr = torch.from_numpy(np.asarray(data.train.fields["image"], dtype=np.float32))
    y_tr = torch.from_numpy(np.asarray(data.train.fields["label"], dtype=np.int64))
    x_va = torch.from_numpy(np.asarray(data.val.fields["image"], dtype=np.float32))
    y_va = torch.from_numpy(np.asarray(data.val.fields["label"], dtype=np.int64))
    side = size // 4
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * side * side, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(30):
        order = torch.randperm(len(x_tr), generator=gen)
        for k in range(0, len(order), 64):
            idx = order[k:k + 64]
            # small shifts, so a digit drawn one pixel off is still read
            batch = torch.roll(x_tr[idx], shifts=tuple(torch.randint(-1, 2, (2,), generator=gen).tolist()),
                               dims=(2, 3))
            loss = torch.nn.functional.cross_entropy(net(batch), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        accuracy = float((net(x_va).argmax(1) == y_va).float().mean())
    return net, accuracy


def sample_generator(graph: Any, checkpoint: Path, n: int = SAMPLES, seed: int = 123) -> torch.Tensor:
    """`n` samples of the trained generator, in [0, 1]."""
    model = compile_graph(graph)
    load_weights(model, checkpoint)
    model.eval()
    z = torch.randn(n, *model.latent_shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        fake = model.generator(z).float()
    if fake.min() < -0.01:  # a tanh generator: [-1, 1] -> [0, 1]
        fake = (fake + 1) / 2
    return fake.clamp(0, 1)


def judge(classifier: torch.nn.Module, fake: torch.Tensor) -> dict[str, Any]:
    with torch.no_grad():
        probs = torch.softmax(classifier(fake), dim=1)
    top, label = probs.max(dim=1)
    counts = np.bincount(label.numpy(), minlength=10)
    covered = int((counts >= 0.01 * len(fake)).sum())
    return {"classes": covered, "confidence": float(top.mean()), "counts": counts.tolist(),
            "spread": float(fake.std(dim=0).mean())}


def run_template(name: str, overrides: dict[str, Any], out: Path, seed: int) -> dict[str, Any]:
    graph = templates.build(name)
    size = int(graph.data.get("image_size", 8))
    times: dict[str, float] = {}

    def on_event(e: dict[str, Any]) -> None:
        if e["type"] == "step" and "first" not in times:
            times["first"], times["cpu_first"] = time.perf_counter(), time.process_time()
        if e["type"] == "epoch":
            times["last"], times["cpu_last"] = time.perf_counter(), time.process_time()

    run_dir = out / name
    result = train(graph, {"out": str(run_dir), "device": "cpu", "seed": seed, **overrides}, on_event=on_event)
    if not result.ok:
        raise SystemExit(f"{name}: training failed: {result.error}")
    fake = sample_generator(graph, run_dir / "last.safetensors")
    classifier, accuracy = train_classifier(max(size, 8))
    verdict = judge(classifier, fake)
    last = result.history[-1] if result.history else {}
    return {"template": name, "size": size, "epochs": result.epochs,
            "train_seconds": times.get("last", 0) - times.get("first", 0),
            "cpu_seconds": times.get("cpu_last", 0) - times.get("cpu_first", 0),
            "classifier_accuracy": accuracy, "d_x": last.get("d_x", last.get("val_d_x")),
            "d_g_z": last.get("d_g_z", last.get("val_d_g_z")), **verdict}


def passed(row: dict[str, Any]) -> bool:
    return (row["classes"] >= GOAL_CLASSES and row["confidence"] >= GOAL_CONFIDENCE
            and row["cpu_seconds"] <= GOAL_SECONDS)


def markdown(rows: list[dict[str, Any]], threads: int, overrides: dict[str, Any]) -> str:
    def num(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, float) else "–"

    lines = [f"CPU ({platform.processor() or platform.machine()}), {threads} torch threads. Command: "
             f"`.venv/bin/python benchmarks/bench_gan_quality.py --threads {threads}`"
             + (f" with {overrides}" if overrides else ""), "",
             "| template | image | epochs | training CPU s (wall s) | classes covered | mean confidence | "
             "pixel spread | D(x) / D(G(z)) last epoch | classifier val acc | goal met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['template']} | {r['size']}x{r['size']} | {r['epochs']} | "
                     f"{r['cpu_seconds']:.0f} ({r['train_seconds']:.0f}) | "
                     f"{r['classes']}/10 {r['counts']} | {r['confidence']:.3f} | {r['spread']:.3f} | "
                     f"{num(r['d_x'])} / {num(r['d_g_z'])} | {r['classifier_accuracy']:.3f} | "
                     f"{'yes' if passed(r) else 'NO'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("gan", "dcgan"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-p", action="append", default=[], help="training override key=value")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    overrides: dict[str, Any] = {}
    for item in args.p:
        key, _, value = item.partition("=")
        overrides[key] = float(value) if "." in value else int(value) if value.isdigit() else value
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in [args.only] if args.only else ["gan", "dcgan"]:
            rows.append(run_template(name, overrides, Path(tmp), args.seed))
            print(rows[-1], flush=True)
    print(markdown(rows, args.threads, overrides))
    return 0 if all(passed(r) for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
