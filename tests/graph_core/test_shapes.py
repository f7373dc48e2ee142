"""Shape and parameter inference: the arithmetic of every layer, checked against formulas
derived here independently (from PyTorch's documentation) and spot-checked against torch.

graph_core itself never imports torch; only this test does, to be sure the arithmetic is
what PyTorch will actually produce.
"""

from __future__ import annotations

import itertools
import math

import pytest

import graph_core as gc
from graph_core import Graph
from tests.graph_core.helpers import add, chain, out_shape, shape_error, wire


def conv_len(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """torch.nn.Conv*d docs: floor((n + 2p - d(k - 1) - 1) / s + 1)."""
    return math.floor((n + 2 * p - d * (k - 1) - 1) / s + 1)


def pool_len(n: int, k: int, s: int, p: int = 0, ceil: bool = False) -> int:
    """torch.nn.MaxPool*d docs, plus the rule that the last window must start inside the input
    (or its left padding) — the case where ceil_mode would otherwise add an empty window."""
    rounding = math.ceil if ceil else math.floor
    out = rounding((n + 2 * p - (k - 1) - 1) / s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def convt_len(n: int, k: int, s: int = 1, p: int = 0, op: int = 0, d: int = 1) -> int:
    """torch.nn.ConvTranspose*d docs: (n - 1)s - 2p + d(k - 1) + output_padding + 1."""
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


# ---- convolution -------------------------------------------------------------------------


@pytest.mark.parametrize("n,k,s,p,d", [
    (n, k, s, p, d)
    for n, k, s, p, d in itertools.product((7, 8, 28, 33), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2))
    if conv_len(n, k, s, p, d) >= 1
])
def test_conv2d_matches_the_formula(n: int, k: int, s: int, p: int, d: int) -> None:
    got = out_shape((3, n, n + 1), "Conv2d", out_channels=5, kernel_size=k, stride=s, padding=p, dilation=d)
    assert got == (5, conv_len(n, k, s, p, d), conv_len(n + 1, k, s, p, d))


@pytest.mark.parametrize("k,d", [(1, 1), (2, 1), (3, 1), (4, 1), (3, 2), (4, 3), (5, 2)])
def test_same_padding_keeps_every_size(k: int, d: int) -> None:
    assert out_shape((2, 9, 10), "Conv2d", out_channels=4, kernel_size=k, padding="same", dilation=d) == (4, 9, 10)
    assert out_shape((2, 11), "Conv1d", out_channels=4, kernel_size=k, padding="same", dilation=d) == (4, 11)


def test_valid_padding_adds_none() -> None:
    assert out_shape((1, 28, 28), "Conv2d", out_channels=6, kernel_size=5, padding="valid") == (6, 24, 24)
    assert out_shape((4, 100), "Conv1d", out_channels=8, kernel_size=12, padding="valid") == (8, 89)


def test_same_padding_with_stride_is_refused_with_advice() -> None:
    message = shape_error((1, 28, 28), "Conv2d", kernel_size=3, padding="same", stride=2)
    assert "padding 'same' needs stride 1" in message
    assert "give the padding as a number" in message


def test_per_axis_kernel_stride_and_padding() -> None:
    got = out_shape((3, 20, 30), "Conv2d", out_channels=2, kernel_size=[3, 5], stride=[1, 2], padding=[1, 0])
    assert got == (2, conv_len(20, 3, 1, 1), conv_len(30, 5, 2, 0))
    got = out_shape((1, 8, 9, 10), "Conv3d", out_channels=2, kernel_size=[1, 2, 3], dilation=[1, 1, 2])
    assert got == (2, 8, 8, 6)


def test_a_tuple_of_the_wrong_length_names_the_parameter() -> None:
    message = shape_error((3, 20, 30), "Conv2d", kernel_size=[3, 3, 3])
    assert message == "kernel_size has 3 values but this layer works on 2 spatial axes"


@pytest.mark.parametrize("c_in,c_out,groups", [(4, 8, 1), (4, 8, 2), (4, 8, 4), (6, 6, 6), (6, 12, 3)])
def test_groups_divide_the_weights(c_in: int, c_out: int, groups: int) -> None:
    g = chain((c_in, 10, 10), ("Conv2d", {"out_channels": c_out, "kernel_size": 3, "groups": groups}))
    info = gc.infer_shapes(g)["n1"]
    assert info.output_shape == (c_out, 8, 8)
    assert info.params == c_out * (c_in // groups) * 9 + c_out


def test_groups_that_do_not_divide_are_an_error() -> None:
    message = shape_error((4, 10, 10), "Conv2d", out_channels=6, groups=4)
    assert message == "groups=4 must divide both in_channels (4) and out_channels (6)"


def test_bias_false_drops_one_parameter_per_filter() -> None:
    g = chain((3, 8, 8), ("Conv2d", {"out_channels": 10, "kernel_size": 3, "bias": False}))
    assert gc.infer_shapes(g)["n1"].params == 10 * 3 * 9


def test_a_kernel_larger_than_the_input_says_what_to_do() -> None:
    message = shape_error((3, 4, 4), "Conv2d", kernel_size=5)
    assert message.startswith("Conv2d would produce (16, 0, 0)")
    assert "reduce kernel_size or add padding" in message


def test_conv_on_a_flat_vector_asks_for_a_reshape() -> None:
    message = shape_error((32,), "Conv2d")
    assert message.startswith("Conv2d needs a (C, H, W) input; got (32,)")
    assert "Reshape" in message


def test_conv_on_a_higher_rank_input_suggests_the_variant() -> None:
    assert "use the 2d variant" in shape_error((3, 8, 8), "Conv1d")


def test_conv_on_token_ids_suggests_an_encoding() -> None:
    message = shape_error((4, 20), "Conv1d", dtype="int64")
    assert "needs float input" in message and "OneHot or Embedding" in message


# ---- transposed convolution ----------------------------------------------------------------


@pytest.mark.parametrize("n,k,s,p,op,d", [
    (7, 3, 2, 1, 1, 1), (7, 4, 2, 1, 0, 1), (5, 3, 1, 0, 0, 1), (5, 3, 3, 0, 2, 1),
    (4, 5, 2, 2, 1, 1), (6, 3, 1, 1, 0, 2), (3, 2, 2, 0, 1, 2),
])
def test_transposed_convolution_with_output_padding(n: int, k: int, s: int, p: int, op: int, d: int) -> None:
    got = out_shape((8, n, n), "ConvTranspose2d", out_channels=4, kernel_size=k, stride=s, padding=p,
                    output_padding=op, dilation=d)
    assert got == (4, convt_len(n, k, s, p, op, d), convt_len(n, k, s, p, op, d))


def test_transposed_convolution_params_and_errors() -> None:
    g = chain((8, 7, 7), ("ConvTranspose2d", {"out_channels": 4, "kernel_size": 3, "groups": 2}))
    assert gc.infer_shapes(g)["n1"].params == 8 * (4 // 2) * 9 + 4
    message = shape_error((8, 7, 7), "ConvTranspose2d", stride=2, output_padding=2)
    assert message == "output_padding must be smaller than stride or dilation"


# ---- pooling ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n,k,s,p,ceil", [
    (n, k, s, p, ceil)
    for n, k, s, p, ceil in itertools.product((5, 6, 7, 13, 14), (2, 3), (1, 2, 3), (0, 1), (False, True))
    if 2 * p <= k
])
def test_pooling_matches_the_formula(n: int, k: int, s: int, p: int, ceil: bool) -> None:
    for kind in ("MaxPool2d", "AvgPool2d"):
        got = out_shape((3, n, n), kind, kernel_size=k, stride=s, padding=p, ceil_mode=ceil)
        assert got == (3, pool_len(n, k, s, p, ceil), pool_len(n, k, s, p, ceil)), kind


def test_ceil_mode_counts_the_last_partial_window() -> None:
    assert out_shape((3, 7, 7), "MaxPool2d", kernel_size=2) == (3, 3, 3)
    assert out_shape((3, 7, 7), "MaxPool2d", kernel_size=2, ceil_mode=True) == (3, 4, 4)
    # the window that would start in the right padding is dropped, as PyTorch does
    assert out_shape((3, 5), "MaxPool1d", kernel_size=2, stride=2, padding=1, ceil_mode=True) == (3, 3)


def test_pool_stride_defaults_to_the_kernel() -> None:
    assert out_shape((2, 12, 12, 12), "MaxPool3d", kernel_size=3) == (2, 4, 4, 4)
    assert out_shape((2, 12), "AvgPool1d", kernel_size=3, stride=1) == (2, 10)


def test_pool_padding_over_half_the_kernel_is_refused() -> None:
    assert shape_error((3, 8, 8), "MaxPool2d", kernel_size=2, padding=2) == (
        "padding (2, 2) must be at most half the kernel (2, 2)")


def test_adaptive_pooling_gives_the_requested_size_whatever_arrives() -> None:
    assert out_shape((512, 14, 14), "AdaptiveAvgPool2d", output_size=7) == (512, 7, 7)
    assert out_shape((512, 3, 5), "AdaptiveAvgPool2d", output_size=[7, 2]) == (512, 7, 2)
    assert out_shape((8, 100), "AdaptiveAvgPool1d", output_size=10) == (8, 10)
    assert out_shape((4, 9, 9, 9), "AdaptiveAvgPool3d", output_size=[1, 2, 3]) == (4, 1, 2, 3)


@pytest.mark.parametrize("shape", [(3, 16), (3, 8, 8), (2, 4, 5, 6)])
def test_global_pooling_keeps_one_value_per_channel(shape: tuple[int, ...]) -> None:
    assert out_shape(shape, "GlobalAvgPool") == (shape[0],)
    assert out_shape(shape, "GlobalMaxPool") == (shape[0],)


def test_global_pooling_needs_spatial_axes() -> None:
    assert "needs a (C, ...) map with spatial axes; got (10,)" in shape_error((10,), "GlobalAvgPool")


# ---- upsampling and unpooling --------------------------------------------------------------


@pytest.mark.parametrize("shape,factor,mode,want", [
    ((3, 5, 5), 2.0, "nearest", (3, 10, 10)),
    ((3, 5, 5), 1.5, "bilinear", (3, 7, 7)),
    ((3, 7), 3.0, "linear", (3, 21)),
    ((2, 2, 3, 4), 2.0, "trilinear", (2, 4, 6, 8)),
    ((3, 8, 8), 0.5, "nearest", (3, 4, 4)),
])
def test_upsample_floors_size_times_factor(shape, factor, mode, want) -> None:
    assert out_shape(shape, "Upsample", scale_factor=factor, mode=mode) == want


def test_upsample_mode_must_fit_the_rank() -> None:
    assert shape_error((3, 7), "Upsample", mode="bilinear") == (
        "mode 'bilinear' does not fit a 1-D map; use nearest or linear")


def test_upsample_to_nothing_is_an_error() -> None:
    assert "would produce (3, 0, 0)" in shape_error((3, 1, 1), "Upsample", scale_factor=0.5)


def _pool_unpool(shape: tuple[int, ...], rank: int, pool: dict, unpool: dict) -> Graph:
    g = Graph(name="unpool")
    add(g, "x", "Input", shape=list(shape))
    add(g, "pool", f"MaxPool{rank}d", **pool)
    add(g, "conv", f"Conv{rank}d", out_channels=shape[0], kernel_size=3, padding=1)
    add(g, "unpool", f"MaxUnpool{rank}d", **unpool)
    add(g, "head", "Output", loss="none")
    wire(g, "x", "pool")
    wire(g, "pool", "conv")
    wire(g, "conv", "unpool")
    wire(g, "pool", "unpool", "indices", "indices")
    wire(g, "unpool", "head")
    return g


@pytest.mark.parametrize("ceil", [False, True])
@pytest.mark.parametrize("size", [6, 7, 9])
def test_unpooling_restores_the_size_before_the_pool(size: int, ceil: bool) -> None:
    pool = {"kernel_size": 2, "ceil_mode": ceil}
    shapes = gc.infer_shapes(_pool_unpool((4, size, size), 2, pool, {"kernel_size": 2}))
    pooled = pool_len(size, 2, 2, 0, ceil)
    assert shapes["pool"].output_shape == (4, pooled, pooled)
    assert shapes["unpool"].output_shape == (4, size, size)
    assert shapes["unpool"].warnings == []


def test_odd_size_round_trip_7_3_7_and_7_4_7() -> None:
    floor_graph = _pool_unpool((1, 7), 1, {"kernel_size": 2}, {"kernel_size": 2})
    ceil_graph = _pool_unpool((1, 7), 1, {"kernel_size": 2, "ceil_mode": True}, {"kernel_size": 2})
    floor, ceil = gc.infer_shapes(floor_graph), gc.infer_shapes(ceil_graph)
    assert [floor[n].output_shape for n in ("x", "pool", "unpool")] == [(1, 7), (1, 3), (1, 7)]
    assert [ceil[n].output_shape for n in ("x", "pool", "unpool")] == [(1, 7), (1, 4), (1, 7)]


def test_unpool_3d_and_the_pool_origin_on_the_wire() -> None:
    shapes = gc.infer_shapes(_pool_unpool((2, 5, 6, 7), 3, {"kernel_size": 2, "stride": 2},
                                          {"kernel_size": 2, "stride": 2}))
    assert shapes["pool"].output_shape == (2, 2, 3, 3)
    assert shapes["unpool"].output_shape == (2, 5, 6, 7)
    origin = shapes["pool"].outputs["indices"].pool
    assert origin.node == "pool" and origin.input_shape == (2, 5, 6, 7)
    assert shapes["pool"].outputs["indices"].dtype == "int64"


def test_unpool_with_another_window_warns() -> None:
    shapes = gc.infer_shapes(_pool_unpool((4, 8, 8), 2, {"kernel_size": 2}, {"kernel_size": 3, "stride": 2}))
    assert shapes["unpool"].output_shape == (4, 8, 8)
    assert shapes["unpool"].warnings == [
        "this unpool's window (kernel (3, 3), stride (2, 2)) differs from the pool that made its "
        "indices (kernel (2, 2), stride (2, 2)); use the same"]


def test_unpool_map_and_indices_of_different_shapes() -> None:
    g = _pool_unpool((4, 8, 8), 2, {"kernel_size": 2}, {"kernel_size": 2})
    g.nodes["conv"].params["out_channels"] = 6
    info = gc.infer_shapes(g)["unpool"]
    assert info.error == ("the map (6, 4, 4) and the indices (4, 4, 4) differ: wire the MaxPool2d "
                          "whose output had this shape")
    assert info.error_port == "indices"


# ---- embeddings, one-hot, dense ------------------------------------------------------------


def test_embedding_layouts() -> None:
    assert out_shape((50,), "Embedding", dtype="int64", num_embeddings=20, embedding_dim=6) == (50, 6)
    assert out_shape((50,), "Embedding", dtype="int64", embedding_dim=6, channels_first=True) == (6, 50)
    g = chain((50,), ("Embedding", {"num_embeddings": 20, "embedding_dim": 6}), dtype="int64")
    assert gc.infer_shapes(g)["n1"].params == 120


def test_embedding_errors() -> None:
    assert "needs int64 token ids" in shape_error((50,), "Embedding")
    assert shape_error((5,), "Embedding", dtype="int64", num_embeddings=4, padding_idx=4) == (
        "padding_idx must be smaller than num_embeddings")


def test_one_hot_dna_becomes_channels() -> None:
    assert out_shape((200,), "OneHot", dtype="int64") == (4, 200)
    assert out_shape((200,), "OneHot", dtype="int64", num_classes=21) == (21, 200)
    assert "needs int64 class indices" in shape_error((200,), "OneHot")


def test_one_hot_feeds_a_conv1d() -> None:
    g = chain((100,), ("OneHot", {}), ("Conv1d", {"out_channels": 8, "kernel_size": 12}), dtype="int64")
    info = gc.infer_shapes(g)["n2"]
    assert info.output_shape == (8, 89)
    assert info.params == 8 * 4 * 12 + 8


def test_dense_mixes_the_last_axis() -> None:
    g = chain((5, 10), ("Dense", {"out_features": 3}))
    info = gc.infer_shapes(g)["n1"]
    assert info.output_shape == (5, 3)
    assert info.params == 33
    assert "add a Flatten before it" in info.warnings[0]


# ---- shape layers ----------------------------------------------------------------------------


def _concat(shapes: list[tuple[int, ...]], dim: int) -> gc.NodeShapes:
    g = Graph(name="cat")
    add(g, "cat", "Concat", dim=dim)
    for k, shape in enumerate(shapes):
        add(g, f"x{k}", "Input", shape=list(shape))
        wire(g, f"x{k}", "cat")
    add(g, "head", "Output", loss="none")
    wire(g, "cat", "head")
    return gc.infer_shapes(g)["cat"]


@pytest.mark.parametrize("dim,want", [(1, (9, 4, 5)), (-3, (9, 4, 5))])
def test_concat_channels(dim: int, want: tuple[int, ...]) -> None:
    assert _concat([(2, 4, 5), (3, 4, 5), (4, 4, 5)], dim).output_shape == want


@pytest.mark.parametrize("dim,want", [(2, (3, 9, 5)), (-2, (3, 9, 5)), (3, (3, 4, 11)), (-1, (3, 4, 11))])
def test_concat_along_any_axis(dim: int, want: tuple[int, ...]) -> None:
    a, b = (3, 4, 5), (3, 5, 5) if abs(dim) == 2 else (3, 4, 6)
    assert _concat([a, b], dim).output_shape == want


def test_concat_errors_name_the_sizes() -> None:
    assert _concat([(3, 4), (3, 5)], 1).error == (
        "Concat along dim 1 needs the other sizes equal; got (3, 4), (3, 5)")
    assert _concat([(3, 4), (3, 4, 1)], 1).error == "Concat needs inputs of the same rank; got (3, 4), (3, 4, 1)"
    assert _concat([(3, 4), (3, 4)], 0).error == (
        "dim 0 is not a feature axis of (3, 4) (dim 0 is the batch; use 1..2 or a negative dim)")
    assert "dim -3 is not a feature axis" in _concat([(3, 4), (3, 4)], -3).error
    assert "dim 3 is not a feature axis" in _concat([(3, 4), (3, 4)], 3).error


def test_reshape_and_flatten() -> None:
    assert out_shape((3, 4, 4), "Reshape", shape=[3, -1]) == (3, 16)
    assert out_shape((48,), "Reshape", shape=[3, 4, 4]) == (3, 4, 4)
    assert out_shape((512, 7, 7), "Flatten") == (25088,)
    assert shape_error((48,), "Reshape", shape=[5, -1]) == "cannot reshape (48,) (48 values) into (5, -1)"
    assert shape_error((48,), "Reshape", shape=[5, 10]) == (
        "cannot reshape (48,) (48 values) into (5, 10) (50 values)")


def test_add_broadcasts_and_refuses_mismatches() -> None:
    g = Graph(name="add")
    add(g, "a", "Input", shape=[8, 4, 4])
    add(g, "b", "Input", shape=[8, 1, 1])
    add(g, "sum", "Add")
    add(g, "head", "Output", loss="none")
    wire(g, "a", "sum")
    wire(g, "b", "sum")
    wire(g, "sum", "head")
    assert gc.infer_shapes(g)["sum"].output_shape == (8, 4, 4)
    g.nodes["b"].params["shape"] = [7, 4, 4]
    assert gc.infer_shapes(g)["sum"].error == "Add needs matching shapes; got (8, 4, 4), (7, 4, 4)"


def test_normalisation_params_follow_the_input() -> None:
    g = chain((6, 5, 4), ("BatchNorm", {}), ("LayerNorm", {"dims": 2}), ("BatchNorm", {"affine": False}))
    shapes = gc.infer_shapes(g)
    assert [shapes[n].params for n in ("n1", "n2", "n3")] == [12, 2 * 20, 0]
    assert shapes["n3"].output_shape == (6, 5, 4)
    assert "cannot normalise the last 3 axes of (6, 5)" in shape_error((6, 5), "LayerNorm", dims=3)


def test_softmax_dim_must_be_a_feature_axis() -> None:
    assert out_shape((5, 7), "Softmax", dim=-1) == (5, 7)
    assert shape_error((10,), "Softmax", dim=0) == "dim 0 is not a feature axis of (10,) (the batch is 0)"
    assert "dim 2 is not a feature axis" in shape_error((10,), "LogSoftmax", dim=2)


# ---- blocks and the discriminator ------------------------------------------------------------


def _stage() -> Graph:
    """A shape-polymorphic VGG stage: conv, relu, pool; its Input has no fixed shape."""
    b = Graph(name="stage")
    add(b, "x", "Input", shape=[])
    add(b, "conv", "Conv2d", out_channels=8, kernel_size=3, padding=1)
    add(b, "act", "ReLU")
    add(b, "pool", "MaxPool2d", kernel_size=2)
    add(b, "y", "Output", loss="none")
    wire(b, "x", "conv")
    wire(b, "conv", "act")
    wire(b, "act", "pool")
    wire(b, "pool", "y")
    return b


def test_one_block_used_at_two_sizes_infers_each_use() -> None:
    g = Graph(name="blocks")
    g.blocks["stage"] = _stage()
    add(g, "img", "Input", shape=[3, 32, 32])
    add(g, "s1", "Block", block="stage")
    add(g, "s2", "Block", block="stage")
    add(g, "head", "Output", loss="none")
    wire(g, "img", "s1", dst_port="x")
    wire(g, "s1", "s2", src_port="y", dst_port="x")
    wire(g, "s2", "head", src_port="y")
    shapes = gc.infer_shapes(g)
    assert shapes["s1"].outputs == {"y": gc.TensorType((8, 16, 16))}
    assert shapes["s2"].output_shape == (8, 8, 8)
    assert shapes["s1"].params == 8 * 3 * 9 + 8
    assert shapes["s2"].params == 8 * 8 * 9 + 8
    assert [p.name for p in gc.node_ports(g.nodes["s1"], g.blocks)[0]] == ["x"]
    assert gc.validate(g) == []


def test_nested_blocks() -> None:
    g = Graph(name="nested")
    g.blocks["stage"] = _stage()
    two = Graph(name="two")
    add(two, "a", "Input", shape=[])
    add(two, "first", "Block", block="stage")
    add(two, "second", "Block", block="stage")
    add(two, "b", "Output", loss="none")
    wire(two, "a", "first", dst_port="x")
    wire(two, "first", "second", src_port="y", dst_port="x")
    wire(two, "second", "b", src_port="y")
    g.blocks["two"] = two
    add(g, "img", "Input", shape=[3, 64, 64])
    add(g, "body", "Block", block="two")
    add(g, "head", "Output", loss="none")
    wire(g, "img", "body", dst_port="a")
    wire(g, "body", "head", src_port="b")
    info = gc.infer_shapes(g)["body"]
    assert info.output_shape == (8, 16, 16)
    assert info.params == (8 * 3 * 9 + 8) + (8 * 8 * 9 + 8)
    assert gc.summarize(g).total_params == info.params


def test_a_block_with_a_fixed_input_shape_refuses_another() -> None:
    g = Graph(name="fixed")
    g.blocks["stage"] = _stage()
    g.blocks["stage"].nodes["x"].params["shape"] = [3, 32, 32]
    add(g, "img", "Input", shape=[3, 28, 28])
    add(g, "s1", "Block", block="stage")
    wire(g, "img", "s1", dst_port="x")
    assert gc.infer_shapes(g)["s1"].error == (
        "inside block 'stage', x: this block input expects (3, 32, 32); got (3, 28, 28)")


def test_block_errors() -> None:
    g = Graph(name="bad")
    g.blocks["stage"] = _stage()
    add(g, "img", "Input", shape=[3, 32, 32])
    add(g, "s1", "Block", block="nothing")
    assert gc.infer_shapes(g)["s1"].error == "unknown block 'nothing' (blocks: stage)"
    g.blocks["loop"] = Graph(name="loop")
    add(g.blocks["loop"], "inner", "Block", block="loop")
    g.nodes["s1"].params["block"] = "loop"
    assert "block 'loop' contains itself" in gc.infer_shapes(g)["s1"].error
    g.nodes["s1"].params["block"] = "stage"
    wire(g, "img", "s1", dst_port="x")
    g.blocks["stage"].nodes["conv"].params["kernel_size"] = 50
    assert gc.infer_shapes(g)["s1"].error.startswith("inside block 'stage', conv: Conv2d would produce")


def _gan(fake_shape: list[int]) -> Graph:
    g = Graph(name="gan")
    critic = Graph(name="critic")
    add(critic, "s", "Input", shape=[])
    add(critic, "conv", "Conv2d", out_channels=4, kernel_size=4, stride=2, padding=1)
    add(critic, "flat", "Flatten")
    add(critic, "score", "Dense", out_features=1)
    add(critic, "v", "Output", loss="bce")
    for a, b in (("s", "conv"), ("conv", "flat"), ("flat", "score"), ("score", "v")):
        wire(critic, a, b)
    g.blocks["critic"] = critic
    add(g, "img", "Input", shape=[1, 8, 8])
    add(g, "z", "Input", shape=[16], source="noise")
    add(g, "grow", "Dense", out_features=math.prod(fake_shape))
    add(g, "fold", "Reshape", shape=fake_shape)
    add(g, "d", "Discriminator", block="critic")
    wire(g, "z", "grow")
    wire(g, "grow", "fold")
    wire(g, "fold", "d", dst_port="fake")
    wire(g, "img", "d", dst_port="real")
    return g


def test_discriminator_scores_with_its_block() -> None:
    info = gc.infer_shapes(_gan([1, 8, 8]))["d"]
    assert info.outputs == {"score": gc.TensorType((1,))}
    assert info.params == (4 * 1 * 16 + 4) + (4 * 4 * 4 + 1)
    assert gc.validate(_gan([1, 8, 8])) == []


def test_discriminator_real_and_fake_must_match() -> None:
    info = gc.infer_shapes(_gan([1, 4, 16]))["d"]
    assert info.error == "real samples (1, 8, 8) and generated samples (1, 4, 16) must have the same shape"
    assert info.error_port == "fake"


# ---- incomplete graphs -------------------------------------------------------------------------


def test_incomplete_graph_marks_unknown_without_errors() -> None:
    g = chain((3, 16, 16), ("Conv2d", {"out_channels": 4}), ("ReLU", {}), ("Flatten", {}),
              ("Dense", {"out_features": 10}))
    g.edges = [e for e in g.edges if e.dst[0] != "n2"]  # the user has not wired the ReLU yet
    add(g, "lonely", "Dense")
    add(g, "cat", "Concat")
    wire(g, "n1", "cat")
    wire(g, "lonely", "cat")
    shapes = gc.infer_shapes(g)
    assert shapes["n1"].output_shape == (4, 14, 14)
    for nid in ("n2", "n3", "n4", "head", "lonely", "cat"):
        assert shapes[nid].error is None, nid
        assert shapes[nid].params is None, nid
        assert all(t is None for t in shapes[nid].outputs.values()), nid
    assert shapes["n2"].outputs == {"out": None}
    assert shapes["cat"].outputs == {"out": None}
    assert gc.summarize(g, shapes).total_params == 4 * 3 * 9 + 4


def test_nodes_on_a_cycle_are_unknown_not_a_crash() -> None:
    g = chain((10,), ("Dense", {}), ("Dense", {}), ("Dense", {}))
    wire(g, "n3", "n2")  # closes n2 -> n3 -> n2
    shapes = gc.infer_shapes(g)
    assert shapes["n1"].output_shape == (64,)
    for nid in ("n2", "n3", "head"):
        assert shapes[nid].output_shape is None and shapes[nid].error is None
    assert shapes["n2"].outputs == {"out": None}


def test_a_wrong_parameter_is_reported_even_before_wiring() -> None:
    g = Graph(name="p")
    add(g, "conv", "Conv2d", kernel_size=0)
    assert gc.infer_shapes(g)["conv"].error == "kernel_size: must be at least 1; got 0"


# ---- a few spot checks against torch itself ----------------------------------------------------

TORCH_CASES = [
    ("Conv2d", (3, 17, 16), {"out_channels": 5, "kernel_size": 4, "padding": "same", "dilation": 2},
     ("Conv2d", (3, 5, 4), {"padding": "same", "dilation": 2})),
    ("Conv1d", (4, 31), {"out_channels": 6, "kernel_size": 5, "stride": 3, "padding": 2, "groups": 2},
     ("Conv1d", (4, 6, 5), {"stride": 3, "padding": 2, "groups": 2})),
    ("ConvTranspose2d", (8, 7, 5), {"out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1,
                                    "output_padding": 1}, ("ConvTranspose2d", (8, 3, 3, 2, 1), {"output_padding": 1})),
    ("ConvTranspose1d", (2, 9), {"out_channels": 2, "kernel_size": 3, "stride": 3, "output_padding": 2,
                                 "dilation": 3}, ("ConvTranspose1d", (2, 2, 3, 3), {"output_padding": 2, "dilation": 3})),
    ("MaxPool2d", (3, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
     ("MaxPool2d", (3, 2, 1), {"ceil_mode": True})),
    ("MaxPool1d", (3, 5), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
     ("MaxPool1d", (2, 2, 1), {"ceil_mode": True})),
    ("AvgPool3d", (2, 7, 6, 5), {"kernel_size": 2, "ceil_mode": True}, ("AvgPool3d", (2,), {"ceil_mode": True})),
    ("Upsample", (3, 5, 7), {"scale_factor": 1.5, "mode": "bilinear"},
     ("Upsample", (), {"scale_factor": 1.5, "mode": "bilinear"})),
    ("AdaptiveAvgPool2d", (3, 13, 5), {"output_size": [4, 7]}, ("AdaptiveAvgPool2d", ((4, 7),), {})),
]


@pytest.mark.parametrize("type_name,shape,params,torch_module", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_inferred_shapes_equal_torch(type_name: str, shape: tuple[int, ...], params: dict,
                                     torch_module: tuple[str, tuple, dict]) -> None:
    torch = pytest.importorskip("torch")
    cls, args, kwargs = torch_module
    module = getattr(torch.nn, cls)(*args, **kwargs)
    g = chain(shape, (type_name, params))
    info = gc.infer_shapes(g)["n1"]
    with torch.no_grad():
        want = tuple(module(torch.zeros((1, *shape))).shape[1:])
    assert info.output_shape == want
    assert info.params == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("ceil", [False, True])
def test_unpooled_size_equals_torch(ceil: bool) -> None:
    torch = pytest.importorskip("torch")
    pool = torch.nn.MaxPool2d(2, ceil_mode=ceil, return_indices=True)
    x = torch.randn(1, 4, 7, 9)
    y, idx = pool(x)
    back = torch.nn.MaxUnpool2d(2)(y, idx, output_size=x.shape[2:])
    g = _pool_unpool((4, 7, 9), 2, {"kernel_size": 2, "ceil_mode": ceil}, {"kernel_size": 2})
    shapes = gc.infer_shapes(g)
    assert shapes["pool"].output_shape == tuple(y.shape[1:])
    assert shapes["unpool"].output_shape == tuple(back.shape[1:]) == (4, 7, 9)
