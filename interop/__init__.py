"""Other formats -> graph: ONNX files (and torchvision/timm architectures where installed)
imported as editable Netwright graphs plus a weights file.

Imports graph_core and codegen; never training, explain or Qt (pyproject's import-linter
contracts keep it so). onnx, numpy and torch are imported on first use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .onnx_read import ImportRefused, Refusal

if TYPE_CHECKING:
    from .onnx_import import ImportResult


def import_source(source: str, graph_path: str | os.PathLike, weights: str | os.PathLike | None = None,
                  input_shape: Sequence[int] | None = None) -> ImportResult:
    """Import an .onnx file or a library architecture, write graph + weights, and compare.

    Args:
        source: a path to an .onnx file, or `torchvision:NAME`, `timm:NAME`,
            `module:package.module:Factory`.
        graph_path: the .json graph to write; the weights go beside it as .safetensors.
        weights: a state dict for a library architecture (ignored for ONNX files, whose
            weights are inside).
        input_shape: one sample's shape without the batch axis: a library architecture's
            (default 3, 224, 224), or the sizes an ONNX file leaves open on its first input.

    Raises:
        ImportRefused: unreadable source, missing library, or unmappable nodes (listed).
    """
    from .onnx_import import compare_with_onnxruntime, import_onnx, write_import
    from .torch_source import import_architecture, is_library_source

    target = Path(graph_path)
    if is_library_source(source):
        result = import_architecture(source, input_shape or (3, 224, 224), weights, name=target.stem)
    else:
        result = import_onnx(source, target.stem, input_shape)
        try:
            result.max_diff = compare_with_onnxruntime(result, source)
        except Exception as exc:  # onnxruntime refuses some valid files; the import still stands
            result.compare_error = " ".join(str(exc).split())[:200]
    return write_import(result, target)


__all__ = ["ImportRefused", "Refusal", "import_source"]
