"""Transformer layers as PyTorch writes them to ONNX, recognised as one encoder or decoder node.

After interop.onnx_attention has fused each attention region, an exported
nn.TransformerEncoderLayer (post-norm, batch_first) is: self-attention over x, Add(x, ·),
LayerNorm, a feed-forward network (MatMul + Add, ReLU or GELU, MatMul + Add), Add, LayerNorm;
pre-norm (norm_first) moves each LayerNorm before its block.
A TransformerDecoderLayer has a second attention between the first LayerNorm and the network,
whose keys and values are the encoder's memory. `fuse_layers` rewrites each such chain into
one node of PATTERN_DOMAIN whose inputs are x (and memory), the attentions' own inputs, and the
norms' and the network's weights, so the imported graph reads like the template that made it.
A chain that differs (another epsilon, another activation, a value read from outside)
is left as attention + Add + LayerNorm + Dense nodes, which import just as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .onnx_attention import MASK_IDS, MHA_WEIGHTS, PATTERN_DOMAIN, K, Q, V, node_attrs, only_reader
from .onnx_known import Folded
from .onnx_patterns import wiring

if TYPE_CHECKING:
    import onnx

MHA_INPUTS = MASK_IDS + 1  # a fused layer's inputs: x (and memory), each attention's inputs,
# then the norms' scales and offsets and the network's weights


def _shifted(start: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(start + k for k in group) for group in MHA_WEIGHTS)


def encoder_weights() -> tuple[tuple[int, ...], ...]:
    """The encoder node's weight slots, grouped as in MHA_WEIGHTS."""
    base = 1 + MHA_INPUTS
    return _shifted(1) + tuple((k,) for k in range(base, base + 8))


def decoder_weights() -> tuple[tuple[int, ...], ...]:
    """The decoder node's: two attentions, three norms and the network."""
    base = 2 + 2 * MHA_INPUTS
    return _shifted(2) + _shifted(2 + MHA_INPUTS) + tuple((k,) for k in range(base, base + 10))


def fuse_layers(nodes: list[onnx.NodeProto], const_of: Folded, outputs: set[str]) -> list[onnx.NodeProto]:
    """The node list with every encoder and decoder layer (post- or pre-norm) replaced by one node."""
    producer, readers = wiring(nodes)
    gone: set[int] = set()
    fused: dict[int, onnx.NodeProto] = {}
    for m in nodes:
        if m.domain != PATTERN_DOMAIN or m.op_type != "MultiheadAttention" or id(m) in gone:
            continue
        try:
            match = _match_layer(m, producer, readers, const_of, outputs)
        except (ValueError, KeyError, IndexError, TypeError, ArithmeticError):
            match = None  # left as attention, Add, LayerNorm and Dense nodes
        if match is None or any(id(n) in gone for n in match[0]):
            continue
        used, node = match
        gone.update(id(n) for n in used)
        fused[id(used[-1])] = node
    return [fused.get(id(n), n) for n in nodes if id(n) not in gone or id(n) in fused]


def _match_layer(m, producer, readers, const_of, outputs):
    from onnx import helper

    seen = _self_attention_input(m, producer)
    if seen is None:
        return None
    g = _Chain(producer, readers, outputs, const_of)
    layer = g.post_norm(m, seen) or g.pre_norm(m, seen)
    if layer is None:
        return None
    x, used, blocks, memory, norms, ffn_weights, activation, last_norm, norm_first = layer
    a = node_attrs(m)
    kind = "TransformerDecoderLayer" if memory is not None else "TransformerEncoderLayer"
    inputs = [x] + ([memory] if memory is not None else [])
    for block in blocks:
        inputs += list(block.input)
    inputs += norms + ffn_weights + last_norm
    extra = {}
    if memory is not None:
        ca_attrs = node_attrs(blocks[1])
        extra = {"cross_offsets": list(ca_attrs["offsets"]), "cross_out_transposed": int(ca_attrs["out_transposed"]),
                 "cross_pad": int(ca_attrs["pad"]), "cross_heads": int(ca_attrs["num_heads"])}
    name = m.name[: -len(".self_attn")] if m.name.endswith(".self_attn") else m.name
    node = helper.make_node(kind, inputs, [used[-1].output[0]], name=name, domain=PATTERN_DOMAIN,
                            num_heads=int(a["num_heads"]), causal=int(a["causal"]), offsets=list(a["offsets"]),
                            out_transposed=int(a["out_transposed"]), pad=int(a["pad"]), activation=activation,
                            norm_first=int(norm_first), **extra)
    return used, node


class _Chain:
    """Follows one layer's nodes from its self-attention: post-norm or pre-norm."""

    def __init__(self, producer, readers, outputs, const_of):
        self.producer, self.readers, self.outputs, self.const_of = producer, readers, outputs, const_of

    def post_norm(self, m, x):
        """x -> LN1(x + SA(x)) [-> LN2(h + CA(h, memory))] -> LNn(h + FF(h))."""
        first = _residual_norm(m, x, self.readers, self.outputs, self.const_of)
        if first is None:
            return None
        # the Transpose to time-major goes with the layer unless another layer reads it too
        t = self.producer[m.input[Q]]
        used = ([t] if {id(r) for r in self.readers.get(t.output[0], [])} == {id(m)} else []) + [m, *first[0]]
        h, blocks, memory, norms = first[1], [m], None, first[2]
        cross = _cross_attention(h, self.producer, self.readers, self.outputs)
        if cross is not None:
            ca, q_transpose = cross
            memory = self._memory(ca)
            second = _residual_norm(ca, h, self.readers, self.outputs, self.const_of)
            if memory is None or second is None:
                return None
            used += [q_transpose, ca, *second[0]]
            blocks.append(ca)
            h, norms = second[1], norms + second[2]
        users = self.readers.get(h, [])
        first_mm = next((u for u in users if u.op_type == "MatMul"), None)
        if len(users) != 2 or h in self.outputs or first_mm is None:
            return None
        ffn = self._network(first_mm, h)
        if ffn is None:
            return None
        nodes, weights, activation, add = ffn
        norm = only_reader(add, self.readers, self.outputs)
        if norm is None or not _layer_norm(norm, self.const_of):
            return None
        return x, used + nodes + [add, norm], blocks, memory, norms, weights, activation, _scale_bias(norm), False

    def pre_norm(self, m, h):
        """x -> y = x + SA(LN1(x)) [-> y + CA(LN2(y), memory)] -> y + FF(LNn(y)); h is LN1(x)."""
        t = self.producer[m.input[Q]]
        norm1 = self.producer.get(h)
        if norm1 is None or not _layer_norm(norm1, self.const_of) or not self._private(norm1, t, m):
            return None
        x = norm1.input[0]
        used, blocks, memory, norms = [norm1, t, m], [m], None, _scale_bias(norm1)
        step = self._residual(m, x)
        if step is None:
            return None
        used.append(step)
        y = step.output[0]
        norm = self._norm_of(y)
        if norm is None:
            return None
        cross = _cross_attention_only(norm.output[0], self.producer, self.readers, self.outputs)
        if cross is not None:
            ca, q_transpose = cross
            memory = self._memory(ca)
            step = self._residual(ca, y)
            if memory is None or step is None:
                return None
            used += [norm, q_transpose, ca, step]
            blocks.append(ca)
            norms += _scale_bias(norm)
            y = step.output[0]
            norm = self._norm_of(y)
            if norm is None:
                return None
        first_mm = only_reader(norm, self.readers, self.outputs)
        ffn = self._network(first_mm, y) if first_mm is not None and first_mm.op_type == "MatMul" else None
        if ffn is None:
            return None
        nodes, weights, activation, add = ffn
        return x, used + [norm] + nodes + [add], blocks, memory, norms, weights, activation, _scale_bias(norm), True

    def _private(self, norm, t, m) -> bool:
        return ({id(r) for r in self.readers.get(norm.output[0], [])} == {id(t)}
                and {id(r) for r in self.readers.get(t.output[0], [])} == {id(m)})

    def _residual(self, block, x):
        add = only_reader(block, self.readers, self.outputs)
        ok = add is not None and add.op_type == "Add" and sorted(add.input) == sorted([x, block.output[0]])
        return add if ok else None

    def _norm_of(self, y):
        """The LayerNorm that, beside the next residual Add, reads y."""
        users = self.readers.get(y, [])
        norm = next((u for u in users if u.op_type == "LayerNormalization"), None)
        if len(users) != 2 or y in self.outputs or norm is None or not _layer_norm(norm, self.const_of):
            return None
        return norm

    def _memory(self, ca):
        if ca.input[K] != ca.input[V] or ca.input[K] == ca.input[Q] or node_attrs(ca).get("causal", 0):
            return None
        memory_t = self.producer.get(ca.input[K])
        if memory_t is None or memory_t.op_type != "Transpose" or list(node_attrs(memory_t).get("perm", [])) != [1, 0, 2]:
            return None
        return memory_t.input[0]

    def _network(self, first, residual):
        """(nodes, [w1, b1, w2, b2], activation, the residual Add) of residual + W2·act(W1·h + b1) + b2."""
        if self.const_of(first.input[1]) is None:
            return None
        nodes = [first]
        node, b1 = _bias(first, nodes, self.readers, self.outputs, self.const_of)
        act = only_reader(node, self.readers, self.outputs)
        if act is None or act.op_type not in ("Relu", "Gelu") or node_attrs(act).get("approximate", b"none") not in (b"none", "none"):
            return None
        second = only_reader(act, self.readers, self.outputs)
        if second is None or second.op_type != "MatMul" or self.const_of(second.input[1]) is None:
            return None
        nodes += [act, second]
        node, b2 = _bias(second, nodes, self.readers, self.outputs, self.const_of)
        add = self._residual(node, residual)
        if add is None:
            return None
        return nodes, [first.input[1], b1, second.input[1], b2], "relu" if act.op_type == "Relu" else "gelu", add


def _scale_bias(norm) -> list[str]:
    return [norm.input[1], norm.input[2] if len(norm.input) > 2 else ""]


def _self_attention_input(m, producer):
    """x, when the attention's query, key and value are all Transpose(x)."""
    t = m.input[Q]
    if m.input[K] != t or m.input[V] != t:
        return None
    node = producer.get(t)
    if node is None or node.op_type != "Transpose" or list(node_attrs(node).get("perm", [])) != [1, 0, 2]:
        return None
    return node.input[0]


def _residual_norm(block, x, readers, outputs, const_of):
    """([Add, LayerNorm], the norm's output, [scale, bias]) for LayerNorm(x + block(x))."""
    add = only_reader(block, readers, outputs)
    if add is None or add.op_type != "Add" or sorted(add.input) != sorted([x, block.output[0]]):
        return None
    norm = only_reader(add, readers, outputs)
    if norm is None or not _layer_norm(norm, const_of):
        return None
    return [add, norm], norm.output[0], _scale_bias(norm)


def _layer_norm(node, const_of) -> bool:
    a = node_attrs(node)
    return (node.op_type == "LayerNormalization" and a.get("axis", -1) == -1
            and abs(float(a.get("epsilon", 1e-5)) - 1e-5) < 1e-9 and const_of(node.input[1]) is not None)


def _cross_attention_only(g, producer, readers, outputs):
    """(attention, Transpose) when a pre-norm's output g is read only by a Transpose feeding an
    attention's query."""
    users = readers.get(g, [])
    if len(users) != 1 or g in outputs or users[0].op_type != "Transpose":
        return None
    return _query_of(users[0], readers)


def _query_of(t, readers):
    if list(node_attrs(t).get("perm", [])) != [1, 0, 2]:
        return None
    after = readers.get(t.output[0], [])
    if len(after) != 1 or after[0].domain != PATTERN_DOMAIN or after[0].input[Q] != t.output[0]:
        return None
    return after[0], t


def _cross_attention(h, producer, readers, outputs):
    """(attention, Transpose) when h's readers are a Transpose feeding an attention's query and the
    residual Add; None when h goes on to a feed-forward network."""
    users = readers.get(h, [])
    if len(users) != 2 or h in outputs:
        return None
    t = next((u for u in users if u.op_type == "Transpose"), None)
    return None if t is None else _query_of(t, readers)


def _bias(node, nodes, readers, outputs, const_of):
    add = only_reader(node, readers, outputs)
    if add is not None and add.op_type == "Add":
        other = next((i for i in add.input if i != node.output[0]), "")
        if const_of(other) is not None:
            nodes.append(add)
            return add, other
    return node, ""
