"""`netwright codegen` (graph -> standalone PyTorch file) and `netwright export` (verified ONNX).

Exit codes follow the CLI's rule: 0 success, 1 the graph is invalid or a check failed,
2 unreadable input. torch is imported only inside the export handler.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph_core import one_line


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("codegen", help="write the graph as a standalone PyTorch file",
                       description="Write the graph as readable PyTorch code. The file runs on its own: "
                                   "`python model.py` builds the model, runs it once on random input "
                                   "and prints the output shapes and the parameter count.")
    p.add_argument("file", help="a .json graph file")
    p.add_argument("-o", "--output", help="the .py file to write (default: print to stdout)")
    p.set_defaults(handler=run_codegen)

    p = sub.add_parser("export", help="export to ONNX, verified in onnxruntime",
                       description="Export the model to one self-contained ONNX file with a dynamic "
                                   "batch axis, then check it and compare onnxruntime with PyTorch on "
                                   "random input (max abs difference <= 1e-4, or nothing is written).")
    p.add_argument("file", help="a .json graph file")
    p.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    p.add_argument("--weights", help="trained weights (.safetensors, or a torch checkpoint)")
    p.add_argument("--part", choices=("decoder", "generator", "discriminator"),
                   help="export one part: a VAE's decoder, a GAN's generator (the default for a "
                        "GAN) or discriminator")
    p.set_defaults(handler=run_export)


def run_codegen(args: argparse.Namespace) -> int:
    import codegen
    from graph_core.serialization import atomic_write_text
    from netwright.cmd_graph import load_or_exit

    graph = load_or_exit(args.file)
    if graph is None:
        return 2
    try:
        generated = codegen.generate_source(graph)
    except codegen.GraphInvalidError as exc:
        _print_issues(exc)
        return 1
    if not args.output:
        sys.stdout.write(generated.source)
        return 0
    atomic_write_text(Path(args.output), generated.source)
    print(f"{args.output}: class {generated.class_name}, {len(generated.source.splitlines())} lines")
    return 0


def run_export(args: argparse.Namespace) -> int:
    import codegen
    from netwright.cmd_graph import load_or_exit

    graph = load_or_exit(args.file)
    if graph is None:
        return 2
    try:
        report = codegen.export_onnx(graph, args.output, weights=args.weights, part=args.part)
    except codegen.GraphInvalidError as exc:
        _print_issues(exc)
        return 1
    except codegen.WeightsError as exc:
        print(one_line(f"error: {exc}"), file=sys.stderr)
        return 2
    except codegen.ExportError as exc:
        for line in str(exc).splitlines():
            if line.strip():
                print(f"error: {line.strip()}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _print_issues(exc: Exception) -> None:
    for issue in getattr(exc, "issues", []):
        print(str(issue), file=sys.stderr)
