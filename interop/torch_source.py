"""Architectures from installed Python libraries, imported through the same ONNX path.

`torchvision:resnet18` and `timm:NAME` build the library's architecture with no pretrained
weights (nothing is downloaded); `module:package.module:Factory` calls a factory of the user's
own code. The model gets its weights from a file the user gives (a state dict, read with
`weights_only=True`), is exported with torch.export (the ONNX dynamo exporter, unoptimised so
BatchNorm stays a layer of its own instead of being folded into the conv before it) to a
temporary file, and that file is imported like any other — the same table, the same checks. torchvision
and timm are optional: without them the import says so in one line.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .onnx_import import ImportResult, compare_with_onnxruntime, import_onnx
from .onnx_read import ImportRefused

if TYPE_CHECKING:
    import torch

SOURCES = ("torchvision", "timm", "module")


def is_library_source(source: str) -> bool:
    """True for `torchvision:NAME`, `timm:NAME` and `module:PATH:FACTORY`."""
    kind, sep, rest = source.partition(":")
    return bool(sep) and kind in SOURCES and bool(rest)


def build_architecture(source: str) -> torch.nn.Module:
    """The untrained nn.Module a library source names.

    Raises:
        ImportRefused: the library is missing or has no such architecture.
    """
    kind, _, name = source.partition(":")
    if kind == "torchvision":
        models = _library("torchvision.models", "torchvision")
        factory = getattr(models, name, None) if name.isidentifier() else None
        if not callable(factory):
            raise ImportRefused(f"torchvision has no architecture {name!r}")
        return factory(weights=None)
    if kind == "timm":
        timm = _library("timm", "timm")
        try:
            return timm.create_model(name, pretrained=False)
        except RuntimeError as exc:
            raise ImportRefused(f"timm: {exc}") from None
    path, sep, attr = name.rpartition(":")
    if not sep or not path or not attr.isidentifier():
        raise ImportRefused(f"{source}: write module:package.module:Factory")
    try:
        module = importlib.import_module(path)
    except ImportError as exc:
        raise ImportRefused(f"{source}: cannot import {path} ({exc})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ImportRefused(f"{source}: {path} has no callable {attr!r}")
    return factory()


def import_architecture(source: str, input_shape: Sequence[int], weights: str | os.PathLike | None = None,
                        name: str | None = None, opset: int = 18) -> ImportResult:
    """Build, load weights into, export and import a library architecture.

    Args:
        source: `torchvision:NAME`, `timm:NAME` or `module:package.module:Factory`.
        input_shape: one sample's shape without the batch axis, e.g. (3, 224, 224).
        weights: a state dict for the architecture (.pth or .safetensors); random without.
        name: the graph's name; defaults to the architecture's.
        opset: the ONNX opset the intermediate file uses.
    """
    import torch

    from codegen.errors import WeightsError
    from codegen.weights import read_state

    model = build_architecture(source)
    if weights is not None:
        try:
            state = read_state(weights)
            model.load_state_dict(state, strict=True)
        except (WeightsError, RuntimeError) as exc:
            raise ImportRefused(f"{weights}: {' '.join(str(exc).split())[:300]}") from None
    model.eval()
    label = name or source.rpartition(":")[2].lower()
    example = torch.randn(1, *input_shape)
    with tempfile.TemporaryDirectory(prefix="netwright-import-") as tmp:
        target = Path(tmp) / f"{label}.onnx"
        try:
            with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
                torch.onnx.export(model, (example,), str(target), input_names=["image"],
                                  output_names=["score"], dynamo=True, opset_version=opset,
                                  external_data=False, verbose=False, optimize=False)
        except Exception as exc:  # the exporter raises many kinds; one line says which
            raise ImportRefused(f"{source}: torch.export cannot trace it ({' '.join(str(exc).split())[:200]})") from None
        result = import_onnx(target, label)
        result.max_diff = compare_with_onnxruntime(result, target)
        return result


def _library(module: str, package: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise ImportRefused(f"{package} is not installed; install it (pip install {package}) to "
                            f"import {package}:NAME architectures") from None
