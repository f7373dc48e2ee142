"""Attention as PyTorch writes it to ONNX, recognised as one MultiheadAttention node.

An exported nn.MultiheadAttention (alone or inside a transformer layer) is some forty nodes:
the input projection (one MatMul to q, k and v, or a Split of the weight for cross-attention),
Reshape/Transpose/Gather that cut it into heads, scaled q·kᵀ, an optional mask added, Softmax,
the weighted sum of values, the heads joined again and the output projection. None of these is
a layer; together they are exactly one registry node. `fuse_attention` finds each such region
from its Softmax: backwards to the projections (whose inputs are the query, key and value) and
to an `Equal(ids, pad)` that builds the key padding mask (or a Trilu of ones, the causal mask
built from the length), forwards to the output projection. A
region is fused only when every node in it is one that attention writes, nothing outside reads
its inner values, the scale is 1/√(head width) and the heads are cut in PyTorch's order; a
near miss is left alone, and its nodes are refused one by one as before.

The fused node lives in the private domain PATTERN_DOMAIN: its inputs are the query, key and
value tensors, the projections' weights (still ONNX names, folded by the importer before the
node is mapped) and the mask's token ids; its attributes say how to read them. The converter
(interop.onnx_ops_attention) turns it into the registry node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .onnx_known import Folded, size_values, static_values
from .onnx_patterns import wiring

if TYPE_CHECKING:
    import onnx

    from .onnx_patterns import ConstOf

PATTERN_DOMAIN = "netwright.pattern"
# input slots of a fused MultiheadAttention node
Q, K, V, WQ, BQ, WK, BK, WV, BV, WO, BO, MASK_IDS = range(12)
# the weight slots, grouped by the parameter they make (q, k and v rows form one in_proj_weight)
MHA_WEIGHTS = ((WQ, WK, WV), (BQ, BK, BV), (WO,), (BO,))

# what an exported attention is made of: layout, shape arithmetic, projections, scale, mask, Softmax
_INSIDE = {"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Gather", "Split", "Slice", "Shape", "Concat",
           "Cast", "Expand", "ConstantOfShape", "Range", "MatMul", "Gemm", "Mul", "Div", "Add", "Softmax",
           "Where", "Equal", "Trilu"}


@dataclass
class _Projection:
    """MatMul(source, weight) [+ bias]: the source is the time-major (L, N, E) sequence."""

    matmul: onnx.NodeProto
    source: str
    weight: str
    bias: str


def fuse_attention(nodes: list[onnx.NodeProto], const_of: ConstOf, outputs: set[str],
                   opset: int) -> list[onnx.NodeProto]:
    """The node list with every recognised attention region replaced by one fused node."""
    static = static_values(nodes, const_of)
    sizes = size_values(nodes, static)
    const_of = Folded(nodes, const_of, static, opset)
    producer, readers = wiring(nodes)
    gone: set[int] = set()
    masks: set[int] = set()
    fused: dict[int, onnx.NodeProto] = {}
    for softmax in (n for n in nodes if n.op_type == "Softmax"):
        try:
            match = _match(softmax, producer, readers, (static, sizes), const_of, outputs)
        except (ValueError, KeyError, IndexError, TypeError, ArithmeticError):
            match = None  # attributes no exporter writes: not attention, its nodes are mapped one by one
        if match is None:
            continue
        inner, shared, sink, node = match
        if any(id(n) in gone for n in inner):
            continue
        gone.update(id(n) for n in inner)
        masks.update(id(n) for n in shared)
        fused[id(sink)] = node
    # mask and size nodes are shared between layers (one mask per source, sizes computed once):
    # drop one once nothing kept reads it
    kept = [n for n in nodes if id(n) not in gone or id(n) in fused]
    while True:
        read = {i for n in kept for i in n.input if id(n) not in fused} | {
            i for f in fused.values() for i in f.input} | outputs
        dead = [n for n in kept if id(n) in masks and not any(o in read for o in n.output)]
        if not dead:
            break
        dropped = {id(n) for n in dead}
        kept = [n for n in kept if id(n) not in dropped]
    from .onnx_transformer import fuse_layers

    return fuse_layers([fused.get(id(n), n) for n in kept], const_of, outputs)


# ---- matching one region ---------------------------------------------------------------------


def _match(softmax, producer, readers, known, const_of, outputs):
    """(inner nodes, shared mask and size nodes, sink, fused node) for the attention around
    `softmax`, or None. `known` is (static values, size values)."""
    static, sizes = known
    if node_attrs(softmax).get("axis", -1) not in (-1, 2, 3):
        return None
    forward = _forward(softmax, readers, outputs, static)
    scores = _scores(softmax, producer, static)
    if forward is None or scores is None:
        return None
    (weighted, *after), out = forward
    qk, adds, added = scores
    targets = {qk.input[0]: "q", qk.input[1]: "k", weighted.input[1]: "v"}
    region = _Region(producer, static, sizes, const_of)
    if len(targets) != 3 or not all(region.walk(t) for t in targets):
        return None
    if not all(m in static or region.walk(m, mask=True) for m in added):
        return None
    # the shapes the Reshapes after the Softmax read (computed from sizes by older exporters)
    if not all(region.walk(i) for n in after for i in n.input[1:] if i in sizes):
        return None
    sink = after[-1]
    inner = [softmax, qk, *adds, weighted, *after, *region.nodes]
    inside = {id(n) for n in inner + region.mask_nodes + region.size_nodes}
    # a layout op kept only for its Shape (the TorchScript export reads the key length off the
    # heads' Transpose to shape the padding mask): part of the attention, gone with it
    for_shape = [r for n in inner for o in n.output for r in readers.get(o, [])
                 if id(r) not in inside and r.op_type in ("Transpose", "Reshape", "Squeeze", "Unsqueeze")
                 and all(readers.get(p) and all(x.op_type == "Shape" and id(x) in inside for x in readers[p])
                         for p in r.output)]
    inside.update(id(r) for r in for_shape)
    if any(n.op_type not in _INSIDE for n in inner + region.mask_nodes):
        return None
    for n in inner:
        if n is not sink and any(o in outputs or any(id(r) not in inside for r in readers.get(o, []))
                                 for o in n.output):
            return None  # something outside the attention reads one of its inner values
    causal = _causal(added + region.mask_constants, static, const_of)
    causal = causal or (region.built_causal if causal is not None else None)
    roles = _roles(region.projections, targets, readers, inside, const_of)
    embed = _out_features(out[0], out[2], const_of)
    if causal is None or roles is None or embed is None or not region.mask_ok or region.scale <= 0:
        return None
    head = 1.0 / (region.scale * region.scale)  # q·kᵀ is scaled by 1/√(head width)
    if round(head) < 1 or abs(head - round(head)) > 1e-3 * head or embed % round(head):
        return None
    if region.mask_nodes and region.pad is None and not region.built_causal:
        return None
    node = _fused(sink, roles, out, region.pad, num_heads=embed // round(head), causal=int(causal))
    return inner, region.mask_nodes + region.size_nodes + for_shape, sink, node


def _forward(softmax, readers, outputs, static):
    """([MatMul(., v), ..., the batch-first output], (out weight, out bias, weight is (out, in)))
    from the Softmax on: the heads joined, the output projection, the batch axis moved first."""
    users = readers.get(softmax.output[0], [])
    if len(users) != 1 or users[0].op_type != "MatMul" or users[0].input[0] != softmax.output[0]:
        return None
    chain = [users[0]]
    while True:
        nxt = _data_reader(chain[-1], readers, outputs)
        if nxt is None or (nxt.op_type not in ("Transpose", "Reshape", "Gemm", "MatMul")):
            return None
        if nxt.op_type in ("Gemm", "MatMul"):
            break
        chain.append(nxt)
    projected = _out_projection(nxt, readers, outputs, static)
    if projected is None:
        return None
    chain += projected[0]
    while True:
        nxt = _data_reader(chain[-1], readers, outputs)
        if nxt is None or nxt.op_type not in ("Transpose", "Reshape"):
            break
        chain.append(nxt)
    if chain[-1].op_type != "Transpose" or list(node_attrs(chain[-1]).get("perm", [])) != [1, 0, 2]:
        return None  # the output must be batch first again (batch_first=True)
    return chain, projected[1:]


def _scores(softmax, producer, static):
    """(q·kᵀ MatMul, the Adds between it and the Softmax, what they add: the masks)."""
    node, adds, added = producer.get(softmax.input[0]), [], []
    while node is not None and node.op_type == "Add":
        # one side leads on to q·kᵀ (a MatMul, or another Add of a mask), the other is a mask
        sides = [(producer.get(i), other) for i, other in zip(node.input, reversed(node.input))]
        on = [(p, other) for p, other in sides if p is not None and not all(i in static for i in p.input)
              and (p.op_type == "MatMul" or (p.op_type == "Mul" and _scalar_one(p, producer, static) and any(
                  getattr(producer.get(i), "op_type", "") == "MatMul" for i in p.input)))]
        on = on or [(p, other) for p, other in sides if p is not None and p.op_type == "Add" and other not in static]
        if len(on) != 1:
            return None
        adds.append(node)
        added.append(on[0][1])
        node = on[0][0]
    if adds and node is not None and node.op_type == "Mul" and _scalar_one(node, producer, static):
        # baddbmm(mask, q, kᵀ) (the TorchScript export of a masked attention that returns its
        # weights): the mask is added to q·kᵀ times alpha, which PyTorch writes as 1
        adds.append(node)
        node = producer.get(next(i for i in node.input if i not in static))
    if node is None or node.op_type != "MatMul":
        return None
    return node, adds, added


def _fill(node) -> float | None:
    """The value a ConstantOfShape fills with (0 when it has none), or None when not a scalar."""
    from onnx import numpy_helper

    value = next((a.t for a in node.attribute if a.name == "value"), None)
    if value is None:
        return 0.0
    array = numpy_helper.to_array(value)
    return float(array.reshape(-1)[0]) if array.size == 1 else None


def _scalar_one(mul, producer, static) -> bool:
    """A Mul of a value by the static scalar 1 (the scalar read from its Constant node)."""
    from onnx import numpy_helper

    constants = [i for i in mul.input if i in static]
    if len(mul.input) != 2 or len(constants) != 1:
        return False
    node = producer.get(constants[0])
    if node is None or node.op_type != "Constant" or not node.attribute or node.attribute[0].name != "value":
        return False
    value = numpy_helper.to_array(node.attribute[0].t)
    return value.size == 1 and float(value.reshape(-1)[0]) == 1.0


def _fused(sink, roles, out, pad, **attrs):
    from onnx import helper

    inputs = [""] * (MASK_IDS + 1)
    for k, role in enumerate("qkv"):
        proj = roles[role][0]
        inputs[Q + k], inputs[WQ + 2 * k], inputs[BQ + 2 * k] = proj.source, proj.weight, proj.bias
    inputs[WO], inputs[BO] = out[0], out[1]
    inputs[MASK_IDS] = pad[0] if pad is not None else ""
    name = _scope(out[0]) or sink.name or sink.output[0]
    return helper.make_node("MultiheadAttention", inputs, [sink.output[0]], name=name, domain=PATTERN_DOMAIN,
                            offsets=[roles[r][1] for r in "qkv"], out_transposed=int(out[2]),
                            pad=pad[1] if pad is not None else -1, **attrs)


class _Region:
    """Walks back from q, k or v to the projections, and from a mask to its Equal(ids, pad)."""

    def __init__(self, producer, static, sizes, const_of):
        self.producer, self.static, self.sizes, self.const_of = producer, static, sizes, const_of
        self.nodes: list = []
        self.mask_nodes: list = []
        self.size_nodes: list = []  # shape arithmetic for the Reshapes: no numbers of the data
        self.mask_constants: list[str] = []  # constants added inside a mask (a causal mask)
        self.projections: list[_Projection] = []
        self.pad: tuple[str, int] | None = None
        self.scale = 1.0
        self.mask_ok = True
        self.built_causal = False  # the causal mask built from the sequence's length at run time
        self._ones: set[int] = set()  # the ConstantOfShape(1) a causal Trilu reads
        self._seen: set[int] = set()

    def walk(self, value: str, mask: bool = False) -> bool:
        stack = [value]
        while stack:
            name = stack.pop()
            if not name or name in self.static:
                continue
            node = self.producer.get(name)
            if node is None:
                return False  # a graph input reached other than through a projection or a mask
            if id(node) in self._seen:
                continue
            self._seen.add(id(node))
            if name in self.sizes:
                self.size_nodes.append(node)
                if node.op_type not in ("Shape", "Size"):  # a Shape reads only sizes
                    stack.extend(i for i in node.input if i and i not in self.static)
                continue
            if node.op_type == "Equal":
                if not mask or not self._equal(node):
                    return False
                self.mask_nodes.append(node)
                continue
            if not mask and not self._plain(node):
                return False
            if not mask and node.op_type in ("Add", "MatMul"):
                continue  # a projection: its input is where the walk stops
            if mask:
                self._mask_node(node)
            (self.mask_nodes if mask else self.nodes).append(node)
            if node.op_type != "Shape":  # a Shape reads only sizes
                stack.extend(i for i in node.input if i and i not in self.static)
        return True

    def _plain(self, node) -> bool:
        """A node on the way back from q, k or v; projections are recorded, scales multiplied."""
        constants = [i for i in node.input if i in self.static]
        if node.op_type == "MatMul":
            return node.input[1] in self.static and self._projection(node, "")
        if node.op_type == "Add":
            mm = next((self.producer.get(i) for i in node.input if i not in self.static), None)
            if mm is None or len(constants) != 1 or mm.op_type != "MatMul" or mm.input[1] not in self.static:
                return False
            self._seen.add(id(mm))
            return self._projection(mm, constants[0], node)
        if node.op_type in ("Mul", "Div") and len(node.input) == 2:
            c = self.const_of(constants[0]) if len(constants) == 1 else None
            if c is None or np.asarray(c).size != 1:
                return False
            v = float(np.asarray(c).reshape(-1)[0])
            self.scale *= v if node.op_type == "Mul" else 1.0 / v
        return True

    def _mask_node(self, node) -> None:
        # Where(pad, -inf, 0): padded keys get -inf before the Softmax; a constant added inside
        # the mask must be the causal mask
        if node.op_type == "Where":
            low = self.const_of(node.input[1]) if node.input[1] in self.static else None
            if low is None or np.asarray(low).size != 1 or float(np.asarray(low).reshape(-1)[0]) > -1e4:
                self.mask_ok = False
        elif node.op_type == "Add":
            self.mask_constants += [i for i in node.input if i in self.static]
        elif node.op_type == "Trilu":
            self._trilu(node)
        elif node.op_type == "ConstantOfShape":
            fill = _fill(node)
            self.mask_ok &= fill == 0.0 or (fill == 1.0 and id(node) in self._ones)
        elif node.op_type == "Mul":  # baddbmm's beta: the mask times 1
            self.mask_ok &= _scalar_one(node, self.producer, self.static)
        elif node.op_type == "Expand" and node.input[0] in self.static:
            c = self.const_of(node.input[0])
            self.mask_ok &= c is not None and not np.any(np.asarray(c))
        elif node.op_type not in ("Reshape", "Unsqueeze", "Shape", "Cast", "Expand", "Concat", "Slice", "Gather"):
            self.mask_ok = False

    def _trilu(self, node) -> None:
        # upper=1, k=1 of a square of ones (ConstantOfShape of (L, L)): True above the diagonal,
        # where Where(mask, -inf, 0) hides the later positions — the causal mask, built from L
        k = self.const_of(node.input[1]) if len(node.input) > 1 and node.input[1] in self.static else None
        ones = self.producer.get(node.input[0])
        square = self.producer.get(ones.input[0]) if ones is not None and ones.op_type == "ConstantOfShape" else None
        sides = [self.producer.get(i) for i in square.input] if square is not None and square.op_type == "Concat" else []
        if (node_attrs(node).get("upper", 1) != 1 or k is None or int(np.asarray(k).reshape(-1)[0]) != 1
                or len(sides) != 2 or None in sides or sides[0].input[0] != sides[1].input[0]):
            self.mask_ok = False
            return
        self._ones.add(id(ones))
        self.built_causal = True

    def _projection(self, mm, bias, add=None) -> bool:
        # the projection reads the sequence time-major (L, N, E): the Transpose from batch first
        # before it is often shared by several layers, and the importer reads it as a layout
        w = self.const_of(mm.input[1])
        if w is not None and np.asarray(w).ndim != 2:
            return False
        self.nodes.extend([mm] + ([add] if add is not None else []))
        self.projections.append(_Projection(mm, mm.input[0], mm.input[1], bias))
        return True

    def _equal(self, node) -> bool:
        ids = [i for i in node.input if i not in self.static]
        pad = [self.const_of(i) for i in node.input if i in self.static]
        if len(ids) != 1 or len(pad) != 1 or pad[0] is None or np.asarray(pad[0]).size != 1:
            return False
        value = (ids[0], int(np.asarray(pad[0]).reshape(-1)[0]))
        if self.pad is not None and self.pad != value:
            return False
        self.pad = value
        return True


def _out_projection(node, readers, outputs, static):
    """(nodes, weight, bias, weight is (out, in)) of the output projection, or None."""
    a = node_attrs(node)
    if node.op_type == "Gemm":
        if a.get("transA", 0) or abs(a.get("alpha", 1.0) - 1) > 1e-6 or abs(a.get("beta", 1.0) - 1) > 1e-6:
            return None
        bias = node.input[2] if len(node.input) > 2 else ""
        if bias and bias not in static:
            return None
        return [node], node.input[1], bias, bool(a.get("transB", 0))
    add = _data_reader(node, readers, outputs)
    if add is not None and add.op_type == "Add" and any(i in static for i in add.input):
        return [node, add], node.input[1], next(i for i in add.input if i in static), False
    return [node], node.input[1], "", False


def _causal(added, static, const_of) -> bool | None:
    """True when a constant added to the scores is the causal mask; None for any other constant."""
    causal = False
    for name in added:
        if name not in static:
            continue
        c = const_of(name)
        if c is None:
            return None
        c = np.asarray(c, np.float64)
        if c.ndim < 2 or c.shape[-1] != c.shape[-2]:
            return None
        square = c.reshape(-1, *c.shape[-2:])[0]
        upper = np.triu(np.ones_like(square, dtype=bool), 1)
        if np.any(square[~upper] != 0) or np.any(square[upper] > -1e4):
            return None
        causal = True
    return causal


def _out_features(weight, transposed, const_of):
    c = const_of(weight)
    if c is None or np.asarray(c).ndim != 2:
        return None
    return int(np.asarray(c).shape[0 if transposed else 1])


def _roles(projections, targets, readers, inside, const_of):
    """role -> (projection, offset in units of the model width) for q, k and v, or None when the
    heads are not cut in PyTorch's order (q, k, v along one projection's output, picked by
    Gather or Split)."""
    at = {value: role for value, role in targets.items()}
    order = {}
    for p in projections:
        found: dict[str, set] = {}
        stack, seen = [(p.matmul.output[0], None)], set()
        while stack:
            name, index = stack.pop()
            if (name, index) in seen:
                continue
            seen.add((name, index))
            if name in at:
                found.setdefault(at[name], set()).add(index)
            for r in readers.get(name, []):
                if id(r) not in inside or r.op_type == "Shape":
                    continue  # a Shape reads only sizes: no numbers flow on
                k = index
                if r.op_type == "Gather" and r.input[0] == name:
                    c = const_of(r.input[1])
                    if c is None or np.asarray(c).size != 1:
                        return None
                    k = int(np.asarray(c).reshape(-1)[0])
                for j, o in enumerate(r.output):
                    stack.append((o, j if r.op_type == "Split" else k))
        roles = sorted(found, key="qkv".index)
        for j, role in enumerate(roles):
            if role in order or (len(roles) > 1 and found[role] != {j}):
                return None
            order[role] = (p, j if len(roles) > 1 else 0)
    return order if sorted(order) == ["k", "q", "v"] else None


def _data_reader(node, readers, outputs):
    """The one node that reads `node`'s numbers (a Shape beside it reads only its size)."""
    users = [r for r in readers.get(node.output[0], []) if r.op_type not in ("Shape", "Size")]
    return users[0] if len(users) == 1 and node.output[0] not in outputs else None


def only_reader(node, readers, outputs):
    users = readers.get(node.output[0], [])
    return users[0] if len(users) == 1 and node.output[0] not in outputs else None


def node_attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _scope(weight_name: str) -> str:
    # "encoder1.self_attn.out_proj.weight" -> "encoder1.self_attn": the module the weights belong to
    return weight_name[: -len(".out_proj.weight")] if weight_name.endswith(".out_proj.weight") else ""

