"""Benchmark: importing ONNX files — how long it takes and how close the imported graph stays.

For every template (exported by codegen) and the residual/inception/depthwise modules of the
tests (exported by torch.onnx, legacy and dynamo), imports the file, compiles the graph with the
imported weights and compares it with onnxruntime on random input (budget: max abs difference
<= 1e-4). Reports per model: nodes in the file, nodes in the graph, parameters, import seconds
(read + fold + map + layout), compare seconds, and the difference.

Usage:
    .venv/bin/python benchmarks/bench_import.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import onnx  # noqa: E402
import torch  # noqa: E402

import codegen  # noqa: E402
import templates  # noqa: E402
from interop import ImportRefused  # noqa: E402
from interop.onnx_import import compare_with_onnxruntime, import_onnx  # noqa: E402

BUDGET = 1e-4
QUICK = ["mlp", "lenet", "autoencoder", "timeseries_gaf"]
SMALL = {"vgg": {"depth": 11, "classifier_width": 64}, "transfer_vgg": {"depth": 11, "head_width": 32}}


def _modules():
    from tests.interop.test_onnx_modules import Depthwise, Inception, Residual

    return [("residual", Residual(), (3, 16, 16)), ("inception", Inception(), (4, 8, 8)),
            ("depthwise", Depthwise(), (3, 16, 16))]


def _measure(name: str, path: Path) -> dict:
    started = time.perf_counter()
    try:
        result = import_onnx(path)
    except ImportRefused as exc:
        return {"model": name, "refused": [str(r) for r in exc.refusals]}
    imported = time.perf_counter() - started
    started = time.perf_counter()
    diff = compare_with_onnxruntime(result, path)
    compared = time.perf_counter() - started
    return {"model": name, "onnx_nodes": len(onnx.load(str(path), load_external_data=False).graph.node),
            "graph_nodes": len(result.graph.nodes), "params": result.file_params,
            "import_s": round(imported, 3), "compare_s": round(compared, 3), "max_abs_diff": diff,
            "within_budget": diff <= BUDGET}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four small templates and the modules")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in QUICK if args.quick else templates.GALLERY:
            path = Path(tmp) / f"{name}.onnx"
            codegen.export_onnx(templates.build(name, **SMALL.get(name, {})), path)
            rows.append(_measure(f"template {name}", path))
        for name, module, shape in _modules():
            for opset, dynamo in ((9, False), (17, False), (18, True)):
                path = Path(tmp) / f"{name}-{opset}.onnx"
                kwargs = {"external_data": False} if dynamo else {"dynamic_axes": {"x": {0: "n"}}}
                with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
                    torch.onnx.export(module.eval(), (torch.randn(2, *shape),), str(path), dynamo=dynamo,
                                      opset_version=opset, input_names=["x"], **kwargs)
                rows.append(_measure(f"{name} opset {opset}{' dynamo' if dynamo else ''}", path))
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'model':34} {'onnx':>5} {'graph':>5} {'params':>10} {'import s':>8} {'diff':>9}")
    for r in rows:
        if "refused" in r:
            print(f"{r['model']:34} refused: {'; '.join(r['refused'])[:80]}")
        else:
            print(f"{r['model']:34} {r['onnx_nodes']:5} {r['graph_nodes']:5} {r['params']:10} "
                  f"{r['import_s']:8.3f} {r['max_abs_diff']:9.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
