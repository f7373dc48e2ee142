"""codegen: a Netwright graph becomes readable PyTorch source, a live nn.Module, and a
verified ONNX file.

`generate_source` needs no torch (the designer's code view stays instant); everything that
runs torch is imported on first use. See docs/architecture.md for the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ExportError, GraphInvalidError, NodeRuntimeError, WeightsError
from .names import NameAllocator, to_identifier
from .source import GeneratedSource, generate_source

if TYPE_CHECKING:
    from .compiler import build_module, compile_graph, param_groups
    from .onnx_export import ExportReport, export_onnx
    from .parts import decoder_graph
    from .weights import load_weights, save_weights

_LAZY = {
    "compile_graph": "compiler", "param_groups": "compiler", "build_module": "compiler",
    "export_onnx": "onnx_export", "ExportReport": "onnx_export", "decoder_graph": "parts",
    "save_weights": "weights", "load_weights": "weights",
}


def __getattr__(name: str) -> Any:
    # Lazy: importing codegen must not import torch (DESIGN.md: torch imported lazily).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'codegen' has no attribute {name!r}")


__all__ = [
    "ExportError", "ExportReport", "GeneratedSource", "GraphInvalidError", "NameAllocator",
    "NodeRuntimeError", "WeightsError", "build_module", "compile_graph", "decoder_graph",
    "export_onnx", "generate_source", "load_weights", "param_groups", "save_weights",
    "to_identifier",
]
