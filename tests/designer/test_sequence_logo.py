"""Conv1d kernels over one-hot DNA are drawn per base (A, C, G, T) as sequence logos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import templates
from designer.training.analysis import sequence_logo_heights
from training import train

MOTIF = "TGACGTCA"


def test_a_motif_filter_reads_as_its_motif():
    weight = np.zeros((2, 4, len(MOTIF)), np.float32)
    for pos, base in enumerate(MOTIF):
        weight[0, "ACGT".index(base), pos] = 6.0  # filter 0 learned the motif; filter 1 nothing
    heights = sequence_logo_heights(weight)
    assert "".join("ACGT"[i] for i in heights[0].argmax(axis=0)) == MOTIF
    assert np.allclose(heights[0].sum(axis=0), 1.0)  # every position equally decided: full height
    assert heights[1].sum() < 1e-6  # a filter that prefers nothing is flat


@pytest.fixture(scope="module")
def trained_dna(tmp_path_factory):
    root = tmp_path_factory.mktemp("dna-runs")
    g = templates.build("dna_cnn")
    g.data["n_samples"] = 800
    result = train(g, {"epochs": 4, "batch_size": 32, "out": str(root / "runs" / "dna-1")})
    assert result.status == "completed"
    return root / "runs", Path(result.run_dir)


@pytest.mark.slow
def test_feature_maps_of_a_dna_filter_show_sequence_logos(qtbot, make_window, trained_dna, monkeypatch):
    runs, run_dir = trained_dna
    monkeypatch.setenv("NETWRIGHT_RUNS_DIR", str(runs))
    w = make_window(templates.build("dna_cnn"))
    tc = w.training
    tc.runs.refresh()
    tc.runs.select([run_dir])
    tab = tc.results.feature_maps
    w.training.results_dock.raise_()
    tc.results.setCurrentWidget(tab)
    tab.node.setCurrentText("motifs")
    qtbot.mouseClick(tab.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.logos.heights is not None, timeout=120_000)
    assert "sequence logo" in tab.info.text()
    assert tab.logos.isVisible() and not tab.kernels.isVisible()
    assert tab.logos.heights.shape[1:] == (4, 12)  # A C G T at each of the 12 positions
    tab.logos.grab()
    assert tab.logos.drawn_letters > 0
