"""ONNX export: one self-contained file, dynamic batch, named tensors, verified in onnxruntime;
refusals and failures leave nothing behind."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import graph_core as gc
import templates
from codegen import ExportError, GraphInvalidError, compile_graph, export_onnx, save_weights
from codegen.onnx_export import TOLERANCE
from tests.registry_samples import all_types, sample_graph

from . import graphs


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_export_writes_one_verified_file_with_named_dynamic_inputs(tmp_path):
    target = tmp_path / "model.onnx"
    report = export_onnx(graphs.two_heads(), target)
    assert report.max_abs_diff <= TOLERANCE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no .data sidecar
    model = onnx.load(str(target))
    onnx.checker.check_model(model, full_check=True)
    session = _session(target)
    (inp,) = session.get_inputs()
    assert inp.name == "x" and inp.shape == ["batch", 6]
    assert [o.name for o in session.get_outputs()] == ["label", "value"]
    label, value = session.run(None, {"x": np.random.randn(7, 6).astype(np.float32)})
    assert label.shape == (7, 3) and value.shape == (7, 1)
    assert "max abs" not in report.summary() and "matches PyTorch" in report.summary()


def test_export_uses_the_given_weights(tmp_path):
    g = graphs.segnet()
    trained = compile_graph(g).eval()
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(0.5)
    save_weights(trained, tmp_path / "w.safetensors")
    export_onnx(g, tmp_path / "m.onnx", weights=tmp_path / "w.safetensors")
    x = torch.randn(2, 1, 8, 8)
    (got,) = _session(tmp_path / "m.onnx").run(None, {"image": x.numpy()})
    np.testing.assert_allclose(got, trained(x).detach().numpy(), atol=1e-4)


def test_vae_full_model_exports_in_eval_mode(tmp_path):
    report = export_onnx(graphs.vae(), tmp_path / "vae.onnx")
    assert report.part == "full"
    x = torch.randn(4, 12)
    (a,) = _session(tmp_path / "vae.onnx").run(None, {"x": x.numpy()})
    (b,) = _session(tmp_path / "vae.onnx").run(None, {"x": x.numpy()})
    np.testing.assert_array_equal(a, b)  # z = mu: no sampling in the exported model


def test_vae_decoder_alone(tmp_path):
    g = graphs.vae()
    full = compile_graph(g).eval()
    save_weights(full, tmp_path / "w.safetensors")
    report = export_onnx(g, tmp_path / "dec.onnx", weights=tmp_path / "w.safetensors", part="decoder")
    assert report.part == "decoder"
    assert report.inputs == [("z", ("batch", 2), "float32")]
    z = torch.randn(5, 2)
    (recon,) = _session(tmp_path / "dec.onnx").run(None, {"z": z.numpy()})
    np.testing.assert_allclose(recon, full.dec(z).detach().numpy(), atol=1e-5)


def test_decoder_with_a_skip_from_the_encoder_is_refused(tmp_path):
    g = graphs.vae()
    g.nodes["join"] = gc.Node("join", "Concat", {})
    g.edges = [e for e in g.edges if e.dst[0] != "dec"]
    g.edges += [gc.Edge(("z", "z"), ("join", "in")), gc.Edge(("mu", "out"), ("join", "in")),
                gc.Edge(("join", "out"), ("dec", "in"))]
    with pytest.raises(ExportError, match="join: reads mu"):
        export_onnx(g, tmp_path / "dec.onnx", part="decoder")
    assert not list(tmp_path.iterdir())


def test_gan_parts(tmp_path):
    g = sample_graph("Discriminator")
    default = export_onnx(g, tmp_path / "g.onnx")
    assert default.part == "generator"
    assert default.inputs == [("noise", ("batch", 4), "float32")]
    assert default.outputs[0][:2] == ("sample", ("batch", 1, 8, 8))
    disc = export_onnx(g, tmp_path / "d.onnx", part="discriminator")
    assert disc.inputs == [("sample", ("batch", 1, 8, 8), "float32")]
    (score,) = _session(tmp_path / "d.onnx").run(None, {"sample": np.zeros((3, 1, 8, 8), np.float32)})
    assert score.shape == (3, 1)
    with pytest.raises(ExportError, match="generator or discriminator"):
        export_onnx(g, tmp_path / "x.onnx", part="decoder")


def test_part_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(ExportError, match="part 'decoder' does not exist"):
        export_onnx(graphs.mlp(), tmp_path / "m.onnx", part="decoder")


def test_unexportable_node_type_is_refused_before_writing(tmp_path, monkeypatch):
    from graph_core import specs

    relu = specs.get_spec("ReLU")
    monkeypatch.setitem(specs._REGISTRY, "ReLU", dataclasses.replace(relu, onnx="no ONNX kernel yet"))
    target = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match="act: ReLU cannot be exported to ONNX: no ONNX kernel yet"):
        export_onnx(graphs.mlp(), target)
    assert not target.exists() and not list(tmp_path.iterdir())


def test_failed_verification_leaves_no_file(tmp_path):
    target = tmp_path / "m.onnx"
    target.write_bytes(b"previous export")
    with pytest.raises(ExportError, match="disagrees with PyTorch"):
        export_onnx(graphs.mlp(), target, tolerance=-1.0)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_invalid_graph_is_refused(tmp_path):
    g = graphs.mlp()
    del g.nodes["act"]
    g.edges = [e for e in g.edges if "act" not in (e.src[0], e.dst[0])]
    with pytest.raises(GraphInvalidError):
        export_onnx(g, tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["dna_cnn", "embedding_classifier"])
def test_template_parity(tmp_path, name):
    report = export_onnx(templates.build(name), tmp_path / f"{name}.onnx")
    assert report.max_abs_diff <= TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("type_name", all_types())
def test_every_node_type_exports_with_parity(tmp_path, type_name):
    g = sample_graph(type_name)
    if gc.get_spec(type_name).onnx is not None:
        with pytest.raises(ExportError):
            export_onnx(g, tmp_path / "m.onnx")
        return
    report = export_onnx(g, tmp_path / "m.onnx")
    assert report.max_abs_diff <= TOLERANCE
    assert report.inputs[0][1][0] == "batch"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg", "conv_vae", "dcgan", "timeseries_gaf", "lenet", "segnet",
                                  "multiomics_vae"])
def test_more_template_parity(tmp_path, name):
    report = export_onnx(templates.build(name), tmp_path / f"{name}.onnx")
    assert report.max_abs_diff <= TOLERANCE


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_non_default_parameters_export_with_parity(tmp_path, rank):
    report = export_onnx(graphs.variety(rank), tmp_path / "v.onnx")
    assert report.max_abs_diff <= TOLERANCE
    assert report.outputs[0][1] == ("batch", 4)


@pytest.mark.slow
def test_nodes_named_like_graph_module_attributes_export(tmp_path):
    # The exporter rebuilds the model as a torch.fx GraphModule that keeps our attribute names;
    # a node named `code` or `graph` must not shadow GraphModule's own attributes.
    b = graphs.Builder("shadowing")
    b.node("x", "Input", shape=[6]).node("code", "Dense", out_features=4)
    b.node("graph", "Dense", out_features=3).node("meta", "ReLU").node("label", "Output")
    b.chain("x", "code", "graph", "meta", "label")
    report = export_onnx(b.graph, tmp_path / "model.onnx")
    assert report.max_abs_diff <= TOLERANCE
