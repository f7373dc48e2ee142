"""pix2pix: a conditional GAN — the U-Net generator reads the mask (not noise), the PatchGAN
scores every patch, and the L1 head joins the generator's loss; turned around (image -> mask), the
U-Net segments and the PatchGAN judges the class map against the one-hot mask."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

import graph_core as gc
import templates
from graph_core.loss_lint import lint_losses

training = pytest.importorskip("training")
torch = pytest.importorskip("torch")
codegen = pytest.importorskip("codegen")
from training.datasets import load_raw  # noqa: E402
from training.regimes import GanRegime  # noqa: E402


def test_the_generator_reads_the_mask_and_the_discriminator_scores_patches():
    graph = templates.build("pix2pix")
    assert gc.validate(graph) == []
    shapes = gc.infer_shapes(graph)
    assert shapes["onehot"].output_shape == (4, 32, 32)
    assert shapes["painted"].output_shape == (1, 32, 32)
    assert shapes["discriminator"].outputs["score"].shape == (1, 6, 6)  # 36 patches, 34 pixels each
    norms = [n for n in graph.nodes.values() if n.type == "InstanceNorm"]
    assert len(norms) == 4 and all(n.params["affine"] for n in norms)
    assert graph.nodes["l1"].params == {"loss": "l1", "target": "image", "weight": 100.0}


@pytest.mark.slow
def test_pix2pix_trains_mask_to_image_on_shapes_seg(tmp_path):
    graph = templates.build("pix2pix", base_channels=8)
    graph.data["limit"] = 96
    events: list[dict] = []
    result = training.train(graph, {"epochs": 2, "batch_size": 16, "device": "cpu", "out": str(tmp_path)},
                            on_event=events.append)
    assert result.ok and result.regime == "gan", (result.error, result.issues)
    steps = [e for e in events if e["type"] == "step"]
    first, last = steps[0]["losses"], steps[-1]["losses"]
    assert all(math.isfinite(v) for v in last.values())
    # the generator's loss holds the L1 term (×100): far above the adversarial term alone, and falling
    assert first["g_loss"] > 10 and last["g_loss"] < first["g_loss"]
    # validated as trained: the validation g_loss holds the same 100·L1 term (its L1 is val_mae)
    last_epoch = result.history[-1]
    assert 100 * last_epoch["val_mae"] < last_epoch["val_g_loss"] < 100 * last_epoch["val_mae"] + 10, last_epoch
    samples = [e for e in events if e["type"] == "samples"]
    assert samples and samples[-1]["kind"] == "conditional"
    _assert_condition_truth_and_result_rows(samples[-1]["image"])


def _assert_condition_truth_and_result_rows(image) -> None:
    """Three rows of eight 32x32 pictures (condition, truth, generated), and the condition row is
    not the generated one (a pix2pix picture is judged against its own input)."""
    assert image.shape == (3 * 33 + 1, 8 * 33 + 1, 3), image.shape
    condition, generated = image[1:33], image[67:99]
    assert np.abs(condition.astype(int) - generated.astype(int)).mean() > 1


def test_image_to_mask_segments_and_the_discriminator_judges_the_class_map():
    graph = templates.build("pix2pix", direction="image_to_mask")
    assert gc.validate(graph) == []
    assert list(lint_losses(graph)) == []  # nll after the LogSoftmax: the loss fits what feeds it
    shapes = gc.infer_shapes(graph)
    assert shapes["log_probs"].output_shape == (4, 32, 32)  # per-pixel class log-probabilities
    assert shapes["real_onehot"].output_shape == (4, 32, 32)  # the true mask, one-hot
    assert shapes["discriminator"].outputs["score"].shape == (1, 6, 6)
    assert graph.nodes["segment"].params == {"loss": "nll", "target": "mask", "weight": 100.0}
    assert "onehot" not in graph.nodes and "l1" not in graph.nodes
    task = training.task.analyse(graph)
    assert (task.regime, task.gan_real, task.gan_real_classes) == ("gan", "mask", 4)
    assert [(h.node, h.kind) for h in task.heads] == [("segment", "segment")]
    # the mask -> image direction keeps its real images straight from the Input
    assert training.task.analyse(templates.build("pix2pix")).gan_real_classes is None


def test_image_to_mask_compiles_and_exports_the_generator(tmp_path):
    graph = templates.build("pix2pix", direction="image_to_mask", base_channels=4)
    model = codegen.compile_graph(graph)
    images = torch.rand(2, 1, 32, 32)
    log_probs = model.generator(images)
    assert tuple(log_probs.shape) == (2, 4, 32, 32)
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(2, 32, 32), atol=1e-5)
    # the discriminator judges the (image, class map) pair; inside, the block's Softmax turns the
    # class log-probabilities back into probabilities (softmax(log p) = p), the image passes as is
    pair = torch.cat([images, log_probs], dim=1)
    assert tuple(model.discriminator(pair).shape) == (2, 1, 6, 6)
    seen = {}
    model.discriminator.d_conv1.register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0]))
    model.discriminator(pair)
    assert seen["x"].shape[1] == 1 + 4
    assert torch.equal(seen["x"][:, :1], images)
    assert torch.allclose(seen["x"][:, 1:], log_probs.exp(), atol=1e-5)
    report = codegen.export_onnx(graph, tmp_path / "g.onnx", part="generator")
    assert [s[1:] for _, s, _ in report.inputs] == [(1, 32, 32)]
    assert report.max_abs_diff <= 1e-4


def test_the_real_path_one_hot_encodes_the_mask():
    graph = templates.build("pix2pix", direction="image_to_mask", num_classes=3)
    task = training.task.analyse(graph)
    regime = SimpleNamespace(task=task, real_field="mask")
    mask = torch.tensor([[[0, 2], [1, 0]]])
    real = GanRegime._real(regime, {"mask": mask})
    assert tuple(real.shape) == (1, 3, 2, 2) and real.dtype == torch.float32
    assert torch.equal(real.argmax(1), mask) and torch.equal(real.sum(1), torch.ones(1, 2, 2))


@pytest.mark.slow
def test_image_to_mask_beats_an_all_background_segmentation(tmp_path):
    torch.manual_seed(0)
    graph = templates.build("pix2pix", direction="image_to_mask", base_channels=8)
    graph.data["limit"] = 192
    events: list[dict] = []
    result = training.train(graph, {"epochs": 4, "batch_size": 16, "device": "cpu", "out": str(tmp_path),
                                     "seed": 0, "lr": 0.002}, on_event=events.append)
    assert result.ok and result.regime == "gan", (result.error, result.issues)
    steps = [e for e in events if e["type"] == "step"]
    assert all(math.isfinite(v) for v in steps[-1]["losses"].values())
    val = [e for e in events if e["type"] == "epoch" and e["split"] == "val"][-1]["metrics"]
    # Predicting background everywhere: IoU of the background = its pixel share, 0 for the three
    # shapes, so mIoU = share / 4 (every class appears in the masks).
    masks = load_raw({"dataset": "shapes_seg", "n_samples": 192}).fields["mask"]
    background = float(np.mean(masks == 0)) / 4
    assert val["miou"] > background + 0.08, (val, background)
    samples = [e for e in events if e["type"] == "samples"]
    assert samples and samples[-1]["kind"] == "conditional"
    _assert_condition_truth_and_result_rows(samples[-1]["image"])


# issue 15: the discriminator is conditional, as in Isola et al. — it judges (input, output)
# pairs — and the run keeps the checkpoint the generator's own head scores best.
@pytest.mark.parametrize(("direction", "monitor"), [("mask_to_image", "val_mae"), ("image_to_mask", "val_miou")])
def test_training_shows_the_discriminator_pairs_and_keeps_the_best_by_the_head(tmp_path, direction, monitor):
    torch.manual_seed(0)
    graph = templates.build("pix2pix", direction=direction, image_size=16, depth=2, base_channels=4)
    graph.data["limit"] = 40
    judged: list[torch.Tensor] = []

    def grab(module, args):  # the discriminator's block input: the only 5-channel Conv2d input
        if isinstance(module, torch.nn.Conv2d) and module.in_channels == 5 and module.training:
            judged.append(args[0].detach().clone())

    hook = torch.nn.modules.module.register_module_forward_pre_hook(grab)
    events: list[dict] = []
    try:
        result = training.train(graph, {"epochs": 2, "batch_size": 8, "device": "cpu", "out": str(tmp_path),
                                         "seed": 0}, on_event=events.append)
    finally:
        hook.remove()
    assert result.ok and result.regime == "gan", (result.error, result.issues)
    assert judged, "the discriminator's first convolution never ran"
    d_step = judged[0]  # the discriminator's step: the real pairs, then the generated pairs
    n = d_step.shape[0] // 2
    assert d_step.shape[1:] == (5, 16, 16) and judged[1].shape[0] == n  # then the generator's step
    if direction == "mask_to_image":  # concat(mask one-hot, image)
        cond, sample = d_step[:, :4], d_step[:, 4:]
        assert set(cond.unique().tolist()) == {0.0, 1.0} and torch.equal(cond.sum(1), torch.ones(2 * n, 16, 16))
    else:  # concat(image, class map); the block's first conv sees the image and the probabilities
        cond, sample = d_step[:, :1], d_step[:, 1:]
        assert torch.allclose(sample.sum(1), torch.ones(2 * n, 16, 16), atol=1e-5)
    assert torch.equal(cond[:n], cond[n:])  # each real and each generated sample beside its own input
    assert not torch.equal(sample[:n], sample[n:])
    epochs = [e for e in events if e["type"] == "epoch" and e["split"] == "val"]
    assert [e["monitor"] for e in epochs] == [monitor] * 2
    values = [e["metrics"][monitor.removeprefix("val_")] for e in epochs]
    better = values[1] < values[0] if monitor == "val_mae" else values[1] > values[0]
    assert [e["best"] for e in epochs] == [True, better]
    assert (tmp_path / "best.safetensors").exists()


def test_the_task_follows_the_generators_head_not_g_loss():
    mask_to_image = training.task.analyse(templates.build("pix2pix"))
    assert (mask_to_image.gan_condition, mask_to_image.gan_condition_classes) == ("mask", 4)
    assert mask_to_image.gan_generator_heads == ("l1",) and mask_to_image.main_metric == ("mae", "min")
    image_to_mask = training.task.analyse(templates.build("pix2pix", direction="image_to_mask"))
    assert (image_to_mask.gan_condition, image_to_mask.gan_condition_classes) == ("image", None)
    assert image_to_mask.main_metric == ("miou", "max")
    plain = training.task.analyse(templates.build("dcgan"))
    assert plain.gan_condition is None and plain.main_metric == ("g_loss", "min")


def test_explaining_a_conditional_discriminator_is_refused_with_its_reason():
    subject = pytest.importorskip("explain.subject")
    graph = templates.build("pix2pix")
    with pytest.raises(subject.ExplainError, match=r"judges \(condition, sample\) pairs"):
        subject._explained_binding(graph, training.task.analyse(graph), None)
