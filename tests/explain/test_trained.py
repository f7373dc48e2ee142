"""Explanations of trained models mean something: the motif, the shortcut, the deletion curve."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import graph_core as gc
from explain import explain, load_subject


def _subject(run):
    path, run_dir = run
    return load_subject(gc.load_graph(path), run_dir, root=path.parent)


def _confident(subject, label: int, count: int) -> list[int]:
    """Validation samples of class `label` the model gets right with p > 0.9."""
    val = subject.data.val
    picked = []
    for i in np.flatnonzero(val.fields["label"] == label):
        x = subject.explained_input(val[int(i)])
        with torch.no_grad():
            p = subject.scorer(val[int(i)]).probabilities(x)[0, label]
        if float(p) > 0.9:
            picked.append(int(i))
        if len(picked) == count:
            break
    return picked


def test_integrated_gradients_finds_the_planted_motif_in_dna(dna_run):
    subject = _subject(dna_run)
    samples = _confident(subject, 1, 6)
    assert len(samples) == 6, "the dna_cnn did not learn the motif"
    inside, share = [], []
    for i in samples:
        e = explain(subject, "integrated_gradients", sample=i, target="motif")
        d = e.to_dict()
        inside.append(d["motif_attribution_share"])
        share.append(d["motif_length_share"])
    print(f"IG inside the motif: {np.mean(inside):.2f} of |attribution| for {np.mean(share):.2f} of the sequence")
    # The motif is 8 of 100 bases; most of the attribution lies on it.
    assert min(inside) > 0.5
    assert np.mean(inside) > 5 * np.mean(share)


def test_integrated_gradients_deletion_falls_faster_than_random(dna_run):
    subject = _subject(dna_run)
    areas, random_areas = [], []
    for i in _confident(subject, 1, 5):
        curve = explain(subject, "integrated_gradients", sample=i).deletion
        areas.append(curve.area)
        random_areas.append(curve.random_area)
        assert curve.by_attribution[0] == pytest.approx(curve.random[0])  # both start from the sample
    assert len(areas) == 5
    assert np.mean(areas) < 0.6 * np.mean(random_areas)
    assert all(a < r for a, r in zip(areas, random_areas))


def test_the_shortcut_model_looks_at_the_background(husky_run):
    path, run_dir = husky_run
    history = [json.loads(line) for line in (run_dir / "epochs.jsonl").read_text().splitlines()]
    assert history[-1]["train_accuracy"] > 0.95  # learned the training set...
    assert history[-1]["val_accuracy"] < 0.75  # ...by a rule that fails when snow and class part
    subject = _subject(husky_run)
    val = subject.data.val.fields
    # pictures whose background contradicts the class: the shortcut calls them wrong
    contrary = np.flatnonzero(val["background"] != val["label"])[:6]
    for method in ("integrated_gradients", "occlusion"):
        on_animal = []
        for i in contrary:
            e = explain(subject, method, sample=int(i))
            assert e.predicted_name == ("wolf" if val["background"][i] == 1 else "husky")
            weight = np.abs(e.attribution).sum(0)
            on_animal.append(weight[val["mask"][i] == 1].sum() / weight.sum())
        # More attribution on the background than on the animal, in every picture.
        assert max(on_animal) < 0.5, (method, on_animal)
