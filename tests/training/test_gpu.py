"""CUDA paths: mixed precision, channels_last, a GAN under autocast. Skipped without a GPU."""

from __future__ import annotations

import json

import pytest
import torch

from tests.training import graphs
from training import train

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_cuda_run_uses_the_fast_defaults_and_learns(tmp_path):
    g = graphs.segnet_shapes(epochs=2)
    g.data = {**g.data, "limit": 300}
    result = train(g, {"out": str(tmp_path), "device": "cuda"})
    assert result.status == "completed"
    runtime = json.loads((tmp_path / "config.json").read_text())["runtime"]
    expected = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    assert runtime.startswith(f"cuda, {expected}, channels_last")
    assert result.final["val_pixel_accuracy"] > 0.5


@pytest.mark.parametrize("amp", ["fp16", "bf16", "off"])
def test_each_precision_trains_a_gan(tmp_path, amp):
    if amp == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("no bfloat16 on this GPU")
    result = train(graphs.gan_digits(epochs=1), {"out": str(tmp_path), "device": "cuda", "amp": amp})
    assert result.status == "completed", result.error
    assert (tmp_path / "samples" / "epoch_001.png").exists()
