"""`netwright explain`: why did a trained run decide as it did, for one sample?

Loads FILE's network with the weights of RUN_DIR (best, else last), takes a validation sample
(`--sample N`, the same split as training) or a file (`--input PATH`), and writes a PNG: the
attribution in the input's own terms (image heatmap, DNA sequence logo, GAF image and the
series under it, feature bars) beside its deletion curve. `--json` prints the figures (class,
probability, deletion areas, the motif's share for DNA) as one JSON line.
Exit codes: 0 written, 1 the run/sample/options cannot be explained, 2 the file is unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

METHOD_CHOICES = ("saliency", "integrated_gradients", "gradcam", "occlusion", "lime")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain", help="explain one decision of a trained run (saliency, IG, Grad-CAM, occlusion, LIME)",
        description="Attribute one sample's class score to its input with Captum and draw it in the "
                    "input's own terms, beside the deletion curve that says how faithful it is.")
    p.add_argument("file", help="the .json graph file the run was trained from")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="the run directory (its weights are used)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--sample", type=int, default=None, metavar="N", help="validation sample N (default 0)")
    where.add_argument("--input", metavar="PATH", help="a sample from a file (.png, .npy, .txt/.fa DNA, .csv)")
    p.add_argument("--method", choices=METHOD_CHOICES, default="integrated_gradients")
    p.add_argument("--target", metavar="CLASS", help="class index or name (default: the predicted class; "
                                                     "'fake' for a GAN's Discriminator)")
    p.add_argument("--layer", metavar="NODE", help="the convolution node Grad-CAM reads (default: the last)")
    p.add_argument("--pixel", metavar="ROW,COL", help="a segmentation head's pixel (default: the centre)")
    p.add_argument("--head", metavar="NODE", help="the Output head to explain (default: the first classifier)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="where to write the figure")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON line on stdout")
    p.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from netwright.cmd_graph import load_or_exit

    graph = load_or_exit(args.file)
    if graph is None:
        return 2
    import torch

    from explain import ExplainError, explain, load_subject, render
    from explain.inputs import read_input

    torch.set_num_threads(min(4, torch.get_num_threads()))
    try:
        pixel = _pixel(args.pixel)
        subject = load_subject(graph, args.run, root=Path(args.file).resolve().parent, head=args.head)
        values = read_input(subject, args.input) if args.input else None
        result = explain(subject, args.method, sample=args.sample, values=values, target=args.target,
                         layer=args.layer, pixel=pixel)
    except ExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    render(result, args.output)
    d = result.deletion
    print(f"{args.method}: '{result.target_name}' p = {result.probability:.3f}; deletion area "
          f"{d.area:.3f} against {d.random_area:.3f} at random -> {args.output}", file=sys.stderr)
    if args.json:
        print(json.dumps({**result.to_dict(), "output": str(args.output)}), flush=True)
    return 0


def _pixel(text: str | None) -> tuple[int, int] | None:
    from explain import ExplainError

    if text is None:
        return None
    try:
        row, col = (int(v) for v in text.split(","))
    except ValueError:
        raise ExplainError(f"--pixel {text}: expected ROW,COL such as 16,16") from None
    return row, col
