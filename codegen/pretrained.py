"""Pretrained weights in torchvision's VGG layout, mapped onto a compiled graph.

A torchvision VGG state dict names tensors by position in `features` and `classifier`
(`features.0.weight`, `classifier.3.bias`, ...). The transfer_vgg template stores, as plain data
in `graph.training["init_weights"]["keys"]`, which node each prefix belongs to ("stage1/conv1_1"
is node conv1_1 inside Block node stage1; None means "deliberately unused", e.g. the classifier
a new head replaces). This module reads the file (torch.load with weights_only=True: never
unpickles code), copies every tensor that fits, and reports every key that does not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph_core import Graph

from .errors import WeightsError
from .weights import read_state

if TYPE_CHECKING:
    import torch

TORCHVISION_VGG = "torchvision_vgg"


@dataclass
class LoadReport:
    """What happened to each tensor of a pretrained file.

    Attributes:
        loaded: file keys copied into the model.
        unexpected_keys: file keys that map to no node, or to a tensor the node does not have.
        missing_nodes: node paths named by the mapping that the model does not contain.
        shape_mismatches: (file key, shape in the file, shape in the model) for keys not copied.
        missing_keys: tensors of mapped nodes that the file does not provide (left as they were).
        ignored: file keys the mapping leaves out on purpose (a replaced classifier).
    """

    loaded: list[str] = field(default_factory=list)
    unexpected_keys: list[str] = field(default_factory=list)
    missing_nodes: list[str] = field(default_factory=list)
    shape_mismatches: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing_keys: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every mapped tensor was loaded and nothing in the file was left unexplained."""
        return not (self.unexpected_keys or self.missing_nodes or self.shape_mismatches or self.missing_keys)

    def lines(self) -> list[str]:
        """One line per problem, for the CLI and the designer's log."""
        out = [f"{key}: no node takes this tensor" for key in self.unexpected_keys]
        out += [f"{node}: named by the weight mapping but not in the model" for node in self.missing_nodes]
        out += [f"{key}: shape {list(a)} in the file, {list(b)} in the model"
                for key, a, b in self.shape_mismatches]
        out += [f"{key}: not in the file (kept its initial value)" for key in self.missing_keys]
        return out

    def __str__(self) -> str:
        head = f"loaded {len(self.loaded)} tensors, ignored {len(self.ignored)}"
        return "\n".join([head, *self.lines()])


def load_torchvision_vgg(model: torch.nn.Module, graph: Graph, path: str | os.PathLike | None = None,
                         keys: dict[str, str | None] | None = None) -> LoadReport:
    """Copy a torchvision-format VGG state dict into a model compiled from `graph`.

    Args:
        model: the module `codegen.compile_graph(graph)` returned.
        graph: the graph; its `training["init_weights"]` gives the default path and mapping.
        path: the .pth file; defaults to `init_weights["path"]`.
        keys: prefix -> node path mapping; defaults to `init_weights["keys"]`.

    Returns:
        A LoadReport; tensors that fit are copied even when others do not.

    Raises:
        WeightsError: no path or mapping, or the file cannot be read as a state dict.
    """
    import torch

    spec: dict[str, Any] = dict(graph.training.get("init_weights") or {})
    path = path if path is not None else spec.get("path")
    keys = keys if keys is not None else spec.get("keys")
    if not path:
        raise WeightsError("no pretrained weights file given: set training.init_weights.path")
    if not isinstance(keys, dict):
        raise WeightsError("no key mapping: training.init_weights.keys is missing "
                           "(build the graph with the transfer_vgg template)")
    state = read_state(path)
    report = LoadReport()
    modules = _resolve_nodes(model, keys, report)
    with torch.no_grad():
        for key, value in state.items():
            prefix, _, name = key.rpartition(".")
            if prefix not in keys:
                report.unexpected_keys.append(key)
            elif keys[prefix] is None:
                report.ignored.append(key)
            elif prefix in modules:
                _copy(modules[prefix], key, name, value, report)
    for prefix, module in modules.items():
        for name in _own_tensors(module):
            if f"{prefix}.{name}" not in state:
                report.missing_keys.append(f"{prefix}.{name}")
    return report


def _resolve_nodes(model: torch.nn.Module, keys: dict[str, str | None],
                   report: LoadReport) -> dict[str, torch.nn.Module]:
    """The submodule of each mapped prefix; unknown node paths go to report.missing_nodes."""
    out = {}
    for prefix, node_path in keys.items():
        if node_path is None:
            continue
        module = _find(model, tuple(node_path.split("/")))
        if module is None:
            if node_path not in report.missing_nodes:
                report.missing_nodes.append(node_path)
        else:
            out[prefix] = module
    return out


def _find(model: torch.nn.Module, path: tuple[str, ...]) -> torch.nn.Module | None:
    # codegen records every node's attribute path (blocks included) on the compiled module.
    generated = getattr(model, "generated", None)
    attr = getattr(generated, "node_paths", {}).get(path)
    if attr is None:
        return None
    try:
        return model.get_submodule(attr)
    except AttributeError:
        return None


def _own_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    tensors = dict(module.named_parameters(recurse=False))
    tensors.update(dict(module.named_buffers(recurse=False)))
    return tensors


def _copy(module: torch.nn.Module, key: str, name: str, value: torch.Tensor, report: LoadReport) -> None:
    target = _own_tensors(module).get(name)
    if target is None:
        report.unexpected_keys.append(key)
    elif tuple(target.shape) != tuple(value.shape):
        report.shape_mismatches.append((key, tuple(value.shape), tuple(target.shape)))
    else:
        target.copy_(value.to(target.dtype))
        report.loaded.append(key)
