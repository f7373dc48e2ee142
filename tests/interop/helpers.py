"""Shared steps of the import tests: write a real ONNX file, import it, compare the numbers."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np

from interop.onnx_import import (
    ImportResult,
    build_weighted_module,
    compare_with_onnxruntime,
    import_onnx,
)


def export_module(module, example, path: Path, opset: int = 13, dynamo: bool = False) -> Path:
    """torch.onnx.export a module in eval mode: legacy exporter with a dynamic batch, or dynamo."""
    import torch

    module.eval()
    kwargs = {"dynamo": dynamo, "opset_version": opset, "input_names": ["x"], "output_names": ["y"]}
    if dynamo:
        kwargs["external_data"] = False
    else:
        kwargs["dynamic_axes"] = {"x": {0: "batch"}, "y": {0: "batch"}}
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        torch.onnx.export(module, (example,), str(path), **kwargs)
    return path


def import_and_compare(path: Path, torch_params: int | None = None) -> ImportResult:
    """Import the file, check onnxruntime agrees within 1e-4 and the parameter counts agree."""
    result = import_onnx(path)
    diff = compare_with_onnxruntime(result, path)
    assert diff <= 1e-4, f"{path.name}: imported graph differs from onnxruntime by {diff}"
    model = build_weighted_module(result.graph, result.tensors)
    count = sum(p.numel() for p in model.parameters())
    assert count == result.file_params, f"{path.name}: {count} parameters, the file has {result.file_params}"
    if torch_params is not None:
        assert count == torch_params
    return result


def node_types(result: ImportResult) -> list[str]:
    return [n.type for n in result.graph.nodes.values()]


def randn(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)
