"""Sequence models of the course: a recurrent classifier, encoder-decoder translators (recurrent,
with and without attention, and a transformer) and a tiny BERT.

The translators train on the built-in `translation_synth` pair (see training's datasets): source
sentences of at most SOURCE_LENGTH words over SOURCE_VOCAB ids, targets of TARGET_LENGTH ids
(EOS included) over TARGET_VOCAB. Id 0 is padding in both, so each Embedding has padding_idx 0
and attention masks padded words by itself. The decoder's Input reads the target field that its
head predicts: that is what makes training teacher-forced (the target shifted right).
"""

from __future__ import annotations

from graph_core import Graph

from .catalog import p_bool, p_choice, p_float, p_int, template
from .sketch import Sketch

SOURCE_LENGTH, TARGET_LENGTH = 7, 8
SOURCE_VOCAB, TARGET_VOCAB = 31, 40
_TRANSLATION = {"dataset": "translation_synth"}


@template(
    "rnn_classifier",
    "A recurrent network reads a sequence one step at a time and carries what it has seen in its "
    "state. Here an LSTM or GRU reads one-hot DNA (or learned base embeddings), a max over the "
    "steps asks whether the motif appeared anywhere, and a logistic output answers yes or no.",
    p_choice("cell", "GRU", ("GRU", "LSTM", "RNN"), "the recurrent layer"),
    p_choice("encoding", "onehot", ("onehot", "embedding"), "one-hot bases, or a learned vector per base"),
    p_int("length", 100, "sequence length", minimum=8),
    p_int("hidden_size", 64, "the recurrent state's size"),
    p_bool("bidirectional", True, "also read the sequence backwards"),
)
def rnn_classifier(cell: str, encoding: str, length: int, hidden_size: int, bidirectional: bool) -> Graph:
    s = Sketch("rnn_classifier")
    x = s.add("sequence", "Input", 0, shape=[length], dtype="int64", field="sequence")
    if encoding == "onehot":
        x = s.then(x, "onehot", "OneHot", num_classes=4)
        x = s.then(x, "steps", "Transpose", dim0=1, dim1=2)  # (4, L) -> (L, 4): one vector per step
    else:
        x = s.then(x, "embed", "Embedding", num_embeddings=4, embedding_dim=8)
    x = s.then(x, "rnn", cell, hidden_size=hidden_size, bidirectional=bidirectional)
    x = s.then(x, "channels", "Transpose", dim0=1, dim1=2)
    x = s.then(x, "anywhere", "GlobalMaxPool")
    x = s.then(x, "logit", "Dense", out_features=1)
    s.then(x, "has_motif", "Output", loss="bce", target="label")
    # A recurrent net finds the motif later than a CNN: its loss sits near chance for about ten
    # epochs before the state learns to latch on the 8-mer (benchmarks: >= 95 % by epoch 17-20)
    return s.settings({"dataset": "dna_motif", "length": length}, optimizer="adam", lr=0.01, epochs=25,
                      batch_size=64)


def _embedded_pair(s: Sketch, dim: int, target_row: int = 2) -> tuple[str, str]:
    src = s.add("source", "Input", 0, 0, shape=[SOURCE_LENGTH], dtype="int64", field="source")
    tgt = s.add("target", "Input", 0, target_row, shape=[TARGET_LENGTH], dtype="int64", field="target")
    src = s.then(src, "src_embed", "Embedding", num_embeddings=SOURCE_VOCAB, embedding_dim=dim, padding_idx=0)
    tgt = s.then(tgt, "tgt_embed", "Embedding", num_embeddings=TARGET_VOCAB, embedding_dim=dim, padding_idx=0)
    return src, tgt


@template(
    "seq2seq",
    "A translator as an encoder-decoder: a GRU reads the source sentence into a state, a second GRU "
    "starts from that state and writes the target word by word (trained with the true previous "
    "word: teacher forcing). With attention, every target word also looks back at every source "
    "word — the step from squeezing a sentence into one vector to attending where it matters.",
    p_bool("attention", True, "let the decoder attend to every encoder step"),
    p_int("embedding_dim", 64, "length of each word's vector"),
    p_int("hidden_size", 128, "the GRUs' state size"),
)
def seq2seq(attention: bool, embedding_dim: int, hidden_size: int) -> Graph:
    s = Sketch("seq2seq_attention" if attention else "seq2seq")
    src, tgt = _embedded_pair(s, embedding_dim)
    enc = s.then(src, "encoder", "GRU", hidden_size=hidden_size)
    dec = s.then(tgt, "decoder", "GRU", hidden_size=hidden_size, step=2)
    s.wire(enc, dec, "state", "h0")
    x = dec
    if attention:
        att = s.add("attention", "MultiheadAttention", s.col(dec) + 1, 1, num_heads=1)
        s.wire(dec, att, dst_port="query")
        s.wire(enc, att, dst_port="key")
        s.wire(enc, att, dst_port="value")
        x = s.then(dec, "join", "Concat", dim=2, step=2)
        s.wire(att, x)
    x = s.then(x, "words", "Dense", out_features=TARGET_VOCAB)
    s.then(x, "translation", "Output", loss="cross_entropy", target="target")
    return s.settings(_TRANSLATION, optimizer="adam", lr=0.003, epochs=6, batch_size=64)


@template(
    "transformer",
    "A small transformer translator: source and target words get sinusoidal positions, encoder "
    "layers let every source word attend to every other, and decoder layers attend causally to "
    "the target so far and to the encoder's memory. Padding is masked from the pad id.",
    p_int("d_model", 64, "width of every position's vector"),
    p_int("nhead", 4, "attention heads per layer"),
    p_int("num_layers", 2, "encoder layers and decoder layers", maximum=8),
    p_int("dim_feedforward", 128, "width of each layer's feed-forward network"),
    p_float("dropout", 0.1, "dropout inside the layers", maximum=0.9),
)
def transformer(d_model: int, nhead: int, num_layers: int, dim_feedforward: int, dropout: float) -> Graph:
    s = Sketch("transformer")
    src, tgt = _embedded_pair(s, d_model, target_row=1 + num_layers)
    src = s.then(src, "src_pos", "PositionalEncoding", max_len=64)
    tgt = s.then(tgt, "tgt_pos", "PositionalEncoding", max_len=64)
    layer = {"nhead": nhead, "dim_feedforward": dim_feedforward, "dropout": dropout}
    for k in range(1, num_layers + 1):
        src = s.then(src, f"encoder{k}", "TransformerEncoderLayer", **layer)
    for k in range(1, num_layers + 1):  # the decoders stand right of the last encoder, their memory
        step = 1 if k > 1 else s.col(src) - s.col(tgt) + 1
        # each a row above the one before: the memory wire into one comes down past no other
        tgt = s.then(tgt, f"decoder{k}", "TransformerDecoderLayer", step=step, row=s.row(tgt) - (k > 1), **layer)
        s.wire(src, tgt, dst_port="memory")
    x = s.then(tgt, "words", "Dense", out_features=TARGET_VOCAB)
    s.then(x, "translation", "Output", loss="cross_entropy", target="target")
    return s.settings(_TRANSLATION, optimizer="adam", lr=0.001, epochs=8, batch_size=64)


@template(
    "bert_tiny",
    "BERT in miniature: each token's embedding, its position's and its segment's are summed and "
    "layer-normalised, as BERT builds its input. Transformer encoder layers then read the whole "
    "text at once, and a classifier reads the first position, where BERT puts its [CLS] token.",
    p_int("length", 32, "tokens per text", minimum=4),
    p_int("vocab_size", 20, "number of distinct tokens", minimum=6),
    p_int("d_model", 32, "width of every position's vector"),
    p_int("nhead", 4, "attention heads per layer"),
    p_int("num_layers", 2, "encoder layers", maximum=8),
    p_int("num_classes", 2, "number of classes", minimum=2),
)
def bert_tiny(length: int, vocab_size: int, d_model: int, nhead: int, num_layers: int, num_classes: int) -> Graph:
    s = Sketch("bert_tiny")
    tok = s.add("tokens", "Input", 0, 0, shape=[length], dtype="int64", field="tokens")
    seg = s.add("segments", "Input", 0, 1, shape=[length], dtype="int64", field="segments")
    tok = s.then(tok, "token_embed", "Embedding", num_embeddings=vocab_size, embedding_dim=d_model)
    tok = s.then(tok, "position", "PositionalEmbedding", max_len=length)
    # beside the position card, not under it: its wire to the sum then crosses no card
    seg = s.then(seg, "segment_embed", "Embedding", num_embeddings=2, embedding_dim=d_model, step=2)
    x = s.then(tok, "sum", "Add", step=1)
    s.wire(seg, x)
    x = s.then(x, "norm", "LayerNorm")
    for k in range(1, num_layers + 1):
        x = s.then(x, f"encoder{k}", "TransformerEncoderLayer", nhead=nhead, dim_feedforward=2 * d_model,
                   dropout=0.1, activation="gelu")
    x = s.then(x, "cls", "Select", dim=1, index=0)
    x = s.then(x, "scores", "Dense", out_features=num_classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    data = {"dataset": "tokens_synth", "length": length, "vocab_size": vocab_size,
            "num_classes": num_classes, "segments": True}
    return s.settings(data, optimizer="adam", lr=0.001, epochs=15, batch_size=64)
