"""pix2pix with its discriminator judging (input, output) pairs, as in Isola et al., against the
image-only discriminator the template had before (issue 15), both directions, same seed.

    .venv/bin/python benchmarks/bench_pix2pix_pairs.py                 # template defaults, 10 epochs
    .venv/bin/python benchmarks/bench_pix2pix_pairs.py -p epochs=3     # override a training key
    .venv/bin/python benchmarks/bench_pix2pix_pairs.py -t l1_weight=0 --only mask_to_image
                                                  # a template parameter: no L1, the adversary alone

Each run trains the `pix2pix` template at its defaults (shapes_seg 32×32, adam 2e-4, betas
0.5/0.999) on CPU with one torch thread. The "image only" variant is the same graph with the
Discriminator's `condition` wire removed (for image_to_mask also the block's split of the pair:
its Softmax then reads the class map alone, the earlier template). Reported: the generator head's
validation metric (val_mae of the painting for mask -> image, val_miou of the mask for
image -> mask) at the first and last epoch and at the best one — the epoch whose weights
best.safetensors keeps, since the run now monitors that metric rather than g_loss — and the
last epoch's held-out D(x) and D(G(z)). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import graph_core as gc  # noqa: E402
import templates  # noqa: E402
from training import train  # noqa: E402

SPLIT = ("d_image", "d_classes", "d_join")  # image_to_mask's split of the pair inside the block


def image_only(graph: gc.Graph) -> gc.Graph:
    """The graph with a discriminator that judges the sample alone (the condition unwired)."""
    g = gc.graph_from_dict(gc.graph_to_dict(graph))
    g.edges = [e for e in g.edges if e.dst != ("discriminator", "condition")]
    block = g.blocks["patchgan"]
    if "d_classes" in block.nodes:
        for nid in SPLIT:
            del block.nodes[nid]
        block.edges = [e for e in block.edges if e.src[0] not in SPLIT and e.dst[0] not in SPLIT]
        block.edges += [gc.Edge(("pair", "out"), ("d_probs", "in")), gc.Edge(("d_probs", "out"), ("d_conv1", "in"))]
    return g


def run(graph: gc.Graph, overrides: dict, metric: str) -> dict:
    start = time.process_time()
    with tempfile.TemporaryDirectory() as out:
        result = train(graph, {"device": "cpu", "out": out, "samples": False, "seed": 0, **overrides})
    if not result.ok:
        raise SystemExit(f"training failed: {result.error} {result.issues}")
    values = [row[metric] for row in result.history]
    pick = max if metric == "val_miou" else min
    best = pick(range(len(values)), key=values.__getitem__)
    last = result.history[-1]
    return {"first": values[0], "last": values[-1], "best": values[best], "best_epoch": best + 1,
            "epochs": len(values), "d_x": last.get("val_d_x", float("nan")),
            "d_g_z": last.get("val_d_g_z", float("nan")), "params": gc.summarize(graph).total_params,
            "cpu": time.process_time() - start}


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", action="append", default=[], metavar="KEY=VALUE", help="training override")
    parser.add_argument("-t", action="append", default=[], metavar="KEY=VALUE", help="template parameter")
    parser.add_argument("--only", choices=("mask_to_image", "image_to_mask"), help="one direction")
    args = parser.parse_args()
    overrides, params = _pairs(args.p), _pairs(args.t)
    torch.set_num_threads(1)
    print("| direction | discriminator judges | D parameters | epochs | metric first → last | best (epoch) "
          "| D(x) / D(G(z)) | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for direction, metric in (("mask_to_image", "val_mae"), ("image_to_mask", "val_miou")):
        if args.only and direction != args.only:
            continue
        paired = templates.build("pix2pix", direction=direction, **params)
        for label, graph in (("(input, output) pairs", paired), ("the output alone", image_only(paired))):
            torch.manual_seed(0)
            r = run(graph, overrides, metric)
            d_params = gc.infer_shapes(graph)["discriminator"].params
            print(f"| {direction} | {label} | {d_params:,} | {r['epochs']} | {metric} {r['first']:.3f} → "
                  f"{r['last']:.3f} | {r['best']:.3f} ({r['best_epoch']}) | {r['d_x']:.2f} / {r['d_g_z']:.2f} "
                  f"| {r['cpu']:.0f} |", flush=True)
    return 0


def _pairs(items: list[str]) -> dict:
    out: dict = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = int(value) if value.isdigit() else float(value)
    return out


if __name__ == "__main__":
    sys.exit(main())
