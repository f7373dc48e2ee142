"""validate(graph): the messages a user reads, one 'node-id: message' per issue.

Each test builds the mistake a student would make and asserts the exact line that
`netwright validate` and the designer's issue list show for it.
"""

from __future__ import annotations

import pytest

import graph_core as gc
from graph_core import Graph, Node
from tests.graph_core.helpers import add, chain, messages, wire
from tests.registry_samples import sample_graph


def _mlp() -> Graph:
    """A valid classifier: 1x28x28 image -> Flatten -> Dense(32) -> ReLU -> Dense(10) -> head."""
    return chain((1, 28, 28), ("Flatten", {}), ("Dense", {"out_features": 32}), ("ReLU", {}),
                 ("Dense", {"out_features": 10}), head={"loss": "cross_entropy"})


def test_a_valid_graph_has_no_issues() -> None:
    assert gc.validate(_mlp()) == []


def test_issues_are_data_with_severity_node_port_and_code() -> None:
    g = _mlp()
    g.edges = [e for e in g.edges if e.dst[0] != "n3"]
    issue = next(i for i in gc.validate(g) if i.code == "unconnected")
    assert (issue.severity, issue.node, issue.port) == (gc.ERROR, "n3", "in")
    assert str(issue) == "n3: input 'in' is not connected"


def test_the_conv_after_flatten_message() -> None:
    g = Graph(name="convbad")
    add(g, "x", "Input", shape=[1, 28, 28])
    add(g, "flat", "Flatten")
    add(g, "dense1", "Dense", out_features=32)
    add(g, "convbad", "Conv2d", out_channels=8)
    add(g, "head", "Output")
    for a, b in (("x", "flat"), ("flat", "dense1"), ("dense1", "convbad"), ("convbad", "head")):
        wire(g, a, b)
    assert messages(g, gc.ERROR) == [
        "convbad: Conv2d needs a (C, H, W) input; got (32,) from dense1 — remove the Flatten or add a Reshape"]
    issue = gc.errors(gc.validate(g))[0]
    assert (issue.port, issue.code) == ("in", "shape")


def test_errors_come_first_then_warnings_in_file_order() -> None:
    g = chain((3, 4, 4), ("Dense", {"out_features": 2}), ("Conv1d", {}), ("Flatten", {}),
              ("Dense", {"out_features": 1}), head={"loss": "cross_entropy"})
    found = gc.validate(g)
    assert [i.severity for i in found] == [gc.ERROR, gc.WARNING]
    assert [i.node for i in found] == ["n2", "n1"]


# ---- structure -------------------------------------------------------------------------------


def test_a_cycle_names_every_node_on_it() -> None:
    g = chain((10,), ("Dense", {}), ("ReLU", {}), ("Dense", {}), ("Add", {}))
    wire(g, "n4", "n2")  # n2 -> n3 -> n4 -> n2; n2 now also has two wires on 'in'
    cycles = [str(i) for i in gc.validate(g) if i.code == "cycle"]
    assert cycles == ["n2: a cycle: n2 -> n3 -> n4 -> n2; data must flow one way — remove one of these wires"]


def test_two_separate_cycles_and_a_self_loop() -> None:
    g = chain((10,), ("Add", {}), ("Add", {}), ("Add", {}))
    wire(g, "n1", "n1")
    wire(g, "n3", "n2")
    cycles = [str(i) for i in gc.validate(g) if i.code == "cycle"]
    assert cycles == [
        "n1: a cycle: n1 -> n1; data must flow one way — remove one of these wires",
        "n2: a cycle: n2 -> n3 -> n2; data must flow one way — remove one of these wires",
    ]


def test_cut_off_nodes_are_warned_about() -> None:
    g = _mlp()
    add(g, "orphan", "ReLU")
    add(g, "dead_end", "Dense", out_features=5)
    wire(g, "n2", "dead_end")
    assert messages(g, gc.WARNING) == ["orphan: is cut off from every Input",
                                       "dead_end: leads to no Output: its result is never used"]
    assert messages(g, gc.ERROR) == ["orphan: input 'in' is not connected"]


def test_unconnected_required_ports() -> None:
    g = sample_graph("Reparametrisation")
    g.edges = [e for e in g.edges if e.dst != ("node", "logvar")]
    assert messages(g, gc.ERROR) == ["node: input 'logvar' is not connected"]


def test_an_unconnected_optional_port_is_fine() -> None:
    g = sample_graph("Discriminator")  # its optional 'score' output is left unwired
    assert gc.validate(g) == []


def test_several_wires_into_a_one_wire_port() -> None:
    g = _mlp()
    wire(g, "x", "n4")
    assert messages(g, gc.ERROR) == ["n4: 'in' takes one wire but has 2: add a Concat or Add to combine them"]


def test_several_wires_into_a_multi_port_are_fine() -> None:
    assert gc.validate(sample_graph("Concat")) == []


def test_indices_into_a_tensor_port() -> None:
    g = chain((3, 8, 8), ("MaxPool2d", {}), ("ReLU", {}))
    g.edges[1] = gc.Edge(("n1", "indices"), ("n2", "in"))
    assert messages(g, gc.ERROR) == [
        "n2: 'in' takes a tensor but n1.indices carries pool indices — pool indices only go into a "
        "MaxUnpool's 'indices' port"]


def test_a_tensor_into_the_indices_port() -> None:
    g = sample_graph("MaxUnpool2d")
    g.edges = [gc.Edge(("pool", "out"), e.dst) if e.dst == ("node", "indices") else e for e in g.edges]
    found = gc.errors(gc.validate(g))
    assert [str(i) for i in found] == [
        "node: 'indices' takes pool indices but pool.out carries a tensor — wire the 'indices' output "
        "of the MaxPool this unpool mirrors"]
    assert found[0].port == "indices"


def test_wires_to_ports_that_do_not_exist() -> None:
    g = _mlp()
    wire(g, "n1", "n2", src_port="indices", dst_port="bias")
    assert messages(g, gc.ERROR) == ["n1: Flatten has no output port 'indices'"]
    g.edges[-1] = gc.Edge(("n1", "out"), ("n2", "bias"))
    assert messages(g, gc.ERROR) == ["n2: Dense has no input port 'bias'"]


def test_an_unknown_type() -> None:
    g = _mlp()
    add(g, "mystery", "Conv4d")
    wire(g, "n4", "mystery")
    assert "mystery: unknown node type 'Conv4d'" in messages(g, gc.ERROR)


def test_no_input_and_no_output() -> None:
    assert messages(Graph()) == [
        "graph: the graph has no Input: add one to say what a sample looks like",
        "graph: the graph has no Output head: add one so training knows what to learn"]


def test_one_discriminator_per_graph() -> None:
    g = sample_graph("Discriminator")
    add(g, "second", "Discriminator", block="critic")
    wire(g, "x", "second", dst_port="real")
    wire(g, "shape_it", "second", dst_port="fake")
    assert "second: a graph can hold one Discriminator" in messages(g, gc.ERROR)


# ---- parameters and blocks ---------------------------------------------------------------------


@pytest.mark.parametrize("params,message", [
    ({"out_features": "ten"}, "n1: out_features: must be a whole number; got 'ten'"),
    ({"out_features": 0}, "n1: out_features: must be at least 1; got 0"),
    ({"out_features": 2.5}, "n1: out_features: must be a whole number; got 2.5"),
    ({"bias": "yes"}, "n1: bias: must be true or false; got 'yes'"),
    ({"units": 3}, "n1: units: Dense has no parameter 'units' (it has: out_features, bias)"),
])
def test_wrong_parameters(params: dict, message: str) -> None:
    g = chain((10,), ("Dense", params), head={"loss": "mse", "target": "y"})
    assert messages(g, gc.ERROR) == [message]


@pytest.mark.parametrize("type_name,params,message", [
    ("Dropout", {"p": 1.5}, "p: must be at most 1; got 1.5"),
    ("Conv2d", {"kernel_size": -3}, "kernel_size: must be at least 1; got -3"),
    ("Conv2d", {"padding": "full"}, "padding: must be a whole number, a list of them, 'same' or 'valid'; got 'full'"),
    ("Conv2d", {"stride": []}, "stride: must not be an empty list"),
    ("MaxPool2d", {"padding": "half"}, "padding: must be a whole number or a list of them; got 'half'"),
    ("Upsample", {"mode": "cubic"}, "mode: must be one of nearest, linear, bilinear, trilinear; got 'cubic'"),
    ("LeakyReLU", {"negative_slope": float("nan")}, "negative_slope: must be a number; got nan"),
])
def test_out_of_range_and_badly_typed_parameters(type_name: str, params: dict, message: str) -> None:
    g = chain((3, 8, 8), (type_name, params))
    assert messages(g, gc.ERROR) == [f"n1: {message}"]


def test_an_input_with_a_bad_shape() -> None:
    g = chain((3, -1, 8), ("ReLU", {}))
    assert messages(g, gc.ERROR) == ["x: shape: sizes must be positive whole numbers; got [3, -1, 8]"]


def test_an_unknown_block_name() -> None:
    g = chain((10,), ("Block", {"block": "encoder"}))
    assert messages(g, gc.ERROR) == ["n1: unknown block 'encoder' (blocks: none defined)"]
    g = sample_graph("Block")
    g.nodes["node"].params["block"] = "mpl"
    assert messages(g, gc.ERROR) == ["node: unknown block 'mpl' (blocks: mlp)"]


def test_a_discriminator_naming_no_block() -> None:
    g = sample_graph("Discriminator")
    g.nodes["node"].params["block"] = "critics"
    assert messages(g, gc.ERROR) == ["node: unknown block 'critics' (blocks: critic)"]


def test_an_error_inside_a_block_is_reported_on_the_block_node() -> None:
    g = sample_graph("Block")
    g.blocks["mlp"].nodes["hidden"].type = "Conv2d"
    g.blocks["mlp"].nodes["hidden"].params = {"out_channels": 4}
    assert messages(g, gc.ERROR) == [
        "node: inside block 'mlp', hidden: Conv2d needs a (C, H, W) input; got (10,) — remove the "
        "Flatten or add a Reshape"]


# ---- lint: what a course would correct -------------------------------------------------------


@pytest.mark.parametrize("activation,loss,advice", [
    ("Softmax", "cross_entropy", "remove n2"),
    ("Sigmoid", "bce", "use loss bce_probs (it takes probabilities)")])
def test_an_activation_the_loss_already_applies(activation: str, loss: str, advice: str) -> None:
    g = chain((10,), ("Dense", {"out_features": 3}), (activation, {}), head={"loss": loss})
    act = activation.lower()
    assert messages(g) == [f"head: n2 applies {activation} but the {loss} loss applies it again, so training "
                           f"would see {act}({act}(x)) — {advice} or feed the raw scores (logits)"]
    assert gc.validate(g)[0].severity == gc.WARNING


def test_log_softmax_before_cross_entropy_points_to_nll() -> None:
    g = chain((10,), ("Dense", {"out_features": 3}), ("LogSoftmax", {}), head={"loss": "cross_entropy"})
    assert messages(g) == ["head: n2 gives log-probabilities: use loss nll, which takes them "
                           "(cross_entropy would normalise them again)"]


def test_softmax_before_an_mse_head_is_not_flagged() -> None:
    g = chain((10,), ("Dense", {"out_features": 3}), ("Softmax", {}), head={"loss": "mse", "target": "y"})
    assert gc.validate(g) == []


def test_dense_on_a_map_without_flatten() -> None:
    g = chain((3, 8, 8), ("Dense", {"out_features": 10}), head={"loss": "mse", "target": "y"})
    assert messages(g) == ["n1: Dense on (3, 8, 8) mixes only the last axis (8); add a Flatten before it "
                           "to connect every value"]


def test_unpool_fed_by_a_pool_of_another_window() -> None:
    # a window that cannot give back the pool's input size is an error (PyTorch's max_unpool
    # raises "invalid output_size" at the first forward pass; it was a warning, issue 13)
    g = sample_graph("MaxUnpool2d")
    g.nodes["pool"].params = {"kernel_size": 3, "stride": 3}
    g.nodes["x"].params["shape"] = [3, 12, 12]
    assert messages(g) == [
        "node: this unpool's window (kernel (2, 2), stride (2, 2)) cannot restore the size (12, 12) its "
        "pool's input had (it gives about (8, 8)): use the pool's window (kernel (3, 3), stride (3, 3))"]
    g.nodes["x"].params["shape"] = [3, 3, 3]  # pooled to 1; (1-1)·2 + 2 = 2, 0 < 3 < 4: PyTorch accepts it
    assert messages(g) == [
        "node: this unpool's window (kernel (2, 2), stride (2, 2)) differs from the pool that made its "
        "indices (kernel (3, 3), stride (3, 3)); use the same"]


def test_unpool_whose_padding_differs_names_the_padding() -> None:
    g = sample_graph("MaxUnpool2d")
    g.nodes["pool"].params = {"kernel_size": 2, "padding": 1}
    g.nodes["x"].params["shape"] = [3, 7, 7]  # pooled to 4; (4-1)·2 + 2 = 8, 6 < 7 < 10: it runs
    assert messages(g) == [
        "node: this unpool's window (kernel (2, 2), stride (2, 2)) differs from the pool that made its "
        "indices (kernel (2, 2), stride (2, 2), padding (1, 1)); use the same"]


def test_one_neuron_head_with_cross_entropy() -> None:
    g = chain((10,), ("Dense", {"out_features": 1}), head={"loss": "cross_entropy"})
    assert messages(g) == ["head: a one-neuron head with cross-entropy cannot learn anything (the softmax "
                           "of one score is always 1): use loss 'bce' for two classes"]
    g.nodes["head"].params["loss"] = "bce"
    assert gc.validate(g) == []


def test_reconstruction_head_of_another_shape() -> None:
    g = chain((3, 4, 4), ("Flatten", {}), ("Dense", {"out_features": 48}),
              head={"loss": "mse", "target": "input:x"})
    assert messages(g) == ["head: reconstructs x (3, 4, 4) but receives (48,): add a Reshape to (3, 4, 4)"]
    g.nodes["n3"] = Node("n3", "Reshape", {"shape": [3, 4, 4]})
    g.edges[-1] = gc.Edge(("n2", "out"), ("n3", "in"))
    wire(g, "n3", "head")
    assert gc.validate(g) == []


def test_reconstruction_target_naming_no_input() -> None:
    g = chain((10,), ("Dense", {"out_features": 10}), head={"loss": "mse", "target": "input:n1"})
    assert messages(g) == ["head: target 'input:n1' names no Input node"]


def test_mu_and_logvar_of_different_widths() -> None:
    g = sample_graph("Reparametrisation")
    g.nodes["logvar"].params["shape"] = [5]
    found = gc.errors(gc.validate(g))
    assert [str(i) for i in found] == ["node: mu (4,) and logvar (5,) must have the same shape: give both "
                                       "Dense layers the same out_features"]
    assert found[0].port == "logvar"


def test_validate_reuses_given_shapes_and_never_raises_on_junk() -> None:
    g = _mlp()
    shapes = gc.infer_shapes(g)
    assert gc.validate(g, shapes) == gc.validate(g)
    g.edges.append(gc.Edge(("ghost", "out"), ("n1", "in")))  # only possible in code, not from a file
    assert "n1: wire ghost.out -> n1.in names unknown node 'ghost'" in messages(g, gc.ERROR)


# ---- dtype and rank mistakes ---------------------------------------------------------------------


@pytest.mark.parametrize("type_name", ["Sigmoid", "Tanh", "Softmax", "LogSoftmax", "GELU", "LeakyReLU",
                                       "Dropout", "BatchNorm", "LayerNorm", "GlobalAvgPool", "Upsample"])
def test_layers_that_compute_refuse_integer_ids(type_name: str) -> None:
    g = chain((3, 8), (type_name, {}), dtype="int64")
    assert messages(g, gc.ERROR) == [f"n1: {type_name} needs float input; got int64 from x — add a OneHot or "
                                     "Embedding first"]


@pytest.mark.parametrize("type_name", ["ReLU", "Identity", "Flatten", "Reshape"])
def test_layers_that_only_move_values_accept_integer_ids(type_name: str) -> None:
    g = chain((3, 8), (type_name, {}), ("Embedding", {}), dtype="int64")
    assert gc.errors(gc.validate(g)) == []


def test_token_layers_refuse_floats_and_say_where_they_came_from() -> None:
    assert messages(chain((20,), ("Embedding", {})), gc.ERROR) == [
        "n1: Embedding needs int64 token ids; got float32 from x — set the Input's dtype to int64"]
    assert messages(chain((20,), ("OneHot", {})), gc.ERROR) == [
        "n1: OneHot needs int64 class indices; got float32 from x — set the Input's dtype to int64"]


@pytest.mark.parametrize("shape,hint", [
    ((3, 2, 2, 2, 2), "add a Reshape to (C, H, W)"),
    ((3, 2, 2, 2), "use the 3d variant"),
    ((3, 20), "use the 1d variant or add a Reshape"),
])
def test_conv_rank_hints_name_only_variants_that_exist(shape: tuple[int, ...], hint: str) -> None:
    found = messages(chain(shape, ("Conv2d", {})), gc.ERROR)
    assert len(found) == 1 and found[0].endswith(f" from x — {hint}")


def test_global_pooling_of_a_vector() -> None:
    assert messages(chain((10,), ("GlobalMaxPool", {})), gc.ERROR) == [
        "n1: GlobalMaxPool needs a (C, ...) map with spatial axes; got (10,) from x — it is already one value "
        "per channel"]


def test_a_parameter_on_a_layer_that_has_none() -> None:
    assert messages(chain((10,), ("ReLU", {"inplace": True})), gc.ERROR) == [
        "n1: inplace: ReLU has no parameter 'inplace' (it has none)"]


def test_dense_per_position_after_a_layer_norm_or_embedding_is_intended() -> None:
    # transformer style: (L, F) sequences, Dense applied to every position's features
    g = chain((12, 16), ("LayerNorm", {}), ("Dense", {"out_features": 32}), ("GELU", {}),
              ("Dropout", {"p": 0.1}), ("Dense", {"out_features": 16}), head={"loss": "none"})
    assert gc.validate(g) == []
    g = chain((12,), ("Embedding", {"num_embeddings": 20, "embedding_dim": 8}), ("Dense", {"out_features": 4}),
              dtype="int64", head={"loss": "none"})
    assert gc.validate(g) == []
    # channels first (an Embedding laid out for Conv1d, a Conv1d): still the forgotten Flatten
    g = chain((12,), ("Embedding", {"num_embeddings": 20, "embedding_dim": 8, "channels_first": True}),
              ("Conv1d", {"out_channels": 4}), ("ReLU", {}), ("Dense", {"out_features": 4}),
              dtype="int64", head={"loss": "none"})
    assert messages(g) == ["n4: Dense on (4, 10) mixes only the last axis (10); add a Flatten before it to "
                           "connect every value"]


def test_a_concat_one_pixel_off_offers_a_way_out() -> None:
    # a U-Net at 100x100: the skip is (256, 25, 25), the upsampled map (256, 24, 24)
    g = chain((256, 25, 25), ("MaxPool2d", {}), ("Upsample", {}), head={"loss": "none"})
    add(g, "join", "Concat")
    g.edges = [e for e in g.edges if e.dst[0] != "head"]
    wire(g, "x", "join")
    wire(g, "n2", "join")
    wire(g, "join", "head")
    assert messages(g, gc.ERROR) == [
        "join: Concat along dim 1 needs the other sizes equal; got (256, 25, 25), (256, 24, 24) — a pool met an "
        "odd size: make the input size divisible by 2 to the number of pools (16 for four), or add a Crop with "
        "crop=[0, 1, 0, 1] on the (256, 25, 25) input, or a Pad with padding=[0, 1, 0, 1] on the (256, 24, 24) "
        "input"]
    # the Crop the message names makes the sizes meet
    add(g, "crop", "Crop", crop=[0, 1, 0, 1])
    g.edges = [e for e in g.edges if not (e.src[0] == "x" and e.dst[0] == "join")]
    wire(g, "x", "crop")
    g.edges.insert(0, gc.Edge(("crop", "out"), ("join", "in")))
    assert gc.validate(g) == []


@pytest.mark.parametrize("layer", ["BatchNorm", "GroupNorm", "InstanceNorm"])
def test_a_zero_eps_is_refused_before_training(layer: str) -> None:
    # found by the fuzz suite: BatchNorm eps 0 validated, then torch refused it at the first step
    g = chain((4, 6, 6), (layer, {"eps": 0.0, **({"num_groups": 2} if layer == "GroupNorm" else {})}),
              head={"loss": "none"})
    assert messages(g, gc.ERROR) == ["n1: eps: must be at least 1e-12; got 0"]
