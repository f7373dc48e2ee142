"""What an imported node is called: the model's own module path where the file carries one.

In order of trust:
1. a node that holds weights is named after its weights' module path: the initializers
   `conv1.weight` and `conv1.bias` name it `conv1`; `encoder.layers.0.self_attn.in_proj_weight`
   names it `encoder.layers.0.self_attn` (id `encoder_layers_0_self_attn`). A constant folded
   from initializers (a transposed weight) counts as the initializers it came from; where a
   node's tensors come from several modules, their common path names it.
2. torch.onnx's dynamo exporter keeps the module path of every node in its metadata
   (`pkg.torch.onnx.name_scopes`: `['', 'features', 'features.1', 'relu']`, the last entry the
   traced op): the node is named after that module (`features.1`), or after the op (`add`) when
   it was computed outside any module.
3. the TorchScript (legacy) exporter writes the path into the node's name,
   `/layer1/layer1.0/conv1/Conv`: the node is named `layer1.0.conv1`.
4. otherwise the node's own name, less exporter noise (`node_Conv_23` -> `Conv_23`).

The display name keeps the dots; the graph's id allocator turns it into a legal, unique id.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

import onnx

_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+")
_COUNTER = re.compile(r"_\d+$")
SCOPES = "pkg.torch.onnx.name_scopes"


def node_label(node: onnx.NodeProto) -> str:
    """The model's own name for a node, without exporter noise: "/layer1/layer1.0/conv1/Conv"
    becomes "layer1/layer1.0/conv1", "node_Conv_23" becomes "Conv_23"."""
    name = node.name or (node.output[0] if node.output else node.op_type)
    name = name.strip("/")
    if name.endswith("/" + node.op_type):
        name = name[: -len(node.op_type) - 1]
    if name.startswith("node_"):
        name = name[5:]
    return name or node.op_type


def readable_label(node: onnx.NodeProto, initializers: Iterable[str] = ()) -> str:
    """The name an imported node gets (see the module's docstring); `initializers` are the file's
    initializers that feed it, directly or through folded constants."""
    return (weights_path(initializers) or scope_path(node) or legacy_path(node)
            or node_label(node))


def weights_path(initializers: Iterable[str]) -> str:
    """The common module path of parameter names (`fc3.weight`, `fc3.bias` -> `fc3`); names that
    are no dotted path (`W`, `onnx::Conv_12`, `val_4`) say nothing; "" when they share no path."""
    paths = [name.split(".")[:-1] for name in sorted(initializers) if _PATH.fullmatch(name)]
    if not paths:
        return ""
    common = paths[0]
    for p in paths[1:]:
        n = 0
        while n < min(len(common), len(p)) and common[n] == p[n]:
            n += 1
        common = common[:n]
    return ".".join(common)


def scope_path(node: onnx.NodeProto) -> str:
    """The module path a dynamo export records for the node, or its op outside any module;
    "" without that metadata."""
    props = {p.key: p.value for p in node.metadata_props}
    try:
        scopes = ast.literal_eval(props[SCOPES])
    except (KeyError, ValueError, SyntaxError):
        return ""
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        return ""
    if len(scopes) >= 2 and scopes[-2]:
        return scopes[-2]
    op = _COUNTER.sub("", scopes[-1])  # the traced op: "add_10" -> "add"
    return op.lower() if op and not op.startswith("val") else node.op_type.lower()


def legacy_path(node: onnx.NodeProto) -> str:
    """The module path in a TorchScript export's node name ("/features/features.0/Conv" ->
    "features.0", "/blocks.0/fc/Gemm" -> "blocks.0.fc"); "" for another kind of name."""
    if not node.name.startswith("/"):
        return ""
    parts = [p for p in node.name.split("/") if p][:-1]  # the last part is the op
    path = ""
    for part in parts:
        path = part if not path or part.startswith(path + ".") else f"{path}.{part}"
    return path


def file_initializers(node: onnx.NodeProto, origins: Mapping[str, set[str]], initializers: set[str]) -> set[str]:
    """The file's initializers a node reads, directly or through constants folded from them."""
    found: set[str] = set()
    for name in node.input:
        if name:
            found |= origins.get(name, {name}) & initializers
    return found


def io_label(name: str) -> str:
    """A graph input's or output's display name: the file's name, less the trailing underscore
    Netwright's own export adds to a name Python reserves (`source` is written `source_`)."""
    return name.rstrip("_") or name
