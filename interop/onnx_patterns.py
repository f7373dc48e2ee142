"""Pattern fusion before mapping: several ONNX nodes that together are one layer become one node.

x * Sigmoid(x) is SiLU (Swish with alpha 1). Exporters before opset 20 have no Gelu operator and write GELU as
x * 0.5 * (1 + erf(x / sqrt(2))) — five nodes (Div, Erf, Add, Mul, Mul, the two Muls in any of
three orders). `fuse_patterns` rewrites each such chain into one standard `Gelu` node, which the op
table maps to a GELU node. MatMul + Add and a Pad before a convolution are fused by their
converters, since they only need to look one node ahead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

ConstOf = Callable[[str], "np.ndarray | None"]


def fuse_patterns(nodes: list[onnx.NodeProto], const_of: ConstOf, outputs: set[str],
                  swish: bool = False) -> list[onnx.NodeProto]:
    """The node list with every erf-GELU chain replaced by one Gelu node and, when `swish`
    (the table maps Swish), every x * Sigmoid(x) by one Swish node."""
    from onnx import helper

    producer = {o: n for n in nodes for o in n.output}
    readers: dict[str, list[onnx.NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    replaced: dict[int, onnx.NodeProto | None] = {}
    for erf in (n for n in nodes if n.op_type == "Erf"):
        match = _match_gelu(erf, producer, readers, const_of, outputs)
        if match is None:
            continue
        x, chain, last = match
        label = _scope(last.name) or last.name
        gelu = helper.make_node("Gelu", [x], [last.output[0]], name=label)
        for n in chain:
            replaced[id(n)] = None
        replaced[id(last)] = gelu
    for mul in (n for n in nodes if swish and n.op_type == "Mul" and len(n.input) == 2):
        for x, s in (tuple(mul.input), tuple(reversed(mul.input))):
            sig = producer.get(s)
            if (sig is not None and sig.op_type == "Sigmoid" and list(sig.input) == [x]
                    and _private(sig, readers, outputs) and id(sig) not in replaced):
                replaced[id(sig)] = None
                replaced[id(mul)] = helper.make_node("Swish", [x], [mul.output[0]], name=mul.name)
                break
    return [replaced.get(id(n), n) for n in nodes if replaced.get(id(n), n) is not None]


def _match_gelu(erf, producer, readers, const_of, outputs):
    div = producer.get(erf.input[0])
    if div is None or not _private(div, readers, outputs):
        return None
    scale = {"Div": math.sqrt(2.0), "Mul": 1 / math.sqrt(2.0)}.get(div.op_type)
    if scale is None or not _is(const_of(div.input[1]), scale):
        return None
    x = div.input[0]
    add = _only_reader(erf, readers, outputs)
    if add is None or add.op_type != "Add" or not _is(const_of(_other(add, erf.output[0])), 1.0):
        return None
    mul = _only_reader(add, readers, outputs)
    if mul is None or mul.op_type != "Mul":
        return None
    partner = _other(mul, add.output[0])
    if partner == x:  # x * (1 + erf) then * 0.5
        half = _only_reader(mul, readers, outputs)
        if half is None or half.op_type != "Mul" or not _is(const_of(_other(half, mul.output[0])), 0.5):
            return None
        return x, [div, erf, add, mul], half
    if _is(const_of(partner), 0.5):  # x * (0.5 * (1 + erf))
        outer = _only_reader(mul, readers, outputs)
        if outer is None or outer.op_type != "Mul" or _other(outer, mul.output[0]) != x:
            return None
        return x, [div, erf, add, mul], outer
    scaled = producer.get(partner)  # (x * 0.5) * (1 + erf)
    if (scaled is None or scaled.op_type != "Mul" or not _private(scaled, readers, outputs)
            or x not in scaled.input or not _is(const_of(_other(scaled, x)), 0.5)):
        return None
    return x, [div, erf, add, scaled], mul


def _only_reader(node, readers, outputs):
    users = readers.get(node.output[0], [])
    return users[0] if len(users) == 1 and node.output[0] not in outputs else None


def _private(node, readers, outputs):
    return len(readers.get(node.output[0], [])) == 1 and node.output[0] not in outputs


def _other(node, name):
    ins = list(node.input)
    if len(ins) != 2 or name not in ins:
        return ""
    return ins[1] if ins[0] == name else ins[0]


def _is(value, target: float) -> bool:
    return value is not None and np.asarray(value).size == 1 and abs(float(np.asarray(value).reshape(-1)[0]) - target) < 1e-4


def _scope(name: str) -> str:
    # "/encoder/act/Mul_1" -> "/encoder/act/Gelu": the module the exporter named the chain after
    head, sep, _ = name.rpartition("/")
    return f"{head}/Gelu" if sep and head else ""
