"""What an ONNX graph's constants and sizes determine before any node is mapped.

Pattern fusion (interop.onnx_attention, interop.onnx_transformer) must tell a network's tensors
from values the file fixes: weights and arithmetic on them (static values, which the importer
folds later) and shape vectors computed from tensors' sizes (size values, which a fused node no
longer needs). `Folded` reads a static value's numbers on demand, folding with the importer's
own folders, so a pattern can check a transposed weight or a computed scale before mapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

    from .onnx_patterns import ConstOf

# shape arithmetic: what a value computed from tensor sizes alone may pass through
_SIZE_OPS = {"Shape", "Size", "Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Cast", "Mul", "Div", "Add",
             "Sub", "Mod", "Reshape", "Identity"}


def size_values(nodes: list[onnx.NodeProto], static: set[str]) -> set[str]:
    """Value names computed from tensors' sizes alone (Shape, then arithmetic on the result): the
    shape vectors of an attention's Reshapes, which a fused node no longer needs."""
    sizes: set[str] = set()
    for n in nodes:
        ins = [i for i in n.input if i]
        if n.op_type in ("Shape", "Size") or (n.op_type in _SIZE_OPS and ins and any(i in sizes for i in ins)
                                              and all(i in sizes or i in static for i in ins)):
            sizes.update(o for o in n.output if o)
    return sizes


def static_values(nodes: list[onnx.NodeProto], const_of: ConstOf) -> set[str]:
    """Value names computed from the file's constants alone (weights, Constant nodes and
    arithmetic on them): never a tensor of the network."""
    static = {i for n in nodes for i in n.input if i and const_of(i) is not None}
    for n in nodes:
        if n.op_type == "Constant" or (n.input and all(not i or i in static or const_of(i) is not None
                                                       for i in n.input)):
            static.update(o for o in n.output if o)
    return static


class Folded:
    """A constant reader that also folds static values on demand (a transposed or split weight,
    a scale computed from a Sqrt), so patterns can read them before the importer does."""

    def __init__(self, nodes: list[onnx.NodeProto], const_of: ConstOf, static: set[str], opset: int) -> None:
        self.producer = {o: n for n in nodes for o in n.output if o}
        self.const_of, self.static, self.opset = const_of, static, opset
        self.memo: dict[str, np.ndarray | None] = {}

    def __call__(self, name: str) -> np.ndarray | None:
        if not name:
            return None
        if name not in self.memo:
            self.memo[name] = self._fold(name)
        return self.memo[name]

    def _fold(self, name: str) -> np.ndarray | None:
        from .onnx_build import attributes
        from .onnx_fold import FOLDERS, FoldError, fold

        given = self.const_of(name)
        node = self.producer.get(name)
        if given is not None or name not in self.static or node is None or node.op_type not in FOLDERS:
            return given
        inputs = [self(i) if i else None for i in node.input]
        if any(v is None for i, v in zip(node.input, inputs) if i):
            return None
        try:
            results = fold(node.op_type, inputs, attributes(node), self.opset)
        except FoldError:
            return None
        return dict(zip(node.output, results)).get(name)
