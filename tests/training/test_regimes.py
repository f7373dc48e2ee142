"""Each regime reports what its users look at: VAE terms, GAN losses and samples, IoU, many heads."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from tests.training import graphs
from training import train


def _limited(g, limit=320):
    g.data = {**g.data, "limit": limit}
    return g


def test_vae_reports_reconstruction_and_kl_separately_and_draws_reconstructions(tmp_path):
    events = []
    result = train(_limited(graphs.autoencoder_digits(vae=True, epochs=3)), {"out": str(tmp_path)},
                   on_event=events.append)
    assert result.regime == "vae" and result.status == "completed"
    final = result.final
    assert final["kl"] > 0 and final["reconstruction"] > 0
    # total = reconstruction (head weight 1) + beta * KL, the terms reported apart
    assert final["val_loss"] == pytest.approx(final["reconstruction"] + final["kl"], rel=1e-4)
    recon = [row["val_reconstruction"] for row in result.history]
    assert recon[-1] < recon[0]
    step = next(e for e in events if e["type"] == "step")
    assert {"loss", "reconstruction", "kl", "recon"} <= set(step["losses"])
    samples = [e for e in events if e["type"] == "samples"]
    assert [e["epoch"] for e in samples] == [1, 2, 3] and samples[0]["kind"] == "reconstruction"
    png = Image.open(samples[-1]["path"])
    assert png.mode == "RGB" and png.size == (samples[-1]["image"].shape[1], samples[-1]["image"].shape[0])


def test_plain_autoencoder_has_no_kl(tmp_path):
    result = train(_limited(graphs.autoencoder_digits(vae=False)), {"out": str(tmp_path)})
    assert result.regime == "autoencoder" and "kl" not in result.final
    assert result.final["reconstruction"] == pytest.approx(result.final["val_loss"])


def test_gan_alternates_two_optimizers_and_writes_a_grid_per_epoch(tmp_path):
    events = []
    result = train(_limited(graphs.gan_digits(epochs=2)), {"out": str(tmp_path)}, on_event=events.append)
    assert result.regime == "gan" and result.status == "completed"
    assert math.isfinite(result.final["d_loss"]) and math.isfinite(result.final["g_loss"])
    step = next(e for e in events if e["type"] == "step")
    assert {"d_loss", "g_loss", "d_x", "d_g_z"} <= set(step["losses"])
    assert 0 < step["losses"]["d_x"] < 1 and 0 < step["losses"]["d_g_z"] < 1
    epoch = next(e for e in events if e["type"] == "epoch")
    assert set(epoch["metrics"]) == {"d_x", "d_g_z", "diversity"}
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_001.png", "epoch_002.png"]
    grid = np.asarray(Image.open(tmp_path / "samples" / "epoch_002.png"))
    assert grid.std() > 0  # not a blank picture
    import torch

    state = torch.load(tmp_path / "last_state.pt", weights_only=True)
    assert len(state["regime"]["optimizers"]) == 2  # discriminator's and generator's


def test_gan_fixed_noise_makes_the_same_grid_for_the_same_weights(tmp_path):
    a = train(_limited(graphs.gan_digits(epochs=1)), {"out": str(tmp_path / "a"), "seed": 1})
    b = train(_limited(graphs.gan_digits(epochs=1)), {"out": str(tmp_path / "b"), "seed": 1})
    assert a.ok and b.ok
    first = np.asarray(Image.open(tmp_path / "a" / "samples" / "epoch_001.png"))
    second = np.asarray(Image.open(tmp_path / "b" / "samples" / "epoch_001.png"))
    assert np.array_equal(first, second)


def test_segmentation_reports_pixel_accuracy_and_mean_iou(tmp_path):
    events = []
    result = train(_limited(graphs.segnet_shapes(epochs=2), 150), {"out": str(tmp_path)}, on_event=events.append)
    assert result.regime == "segmentation" and result.status == "completed"
    assert 0 < result.final["val_miou"] <= result.final["val_pixel_accuracy"] <= 1
    samples = [e for e in events if e["type"] == "samples"]
    assert samples and samples[0]["kind"] == "segmentation"
    # three rows of 32-pixel tiles with 1-pixel gaps: image, true mask, predicted mask
    assert samples[0]["image"].shape == (3 * 33 + 1, 8 * 33 + 1, 3)


def test_several_heads_are_summed_by_weight_and_each_reported(tmp_path):
    rng = np.random.default_rng(0)
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images[:400] / 16.0).astype(np.float32)[:, None]
    labels = digits.target[:400].astype(np.int64)
    np.savez(tmp_path / "odd.npz", image=images, label=labels,
             is_odd=labels % 2, noise=rng.random(400))
    g = graphs.two_heads_digits(epochs=2)
    g.data = {"dataset": "odd.npz"}
    events = []
    result = train(g, {"out": str(tmp_path / "run")}, on_event=events.append, root=tmp_path)
    assert result.status == "completed", result.error
    step = next(e for e in events if e["type"] == "step")
    assert step["losses"]["loss"] == pytest.approx(step["losses"]["head"] + 0.5 * step["losses"]["odd"], rel=1e-5)
    metrics = [e for e in events if e["type"] == "epoch"][-1]["metrics"]
    assert {"accuracy", "head.accuracy", "odd.accuracy"} == set(metrics)
    assert metrics["accuracy"] == metrics["head.accuracy"]
    assert metrics["odd.accuracy"] > 0.6


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_the_cpu_update_is_one_fused_kernel_with_the_default_implementations_weights(
        tmp_path, monkeypatch, optimizer):
    # torch's fused optimizers run on the CPU too (vectorised, threaded): the moons MLP's step
    # went from 0.41 to 0.29 ms. The weights must stay those of the default implementation.
    import safetensors.torch
    import torch

    from training import regimes

    made = []
    real = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[optimizer]

    def spy(params, **kwargs):
        made.append(kwargs.get("fused"))
        return real(params, **kwargs)

    def unfused(params, **kwargs):
        kwargs.pop("fused", None)
        return real(params, **kwargs)

    def weights(factory, out):
        monkeypatch.setattr(regimes.torch.optim, real.__name__, factory)
        g = _limited(graphs.mlp_digits(epochs=2, optimizer=optimizer, lr=0.01, weight_decay=1e-4), 256)
        result = train(g, {"out": str(out), "seed": 3})
        assert result.status == "completed"
        return safetensors.torch.load_file(result.last_checkpoint)

    fused = weights(spy, tmp_path / "fused")
    assert made == [True]
    plain = weights(unfused, tmp_path / "plain")
    assert fused.keys() == plain.keys()
    for k in fused:
        assert torch.allclose(fused[k], plain[k], atol=1e-5), k


@pytest.mark.parametrize("make", [lambda: graphs.mlp_digits(epochs=2),
                                  lambda: graphs.autoencoder_digits(vae=False, epochs=2)],
                         ids=["classifier", "autoencoder"])
def test_the_one_head_step_is_the_general_step_without_its_loops(tmp_path, monkeypatch, make):
    import safetensors.torch
    import torch

    from training import regimes

    taken = []
    init = regimes.HeadRegime.__init__

    def run(fast, out):
        def patched(self, *args, **kwargs):
            init(self, *args, **kwargs)
            taken.append(self._one_head)
            self._one_head = self._one_head and fast
        monkeypatch.setattr(regimes.HeadRegime, "__init__", patched)
        result = train(_limited(make(), 256), {"out": str(out), "seed": 5})
        assert result.status == "completed"
        return result, safetensors.torch.load_file(result.last_checkpoint)

    (fast, fast_weights), (general, general_weights) = run(True, tmp_path / "a"), run(False, tmp_path / "b")
    assert taken == [True, True]  # both graphs are the common case the short path serves
    for k in fast_weights:
        assert torch.equal(fast_weights[k], general_weights[k]), k
    assert fast.history == [{**row, "seconds": fast_row["seconds"], "throughput": fast_row["throughput"]}
                            for row, fast_row in zip(general.history, fast.history)]
