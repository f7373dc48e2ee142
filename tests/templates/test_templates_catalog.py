"""The gallery as users meet it: names, descriptions, parameters, errors, layout, settings."""

from __future__ import annotations

import re

import pytest

import graph_core as gc
import templates
from templates import TemplateError

NAMES = ["perceptron", "logistic", "softmax_regression", "mlp", "lenet", "vgg", "transfer",
         "autoencoder", "vae", "conv_vae", "segnet", "gan", "dcgan", "dna_cnn", "timeseries_gaf",
         "multiomics_vae", "embedding_classifier", "husky_wolf"]
NAMES += ["resnet", "mobilenet_v2", "unet", "pix2pix"]  # issue 15
NAMES += ["rnn_classifier", "seq2seq", "transformer", "bert_tiny"]  # issue 16
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def test_the_gallery_has_every_network_of_the_course_in_course_order():
    assert [t.name for t in templates.all_templates()] == NAMES


def test_catalog_lists_each_parameter_with_kind_default_and_choices():
    entries = {e["name"]: e for e in templates.catalog()}
    vgg = {p["name"]: p for p in entries["vgg"]["params"]}
    for required in ("depth", "batch_norm", "in_channels", "input_size", "num_classes",
                     "classifier_width", "dropout"):
        assert required in vgg
    assert vgg["depth"]["choices"] == ["11", "13", "16", "19"]
    assert vgg["batch_norm"] == {"name": "batch_norm", "kind": "bool", "default": True,
                                 "help": vgg["batch_norm"]["help"]}
    assert {p["name"]: p["default"] for p in entries["vae"]["params"]}["latent_dim"] == 2
    assert entries["dna_cnn"]["params"][0]["choices"] == ["onehot", "embedding"]
    assert entries["multiomics_vae"]["params"][0]["choices"] == ["early", "joint", "late"]
    for entry in entries.values():
        assert entry["summary"] and entry["description"].startswith(entry["summary"][:-1])
        assert all(p["help"] for p in entry["params"])


@pytest.mark.parametrize("name", NAMES)
def test_defaults_give_a_valid_graph_with_description_data_and_training(name):
    graph = templates.build(name)
    assert gc.validate(graph) == []
    sentences = _SENTENCE.split(graph.description)
    assert 2 <= len(sentences) <= 3, sentences
    assert graph.data["dataset"], "a template names the dataset it trains on"
    assert {"optimizer", "lr", "epochs", "batch_size"} <= set(graph.training)
    assert graph.training["lr"] > 0 and graph.training["epochs"] >= 1


@pytest.mark.parametrize("name", NAMES)
def test_layout_flows_left_to_right_without_overlaps(name):
    graph = templates.build(name)
    for g in [graph, *graph.blocks.values()]:
        nodes = list(g.nodes.values())
        for k, a in enumerate(nodes):  # the designer draws nodes as 200 × 84 boxes
            for b in nodes[k + 1:]:
                apart = abs(a.ui["x"] - b.ui["x"]) >= 220 or abs(a.ui["y"] - b.ui["y"]) >= 100
                assert apart, f"{a.id} and {b.id} overlap on the canvas"
        for edge in g.edges:
            src, dst = g.nodes[edge.src[0]], g.nodes[edge.dst[0]]
            assert dst.ui["x"] > src.ui["x"], f"{edge} runs right to left"


# The designer's card and wire geometry (designer/canvas: node_item.NodeItem, edge_item.wire_path),
# restated here because templates are tested without Qt; tests/designer checks the two agree.
CARD_WIDTH, CARD_HEADER, PORT_ROW = 200.0, 22.0, 17.0


def card_geometry(graph: gc.Graph, blocks: dict) -> dict[str, tuple[float, float, float, list, list]]:
    """node id -> (x, y, height, input port names, output port names) as the canvas draws it."""
    out = {}
    for n in graph.nodes.values():
        ins, outs = gc.node_ports(n, blocks)
        height = max(84.0, CARD_HEADER + 12 + PORT_ROW * max(len(ins), len(outs), 1))
        out[n.id] = (n.ui["x"], n.ui["y"], height, [p.name for p in ins], [p.name for p in outs])
    return out


def wire_points(a: tuple[float, float], b: tuple[float, float], steps: int = 100) -> list[tuple[float, float]]:
    """Points along the canvas's S-curve from output port `a` to input port `b`."""
    d = max(60.0, abs(b[0] - a[0]) * 0.5)
    c1, c2 = (a[0] + d, a[1]), (b[0] - d, b[1])
    points = []
    for k in range(steps + 1):
        t = k / steps
        u = 1 - t
        points.append(tuple(u ** 3 * a[i] + 3 * u * u * t * c1[i] + 3 * u * t * t * c2[i] + t ** 3 * b[i]
                            for i in range(2)))
    return points


def wire_ends(geo: dict, edge: gc.Edge) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where a wire leaves its output port and meets its input port, given `card_geometry`."""
    def port(nid: str, name: str, output: bool) -> tuple[float, float]:
        x, y, height, ins, outs = geo[nid]
        names = outs if output else ins
        top = CARD_HEADER + 6
        return x + (CARD_WIDTH if output else 0.0), y + top + (height - top - 4) * (names.index(name) + 0.5) / len(names)

    return port(*edge.src, True), port(*edge.dst, False)


def wires_through_cards(graph: gc.Graph, blocks: dict) -> list[str]:
    """Each wire that passes through a card it does not connect, as 'src -> dst.port crosses card'."""
    geo = card_geometry(graph, blocks)
    found = []
    for e in graph.edges:
        points = wire_points(*wire_ends(geo, e))
        for nid, (x, y, height, _, _) in geo.items():
            inside = [p for p in points if x + 2 < p[0] < x + CARD_WIDTH - 2 and y + 2 < p[1] < y + height - 2]
            if nid not in (e.src[0], e.dst[0]) and inside:
                found.append(f"{e.src[0]} -> {e.dst[0]}.{e.dst[1]} crosses {nid}")
    return found


LAYOUTS = [(name, {}) for name in NAMES] + [
    ("pix2pix", {"direction": "image_to_mask"}), ("pix2pix", {"depth": 4, "image_size": 64}),
    ("unet", {"variant": "valid", "depth": 3, "input_size": 36}), ("transformer", {"num_layers": 4}),
    ("resnet", {"depth": 50})]


@pytest.mark.parametrize(("name", "params"), LAYOUTS, ids=[f"{n}-{'-'.join(map(str, p.values()))}" for n, p in LAYOUTS])
def test_no_wire_passes_through_a_card_it_does_not_connect(name, params):
    """A new user reads a wire as joining the cards it touches: none may run under another card
    (pix2pix's condition ran under the generator's first convolutions, its skips under the
    decoder)."""
    graph = templates.build(name, **params)
    for label, g in [("the graph", graph), *((f"block {b}", inner) for b, inner in graph.blocks.items())]:
        assert wires_through_cards(g, graph.blocks) == [], label


def test_pix2pix_discriminator_reads_its_three_pairs_from_the_left_past_no_card():
    for direction in ("mask_to_image", "image_to_mask"):
        graph = templates.build("pix2pix", direction=direction)
        d = graph.nodes["discriminator"]
        sources = {e.dst[1]: graph.nodes[e.src[0]] for e in graph.edges if e.dst[0] == "discriminator"}
        assert set(sources) == {"real", "fake", "condition"}
        assert all(n.ui["x"] < d.ui["x"] for n in sources.values())
        # the sample it is fed sits between it (above) and the generator's own head (below)
        head = next(graph.nodes[e.dst[0]] for e in graph.edges
                    if e.src[0] == sources["fake"].id and graph.nodes[e.dst[0]].type == "Output")
        assert d.ui["y"] < sources["fake"].ui["y"] < head.ui["y"]


@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip_is_exact(name):
    graph = templates.build(name)
    again = gc.loads_graph(gc.graph_to_json(graph))
    assert gc.graph_to_dict(again) == gc.graph_to_dict(graph)


def test_each_build_is_a_fresh_graph():
    a, b = templates.build("mlp"), templates.build("mlp")
    a.nodes["hidden1"].params["out_features"] = 999
    assert b.nodes["hidden1"].params["out_features"] == 32


def test_parameters_change_the_network():
    deep = templates.build("mlp", layers=4, hidden=8, activation="tanh", dropout=0.2)
    assert [n.id for n in deep.nodes_of_type("Dense")] == ["hidden1", "hidden2", "hidden3", "hidden4", "scores"]
    assert len(list(deep.nodes_of_type("Tanh"))) == 4
    assert len(list(deep.nodes_of_type("Dropout"))) == 4
    iris = templates.build("softmax_regression", dataset="iris")
    shapes = gc.infer_shapes(iris)
    assert shapes["features"].output_shape == (4,) and shapes["scores"].output_shape == (3,)
    assert iris.data == {"dataset": "iris"}


@pytest.mark.parametrize(("name", "params", "message"), [
    ("vgg19", {}, "unknown template 'vgg19'"),
    ("vgg", {"deep": 16}, "template 'vgg' has no parameter 'deep'"),
    ("vgg", {"depth": 12}, "vgg: depth: must be one of 11, 13, 16, 19; got 12"),
    ("vgg", {"input_size": 16}, "vgg: input_size: must be at least 32; got 16"),
    ("dna_cnn", {"encoding": "kmer"}, "dna_cnn: encoding: must be one of onehot, embedding; got 'kmer'"),
    ("vae", {"beta": "high"}, "vae: beta: must be a number"),
    ("mlp", {"layers": 0}, "mlp: layers: must be at least 1"),
    ("segnet", {"image_size": 20, "depth": 3}, "image_size 20 must be divisible by 2^depth = 8"),
    ("multiomics_vae", {"omics": "rna:200"}, "needs at least two omics"),
    ("multiomics_vae", {"omics": "rna=10,rna=5"}, "each name may appear once"),
    ("multiomics_vae", {"omics": "rna,protein:4"}, "expected entries like 'rna:200'"),
    ("dcgan", {"image_size": 9}, "use an even size"),
])
def test_bad_requests_say_what_is_wrong(name, params, message):
    with pytest.raises(TemplateError) as info:
        templates.build(name, **params)
    assert message in str(info.value)


def test_tabular_templates_read_features_and_predict_the_label():
    for name in ("perceptron", "logistic", "softmax_regression", "mlp"):
        graph = templates.build(name)
        (inp,) = graph.nodes_of_type("Input")
        assert inp.params["field"] == "features"
        (head,) = graph.nodes_of_type("Output")
        assert head.params["target"] == "label"
    logistic = templates.build("logistic", dataset="moons")
    shapes = gc.infer_shapes(logistic)
    assert shapes["logit"].output_shape == (1,)
    assert logistic.nodes["prediction"].params["loss"] == "bce"
    assert templates.build("perceptron").data == {"dataset": "blobs", "centers": 2}


def test_vae_has_mu_logvar_reparametrisation_and_reconstructs_its_input():
    graph = templates.build("vae", latent_dim=3, beta=0.5, loss="mse", image_size=16)
    shapes = gc.infer_shapes(graph)
    assert shapes["mu"].output_shape == shapes["logvar"].output_shape == (3,)
    assert graph.nodes["z"].params["beta"] == 0.5
    head = graph.nodes["reconstruction"]
    assert head.params == {"loss": "mse", "target": "input:image"}
    assert shapes["reconstruction"].output_shape == (1, 16, 16) == shapes["image"].output_shape
    assert graph.nodes["to_image"].type == "Reshape"


def test_gan_templates_wire_noise_generator_and_discriminator_block():
    for name in ("gan", "dcgan"):
        graph = templates.build(name, image_size=16, latent_dim=5)
        noise = graph.nodes["noise"]
        assert noise.params["source"] == "noise" and noise.params["shape"] == [5]
        (disc,) = graph.nodes_of_type("Discriminator")
        block = graph.blocks[disc.params["block"]]
        (inner_in,) = block.nodes_of_type("Input")
        assert inner_in.params["shape"] == []
        (inner_out,) = block.nodes_of_type("Output")
        assert inner_out.params["loss"] == "bce"
        real = graph.edges_into(disc.id, "real")[0].src[0]
        assert graph.nodes[real].params["field"] == "image"
        fake = graph.edges_into(disc.id, "fake")[0].src[0]
        assert gc.infer_shapes(graph)[fake].output_shape == (1, 16, 16)
        assert gc.infer_shapes(graph)[disc.id].output_shape == (1,)


def test_segnet_hands_each_pool_its_matching_unpool():
    graph = templates.build("segnet", depth=3)
    pairs = {e.src[0]: e.dst[0] for e in graph.edges if e.src[1] == "indices"}
    assert pairs == {"pool1": "unpool1", "pool2": "unpool2", "pool3": "unpool3"}
    shapes = gc.infer_shapes(graph)
    assert shapes["classify"].output_shape == (4, 32, 32)
    assert graph.nodes["segmentation"].params["target"] == "mask"


def test_dna_cnn_encodings():
    onehot = templates.build("dna_cnn", encoding="onehot", length=50)
    shapes = gc.infer_shapes(onehot)
    assert onehot.nodes["sequence"].params["dtype"] == "int64"
    assert shapes["onehot"].output_shape == (4, 50)
    emb = templates.build("dna_cnn", encoding="embedding", embedding_dim=6, length=50)
    assert emb.nodes["embed"].params["channels_first"] is True
    assert gc.infer_shapes(emb)["embed"].output_shape == (6, 50)
    assert onehot.nodes["has_motif"].params["loss"] == "bce"


def test_timeseries_gaf_declares_its_transform():
    assert templates.build("timeseries_gaf").data["transform"] == "gasf"
    graph = templates.build("timeseries_gaf", transform="gadf", image_size=24)
    assert graph.data == {"dataset": "cbf", "transform": "gadf", "image_size": 24}


@pytest.mark.parametrize("integration", ["early", "joint", "late"])
def test_multiomics_vae_integration_strategies(integration):
    graph = templates.build("multiomics_vae", integration=integration)
    inputs = [n.id for n in graph.nodes_of_type("Input")]
    assert inputs == ["omics_rna", "omics_methylation", "omics_protein"]
    heads = {n.id: n.params for n in graph.nodes_of_type("Output")}
    for omics in ("rna", "methylation", "protein"):
        assert heads[f"{omics}_reconstruction"]["target"] == f"input:omics_{omics}"
    assert heads["class_head"]["target"] == "label"
    reparams = list(graph.nodes_of_type("Reparametrisation"))
    assert len(reparams) == (3 if integration == "late" else 1)
    concat = next(graph.nodes_of_type("Concat"))
    feeding = [e.src[0] for e in graph.edges_into(concat.id)]
    expected = {"early": inputs, "joint": ["rna_enc_relu", "methylation_enc_relu", "protein_enc_relu"],
                "late": ["rna_z", "methylation_z", "protein_z"]}[integration]
    assert feeding == expected
    without = templates.build("multiomics_vae", integration=integration, classify=False)
    assert "class_head" not in without.nodes


def test_embedding_classifier_pools_token_vectors():
    graph = templates.build("embedding_classifier", pooling="max", vocab_size=30, length=12)
    shapes = gc.infer_shapes(graph)
    assert graph.nodes["tokens"].params["dtype"] == "int64"
    assert shapes["embed"].output_shape == (16, 12)
    assert graph.nodes["pool"].type == "GlobalMaxPool"
    assert not list(graph.nodes_of_type("Softmax")), "cross-entropy applies the softmax itself"


def test_docs_describe_every_template_and_parameter():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
    for tpl in templates.all_templates():
        section = text.split(f"\n## {tpl.name}\n", 1)
        assert len(section) == 2, f"docs/templates.md has no section for {tpl.name}"
        body = section[1].split("\n## ", 1)[0]
        for p in tpl.params:
            assert f"| `{p.name}` |" in body, f"{tpl.name}.{p.name} is not documented"
        picture = f"images/templates/{tpl.name}.png"
        assert picture in body and (Path(__file__).resolve().parents[2] / "docs" / picture).is_file()
