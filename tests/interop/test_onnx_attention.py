"""Attention, transformer layers, positions and wired recurrent states, exported and imported back
as the registry nodes that made them; near misses are refused node by node, never fused wrongly."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

import codegen
from interop import ImportRefused
from interop.onnx_import import import_onnx
from templates.sketch import Sketch

from .helpers import export_module, import_and_compare, node_types


def _self_attention() -> Sketch:
    s = Sketch("self_attention")
    x = s.add("ids", "Input", 0, shape=[6], dtype="int64", field="ids")
    x = s.then(x, "embed", "Embedding", num_embeddings=9, embedding_dim=16, padding_idx=0)
    x = s.then(x, "position", "PositionalEmbedding", max_len=10)
    att = s.add("att", "MultiheadAttention", 3, num_heads=2, causal=True)
    for port in ("query", "key", "value"):
        s.wire(x, att, dst_port=port)
    x = s.then(att, "head", "Dense", out_features=5)
    s.then(x, "y", "Output", loss="mse", target="target")
    return s


def _cross_attention() -> Sketch:
    s = Sketch("cross_attention")
    q = s.add("q", "Input", 0, 0, shape=[5, 8], field="q")
    kv = s.add("kv", "Input", 0, 1, shape=[7, 12], field="kv")
    att = s.add("att", "MultiheadAttention", 1, num_heads=2)
    s.wire(q, att, dst_port="query")
    s.wire(kv, att, dst_port="key")
    s.wire(kv, att, dst_port="value")
    s.then(att, "y", "Output", loss="mse", target="target")
    return s


def _pre_norm_encoder() -> Sketch:
    s = Sketch("pre_norm")
    x = s.add("x", "Input", 0, shape=[6, 16], field="x")
    x = s.then(x, "pos", "PositionalEncoding", max_len=32)
    x = s.then(x, "enc", "TransformerEncoderLayer", nhead=4, dim_feedforward=32, norm_first=True)
    s.then(x, "y", "Output", loss="mse", target="target")
    return s


def _rnn_state() -> Sketch:
    s = Sketch("rnn_state")
    a = s.add("a", "Input", 0, 0, shape=[5, 3], field="a")
    b = s.add("b", "Input", 0, 1, shape=[4, 3], field="b")
    enc = s.then(a, "enc", "GRU", hidden_size=6)  # dynamo unrolls a plain RNN; a GRU stays one operator
    dec = s.then(b, "dec", "GRU", hidden_size=6)
    s.wire(enc, dec, "state", "h0")
    s.then(dec, "y", "Output", loss="mse", target="target")
    return s


@pytest.mark.parametrize("sketch, wanted, absent", [
    (_self_attention, {"MultiheadAttention", "PositionalEmbedding"}, set()),
    (_cross_attention, {"MultiheadAttention"}, set()),
    (_pre_norm_encoder, {"TransformerEncoderLayer", "PositionalEncoding"}, {"MultiheadAttention", "LayerNorm"}),
    (_rnn_state, {"GRU"}, set()),
])
def test_exported_graph_imports_as_registry_nodes(sketch, wanted, absent, tmp_path):
    graph = sketch().settings({})
    codegen.export_onnx(graph, tmp_path / "m.onnx")
    result = import_and_compare(tmp_path / "m.onnx")
    types = set(node_types(result))
    assert wanted <= types and not absent & types, types
    if sketch is _self_attention:
        att = next(n for n in result.graph.nodes.values() if n.type == "MultiheadAttention")
        assert att.params["causal"] and att.params["num_heads"] == 2
        embed = next(n for n in result.graph.nodes.values() if n.type == "Embedding")
        assert embed.params["padding_idx"] == 0  # the key padding mask, from the file's Equal
        # the file holds the 6 positions the model reads of its 10: what it learns from them
        assert [n.params for n in result.graph.nodes.values() if n.type == "PositionalEmbedding"] == [{"max_len": 6}]
    if sketch is _pre_norm_encoder:
        assert [n.params["norm_first"] for n in result.graph.nodes.values() if n.type == "TransformerEncoderLayer"] == [True]
        # fixed sinusoids fit any length: the spec's own max_len (512), not the file's 6 positions
        assert [n.params for n in result.graph.nodes.values() if n.type == "PositionalEncoding"] == [{"max_len": 512}]
    if sketch is _rnn_state:
        assert any(e.src[1] == "state" and e.dst[1] == "h0" for e in result.graph.edges)


def test_a_sinusoidal_table_longer_than_the_default_keeps_its_length(tmp_path):
    s = Sketch("long")
    x = s.add("x", "Input", 0, shape=[600, 4], field="x")
    x = s.then(x, "pos", "PositionalEncoding", max_len=1000)
    s.then(x, "y", "Output", loss="mse", target="target")
    codegen.export_onnx(s.settings({}), tmp_path / "long.onnx")
    result = import_and_compare(tmp_path / "long.onnx")
    assert [n.params for n in result.graph.nodes.values() if n.type == "PositionalEncoding"] == [{"max_len": 600}]


@pytest.fixture(scope="module")
def attention_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("attention") / "self_attention.onnx"
    codegen.export_onnx(_self_attention().settings({}), path)
    return path


def _edited(source, tmp_path, change) -> str:
    model = onnx.load(str(source))
    change(model)
    path = tmp_path / "edited.onnx"
    onnx.save(model, str(path))
    return str(path)


def _scalars(model, op_type, pick):
    """Initializers of size one read by `op_type` nodes, as (tensor proto, value) where pick(value)."""
    names = {i for n in model.graph.node if n.op_type == op_type for i in n.input}
    for init in model.graph.initializer:
        value = numpy_helper.to_array(init)
        if init.name in names and value.size == 1 and pick(float(value.reshape(-1)[0])):
            yield init, value


def _replace(init, value):
    init.CopyFrom(numpy_helper.from_array(np.asarray(value, numpy_helper.to_array(init).dtype), init.name))


def test_the_unedited_file_fuses(attention_file):
    assert "MultiheadAttention" in node_types(import_and_compare(attention_file))


@pytest.mark.parametrize("factor", [1.5, 10.0])  # 10: no whole head width at all
def test_a_scale_other_than_one_over_root_head_width_is_not_attention(attention_file, tmp_path, factor):
    def rescale(model):
        found = list(_scalars(model, "Mul", lambda v: 0 < v < 1))
        assert found
        for init, value in found:
            _replace(init, value * factor)

    with pytest.raises(ImportRefused) as refused:
        import_onnx(_edited(attention_file, tmp_path, rescale))
    assert refused.value.refusals and all("Traceback" not in line for line in refused.value.lines)
    assert {r.op_type for r in refused.value.refusals} & {"MatMul", "Equal"}


def test_a_mask_that_does_not_hide_padding_is_not_fused(attention_file, tmp_path):
    def harmless(model):
        found = list(_scalars(model, "Where", lambda v: v < -1e4))
        assert found
        for init, _ in found:
            _replace(init, 0.0)  # padded keys no longer pushed to -inf: not a padding mask

    with pytest.raises(ImportRefused) as refused:
        import_onnx(_edited(attention_file, tmp_path, harmless))
    assert any(r.op_type == "Equal" for r in refused.value.refusals), refused.value.lines


def test_a_constant_that_is_not_the_causal_mask_is_not_fused(attention_file, tmp_path):
    def transposed(model):
        found = [i for i in model.graph.initializer if numpy_helper.to_array(i).ndim >= 2
                 and numpy_helper.to_array(i).shape[-1] == numpy_helper.to_array(i).shape[-2] == 6
                 and np.isinf(numpy_helper.to_array(i)).any()]
        assert found
        for init in found:
            value = numpy_helper.to_array(init)
            _replace(init, np.swapaxes(value, -1, -2))  # looks ahead instead of back

    with pytest.raises(ImportRefused) as refused:
        import_onnx(_edited(attention_file, tmp_path, transposed))
    assert refused.value.refusals, refused.value.lines


class _Translator(torch.nn.Module):
    """PyTorch's own encoder and decoder layers over one id sequence, padding masked, every weight
    random (no bias is zero, so none is folded away)."""

    def __init__(self, norm_first: bool = False):
        super().__init__()
        self.emb = torch.nn.Embedding(9, 16, padding_idx=0)
        self.enc = torch.nn.TransformerEncoderLayer(16, 4, 24, batch_first=True, norm_first=norm_first)
        self.dec = torch.nn.TransformerDecoderLayer(16, 4, 24, batch_first=True, activation="gelu",
                                                    norm_first=norm_first)
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0, 0.3)

    def forward(self, ids):
        x, pad = self.emb(ids), ids == 0
        causal = torch.ones(ids.size(1), ids.size(1), dtype=torch.bool).triu(1)
        memory = self.enc(x, src_key_padding_mask=pad)
        return self.dec(x, memory, tgt_mask=causal, tgt_key_padding_mask=pad, memory_key_padding_mask=pad,
                        tgt_is_causal=True)


@pytest.mark.parametrize("norm_first", [False, True])
def test_pytorch_transformer_layers_import_as_layers(tmp_path, norm_first):
    module = _Translator(norm_first)
    path = export_module(module, torch.randint(1, 9, (2, 6)), tmp_path / "t.onnx", opset=18, dynamo=True)
    result = import_and_compare(path, torch_params=sum(p.numel() for p in module.parameters()))
    layers = {n.type: n.params for n in result.graph.nodes.values()}
    assert sorted(layers) == ["Embedding", "Input", "Output", "TransformerDecoderLayer", "TransformerEncoderLayer"]
    assert layers["TransformerDecoderLayer"]["causal"] and layers["TransformerDecoderLayer"]["activation"] == "gelu"
    assert layers["TransformerEncoderLayer"]["dim_feedforward"] == 24 and layers["Embedding"]["padding_idx"] == 0
    assert layers["TransformerEncoderLayer"]["norm_first"] == layers["TransformerDecoderLayer"]["norm_first"] == norm_first


class _SelfAttention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(16, 2, batch_first=True)
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0, 0.3)

    def forward(self, x):
        return self.attention(x, x, x)[0]


@pytest.mark.parametrize("opset", [13, 17])
def test_attention_from_the_torchscript_exporter(opset, tmp_path):
    # its sizes come from Shape arithmetic (Gather, Div, Mod, Concat) instead of constants
    torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel has no TorchScript export
    try:
        path = export_module(_SelfAttention(), torch.randn(2, 5, 16), tmp_path / "mha.onnx", opset=opset)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    result = import_and_compare(path, torch_params=16 * 48 + 48 + 16 * 16 + 16)
    assert node_types(result) == ["Input", "MultiheadAttention", "Output"]


class _CausalSelfAttention(_SelfAttention):
    """attn_mask hides the later positions: a constant (a buffer) or built from the length."""

    def __init__(self, built: bool):
        super().__init__()
        self.built = built
        self.register_buffer("mask", torch.ones(5, 5, dtype=torch.bool).triu(1))

    def forward(self, x):
        length = x.size(1)
        mask = torch.ones(length, length, dtype=torch.bool).triu(1) if self.built else self.mask
        return self.attention(x, x, x, attn_mask=mask)[0]


@pytest.mark.parametrize("built", [False, True], ids=["constant", "built_from_the_length"])
def test_causal_attention_from_the_torchscript_exporter(built, tmp_path):
    # baddbmm(mask, q, kᵀ): the mask is added to q·kᵀ times 1 (and, built from the length, is
    # itself times 1): Where(Trilu(ones (L, L), k=1), -inf, 0)
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        path = export_module(_CausalSelfAttention(built), torch.randn(2, 5, 16), tmp_path / "causal.onnx", opset=17)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    assert any(n.op_type == "Trilu" for n in onnx.load(str(path)).graph.node) == built
    result = import_and_compare(path, torch_params=16 * 48 + 48 + 16 * 16 + 16)
    assert node_types(result) == ["Input", "MultiheadAttention", "Output"]
    att = next(n for n in result.graph.nodes.values() if n.type == "MultiheadAttention")
    assert att.params["causal"] and att.params["num_heads"] == 2


class _PaddedSelfAttention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(9, 16, padding_idx=0)
        self.attention = torch.nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, ids):
        x = self.embed(ids)
        return self.attention(x, x, x, key_padding_mask=ids == 0)[0]


def test_key_padding_from_the_torchscript_exporter(tmp_path):
    # the mask Where(ids == 0, -inf, 0) is reshaped to (N, 1, 1, S) with S read off a Transpose
    # of the keys kept only for its Shape, expanded over the heads and added to q·kᵀ times 1
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        path = export_module(_PaddedSelfAttention(), torch.randint(1, 9, (2, 6)), tmp_path / "pad.onnx", opset=17)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    result = import_and_compare(path, torch_params=9 * 16 + 16 * 48 + 48 + 16 * 16 + 16)
    assert node_types(result) == ["Input", "Embedding", "MultiheadAttention", "Output"]
    embed = next(n for n in result.graph.nodes.values() if n.type == "Embedding")
    assert embed.params["padding_idx"] == 0  # the key padding mask, from the file's Equal


def test_a_torchscript_mask_that_is_not_causal_is_not_fused(tmp_path):
    class Lower(_SelfAttention):  # the positions before hidden instead of after: no causal node
        def forward(self, x):
            length = x.size(1)
            return self.attention(x, x, x, attn_mask=torch.ones(length, length, dtype=torch.bool).tril(-1))[0]

    torch.backends.mha.set_fastpath_enabled(False)
    try:
        path = export_module(Lower(), torch.randn(2, 5, 16), tmp_path / "lower.onnx", opset=17)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    with pytest.raises(ImportRefused):
        import_onnx(path)


class _TwoAttentions(torch.nn.Module):
    """One attention masks the padding, the other reads the same embedding unmasked."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(9, 8)
        self.masked = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        self.plain = torch.nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, ids):
        x = self.embed(ids)
        pad = ids == 0
        return self.masked(x, x, x, key_padding_mask=pad, need_weights=False)[0] + self.plain(
            x, x, x, need_weights=False)[0]


def test_masks_the_graph_cannot_derive_are_refused(tmp_path):
    path = export_module(_TwoAttentions(), torch.randint(1, 9, (2, 6)), tmp_path / "two.onnx", opset=18,
                         dynamo=True)
    with pytest.raises(ImportRefused) as refused:
        import_onnx(path)
    assert refused.value.lines[1:] == ["  plain: the file masks nothing on key, but the graph would mask x == 0"]


class _Handover(torch.nn.Module):
    """An LSTM starts where another stopped (its final h and c), or a Dense reads the final h."""

    def __init__(self, head: bool = False):
        super().__init__()
        self.a, self.b = torch.nn.LSTM(3, 4, batch_first=True), torch.nn.LSTM(3, 4, batch_first=True)
        self.head = torch.nn.Linear(4, 2) if head else None

    def forward(self, x):
        _, state = self.a(x)
        if self.head is not None:
            return self.head(state[0][0])
        return self.b(x, state)[0]


def test_an_lstm_state_wired_into_another_lstm(tmp_path):
    module = _Handover()
    path = export_module(module, torch.randn(2, 5, 3), tmp_path / "lstm.onnx", opset=18, dynamo=True)
    result = import_and_compare(path, torch_params=sum(p.numel() for p in module.parameters()))
    assert node_types(result).count("LSTM") == 2
    assert [(e.src[1], e.dst[1]) for e in result.graph.edges if e.dst[1] == "h0"] == [("state", "h0")]


def test_a_final_state_read_by_another_layer_is_refused(tmp_path):
    path = export_module(_Handover(head=True), torch.randn(2, 5, 3), tmp_path / "head.onnx", opset=18, dynamo=True)
    with pytest.raises(ImportRefused) as refused:
        import_onnx(path)
    assert any("final state" in r.why for r in refused.value.refusals), refused.value.lines

def _handmade(tmp_path, nodes, inits, length=4):
    from onnx import TensorProto, helper

    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", length, 6])],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_constant_tables_added_to_a_sequence(tmp_path):
    from onnx import helper

    from interop.onnx_ops_attention import sinusoids

    learned = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    path = _handmade(tmp_path, [helper.make_node("Add", ["x", "sin"], ["s"], name="pos"),
                                helper.make_node("Add", ["table", "s"], ["y"], name="learned")],
                     {"sin": sinusoids(4, 6), "table": learned})
    result = import_and_compare(path)
    assert node_types(result).count("PositionalEncoding") == 1 and "PositionalEmbedding" in node_types(result)
    assert result.file_params == learned.size  # the sinusoids are fixed, the learned table is not


@pytest.mark.parametrize("nodes, inits, op, why", [
    ([("Add", ["x", "v"])], {"v": np.ones(6, np.float32)}, "Add", "adds a constant tensor"),
    ([("Add", ["x", "t"])], {"t": np.ones((4, 1), np.float32)}, "Add", "adds a constant tensor"),
    ([("Slice", ["x", "s", "e", "a"])], {"s": np.array([0]), "e": np.array([2]), "a": np.array([1])}, "Slice",
     "slices a layer output"),
])
def test_near_misses_of_positions_and_states_are_refused(tmp_path, nodes, inits, op, why):
    from onnx import helper

    made = [helper.make_node(o, ins, ["y"], name="near") for o, ins in nodes]
    with pytest.raises(ImportRefused) as refused:
        import_onnx(_handmade(tmp_path, made, inits, 2 if op == "Slice" else 4))
    assert [(r.op_type, why in r.why) for r in refused.value.refusals] == [(op, True)], refused.value.lines


def test_layer_norm_keeps_its_epsilon(tmp_path):
    from onnx import helper

    path = _handmade(tmp_path, [helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], name="norm",
                                                 epsilon=1e-12, axis=-1)],
                     {"g": np.full(6, 1.5, np.float32), "b": np.full(6, 0.25, np.float32)})
    result = import_and_compare(path)
    assert [n.params for n in result.graph.nodes.values() if n.type == "LayerNorm"] == [{"dims": 1, "eps": 1e-12}]
    assert "eps=1e-12" in codegen.generate_source(result.graph).source
