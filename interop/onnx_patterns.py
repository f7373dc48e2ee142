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


def wiring(nodes: list[onnx.NodeProto]) -> tuple[dict[str, onnx.NodeProto], dict[str, list[onnx.NodeProto]]]:
    """(the node that writes each value, the nodes that read each value) of a node list."""
    producer = {o: n for n in nodes for o in n.output}
    readers: dict[str, list[onnx.NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    return producer, readers


def fuse_patterns(nodes: list[onnx.NodeProto], const_of: ConstOf, outputs: set[str],
                  mapped: set[str] | frozenset[str] = frozenset()) -> list[onnx.NodeProto]:
    """The node list with every erf-GELU chain replaced by one Gelu node and, for the ops in
    `mapped` (those the table maps), x * Sigmoid(x) by Swish, x * HardSigmoid(x) by HardSwish
    and the Reshape-InstanceNormalization-Reshape-Mul-Add of a GroupNorm by GroupNormalization."""
    from onnx import helper

    producer, readers = wiring(nodes)
    replaced: dict[int, onnx.NodeProto | None] = {}
    extra: dict[int, list[onnx.NodeProto]] = {}
    for erf in (n for n in nodes if n.op_type == "Erf"):
        match = _match_gelu(erf, producer, readers, const_of, outputs)
        if match is None:
            continue
        x, chain, last = match
        label = _scope(last.name, "Gelu") or last.name
        gelu = helper.make_node("Gelu", [x], [last.output[0]], name=label)
        for n in chain:
            replaced[id(n)] = None
        replaced[id(last)] = gelu
    gates = {"Sigmoid": "Swish", "HardSigmoid": "HardSwish"}
    for mul in (n for n in nodes if n.op_type == "Mul" and len(n.input) == 2):
        for x, s in (tuple(mul.input), tuple(reversed(mul.input))):
            gate = producer.get(s)
            fused = gates.get(gate.op_type) if gate is not None else None
            if (fused in mapped and list(gate.input) == [x] and _private(gate, readers, outputs)
                    and id(gate) not in replaced and (fused == "Swish" or _is_hard_sigmoid(gate))):
                replaced[id(gate)] = None
                replaced[id(mul)] = helper.make_node(fused, [x], [mul.output[0]], name=_scope(mul.name, fused)
                                                     or mul.name)
                break
    for where in (n for n in nodes if "Softplus" in mapped and n.op_type == "Where" and len(n.input) == 3):
        match = _match_softplus(where, producer, readers, const_of, outputs)
        if match is not None:
            for n in match[0]:
                replaced[id(n)] = None
            replaced[id(where)] = match[1]
    for eq in (n for n in nodes if "OneHot" in mapped and n.op_type == "Equal"):
        match = _match_one_hot(eq, producer, readers, const_of, outputs)
        if match is not None:
            for n in match[0]:
                replaced[id(n)] = None
            replaced[id(match[1])] = match[2][-1]
            extra[id(match[1])] = match[2][:-1]
    if "GroupNormalization" in mapped:
        for norm in (n for n in nodes if n.op_type == "InstanceNormalization"):
            match = _match_group_norm(norm, producer, readers, const_of, outputs)
            if match is not None:
                chain, last, new_nodes = match
                for n in chain:
                    replaced[id(n)] = None
                replaced[id(last)] = new_nodes[-1]
                extra[id(last)] = new_nodes[:-1]
    out = []
    for n in nodes:
        out.extend(extra.get(id(n), ()))
        if replaced.get(id(n), n) is not None:
            out.append(replaced.get(id(n), n))
    return out


def _match_softplus(where, producer, readers, const_of, outputs):
    """torch.export's Softplus: Where(x > 20, x, Softplus(x)) — the same numbers as Softplus."""
    from onnx import helper

    cond, x, soft = (producer.get(i) for i in where.input)
    if cond is None or soft is None or cond.op_type != "Greater" or soft.op_type != "Softplus":
        return None
    if cond.input[0] != where.input[1] or list(soft.input) != [where.input[1]]:
        return None
    limit = const_of(cond.input[1])
    if limit is None or np.asarray(limit).size != 1 or float(np.asarray(limit).reshape(-1)[0]) < 15:
        return None
    if not (_private(cond, readers, outputs) and _private(soft, readers, outputs)):
        return None
    name = _scope(where.name, "Softplus") or where.name
    return [cond, soft], helper.make_node("Softplus", [where.input[1]], [where.output[0]], name=name)


def _match_one_hot(eq, producer, readers, const_of, outputs):
    """torch.export's F.one_hot(ids, C).movedim(-1, 1).float(): Unsqueeze(ids, -1) == arange(C),
    Cast, Transpose moving the class axis to 1, Cast to float."""
    from onnx import TensorProto, helper, numpy_helper

    unsqueeze = producer.get(eq.input[0])
    classes = const_of(eq.input[1])
    if unsqueeze is None or unsqueeze.op_type != "Unsqueeze" or classes is None or not _private(unsqueeze, readers, outputs):
        return None
    axes = const_of(unsqueeze.input[1]) if len(unsqueeze.input) > 1 else None
    depth = int(np.asarray(classes).size)
    if axes is None or list(np.asarray(axes).reshape(-1)) != [-1] or list(np.asarray(classes).reshape(-1)) != list(range(depth)):
        return None
    chain, node, moved = [unsqueeze, eq], eq, False
    while True:
        nxt = _only_reader(node, readers, outputs)
        if nxt is None or nxt.op_type not in ("Cast", "Transpose") or (nxt.op_type == "Transpose" and moved):
            break
        if nxt.op_type == "Transpose":
            perm = list({a.name: helper.get_attribute_value(a) for a in nxt.attribute}.get("perm", []))
            if len(perm) < 3 or perm != [0, len(perm) - 1, *range(1, len(perm) - 1)]:
                return None
            moved = True
        chain.append(nxt)
        node = nxt
    last = chain[-1]
    to = {a.name: helper.get_attribute_value(a) for a in last.attribute}.get("to")
    if not moved or last.op_type != "Cast" or to != TensorProto.FLOAT:
        return None
    name = _scope(eq.name, "OneHot") or eq.name
    consts = [helper.make_node("Constant", [], [f"{name}:{k}"], name=f"{name}:{k}",
                               value=numpy_helper.from_array(v, f"{name}:{k}"))
              for k, v in (("depth", np.array(depth, np.int64)), ("values", np.array([0.0, 1.0], np.float32)))]
    fused = helper.make_node("OneHot", [unsqueeze.input[0], f"{name}:depth", f"{name}:values"], [last.output[0]],
                             name=name, axis=1)
    return chain[:-1], last, [*consts, fused]


def _is_hard_sigmoid(node) -> bool:
    from onnx import helper

    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    return abs(a.get("alpha", 0.2) - 1 / 6) < 1e-6 and abs(a.get("beta", 0.5) - 0.5) < 1e-6


def _match_group_norm(norm, producer, readers, const_of, outputs):
    """PyTorch's legacy GroupNorm: Reshape(x, [0, G, -1]) -> InstanceNormalization(ones, zeros)
    -> Reshape(., Shape(x)) [-> Mul(gamma) -> Add(beta)]."""
    from onnx import helper, numpy_helper

    first = producer.get(norm.input[0])
    if first is None or first.op_type != "Reshape" or not _private(first, readers, outputs):
        return None
    target, scale, bias = const_of(first.input[1]), const_of(norm.input[1]), const_of(norm.input[2])
    if target is None or scale is None or bias is None or np.asarray(target).size != 3 \
            or int(np.asarray(target).reshape(-1)[2]) != -1:
        return None
    if not (np.all(scale == 1) and np.all(bias == 0)):
        return None
    groups, x = int(np.asarray(target).reshape(-1)[1]), first.input[0]
    back = _only_reader(norm, readers, outputs)
    if back is None or back.op_type != "Reshape":
        return None
    shape = producer.get(back.input[1])
    back_to = const_of(back.input[1])  # Shape(x), or x's shape written out (torch.export)
    if not (shape is not None and shape.op_type == "Shape" and list(shape.input) == [x]) and back_to is None:
        return None
    mul = _only_reader(back, readers, outputs)
    gamma = const_of(_other(mul, back.output[0])) if mul is not None and mul.op_type == "Mul" else None
    if gamma is None:
        return None  # affine=False: left to the InstanceNormalization mapping
    if back_to is not None and (np.asarray(back_to).size < 3 or int(np.asarray(back_to).reshape(-1)[1]) != gamma.size):
        return None
    add = _only_reader(mul, readers, outputs)
    if add is None or add.op_type != "Add" or const_of(_other(add, mul.output[0])) is None:
        return None
    chain, last = [first, norm, back, mul], add
    a = {x.name: helper.get_attribute_value(x) for x in norm.attribute}
    name = _scope(last.name, "GroupNormalization") or last.name
    # gamma and beta are (C, 1, 1) initializers: reshaped to (C,) by nodes the importer folds,
    # so the weights still count as the file's own
    flat = helper.make_node("Constant", [], [f"{name}:flat"], name=f"{name}:flat",
                            value=numpy_helper.from_array(np.array([-1], np.int64), f"{name}:flat"))
    consts = [flat] + [helper.make_node("Reshape", [source, f"{name}:flat"], [f"{name}:{k}"], name=f"{name}:{k}")
                       for k, source in (("scale", _other(mul, back.output[0])), ("bias", _other(add, mul.output[0])))]
    fused = helper.make_node("GroupNormalization", [x, f"{name}:scale", f"{name}:bias"], [last.output[0]],
                             name=name, num_groups=groups, epsilon=float(a.get("epsilon", 1e-5)))
    return chain, last, [*consts, fused]


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


def _scope(name: str, op: str) -> str:
    # "/encoder/act/Mul_1" -> "/encoder/act/Gelu": the module the exporter named the chain after
    head, sep, _ = name.rpartition("/")
    return f"{head}/{op}" if sep and head else ""
