"""The importer's table, attention part: fused attention regions onto MultiheadAttention, and the
padding mask they read onto an Embedding's padding_idx.

interop.onnx_attention rewrites each exported attention region into one node of the private
domain PATTERN_DOMAIN; the entries of PATTERNS (listed in docs/import.md beside the operator
table) turn such nodes into registry nodes. PyTorch builds the key padding mask of the template
from `ids == pad id`; Netwright does not wire masks but derives them from an Embedding's
padding_idx (graph_core.padding), so the mask becomes that Embedding's padding_idx, and once the
whole graph is mapped `check_masks` makes sure every attention node masks exactly the keys the
file masked.
"""

from __future__ import annotations

import numpy as np

from graph_core import embedding_behind, get_spec, padding_source

from .onnx_attention import BK, BO, BQ, BV, MASK_IDS, MHA_WEIGHTS, WK, WO, WQ, WV, K, Q, V
from .onnx_build import Builder, Unmappable, Value, attributes
from .onnx_ops import OpRule
from .onnx_transformer import decoder_weights, encoder_weights

PATTERNS: dict[str, OpRule] = {}
# which input slots of each fused node hold the file's weights (the parameter count follows them)
PATTERN_WEIGHTS: dict[str, tuple[tuple[int, ...], ...]] = {
    "MultiheadAttention": MHA_WEIGHTS, "TransformerEncoderLayer": encoder_weights(),
    "TransformerDecoderLayer": decoder_weights()}


def pattern(op: str, nodes: tuple[str, ...] | str, note: str):
    """Register the decorated converter for the fused node `op` (see interop.onnx_attention)."""
    def register(fn):
        PATTERNS[op] = OpRule(op, (nodes,) if isinstance(nodes, str) else tuple(nodes), note, fn)
        return fn

    return register


@pattern("MultiheadAttention", "MultiheadAttention",
         "the projections, head split, scaled q·kᵀ, Softmax, weighted sum and output projection that "
         "nn.MultiheadAttention (batch_first) exports; a causal constant becomes causal, a key padding "
         "mask `ids == pad` the padding_idx of the Embedding the keys come from")
def _attention(b: Builder, node) -> None:
    a = attributes(node)
    ins = list(node.input)
    tensors = _sources(b, ins)
    embed = tensors[0].shape[-1]
    weights = _projections(b, ins, a, embed, [t.shape[-1] for t in tensors])
    params = {"num_heads": int(a["num_heads"]), "dropout": 0.0, "bias": True, "causal": bool(a.get("causal", 0))}
    v = b.add(node, "MultiheadAttention", params, dict(zip(("query", "key", "value"), ([t] for t in tensors))),
              weights)
    b.set_output(node, v)
    expect_mask(b, v.node, "key", ins[MASK_IDS], int(a.get("pad", -1)))


def _sources(b: Builder, ins: list[str]) -> list[Value]:
    """Query, key and value: the projections read them time-major, the registry node batch-first."""
    out = []
    for slot in (Q, K, V):
        v = b.any_value(ins[slot])
        if v is None:
            raise Unmappable(f"reads {ins[slot]}, which no mapped node produces")
        if v.layout != "time":
            raise Unmappable(f"projects {ins[slot]}, which is not a batch-first sequence moved time-major")
        out.append(Value(v.node, v.port, v.type))
    return out


def _projections(b: Builder, ins, a, embed: int, dims: list[int]) -> dict[str, np.ndarray]:
    """PyTorch's in_proj (or q/k/v_proj) and out_proj tensors from the file's projections."""
    rows, biases = [], []
    for k, (w_slot, b_slot) in enumerate(((WQ, BQ), (WK, BK), (WV, BV))):
        w = b.const(ins[w_slot])
        if w is None or w.ndim != 2:
            raise Unmappable("its projection weights are not constant matrices")
        w = np.asarray(w, np.float32).T  # MatMul(x, W): W is (in, out)
        part = w[a["offsets"][k] * embed:(a["offsets"][k] + 1) * embed]
        if part.shape != (embed, dims[k]):
            raise Unmappable(f"projects {dims[k]} features with a {list(w.shape)} matrix")
        rows.append(part)
        bias = b.const(ins[b_slot]) if ins[b_slot] else None
        biases.append(_zeros_if_dropped(b, bias, a["offsets"][k], embed))
    out_w = b.const(ins[WO])
    out_w = np.asarray(out_w, np.float32) if a.get("out_transposed", 0) else np.asarray(out_w, np.float32).T
    out_b = _zeros_if_dropped(b, b.const(ins[BO]) if ins[BO] else None, 0, embed)
    if dims[1:] == [embed, embed]:
        tensors = {"in_proj_weight": np.concatenate(rows), "in_proj_bias": np.concatenate(biases)}
    else:
        tensors = {"q_proj_weight": rows[0], "k_proj_weight": rows[1], "v_proj_weight": rows[2],
                   "in_proj_bias": np.concatenate(biases)}
    tensors["out_proj.weight"], tensors["out_proj.bias"] = out_w, out_b
    return tensors


def _zeros_if_dropped(b: Builder, bias, offset: int, embed: int) -> np.ndarray:
    # A zero bias is folded away by the exporter (Gemm without C); the layer still learns it, so
    # it counts among the file's parameters as the layer's own
    if bias is None:
        b.implied_params += embed
        return np.zeros(embed, np.float32)
    bias = np.asarray(bias, np.float32).reshape(-1)
    return bias[offset * embed:(offset + 1) * embed] if bias.size > embed else bias


def _layer_tensors(b: Builder, ins: list[str], a: dict, blocks: list[tuple[str, int, dict]], d: int,
                   after: int) -> tuple[dict[str, np.ndarray], int]:
    """The tensors of a transformer layer: each attention block's (prefix, first slot, attributes),
    then from slot `after` the norms' scale and bias pairs, and the network's two Dense layers."""
    tensors: dict[str, np.ndarray] = {}
    for prefix, start, attrs in blocks:
        block = _projections(b, ins[start:start + MASK_IDS + 1], attrs, d, [d, d, d])
        tensors |= {f"{prefix}.{k}": w for k, w in block.items()}
    norms = (len(blocks) + 1)
    slots = ins[after:]
    names = [f"norm{k}" for k in range(1, norms)]
    for k, norm in enumerate(names):
        tensors |= _norm(b, norm, slots[2 * k], slots[2 * k + 1], d)
    w1, b1, w2, b2 = slots[2 * len(names):2 * len(names) + 4]
    first, second = np.asarray(b.const(w1), np.float32).T, np.asarray(b.const(w2), np.float32).T
    ff = first.shape[0]
    if first.shape != (ff, d) or second.shape != (d, ff):
        raise Unmappable(f"its feed-forward matrices {list(first.shape)} and {list(second.shape)} do not fit d_model {d}")
    tensors["linear1.weight"], tensors["linear2.weight"] = first, second
    tensors["linear1.bias"] = _zeros_if_dropped(b, b.const(b1) if b1 else None, 0, ff)
    tensors["linear2.bias"] = _zeros_if_dropped(b, b.const(b2) if b2 else None, 0, d)
    last = slots[2 * len(names) + 4:]
    tensors |= _norm(b, f"norm{norms}", last[0], last[1], d)
    return tensors, ff


def _norm(b: Builder, prefix: str, scale: str, bias: str, d: int) -> dict[str, np.ndarray]:
    weight = b.const(scale)
    offset = b.const(bias) if bias else np.zeros(d, np.float32)
    if weight is None or offset is None or np.asarray(weight).size != d or np.asarray(offset).size != d:
        raise Unmappable(f"its LayerNorm {prefix} does not hold {d} constant scales and offsets")
    return {f"{prefix}.weight": np.asarray(weight, np.float32).reshape(d),
            f"{prefix}.bias": np.asarray(offset, np.float32).reshape(d)}


def _layer_params(a: dict, ff: int) -> dict:
    return {"nhead": int(a["num_heads"]), "dim_feedforward": ff, "dropout": 0.1,
            "activation": a.get("activation", "relu"), "norm_first": bool(a.get("norm_first", 0)),
            "causal": bool(a.get("causal", 0))}


@pattern("TransformerEncoderLayer", "TransformerEncoderLayer",
         "batch-first as nn.TransformerEncoderLayer exports it: self-attention, Add, LayerNorm "
         "(epsilon 1e-5), ReLU or GELU network, Add, LayerNorm; or pre-norm (norm_first) with each "
         "LayerNorm before its block; another chain stays MultiheadAttention, Add, LayerNorm and Dense nodes")
def _encoder(b: Builder, node) -> None:
    a, ins = attributes(node), list(node.input)
    x = b.value(ins[0])
    d = x.shape[-1]
    tensors, ff = _layer_tensors(b, ins, a, [("self_attn", 1, a)], d, 1 + MASK_IDS + 1)
    v = b.add(node, "TransformerEncoderLayer", _layer_params(a, ff), [x], tensors)
    b.set_output(node, v)
    expect_mask(b, v.node, "in", ins[1 + MASK_IDS], int(a.get("pad", -1)))


@pattern("TransformerDecoderLayer", "TransformerDecoderLayer",
         "as the encoder layer, with attention over the memory (the encoder's output) between the "
         "first LayerNorm and the network; causal self-attention becomes causal")
def _decoder(b: Builder, node) -> None:
    a, ins = attributes(node), list(node.input)
    x, memory = b.value(ins[0]), b.value(ins[1])
    d = x.shape[-1]
    cross = {"offsets": a["cross_offsets"], "out_transposed": a["cross_out_transposed"]}
    if int(a["cross_heads"]) != int(a["num_heads"]):
        raise Unmappable(f"its two attentions have {a['num_heads']} and {a['cross_heads']} heads; "
                         "TransformerDecoderLayer has one nhead")
    blocks = [("self_attn", 2, a), ("multihead_attn", 2 + MASK_IDS + 1, cross)]
    tensors, ff = _layer_tensors(b, ins, a, blocks, d, 2 + 2 * (MASK_IDS + 1))
    v = b.add(node, "TransformerDecoderLayer", _layer_params(a, ff), {"in": [x], "memory": [memory]}, tensors)
    b.set_output(node, v)
    expect_mask(b, v.node, "in", ins[2 + MASK_IDS], int(a.get("pad", -1)))
    expect_mask(b, v.node, "memory", ins[2 + (MASK_IDS + 1) + MASK_IDS], int(a.get("cross_pad", -1)))


# ---- padding masks ---------------------------------------------------------------------------


def expect_mask(b: Builder, node_id: str, port: str, ids: str, pad: int) -> None:
    """Record which mask `node_id` must apply on `port` (none when `ids` is empty) and, for a
    mask, give the Embedding behind the port that padding_idx."""
    b.masks[(node_id, port)] = (ids, pad) if ids else None
    if not ids:
        return
    embedding = embedding_behind(b.graph, node_id, port)
    if embedding is None:
        raise Unmappable(f"masks the keys where {ids} == {pad}, but the keys come from no Embedding of "
                         f"{ids}; Netwright derives masks from an Embedding's padding_idx")
    params = b.graph.nodes[embedding].params
    if params.get("padding_idx") not in (None, pad):
        raise Unmappable(f"masks pad id {pad}, but its Embedding already pads {params['padding_idx']}")
    params["padding_idx"] = pad


def check_masks(b: Builder) -> list[str]:
    """Lines for attention nodes whose automatic mask differs from the file's (an Embedding's
    padding_idx set for one layer also masks another that the file did not mask)."""
    problems = []
    for (nid, port), want in b.masks.items():
        got = padding_source(b.graph, nid, port)
        # the file names its ids input; the graph's Input node may be named otherwise (`source_`
        # is Netwright's own export of `source`), so both sides compare as node ids
        wanted = None if want is None else (b.values[want[0]].node if want[0] in b.values else want[0], want[1])
        if got != wanted:
            problems.append(f"{b.graph.nodes[nid].name}: the file masks {_mask_words(want)} on {port}, "
                            f"but the graph would mask {_mask_words(got)}")
    return problems


def _mask_words(mask) -> str:
    return "nothing" if mask is None else f"{mask[0]} == {mask[1]}"



# ---- positions -------------------------------------------------------------------------------


def positions(b: Builder, node, names: list[str]) -> bool:
    """Add(sequence, table) with a constant (L, E) table: the sinusoids of PositionalEncoding, or
    a learned PositionalEmbedding of max_len L holding the table. False for any other constant."""
    table_name = next(n for n in names if b.const(n) is not None)
    x = b.any_value(next(n for n in names if n != table_name))
    table = np.asarray(b.const(table_name))
    if x is None or x.layout != "batch" or x.type.rank != 2 or x.type.dtype != "float32" or table.dtype.kind != "f":
        return False
    if table.shape[-2:] != x.shape or table.size != int(np.prod(x.shape)):
        return False
    table = table.reshape(x.shape).astype(np.float32)
    length, _ = x.shape
    if np.abs(table - sinusoids(*x.shape)).max() <= 1e-5:
        # the sinusoids of the first L positions are the same whatever max_len: the spec's own
        # (a longer sequence still fits), or the file's length where that is longer
        default = get_spec("PositionalEncoding").param("max_len").default
        b.not_learned.add(table_name)
        b.set_output(node, b.add(node, "PositionalEncoding", {"max_len": max(default, length)}, [x]))
    else:
        b.set_output(node, b.add(node, "PositionalEmbedding", {"max_len": length}, [x],
                                 {"embedding.weight": table}))
    return True


def sinusoids(length: int, d_model: int) -> np.ndarray:
    """The table PositionalEncoding adds (graph_core.layers.attention.SINUSOIDAL), in numpy."""
    position = np.arange(length, dtype=np.float32)[:, None]
    frequency = np.power(np.float32(10000.0), -np.arange(0, d_model, 2, dtype=np.float32) / d_model)
    table = np.zeros((length, d_model), np.float32)
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)[:, : d_model // 2]
    return table
