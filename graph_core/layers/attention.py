"""Attention and transformers over sequences (L, E), batch first: MultiheadAttention, the
encoder and decoder layers of a transformer, and positional information (learned or sinusoidal).

Masks follow from the graph rather than from wiring: `causal` is a parameter (step i may not
look at later steps), and where a sequence's positions come from an Embedding with a
padding_idx, the generated code masks the padded keys itself (see `graph_core.padding`).
"""

from __future__ import annotations

from ..specs import Inference, LayerSpec, PortSpec, ShapeError, TensorType, format_shape, register
from ._helpers import fmt, p_bool, p_choice, p_float, p_int, single

# Emitted once into a generated file that has a causal layer.
CAUSAL_MASK = '''def causal_mask(x):
    """True above the diagonal: step i of x (batch, L, ...) may not attend to steps after i."""
    return torch.ones(x.size(1), x.size(1), dtype=torch.bool, device=x.device).triu(1)
'''

LEARNED = '''class PositionalEmbedding(nn.Module):
    """Adds a learned vector per position (BERT's position embeddings) to a sequence (batch, L, d)."""

    def __init__(self, max_len, d_model):
        super().__init__()
        self.embedding = nn.Embedding(max_len, d_model)

    def forward(self, x):
        return x + self.embedding(torch.arange(x.size(1), device=x.device))
'''

SINUSOIDAL = '''class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoids of "Attention is all you need" to a sequence (batch, L, d_model):
    position p, feature 2i gets sin(p / 10000^(2i/d)), feature 2i+1 the cosine. No weights."""

    def __init__(self, d_model, max_len):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        frequency = torch.pow(10000.0, -torch.arange(0, d_model, 2) / d_model)
        table = torch.zeros(max_len, d_model)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency)[:, : d_model // 2]
        self.register_buffer("table", table, persistent=False)

    def forward(self, x):
        return x + self.table[: x.size(1)]
'''


def sequence(x: TensorType, type_name: str, port: str = "in") -> tuple[int, int]:
    """(L, E) of a float sequence on `port`, or a ShapeError saying what to add."""
    if x.dtype != "float32":
        raise ShapeError(f"{type_name} needs float vectors per position; got {x.dtype} token ids — "
                         "add an Embedding first", port)
    if x.rank != 2:
        raise ShapeError(f"{type_name} needs a sequence (L, E) on '{port}'; got {format_shape(x.shape)} "
                         "— add a Transpose or Reshape", port)
    return x.shape


def _heads(d_model: int, nhead: int, type_name: str, port: str = "in") -> None:
    if d_model % nhead:
        raise ShapeError(f"{type_name}: the feature size {d_model} must divide into nhead={nhead} heads "
                         "of equal width — change nhead or the Embedding's size", port)


def _keyword_masks(args, pairs) -> str:
    """`, name=mask` for every automatic padding mask the code generator supplied."""
    return "".join(f", {name}={args[key][0]}" for key, name in pairs if args.get(key))


# ---- multi-head attention -------------------------------------------------------------


def _infer_mha(params, inputs):
    q, k, v = single(inputs, "query"), single(inputs, "key"), single(inputs, "value")
    length, embed = sequence(q, "MultiheadAttention", "query")
    s_len, kdim = sequence(k, "MultiheadAttention", "key")
    v_len, vdim = sequence(v, "MultiheadAttention", "value")
    _heads(embed, params["num_heads"], "MultiheadAttention", "query")
    if s_len != v_len:
        raise ShapeError(f"key has {s_len} positions but value has {v_len}: each key needs its value", "value")
    mask = inputs.get("mask") or ()
    if mask and mask[0].shape != (s_len,):
        raise ShapeError(f"mask must be ({s_len},): one flag per key position (nonzero: padding, "
                         f"ignored); got {format_shape(mask[0].shape)}", "mask")
    if params["causal"] and length != s_len:
        raise ShapeError(f"a causal mask needs as many queries as keys; got {length} and {s_len}", "key")
    count = embed * (embed + kdim + vdim) + embed * embed
    if params["bias"]:
        count += 3 * embed + embed
    return Inference({"out": TensorType((length, embed), sequence=True),
                      "weights": TensorType((length, s_len), kind="weights", sequence=True)}, count)


def _mha_module(params, inputs):
    embed = single(inputs, "query").shape[1]
    kdim, vdim = single(inputs, "key").shape[1], single(inputs, "value").shape[1]
    args = f"{embed}, {params['num_heads']}"
    if params["dropout"]:
        args += f", dropout={fmt(params['dropout'])}"
    if not params["bias"]:
        args += ", bias=False"
    if (kdim, vdim) != (embed, embed):
        args += f", kdim={kdim}, vdim={vdim}"
    return f"nn.MultiheadAttention({args}, batch_first=True)"


def _mha_forward(module, args, params):
    q, k, v = args["query"][0], args["key"][0], args["value"][0]
    extra = ""
    if args.get("mask"):
        extra += f", key_padding_mask={args['mask'][0]}.bool()"
    else:
        extra += _keyword_masks(args, (("key_padding", "key_padding_mask"),))
    if params["causal"]:
        extra += f", attn_mask=causal_mask({q})"
    return f"{module}({q}, {k}, {v}{extra})"


register(LayerSpec(
    type="MultiheadAttention", category="attention", title="Multi-head attention",
    help="Each query position looks at every key, weighs them by softmax(q·k/√d) and takes the "
         "weighted mix of their values — num_heads times in parallel, each in its own subspace. "
         "Wire one sequence to all three for self-attention; a decoder's queries over an "
         "encoder's keys and values is the attention of a translator.",
    inputs=(PortSpec("query", help="the positions that ask (L, E)"),
            PortSpec("key", help="the positions that answer (S, kdim)"),
            PortSpec("value", help="what each answering position contributes (S, vdim)"),
            PortSpec("mask", kind="mask", optional=True,
                     help="(S,) nonzero where a key is padding and must be ignored; without it, "
                          "padding from an Embedding's padding_idx is masked automatically")),
    outputs=(PortSpec("out", help="the attended sequence (L, E)"),
             PortSpec("weights", kind="weights", help="the attention map (L, S), averaged over heads")),
    params=(p_int("num_heads", 4, "parallel attention heads; must divide the query's feature size"),
            p_float("dropout", 0.0, "dropout on the attention weights while training", 0.0, 1.0),
            p_bool("bias", True, "learn offsets in the projections"),
            p_bool("causal", False, "position i may only attend to positions up to i (a decoder)")),
    infer=_infer_mha, module=_mha_module, forward=_mha_forward,
    results=lambda p: ("out", "weights"), helper=lambda p: CAUSAL_MASK if p["causal"] else "",
    padding_mask=("key",),
))

# ---- transformer layers --------------------------------------------------------------


def _transformer_params(causal: bool):
    return (
        p_int("nhead", 4, "attention heads; must divide d_model (the input's feature size)"),
        p_int("dim_feedforward", 128, "width of the feed-forward network after attention"),
        p_float("dropout", 0.1, "dropout after attention and in the feed-forward network", 0.0, 1.0),
        p_choice("activation", "relu", ("relu", "gelu"), "activation of the feed-forward network"),
        p_bool("norm_first", False, "LayerNorm before each sub-layer (pre-norm: steadier when deep)"),
        p_bool("causal", causal, "position i may only attend to positions up to i"
               + (" (the decoder's own target, teacher-forced)" if causal else " (a GPT-style decoder)")),
    )


def _layer_count(d: int, ff: int, attentions: int) -> int:
    attention = 4 * d * d + 4 * d  # in_proj (3 d x d + 3 d) and out_proj (d x d + d)
    feed_forward = d * ff + ff + ff * d + d
    norms = (attentions + 1) * 2 * d
    return attentions * attention + feed_forward + norms


def _infer_encoder(params, inputs):
    length, d = sequence(single(inputs), "TransformerEncoderLayer")
    _heads(d, params["nhead"], "TransformerEncoderLayer")
    return Inference({"out": TensorType((length, d), sequence=True)}, _layer_count(d, params["dim_feedforward"], 1))


def _infer_decoder(params, inputs):
    length, d = sequence(single(inputs), "TransformerDecoderLayer")
    _, d_mem = sequence(single(inputs, "memory"), "TransformerDecoderLayer", "memory")
    _heads(d, params["nhead"], "TransformerDecoderLayer")
    if d_mem != d:
        raise ShapeError(f"memory has {d_mem} features but the target has {d}: both sides of a "
                         "transformer share d_model — give both Embeddings the same embedding_dim", "memory")
    return Inference({"out": TensorType((length, d), sequence=True)}, _layer_count(d, params["dim_feedforward"], 2))


def _transformer_module(type_name: str):
    def module(params, inputs):
        args = f"{single(inputs).shape[1]}, {params['nhead']}, dim_feedforward={params['dim_feedforward']}"
        if params["dropout"] != 0.1:
            args += f", dropout={fmt(params['dropout'])}"
        if params["activation"] != "relu":
            args += f", activation={fmt(params['activation'])}"
        if params["norm_first"]:
            args += ", norm_first=True"
        return f"nn.{type_name}({args}, batch_first=True)"

    return module


def _encoder_forward(module, args, params):
    x = args["in"][0]
    extra = _keyword_masks(args, (("in_padding", "src_key_padding_mask"),))
    if params["causal"]:
        extra += f", src_mask=causal_mask({x}), is_causal=True"
    return f"{module}({x}{extra})"


def _decoder_forward(module, args, params):
    x, memory = args["in"][0], args["memory"][0]
    extra = ""
    if params["causal"]:
        extra += f", tgt_mask=causal_mask({x}), tgt_is_causal=True"
    extra += _keyword_masks(args, (("in_padding", "tgt_key_padding_mask"),
                                   ("memory_padding", "memory_key_padding_mask")))
    return f"{module}({x}, {memory}{extra})"


def _causal_helper(params):
    return CAUSAL_MASK if params["causal"] else ""


register(LayerSpec(
    type="TransformerEncoderLayer", category="attention", title="Transformer encoder layer",
    help="One layer of a transformer encoder: every position attends to every other (self-attention), "
         "then a small feed-forward network refines each position; each step is added back to its "
         "input and layer-normalised. Stack several to read a whole sentence at once.",
    inputs=(PortSpec("in", help="a sequence (L, d_model)"),),
    outputs=(PortSpec("out", help="the same positions, each now informed by the others (L, d_model)"),),
    params=_transformer_params(causal=False),
    infer=_infer_encoder, module=_transformer_module("TransformerEncoderLayer"), forward=_encoder_forward,
    helper=_causal_helper, padding_mask=("in",),
))

register(LayerSpec(
    type="TransformerDecoderLayer", category="attention", title="Transformer decoder layer",
    help="One layer of a transformer decoder: causal self-attention over the target so far, then "
         "attention over the encoder's memory (where the translation looks in the source), then a "
         "feed-forward network. Trained with the whole target at once (teacher forcing).",
    inputs=(PortSpec("in", help="the target sequence so far (L, d_model)"),
            PortSpec("memory", kind="memory", help="the encoder's output (S, d_model)")),
    outputs=(PortSpec("out", help="one vector per target position (L, d_model)"),),
    params=_transformer_params(causal=True),
    infer=_infer_decoder, module=_transformer_module("TransformerDecoderLayer"), forward=_decoder_forward,
    helper=_causal_helper, padding_mask=("in", "memory"),
))

# ---- positions -----------------------------------------------------------------------


def _positions(type_name: str):
    def infer(params, inputs):
        length, d = sequence(single(inputs), type_name)
        if length > params["max_len"]:
            raise ShapeError(f"the sequence has {length} positions but max_len is {params['max_len']}: "
                             "raise max_len", "in")
        count = params["max_len"] * d if type_name == "PositionalEmbedding" else 0
        return Inference({"out": TensorType((length, d), sequence=True)}, count)

    return infer


register(LayerSpec(
    type="PositionalEmbedding", category="attention", title="Positional embedding (learned)",
    help="Attention by itself does not know word order; this adds a learned vector per position "
         "(a lookup table of max_len rows, as in BERT) to each position's features.",
    inputs=(PortSpec("in", help="a sequence (L, E), L at most max_len"),),
    outputs=(PortSpec("out", help="the sequence plus its positions (L, E)"),),
    params=(p_int("max_len", 64, "the longest sequence it has positions for"),),
    infer=_positions("PositionalEmbedding"),
    module=lambda p, i: f"PositionalEmbedding({p['max_len']}, {single(i).shape[1]})",
    helper=lambda p: LEARNED,
))

register(LayerSpec(
    type="PositionalEncoding", category="attention", title="Positional encoding (sinusoidal)",
    help="Adds fixed sine and cosine waves of different frequencies to each position, so attention "
         "can tell positions apart and compare them; nothing to learn, and any length up to max_len.",
    inputs=(PortSpec("in", help="a sequence (L, E), L at most max_len"),),
    outputs=(PortSpec("out", help="the sequence plus its positions (L, E)"),),
    params=(p_int("max_len", 512, "the longest sequence it has positions for"),),
    infer=_positions("PositionalEncoding"),
    module=lambda p, i: f"PositionalEncoding({single(i).shape[1]}, {p['max_len']})",
    helper=lambda p: SINUSOIDAL,
))
