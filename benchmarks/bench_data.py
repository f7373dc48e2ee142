"""Data throughput: images/s over an epoch of a 224x224 image folder, Netwright vs the textbook loop.

    .venv/bin/python benchmarks/bench_data.py [--images 768] [--rounds 2] [--device cpu] [--threads 1]

A folder of generated JPEG photos (two classes, 224x224, smooth colour fields with noise so
they compress like photographs) is trained on for two epochs in two ways, side by side in one
process, with the same compiled module (same initial weights) and the same optimizer:

(a) Netwright: `training.train` on {"dataset": folder, "stream": "on", "workers": 2}: the folder
    streamed, batches decoded in 2 DataLoader workers and handed over as uint8;
(b) the textbook loop: a torch `Dataset` whose `__getitem__` opens one file with PIL and returns
    a float tensor in [0, 1] (what torchvision's ToTensor does), `DataLoader(batch_size=64,
    shuffle=True, num_workers=2)`, and zero_grad / forward / loss / backward / step / loss.item().

The figure is images/s over the second epoch (the first includes starting the workers): the
engine's own epoch throughput for (a), the epoch's images over its wall time for (b). Rounds
alternate a/b; the ratio is Netwright / textbook (>= 1.0: at least as fast).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import codegen  # noqa: E402
from graph_core import Edge, Graph, Node  # noqa: E402
from training import train  # noqa: E402

SIDE = 224
BATCH = 64


def small_cnn() -> Graph:
    """A small image classifier: the work per image is the data path's, not the model's."""
    g = Graph(name="small_cnn")
    layers = [("image", "Input", {"shape": [3, SIDE, SIDE]}),
              ("conv1", "Conv2d", {"out_channels": 16, "kernel_size": 7, "stride": 4, "padding": 3}),
              ("act1", "ReLU", {}),
              ("conv2", "Conv2d", {"out_channels": 32, "kernel_size": 3, "stride": 2, "padding": 1}),
              ("act2", "ReLU", {}),
              ("pool", "GlobalAvgPool", {}),
              ("logits", "Dense", {"out_features": 2}),
              ("head", "Output", {"loss": "cross_entropy", "target": "label"})]
    for nid, kind, params in layers:
        g.nodes[nid] = Node(nid, kind, params)
    for (a, *_), (b, *_) in zip(layers, layers[1:]):
        g.edges.append(Edge((a, "out"), (b, "in")))
    g.training = {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "batch_size": BATCH, "epochs": 2,
                  "augment": "none"}
    return g


def write_folder(root: Path, count: int) -> Path:
    """`count` JPEG photos, half per class, 224x224."""
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
    for i in range(count):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        phase = rng.random(3) * 6.28
        field = np.stack([np.sin(6 * xx + phase[c]) * np.cos(4 * yy - phase[c]) for c in range(3)], -1)
        pixels = 127 + 100 * field + rng.normal(0, 12, field.shape)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / f"{i:05d}.jpg", quality=90)
    return root


class TextbookFolder(torch.utils.data.Dataset):
    """torchvision's ImageFolder + ToTensor, written out: one PIL decode per item."""

    def __init__(self, root: Path) -> None:
        classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        self.items = [(f, k) for k, c in enumerate(classes) for f in sorted((root / c).iterdir())]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        path, label = self.items[i]
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        return torch.from_numpy(array).permute(2, 0, 1).contiguous(), label


def textbook_rate(graph: Graph, folder: Path, device: str) -> float:
    """Images/s over the second epoch of the plain Dataset + PIL + DataLoader loop."""
    torch.manual_seed(0)
    model = codegen.compile_graph(graph).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = torch.utils.data.DataLoader(TextbookFolder(folder), batch_size=BATCH, shuffle=True,
                                         num_workers=2, pin_memory=device.startswith("cuda"))
    rate = 0.0
    for _ in range(2):
        start, seen = time.perf_counter(), 0
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss.item()
            seen += len(y)
        rate = seen / (time.perf_counter() - start)
    return rate


def netwright_rate(graph: Graph, folder: Path, device: str, out: Path) -> float:
    """Images/s over the second epoch, as the engine reports it (training steps only)."""
    graph.data = {"dataset": str(folder), "stream": "on", "workers": 2, "val_fraction": 0.05}
    result = train(graph, {"out": str(out), "device": device, "seed": 0, "samples": False})
    if not result.ok:
        raise SystemExit(f"training failed: {result.error}")
    return float(result.history[-1]["throughput"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=768)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the training process")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    graph = small_cnn()
    mine, plain = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(Path(tmp) / "photos", args.images)
        for r in range(args.rounds):
            plain.append(textbook_rate(graph, folder, args.device))
            mine.append(netwright_rate(graph, folder, args.device, Path(tmp) / f"run{r}"))
    p, m = statistics.median(plain), statistics.median(mine)
    print(f"{args.images} JPEG images 3x{SIDE}x{SIDE}, batch {BATCH}, 2 workers each, device "
          f"{args.device}, {torch.get_num_threads()} torch threads, {args.rounds} rounds\n")
    print("| loop | images/s (2nd epoch) | ratio |")
    print("|---|---|---|")
    print(f"| textbook: Dataset + PIL + DataLoader(num_workers=2) | {p:,.0f} | 1.00 |")
    print(f"| Netwright (streamed folder, 2 workers) | {m:,.0f} | {m / p:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
