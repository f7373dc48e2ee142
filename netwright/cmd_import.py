"""`netwright import`: an ONNX file, or a torchvision/timm architecture, as an editable graph.

Writes the graph JSON and, beside it, a .safetensors file with the model's weights (the graph's
training.init_weights names it), then compiles the graph and compares it with the source model
on random input. Exit codes: 0 imported, 1 some nodes cannot be mapped (listed one per line),
2 the source cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import an ONNX file or a torchvision/timm architecture",
                       description="Import MODEL.onnx (or torchvision:NAME, timm:NAME, "
                                   "module:package.module:Factory) as an editable graph, with its "
                                   "weights in a .safetensors file next to the graph. Nodes that "
                                   "cannot be mapped are listed and nothing is written.")
    p.add_argument("source", help="an .onnx file, torchvision:NAME, timm:NAME or module:PKG.MOD:FACTORY")
    p.add_argument("-o", "--output", required=True, help="the .json graph file to write")
    p.add_argument("--weights", help="for a library architecture: its state dict (.pth or .safetensors); "
                                     "without it the weights are random (nothing is downloaded)")
    p.add_argument("--input-shape",
                   help="one sample's shape without the batch, e.g. 3,224,224: a library architecture's "
                        "(default 3,224,224), or the sizes an ONNX file leaves open")
    p.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    from interop import ImportRefused, import_source

    try:
        shape = tuple(int(s) for s in args.input_shape.split(",")) if args.input_shape else None
    except ValueError:
        print(f"error: --input-shape {args.input_shape!r}: write sizes like 3,224,224", file=sys.stderr)
        return 2
    try:
        result = import_source(args.source, Path(args.output), weights=args.weights, input_shape=shape)
    except ImportRefused as exc:
        for line in exc.lines:
            print(f"error: {line.strip()}" if not line.startswith("  ") else line, file=sys.stderr)
        return 1 if exc.refusals else 2
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    nodes = len(result.graph.nodes)
    diff = "" if result.max_diff is None else f", max abs difference {result.max_diff:.2g} on random input"
    if result.compare_error:
        diff = f"; not compared: onnxruntime cannot run the file ({result.compare_error})"
    print(f"{result.graph_path}: {nodes} nodes, {result.file_params} parameters, opset {result.opset}; "
          f"weights in {result.weights_path}{diff}")
    return 0
