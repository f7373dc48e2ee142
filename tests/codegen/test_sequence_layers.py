"""Sequence layers (recurrent, attention, plumbing) across many configurations: inferred shapes and
parameter counts equal the compiled module's, the code reads as written by hand, padding is
masked without wiring, unfitting wires are refused with the reason, and ONNX exports run in
onnxruntime with a dynamic batch and a dynamic length."""

from __future__ import annotations

import pytest
import torch

import graph_core as gc
from codegen import ExportError, compile_graph, export_onnx, generate_source
from codegen.onnx_export import TOLERANCE
from tests.codegen.test_registry_contract import _check_graph
from tests.registry_samples import sample_graph

from .graphs import Builder

SEQUENCE_TYPES = ["RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer",
                  "TransformerDecoderLayer", "PositionalEmbedding", "PositionalEncoding", "Transpose",
                  "MatMul", "Select"]


def _single(type_name: str, shape=(7, 6), **params) -> gc.Graph:
    b = Builder(f"one_{type_name.lower()}")
    b.node("x", "Input", shape=list(shape)).node("node", type_name, **params).node("head", "Output", loss="none")
    return b.chain("x", "node", "head").graph


RECURRENT = [
    ("RNN", {"hidden_size": 5, "nonlinearity": "relu"}),
    ("RNN", {"hidden_size": 4, "num_layers": 3, "bidirectional": True, "bias": False}),
    ("LSTM", {"hidden_size": 8}),
    ("LSTM", {"hidden_size": 3, "num_layers": 2, "bidirectional": True, "dropout": 0.2}),
    ("GRU", {"hidden_size": 9, "num_layers": 2}),
    ("GRU", {"hidden_size": 2, "bidirectional": True, "bias": False}),
]


@pytest.mark.parametrize("type_name,params", RECURRENT)
def test_recurrent_configurations_match_the_compiled_module(type_name, params):
    _check_graph(_single(type_name, **params))


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_a_decoder_starts_from_the_encoders_state(cell):
    # a bidirectional one-layer encoder hands (2, H) to a two-layer one-way decoder
    b = Builder(f"{cell.lower()}_seq2seq")
    b.node("src", "Input", shape=[9, 4]).node("tgt", "Input", shape=[5, 3])
    b.node("encoder", cell, hidden_size=6, bidirectional=True)
    b.node("decoder", cell, hidden_size=6, num_layers=2)
    b.node("scores", "Dense", out_features=11).node("head", "Output", loss="none")
    b.chain("src", "encoder").chain("tgt", "decoder", "scores", "head")
    b.wire("encoder", "decoder", "state", "h0")
    g = b.graph
    _check_graph(g)
    assert gc.infer_shapes(g)["encoder"].outputs["state"].shape == (2, 6)
    source = generate_source(g).source
    if cell == "LSTM":
        assert "_, (encoder_h, encoder_c) = self.encoder(src)" in source
        assert "x, _ = self.decoder(tgt, (encoder_h, encoder_c))" in source
    else:
        assert "_, encoder_h = self.encoder(src)" in source
        assert "x, _ = self.decoder(tgt, encoder_h)" in source
    model = compile_graph(g).eval()
    src, tgt = torch.randn(2, 9, 4), torch.randn(2, 5, 3)
    with torch.no_grad():
        _, state = model.encoder(src)
        by_hand = model.scores(model.decoder(tgt, state)[0])
        assert torch.allclose(model(src, tgt), by_hand)


ATTENTION = [
    ("MultiheadAttention", {"num_heads": 2}, None),
    ("MultiheadAttention", {"num_heads": 3, "bias": False, "causal": True}, None),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16, "activation": "gelu",
                                 "norm_first": True}, None),
    ("TransformerEncoderLayer", {"nhead": 6, "dropout": 0.0, "causal": True}, None),
    ("PositionalEmbedding", {"max_len": 7}, None),
    ("PositionalEncoding", {"max_len": 30}, None),
    ("PositionalEncoding", {}, (7, 5)),  # an odd d_model
    ("Transpose", {"dim0": -1, "dim1": 1}, None),
    ("Select", {"dim": 2, "index": 0}, None),
    ("Select", {"dim": -2, "index": 3}, None),
]


@pytest.mark.parametrize("type_name,params,shape", ATTENTION)
def test_attention_and_plumbing_configurations(type_name, params, shape):
    g = _single(type_name, shape or (7, 6), **params)
    if type_name == "MultiheadAttention":
        g.edges += [gc.Edge(("x", "out"), ("node", "key")), gc.Edge(("x", "out"), ("node", "value"))]
        g.edges = [gc.Edge(e.src, ("node", "query")) if e.dst == ("node", "in") else e for e in g.edges]
    _check_graph(g)


def test_attention_with_other_key_and_value_sizes_and_a_mask_input():
    b = Builder("cross")
    b.node("q", "Input", shape=[4, 8]).node("k", "Input", shape=[6, 3]).node("v", "Input", shape=[6, 5])
    b.node("pad", "Input", shape=[6])
    b.node("attn", "MultiheadAttention", num_heads=2)
    b.node("out", "Output", loss="none").node("map", "Output", loss="none")
    b.wire("q", "attn", dst_port="query").wire("k", "attn", dst_port="key").wire("v", "attn", dst_port="value")
    b.wire("pad", "attn", dst_port="mask").wire("attn", "out").wire("attn", "map", "weights")
    g = b.graph
    _check_graph(g)
    shapes = gc.infer_shapes(g)
    assert shapes["attn"].outputs["weights"].shape == (4, 6)
    assert "key_padding_mask=pad.bool()" in generate_source(g).source
    model = compile_graph(g).eval()
    pad = torch.zeros(1, 6)
    pad[0, 4:] = 1
    with torch.no_grad():
        weights = model(torch.randn(1, 4, 8), torch.randn(1, 6, 3), torch.randn(1, 6, 5), pad)["map"]
    assert torch.all(weights[0, :, 4:] == 0)  # masked keys get no attention
    assert torch.allclose(weights.sum(-1), torch.ones(1, 4))


def test_decoder_layer_configurations():
    b = Builder("decoder")
    b.node("tgt", "Input", shape=[5, 12]).node("mem", "Input", shape=[9, 12])
    b.node("dec", "TransformerDecoderLayer", nhead=3, dim_feedforward=20, norm_first=True, causal=False)
    b.node("dec2", "TransformerDecoderLayer", nhead=4, activation="gelu")
    b.node("head", "Output", loss="none")
    b.chain("tgt", "dec", "dec2", "head").wire("mem", "dec", dst_port="memory").wire("mem", "dec2", dst_port="memory")
    _check_graph(b.graph)


def test_matmul_broadcasts_leading_axes():
    b = Builder("mm")
    b.node("a", "Input", shape=[2, 3, 4]).node("b", "Input", shape=[4, 5])
    b.node("mm", "MatMul").node("head", "Output", loss="none")
    b.wire("a", "mm", dst_port="a").wire("b", "mm", dst_port="b").wire("mm", "head")
    _check_graph(b.graph)
    assert gc.infer_shapes(b.graph)["mm"].output_shape == (2, 3, 5)


def test_causal_self_attention_does_not_look_ahead():
    g = _single("TransformerEncoderLayer", (6, 8), nhead=2, causal=True, dropout=0.0)
    assert "src_mask=causal_mask(x), is_causal=True" in generate_source(g).source
    model = compile_graph(g).eval()
    x = torch.randn(1, 6, 8)
    later = x.clone()
    later[0, 4:] = torch.randn(2, 8)
    with torch.no_grad():
        assert torch.allclose(model(x)[0, :4], model(later)[0, :4], atol=1e-6)
        assert not torch.allclose(model(x)[0, 4:], model(later)[0, 4:])


def _padded_encoder() -> gc.Graph:
    b = Builder("padded")
    b.node("tokens", "Input", shape=[8], dtype="int64")
    b.node("embed", "Embedding", num_embeddings=10, embedding_dim=8, padding_idx=0)
    b.node("pos", "PositionalEncoding").node("enc", "TransformerEncoderLayer", nhead=2, dropout=0.0)
    b.node("head", "Output", loss="none")
    return b.chain("tokens", "embed", "pos", "enc", "head").graph


def test_padding_from_the_embeddings_pad_id_is_masked_without_wiring():
    g = _padded_encoder()
    assert gc.padding_source(g, "enc", "in") == ("tokens", 0)
    source = generate_source(g).source
    assert "tokens_padding = tokens == 0  # True at padding (pad id 0)" in source
    assert "self.enc(x, src_key_padding_mask=tokens_padding)" in source
    model = compile_graph(g).eval()
    eight = torch.tensor([[3, 4, 5, 0, 0, 0, 0, 0]])
    with torch.no_grad():
        a = model(eight)
        # three pads instead of five (each pad carries its own positional vector): the words
        # never attend to them, so nothing changes where the words are
        b = model(eight[:, :6])
    assert torch.allclose(a[0, :3], b[0, :3], atol=1e-5)


def test_no_padding_mask_without_a_padding_idx():
    g = _padded_encoder()
    g.nodes["embed"].params.pop("padding_idx")
    assert gc.padding_source(g, "enc", "in") is None
    assert "padding" not in generate_source(g).source


@pytest.mark.parametrize("src_type,src_port,dst_type,dst_port,message", [
    ("GRU", "state", "Dense", "in", "'in' takes a tensor but rnn.state carries a recurrent state — a state "
                                    "(batch axis in the middle) only starts another recurrent layer"),
    ("Dense", "out", "GRU", "h0", "'h0' takes a recurrent state but rnn.out carries a tensor — a recurrent "
                                  "state comes from the 'state' output of an RNN, LSTM or GRU"),
    ("MultiheadAttention", "weights", "GRU", "h0", "'h0' takes a recurrent state but rnn.weights carries "
                                                   "attention weights"),
])
def test_wires_between_unfitting_kinds_are_refused_with_the_reason(src_type, src_port, dst_type, dst_port,
                                                                   message):
    b = Builder("kinds")
    b.node("x", "Input", shape=[5, 4]).node("rnn", src_type).node("node", dst_type, **(
        {"hidden_size": 4} if dst_type == "GRU" else {}))
    b.node("head", "Output", loss="none")
    if src_type == "MultiheadAttention":
        b.wire("x", "rnn", dst_port="query").wire("x", "rnn", dst_port="key").wire("x", "rnn", dst_port="value")
    else:
        b.wire("x", "rnn")
    if dst_type == "GRU":
        b.wire("x", "node")
    b.wire("rnn", "node", src_port, dst_port).wire("node", "head")
    issues = [str(i) for i in gc.validate(b.graph) if i.code == "port-kind"]
    assert len(issues) == 1 and issues[0].startswith(f"node: {message}")


def test_attention_weights_and_memory_take_ordinary_tensors():
    b = Builder("fits")
    b.node("x", "Input", shape=[5, 4]).node("attn", "MultiheadAttention", num_heads=2)
    b.node("w", "Dense", out_features=3).node("dec", "TransformerDecoderLayer", nhead=2)
    b.node("h1", "Output", loss="none").node("h2", "Output", loss="none")
    b.wire("x", "attn", dst_port="query").wire("x", "attn", dst_port="key").wire("x", "attn", dst_port="value")
    b.wire("attn", "w", "weights").wire("w", "h1").wire("x", "dec").wire("attn", "dec", dst_port="memory")
    b.wire("dec", "h2")
    assert [str(i) for i in gc.validate(b.graph)] == []


@pytest.mark.parametrize("cell,other,message", [
    ("GRU", "LSTM", "h0 receives an LSTM's pair (h, c), but a GRU starts from a single state h"),
    ("LSTM", "LSTM", "h0 carries a (1, 8) state (layers·directions, hidden) but this LSTM needs (2, 8)"),
])
def test_a_state_that_does_not_fit_the_decoder_says_why(cell, other, message):
    b = Builder("mismatch")
    b.node("x", "Input", shape=[5, 4]).node("enc", other, hidden_size=8)
    b.node("dec", cell, hidden_size=8, num_layers=1 if cell == "GRU" else 2).node("head", "Output", loss="none")
    b.chain("x", "enc").chain("x", "dec", "head").wire("enc", "dec", "state", "h0")
    info = gc.infer_shapes(b.graph)["dec"]
    assert info.error.startswith(message) and info.error_port == "h0"


def test_shape_errors_say_what_to_change():
    assert "must divide into nhead=4" in gc.infer_shapes(_single("TransformerEncoderLayer", (5, 6)))["node"].error
    assert "LSTM needs a sequence (L, F); got (5,)" in gc.infer_shapes(_single("LSTM", (5,)))["node"].error
    tokens = Builder("ids")
    tokens.node("x", "Input", shape=[5], dtype="int64").node("node", "GRU").node("h", "Output", loss="none")
    assert "got int64 token ids — add an Embedding first" in gc.infer_shapes(tokens.chain("x", "node", "h").graph)["node"].error
    assert "max_len is 4" in gc.infer_shapes(_single("PositionalEmbedding", (5, 6), max_len=4))["node"].error
    assert "index 9 is outside an axis of size 7" in gc.infer_shapes(_single("Select", index=9))["node"].error


def test_a_sequence_through_dense_is_per_position_and_draws_no_flatten_warning():
    g = _single("GRU", (5, 4), hidden_size=6)
    g.nodes["dense"] = gc.Node("dense", "Dense", {"out_features": 3})
    g.edges = [gc.Edge(("x", "out"), ("node", "in")), gc.Edge(("node", "out"), ("dense", "in")),
               gc.Edge(("dense", "out"), ("head", "in"))]
    assert gc.validate(g) == []
    assert gc.infer_shapes(g)["dense"].output_shape == (5, 3)


# ---- ONNX ---------------------------------------------------------------------------------


def _seq2seq_with_attention() -> gc.Graph:
    b = Builder("translator")
    b.node("source", "Input", shape=[9], dtype="int64").node("target", "Input", shape=[7], dtype="int64")
    b.node("src_embed", "Embedding", num_embeddings=12, embedding_dim=8, padding_idx=0)
    b.node("tgt_embed", "Embedding", num_embeddings=12, embedding_dim=8, padding_idx=0)
    b.node("encoder", "GRU", hidden_size=8).node("decoder", "GRU", hidden_size=8)
    b.node("attention", "MultiheadAttention", num_heads=1).node("join", "Concat", dim=2)
    b.node("scores", "Dense", out_features=12).node("words", "Output", target="target")
    b.chain("source", "src_embed", "encoder").chain("target", "tgt_embed", "decoder")
    b.wire("encoder", "decoder", "state", "h0")
    b.wire("decoder", "attention", dst_port="query").wire("encoder", "attention", dst_port="key")
    b.wire("encoder", "attention", dst_port="value")
    b.wire("decoder", "join").wire("attention", "join").chain("join", "scores", "words")
    return b.graph


def _transformer() -> gc.Graph:
    b = Builder("transformer")
    b.node("source", "Input", shape=[9], dtype="int64").node("target", "Input", shape=[7], dtype="int64")
    b.node("src_embed", "Embedding", num_embeddings=12, embedding_dim=8, padding_idx=0)
    b.node("tgt_embed", "Embedding", num_embeddings=12, embedding_dim=8, padding_idx=0)
    b.node("src_pos", "PositionalEncoding").node("tgt_pos", "PositionalEmbedding", max_len=16)
    b.node("encoder", "TransformerEncoderLayer", nhead=2, dim_feedforward=16)
    b.node("decoder", "TransformerDecoderLayer", nhead=2, dim_feedforward=16, norm_first=True)
    b.node("scores", "Dense", out_features=12).node("words", "Output", target="target")
    b.chain("source", "src_embed", "src_pos", "encoder").chain("target", "tgt_embed", "tgt_pos", "decoder")
    b.wire("encoder", "decoder", dst_port="memory").chain("decoder", "scores", "words")
    return b.graph


def test_transformer_translator_exports_with_dynamic_batch_and_length(tmp_path):
    g = _transformer()
    _check_graph(g)
    report = export_onnx(g, tmp_path / "t.onnx", dynamic_length=True)
    assert report.max_abs_diff <= TOLERANCE
    assert report.inputs == [("source_", ("batch", "length_source_"), "int64"),
                             ("target", ("batch", "length_target"), "int64")]


def test_recurrent_translator_exports_with_dynamic_batch(tmp_path):
    g = _seq2seq_with_attention()
    _check_graph(g)
    report = export_onnx(g, tmp_path / "t.onnx")
    assert report.max_abs_diff <= TOLERANCE
    # torch.export unrolls a recurrent layer over the traced length, so attention after it
    # bakes that length in; the check at another length catches it rather than writing a file
    # that fails later
    with pytest.raises(ExportError, match="onnxruntime cannot run the written model"):
        export_onnx(g, tmp_path / "dyn.onnx", dynamic_length=True)
    assert not (tmp_path / "dyn.onnx").exists()


@pytest.mark.slow
@pytest.mark.parametrize("type_name", [t for t in SEQUENCE_TYPES if t not in ("RNN", "MatMul")])
def test_each_sequence_layer_exports_with_a_dynamic_length(tmp_path, type_name):
    report = export_onnx(sample_graph(type_name), tmp_path / "m.onnx", dynamic_length=True)
    assert report.max_abs_diff <= TOLERANCE
    assert report.inputs[0][1][:2] == ("batch", "length_x")


@pytest.mark.parametrize("type_name", ["LSTM", "GRU"])
def test_a_dynamic_length_export_after_a_static_one_in_the_same_process(tmp_path, type_name):
    # a static export used to leave process-wide caches (the op's Python-dispatcher kernel,
    # Dynamo's code for while_loop) that made the next dynamic one fix the length again
    import onnx

    assert export_onnx(sample_graph(type_name), tmp_path / "s.onnx").max_abs_diff <= TOLERANCE
    report = export_onnx(sample_graph(type_name), tmp_path / "d.onnx", dynamic_length=True)
    assert report.max_abs_diff <= TOLERANCE
    dims = onnx.load(str(tmp_path / "d.onnx")).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims[:2]] == ["batch", "length_x"]


@pytest.mark.slow
def test_a_plain_rnn_keeps_its_traced_length(tmp_path):
    # LSTM and GRU become ONNX's own LSTM/GRU ops, which take any length; a plain RNN is
    # unrolled step by step, so its length is fixed: the check at another length says so
    # instead of writing a file that fails later. (MatMul's b is a matrix, not a sequence:
    # its rows must match a's columns, so it has no length to leave open.)
    with pytest.raises(ExportError, match="onnxruntime cannot run the written model"):
        export_onnx(sample_graph("RNN"), tmp_path / "m.onnx", dynamic_length=True)
    assert export_onnx(sample_graph("RNN"), tmp_path / "m.onnx").max_abs_diff <= TOLERANCE


def test_an_lstm_pair_and_padding_masks_replay_as_wired():
    from .test_forward_variables import dataflow_errors

    b = Builder("lstm_pair")
    b.node("src", "Input", shape=[6], dtype="int64").node("tgt", "Input", shape=[5], dtype="int64")
    b.node("se", "Embedding", num_embeddings=9, embedding_dim=8, padding_idx=0)
    b.node("te", "Embedding", num_embeddings=9, embedding_dim=8, padding_idx=0)
    b.node("enc", "LSTM", hidden_size=8).node("dec", "LSTM", hidden_size=8)
    b.node("attn", "MultiheadAttention", num_heads=2).node("head", "Output", loss="none")
    b.chain("src", "se", "enc").chain("tgt", "te", "dec").wire("enc", "dec", "state", "h0")
    b.wire("dec", "attn", dst_port="query").wire("enc", "attn", dst_port="key").wire("enc", "attn", dst_port="value")
    b.wire("attn", "head")
    assert dataflow_errors(b.graph) == []
    source = generate_source(b.graph).source
    assert "enc_out, (enc_h, enc_c) = self.enc(x)" in source
    assert "key_padding_mask=src_padding" in source
    _check_graph(b.graph)
