"""Transformer layers as PyTorch writes them to ONNX, recognised as one encoder or decoder node.

After interop.onnx_attention has fused each attention region, an exported
nn.TransformerEncoderLayer (post-norm, batch_first) is: self-attention over x, Add(x, ·),
LayerNorm, a feed-forward network (MatMul + Add, ReLU or GELU, MatMul + Add), Add, LayerNorm.
A TransformerDecoderLayer has a second attention between the first LayerNorm and the network,
whose keys and values are the encoder's memory. `fuse_layers` rewrites each such chain into
one node of PATTERN_DOMAIN whose inputs are x (and memory), the attentions' own inputs, and the
norms' and the network's weights, so the imported graph reads like the template that made it.
A chain that differs (pre-norm, another epsilon, another activation, a value read from outside)
is left as attention + Add + LayerNorm + Dense nodes, which import just as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .onnx_attention import (
    MASK_IDS,
    MHA_WEIGHTS,
    PATTERN_DOMAIN,
    Folded,
    K,
    Q,
    V,
    node_attrs,
    only_reader,
)

if TYPE_CHECKING:
    import onnx

MHA_INPUTS = MASK_IDS + 1
# the norms' and the network's weights, after the input(s) and the attention blocks
FFN_NAMES = ("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias")


def _shifted(start: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(start + k for k in group) for group in MHA_WEIGHTS)


def encoder_weights() -> tuple[tuple[int, ...], ...]:
    """The encoder node's weight slots, grouped as in MHA_WEIGHTS."""
    base = 1 + MHA_INPUTS
    return _shifted(1) + tuple((k,) for k in range(base, base + 8))


def decoder_weights() -> tuple[tuple[int, ...], ...]:
    base = 2 + 2 * MHA_INPUTS
    return _shifted(2) + _shifted(2 + MHA_INPUTS) + tuple((k,) for k in range(base, base + 10))


def fuse_layers(nodes: list[onnx.NodeProto], const_of: Folded, outputs: set[str]) -> list[onnx.NodeProto]:
    """The node list with every post-norm encoder and decoder layer replaced by one node."""
    producer = {o: n for n in nodes for o in n.output}
    readers: dict[str, list[onnx.NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
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

    x = _self_attention_input(m, producer)
    if x is None:
        return None
    first = _residual_norm(m, x, readers, outputs, const_of)
    if first is None:
        return None
    # the Transpose to time-major goes with the layer unless another layer reads it too
    t = producer[m.input[Q]]
    used = ([t] if {id(r) for r in readers.get(t.output[0], [])} == {id(m)} else []) + [m, *first[0]]
    h = first[1]
    cross = _cross_attention(h, producer, readers, outputs)
    blocks, memory = [m], None
    if cross is not None:
        ca, q_transpose = cross
        if ca.input[K] != ca.input[V] or ca.input[K] == ca.input[Q]:
            return None
        memory_t = producer.get(ca.input[K])
        if memory_t is None or memory_t.op_type != "Transpose" or list(node_attrs(memory_t).get("perm", [])) != [1, 0, 2]:
            return None
        second = _residual_norm(ca, h, readers, outputs, const_of)
        if second is None or node_attrs(ca).get("causal", 0):
            return None
        used += [q_transpose, ca, *second[0]]
        blocks.append(ca)
        memory, h = memory_t.input[0], second[1]
        norms = first[2] + second[2]
    else:
        norms = first[2]
    ffn = _feed_forward(h, readers, outputs, const_of)
    if ffn is None:
        return None
    ffn_nodes, ffn_weights, activation, last_norm = ffn
    used += ffn_nodes
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
                            **extra)
    return used, node


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
    return [add, norm], norm.output[0], [norm.input[1], norm.input[2] if len(norm.input) > 2 else ""]


def _layer_norm(node, const_of) -> bool:
    a = node_attrs(node)
    return (node.op_type == "LayerNormalization" and a.get("axis", -1) == -1
            and abs(float(a.get("epsilon", 1e-5)) - 1e-5) < 1e-9 and const_of(node.input[1]) is not None)


def _cross_attention(h, producer, readers, outputs):
    """(attention, Transpose) when h's readers are a Transpose feeding an attention's query and the
    residual Add; None when h goes on to a feed-forward network."""
    users = readers.get(h, [])
    if len(users) != 2 or h in outputs:
        return None
    t = next((u for u in users if u.op_type == "Transpose"), None)
    if t is None or list(node_attrs(t).get("perm", [])) != [1, 0, 2]:
        return None
    after = readers.get(t.output[0], [])
    if len(after) != 1 or after[0].domain != PATTERN_DOMAIN or after[0].input[Q] != t.output[0]:
        return None
    return after[0], t


def _feed_forward(h, readers, outputs, const_of):
    """(nodes, [w1, b1, w2, b2], activation, [scale, bias]) of LayerNorm(h + W2·act(W1·h + b1) + b2)."""
    users = readers.get(h, [])
    if len(users) != 2 or h in outputs:
        return None
    first = next((u for u in users if u.op_type == "MatMul"), None)
    if first is None or first.input[0] != h or const_of(first.input[1]) is None:
        return None
    nodes, (w1, b1), node = [first], (first.input[1], ""), first
    node, b1 = _bias(node, nodes, readers, outputs, const_of)
    act = only_reader(node, readers, outputs)
    if act is None or act.op_type not in ("Relu", "Gelu") or node_attrs(act).get("approximate", b"none") not in (b"none", "none"):
        return None
    nodes.append(act)
    second = only_reader(act, readers, outputs)
    if second is None or second.op_type != "MatMul" or const_of(second.input[1]) is None:
        return None
    nodes.append(second)
    node, b2 = _bias(second, nodes, readers, outputs, const_of)
    add = only_reader(node, readers, outputs)
    if add is None or add.op_type != "Add" or sorted(add.input) != sorted([h, node.output[0]]):
        return None
    norm = only_reader(add, readers, outputs)
    if norm is None or not _layer_norm(norm, const_of):
        return None
    nodes += [add, norm]
    activation = "relu" if act.op_type == "Relu" else "gelu"
    return nodes, [w1, b1, second.input[1], b2], activation, [norm.input[1], norm.input[2] if len(norm.input) > 2 else ""]


def _bias(node, nodes, readers, outputs, const_of):
    add = only_reader(node, readers, outputs)
    if add is not None and add.op_type == "Add":
        other = next((i for i in add.input if i != node.output[0]), "")
        if const_of(other) is not None:
            nodes.append(add)
            return add, other
    return node, ""
