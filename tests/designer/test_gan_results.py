"""GAN Results say how the duel goes: collapse (samples stopped differing) and a discriminator
that wins outright are said in words above the samples, and the caption is never cut off."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

import templates

RUN_TIMEOUT = 180_000


@pytest.mark.slow
def test_a_gan_run_reports_sample_diversity_and_the_verdict_above_its_samples(qtbot, make_window, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(tmp_path / "runs"))
    g = templates.build("gan")
    g.data["limit"] = 128
    g.training.update({"epochs": 2, "batch_size": 32})
    w = make_window(g)
    tc = w.training
    with qtbot.waitSignal(tc.finished, timeout=RUN_TIMEOUT) as blocker:
        qtbot.mouseClick(w.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.status == "completed"
    diversity = result.history[-1]["val_diversity"]
    assert 0.0 <= diversity < 10.0
    note = tc.results.samples.note
    assert "D(x)" in note and "D(G(z))" in note
    assert (Path(result.run_dir) / "epochs.jsonl").read_text().count("val_diversity") == 2


def test_collapse_and_a_winning_discriminator_are_said_in_words(qtbot, make_window):
    import numpy as np

    w = make_window(templates.build("dcgan"))
    results = w.training.results
    results.set_regime("gan")
    results.show_samples({"image": np.zeros((40, 40, 3), np.uint8), "kind": "generated", "epoch": 3})
    results.show_epoch({"type": "epoch", "metrics": {"d_x": 0.99, "d_g_z": 0.01, "diversity": 0.04}})
    note = results.samples.note
    assert "stopped differing" in note and "discriminator wins outright" in note
    results.show_epoch({"type": "epoch", "metrics": {"d_x": 0.6, "d_g_z": 0.4, "diversity": 0.9}})
    assert "neither side wins" in results.samples.note and "collapse" not in results.samples.note
