"""Pretrained weights loaded by name: a torchvision- or timm-style state dict onto a compiled graph.

A state dict names tensors by module path (`layer2.0.conv1.weight`, `features.0.weight`). A
mapping from those module paths to node paths says where each belongs ("layer2_0/conv1" is node
conv1 inside Block node layer2_0; None means "deliberately unused", e.g. the classifier a new
head replaces). Templates whose network has a torchvision twin (vgg, resnet, mobilenet_v2,
transfer) record the mapping, as plain data, in `graph.training["init_weights"]["keys"]`; for a
graph the user drew, `match_keys` proposes one from the names (a node whose id, or whose path
joined by "." or "_", equals the module path), which the user can edit in the file or pass
explicitly. This module reads the file (torch.load with weights_only=True: never unpickles
code), copies every tensor that fits, and reports every key that does not.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph_core import Graph

from .errors import WeightsError
from .weights import read_state

if TYPE_CHECKING:
    import torch

TORCHVISION_VGG = "torchvision_vgg"
STATE_DICT = "state_dict"
FORMATS = (STATE_DICT, TORCHVISION_VGG)  # torchvision_vgg: the older name of the same by-name loading


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
        head = (f"loaded {len(self.loaded)} tensors, missing {len(self.missing_keys)}, "
                f"unexpected {len(self.unexpected_keys)}, ignored {len(self.ignored)}")
        return "\n".join([head, *self.lines()])

    def to_json(self) -> dict[str, Any]:
        return {"loaded": list(self.loaded), "missing": list(self.missing_keys),
                "unexpected": list(self.unexpected_keys), "missing_nodes": list(self.missing_nodes),
                "shape_mismatches": [[k, list(a), list(b)] for k, a, b in self.shape_mismatches],
                "ignored": list(self.ignored), "ok": self.ok}


def load_state_dict_by_name(model: torch.nn.Module, graph: Graph, path: str | os.PathLike | None = None,
                            keys: Mapping[str, str | None] | None = None,
                            state: Mapping[str, torch.Tensor] | None = None) -> LoadReport:
    """Copy a state dict's tensors, by module path, into a model compiled from `graph`.

    Args:
        model: the module `codegen.compile_graph(graph)` returned.
        graph: the graph; its `training["init_weights"]` gives the default path and mapping.
        path: the .pth / .safetensors file; defaults to `init_weights["path"]`.
        keys: module path -> node path; defaults to `init_weights["keys"]`, else to
            `match_keys` (names matched, for a graph the user drew).
        state: the tensors themselves, instead of reading `path`.

    Returns:
        A LoadReport; tensors that fit are copied even when others do not.

    Raises:
        WeightsError: no path, or the file cannot be read as a state dict.
    """
    import torch

    spec: dict[str, Any] = dict(graph.training.get("init_weights") or {})
    if state is None:
        path = path if path is not None else spec.get("path")
        if not path:
            raise WeightsError("no pretrained weights file given: set training.init_weights.path")
        state = read_state(path)
    keys = keys if keys is not None else spec.get("keys")
    if keys is None:
        keys = match_keys(model, state, graph)
    if not isinstance(keys, Mapping):
        raise WeightsError("training.init_weights.keys must map module paths to node paths")
    report = LoadReport()
    modules = _resolve_nodes(model, keys, report)
    with torch.no_grad():
        for key, value in state.items():
            prefix, _, name = key.rpartition(".")
            if prefix not in keys:
                head = _mapped_head(prefix, keys)  # a mapped node's own submodule (a layer's linear1)?
                owner = _submodule(modules.get(head), prefix[len(head) + 1:]) if head else None
                if head is not None and keys[head] is None:
                    report.ignored.append(key)
                elif owner is None:
                    report.unexpected_keys.append(key)
                else:
                    _copy(owner, key, name, value, report)
            elif keys[prefix] is None:
                report.ignored.append(key)
            elif prefix in modules:
                _copy(modules[prefix], key, name, value, report)
    for prefix, module in modules.items():
        for name in _own_tensors(module):
            if f"{prefix}.{name}" not in state:
                report.missing_keys.append(f"{prefix}.{name}")
    return report


def load_torchvision_vgg(model: torch.nn.Module, graph: Graph, path: str | os.PathLike | None = None,
                         keys: dict[str, str | None] | None = None) -> LoadReport:
    """The VGG loader of earlier versions: the same by-name loading (kept for existing callers),
    with the mapping required (no matching by name)."""
    spec: dict[str, Any] = dict(graph.training.get("init_weights") or {})
    keys = keys if keys is not None else spec.get("keys")
    if not (path if path is not None else spec.get("path")):
        raise WeightsError("no pretrained weights file given: set training.init_weights.path")
    if not isinstance(keys, dict):
        raise WeightsError("no key mapping: training.init_weights.keys is missing "
                           "(build the graph with the transfer template)")
    return load_state_dict_by_name(model, graph, path, keys)


def match_keys(model: torch.nn.Module, state: Iterable[str], graph: Graph | None = None) -> dict[str, str]:
    """Propose a mapping for a drawn graph: module path -> node path, matched by name.

    A state-dict module path matches a node when it equals the node's generated attribute path
    (a file saved from this very module), the node path joined by "." (`layer1.conv` for node
    conv inside Block layer1), or joined by "_" (a node the user named `features_0`), or, given
    the graph, a top-level node's display name (an imported node shows its module path
    `features.0`, its id being `features_0`). Module paths that match nothing are left out (the
    report lists their tensors as unexpected).
    """
    generated = getattr(model, "generated", None)
    names: dict[str, str] = {}
    for path, attr in getattr(generated, "node_paths", {}).items():
        node = graph.nodes.get(path[0]) if graph is not None and len(path) == 1 else None
        for form in (attr, ".".join(path), "_".join(path), *((node.name,) if node and node.name else ())):
            names.setdefault(form, "/".join(path))
    prefixes = dict.fromkeys(key.rpartition(".")[0] for key in state)
    return {prefix: names[prefix] for prefix in prefixes if prefix in names}


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


def _mapped_head(prefix: str, keys: Mapping[str, str | None]) -> str | None:
    """The longest leading part of a module path that the mapping names: `encoder1` for
    `encoder1.self_attn.out_proj` (a node whose layer holds layers); None when none is."""
    parts = prefix.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in keys:
            return head
    return None


def _submodule(module: torch.nn.Module | None, path: str) -> torch.nn.Module | None:
    if module is None:
        return None
    try:
        return module.get_submodule(path)
    except AttributeError:
        return None


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
