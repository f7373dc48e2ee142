"""compile_graph: what runs is what the user reads, and it behaves as the graph says."""

from __future__ import annotations

import linecache
import traceback

import pytest
import torch

import codegen
import graph_core as gc
from codegen import (
    GraphInvalidError,
    NodeRuntimeError,
    compile_graph,
    generate_source,
    param_groups,
)

from . import graphs


def test_compiled_class_comes_from_the_generated_source():
    g = graphs.mlp()
    model = compile_graph(g)
    generated = generate_source(g)
    assert model.generated.source == generated.source
    filename = type(model).__mro__[1].forward.__code__.co_filename
    assert filename.startswith("<netwright:tiny mlp:")
    # the source is registered for tracebacks, line for line
    for lineno, line in enumerate(generated.source.splitlines(), start=1):
        assert linecache.getline(filename, lineno).rstrip("\n") == line


def test_two_versions_of_a_graph_keep_their_own_traceback_lines():
    g = graphs.mlp()
    first = compile_graph(g)
    g.nodes["fc1"].params["out_features"] = 20
    second = compile_graph(g)
    files = [type(m).__mro__[1].forward.__code__.co_filename for m in (first, second)]
    assert files[0] != files[1]
    assert "nn.Linear(8, 16)" in "".join(linecache.getlines(files[0]))
    assert "nn.Linear(8, 20)" in "".join(linecache.getlines(files[1]))


def test_inputs_positionally_or_by_keyword():
    model = compile_graph(graphs.two_heads()).eval()
    x = torch.randn(3, 6)
    by_position, by_keyword = model(x), model(x=x)
    assert set(by_position) == {"label", "value"}
    assert torch.equal(by_position["label"], by_keyword["label"])
    assert by_position["label"].shape == (3, 3) and by_position["value"].shape == (3, 1)


def test_single_head_returns_a_tensor():
    out = compile_graph(graphs.mlp())(torch.randn(4, 8))
    assert isinstance(out, torch.Tensor) and out.shape == (4, 3)


def test_invalid_graph_is_refused_with_its_issues():
    g = graphs.mlp()
    g.edges = [e for e in g.edges if e.dst[0] != "fc2"]
    with pytest.raises(GraphInvalidError) as info:
        compile_graph(g)
    assert any(i.node == "fc2" and "not connected" in i.message for i in info.value.issues)
    assert "fc2: input 'in' is not connected" in str(info.value)


def test_error_in_forward_names_the_node():
    model = compile_graph(graphs.mlp())
    with pytest.raises(NodeRuntimeError) as info:
        model(torch.randn(2, 5))  # the graph declares 8 features
    assert info.value.node == "fc1"
    assert str(info.value).startswith("fc1: RuntimeError")
    assert model.generated.line_to_node[info.value.line] == "fc1"
    frames = traceback.extract_tb(info.value.__cause__.__traceback__)
    assert any(f.filename.startswith("<netwright:tiny mlp:") and "self.fc1(x)" in (f.line or "")
               for f in frames)


def test_error_inside_a_block_names_block_and_inner_node():
    model = compile_graph(graphs.with_block())
    with pytest.raises(NodeRuntimeError) as info:
        model(torch.randn(2, 3))
    assert info.value.node == "s1"
    assert info.value.inner == ("stage", "fc")


def test_maxpool_indices_feed_the_unpool():
    g = graphs.segnet()
    source = generate_source(g).source
    assert "return_indices=True" in source
    assert "x, pool_indices = self.pool(x)" in source
    assert "output_size=(8, 8)" in source
    model = compile_graph(g).eval()
    x = torch.randn(2, 1, 8, 8)
    out = model(x)
    assert out.shape == (2, 3, 8, 8)
    # the unpool puts every pooled maximum back where it came from: 1 of each 2x2 window is non-zero
    enc = model.enc(x)
    pooled, idx = model.pool(enc)
    restored = model.unpool(model.mid(pooled), idx, output_size=(8, 8))
    assert (restored != 0).sum(dim=(2, 3)).max() <= 16


def test_reparametrisation_samples_in_training_and_returns_mu_in_eval():
    model = compile_graph(graphs.vae())
    x = torch.randn(5, 12)
    model.train()
    torch.manual_seed(0)
    a = model(x)
    b = model(x)
    assert not torch.equal(a, b)
    kl = model.kl_loss()
    assert kl.ndim == 0 and kl.item() > 0 and kl.requires_grad
    model.eval()
    assert torch.equal(model(x), model(x))
    mu = model.mu(model.act(model.enc(x)))
    logvar = model.logvar(model.act(model.enc(x)))
    expected = 0.5 * (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1).mean())
    model(x)
    assert torch.allclose(model.kl_loss(), expected)


def test_kl_loss_is_zero_without_reparametrisation():
    model = compile_graph(graphs.mlp())
    assert model.kl_loss().item() == 0.0


def test_gan_has_separate_generator_and_discriminator():
    from tests.registry_samples import sample_graph

    model = compile_graph(sample_graph("Discriminator"))
    assert model.latent_shape == (4,) and model.sample_shape == (1, 8, 8)
    sample = model.generator(torch.randn(3, 4))
    assert sample.shape == (3, 1, 8, 8)
    assert model.discriminator(sample).shape == (3, 1)
    gen_ids = {id(p) for p in model.generator.parameters()}
    assert gen_ids and not gen_ids & {id(p) for p in model.discriminator.parameters()}
    assert set(model.node_modules) == {"grow", "node"}
    assert model.node_modules["grow"] == "generator.grow"


def test_frozen_nodes_do_not_train_and_keep_their_statistics():
    g = graphs.with_block()
    model = compile_graph(g)
    assert all(not p.requires_grad for p in model.s1.parameters())
    assert all(p.requires_grad for p in model.s2.parameters())
    model.train()
    assert not model.s1.training and model.s2.training
    before = model.s1.bn.running_mean.clone()
    model(torch.randn(4, 4))
    assert torch.equal(model.s1.bn.running_mean, before)


def test_param_groups_honour_frozen_and_lr_factors():
    g = graphs.with_block()
    g.nodes["head"].lr_factor = 2.0
    model = compile_graph(g)
    groups = {grp["lr_factor"]: grp for grp in param_groups(model, g, lr=0.01)}
    assert set(groups) == {0.1, 2.0}
    assert groups[0.1]["lr"] == pytest.approx(0.001)
    assert {id(p) for p in groups[0.1]["params"]} == {id(p) for p in model.s2.parameters()}
    assert {id(p) for p in groups[2.0]["params"]} == {id(p) for p in model.head.parameters()}
    torch.optim.SGD(param_groups(model, g, lr=0.01), lr=0.01)  # accepted by an optimizer


def test_one_class_per_block_input_shape():
    source = generate_source(graphs.with_block()).source
    assert "class Stage(nn.Module):" in source and "class Stage2(nn.Module):" in source
    assert "nn.Linear(4, 6)" in source and "nn.Linear(6, 6)" in source


def test_node_modules_and_state_dict_keys():
    model = compile_graph(graphs.with_block())
    assert model.node_modules == {"s1": "s1", "s2": "s2", "head": "head"}
    assert "s1.fc.weight" in model.state_dict()
    assert "node_modules" not in model.state_dict()


def test_generate_source_needs_no_torch_and_is_deterministic():
    a, b = generate_source(graphs.segnet()), generate_source(graphs.segnet())
    assert a.source == b.source and a.line_to_node == b.line_to_node
    source, line_to_node = a
    lines = source.splitlines()
    assert lines[next(k for k, v in line_to_node.items() if v == "mid") - 1].strip().startswith("self.mid")
    for lineno, node in line_to_node.items():
        assert node in graphs.segnet().nodes
        assert lines[lineno - 1].strip()


def test_generated_forward_lines_carry_shape_comments():
    source = generate_source(graphs.segnet()).source
    assert "x = self.enc(image)  # (4, 8, 8)" in source
    assert "classes = self.classes(x)  # (3, 8, 8)" in source


def test_warnings_do_not_block_compilation():
    g = graphs.mlp()
    g.nodes["act2"] = gc.Node("act2", "Softmax", {})
    g.edges = [e for e in g.edges if e.dst[0] != "label"]
    g.edges += [gc.Edge(("fc2", "out"), ("act2", "in")), gc.Edge(("act2", "out"), ("label", "in"))]
    assert any(i.severity == gc.WARNING for i in gc.validate(g))
    assert compile_graph(g)(torch.randn(2, 8)).sum(dim=1).allclose(torch.ones(2))


def test_lazy_api_names_resolve():
    for name in ("compile_graph", "export_onnx", "save_weights", "load_weights", "param_groups",
                 "ExportReport"):
        assert getattr(codegen, name) is not None
    with pytest.raises(AttributeError):
        codegen.no_such_thing  # noqa: B018


def test_param_groups_for_one_part_of_a_gan():
    from tests.registry_samples import sample_graph

    g = sample_graph("Discriminator")
    g.nodes["grow"].lr_factor = 0.5
    model = compile_graph(g)
    gen = param_groups(model, g, lr=1.0, part="generator")
    disc = param_groups(model, g, lr=1.0, part="discriminator")
    assert [grp["lr"] for grp in gen] == [0.5] and [grp["lr"] for grp in disc] == [1.0]
    assert {id(p) for grp in gen for p in grp["params"]} == {id(p) for p in model.generator.parameters()}
    assert {id(p) for grp in disc for p in grp["params"]} == {
        id(p) for p in model.discriminator.parameters()}


def test_generating_source_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys, codegen\n"
            "from tests.codegen import graphs\n"
            "codegen.generate_source(graphs.segnet())\n"
            "print('torch' in sys.modules)")
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_benchmark_twins_are_the_same_network():
    import importlib.util

    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("bench_codegen", root / "benchmarks" / "bench_codegen.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.step_ratio("lenet", bench.lenet, batch=4, rounds=1, steps=1, device="cpu")
    assert result["params"] == 61_706 and result["median_ratio"] > 0
    assert len(bench.big_graph().nodes) == 1000


def test_forward_reads_branch_by_branch():
    from codegen.source import readable_order

    from .graphs import Builder

    b = Builder("branches")
    b.node("a", "Input", shape=[3]).node("b", "Input", shape=[3])
    b.node("a1", "Dense", out_features=4).node("b1", "Dense", out_features=4)
    b.node("a2", "ReLU").node("b2", "ReLU").node("cat", "Concat").node("out", "Output")
    b.chain("a", "a1", "a2", "cat").chain("b", "b1", "b2", "cat").wire("cat", "out")
    b.graph.nodes = {k: b.graph.nodes[k] for k in ("a", "b", "a1", "b1", "a2", "b2", "cat", "out")}
    assert readable_order(b.graph) == ["a", "a1", "a2", "b", "b1", "b2", "cat", "out"]
    model = compile_graph(b.graph)
    assert model.generated.inputs == [("a", "a"), ("b", "b")]
    assert model(torch.randn(2, 3), torch.randn(2, 3)).shape == (2, 8)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_compiled_module_trains_on_cuda():
    g = graphs.segnet()
    model = compile_graph(g).cuda().train()
    opt = torch.optim.SGD(param_groups(model, g, lr=0.1), lr=0.1)
    x = torch.randn(4, 1, 8, 8, device="cuda")
    loss = model(x).square().mean()
    loss.backward()
    opt.step()
    assert model.enc.weight.device.type == "cuda" and torch.isfinite(loss)
