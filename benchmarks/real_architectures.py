"""Real architectures at a CPU-sized scale: resnet, mobilenet_v2, unet and pix2pix (both
directions) trained briefly on built-in data, to show each learns (the exact ImageNet-size networks are checked by counting in
tests/templates/test_templates_torchvision.py and tests/graph_core/test_cost.py).

    .venv/bin/python benchmarks/real_architectures.py            # prints a Markdown table
    .venv/bin/python benchmarks/real_architectures.py pix2pix    # only the templates named

One thread, a few epochs each: a record of what learning looks like at this size, not a bar.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import graph_core as gc  # noqa: E402
import templates  # noqa: E402
from training import train  # noqa: E402

CASES = [
    ("resnet", {"depth": 18, "base_width": 16}, {"epochs": 3}),
    ("mobilenet_v2", {"width_mult": 0.5}, {"epochs": 3}),
    ("unet", {"variant": "padded", "depth": 2, "base_channels": 16}, {"epochs": 3}),
    ("unet", {"variant": "valid", "depth": 2, "base_channels": 16}, {"epochs": 3}),
    ("pix2pix", {"direction": "mask_to_image"}, {"epochs": 10}),
    ("pix2pix", {"direction": "image_to_mask"}, {"epochs": 10}),
]


def _metric(name: str, params: dict) -> str:
    """The validation metric to follow: IoU for segmentations, the L1 head's error for pix2pix's
    painting (the GAN regime reports the metrics of the generator's heads)."""
    if name == "unet" or params.get("direction") == "image_to_mask":
        return "val_miou"
    return "val_mae" if name == "pix2pix" else "val_accuracy"


def main() -> int:
    import torch

    torch.set_num_threads(1)
    print("| template | params | parameters | MACs / sample | epochs | first → last val metric | seconds |")
    print("|---|---|---|---|---|---|---|")
    only = set(sys.argv[1:])
    for name, params, overrides in CASES:
        if only and name not in only:
            continue
        graph = templates.build(name, **params)
        summary = gc.summarize(graph)
        metric = _metric(name, params)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            result = train(graph, {"device": "cpu", "out": out, "samples": False, **overrides})
        seconds = time.perf_counter() - start
        if not result.ok:
            print(f"| {name} | {params} | failed: {result.error} |")
            continue
        first, last = result.history[0][metric], result.history[-1][metric]
        text = ", ".join(f"{k}={v}" for k, v in params.items())
        print(f"| {name} | {text} | {summary.total_params:,} | {gc.cost.format_macs(summary.total_macs)} | "
              f"{result.epochs} | {metric} {first:.3f} → {last:.3f} | {seconds:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
