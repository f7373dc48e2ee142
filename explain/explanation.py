"""One explanation: a method's attribution for one sample and one class, in the input's own terms.

`explain(subject, method, sample=N)` runs the method (methods.py), the deletion curve
(faithfulness.py), and reads the input the way a user thinks of it:

- image: a heatmap over the picture;
- dna: per-base attribution over the one-hot sequence (a logo), with the planted motif's span
  when the data is `dna_motif` (found in the sequence, since the generator does not keep it);
- series_image: a Gramian angular field image (`cbf`, UCR with a transform): the attribution
  over the image, and mapped back onto the time points of the original series;
- features: one bar per tabular feature (named by the CSV header or scikit-learn's names);
- tokens: ids read through an Embedding, one bar per position labelled with its token;
- sequence: other (C, L) inputs, channels by positions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .faithfulness import DeletionCurve, deletion_curve
from .methods import METHODS, attribute, layout_of
from .subject import ExplainError, Subject

DNA = "ACGT"


@dataclass
class Explanation:
    """What `explain` found, ready to draw (`figures.render`) or to print as JSON (`to_dict`).

    Attributes:
        method: the method's name.
        kind: image, dna, series_image, features, tokens or sequence.
        target: the explained class (score column); target_name its name.
        probability: the model's probability of that class for this sample.
        predicted: the class the model predicts; predicted_name its name.
        input: the explained input as the model reads it (no batch axis).
        attribution: the method's attribution, same shape as `input`.
        deletion: the faithfulness curve.
        seconds: time to compute the attribution (not the deletion curve).
        sample: the validation sample's index, or None for a file.
        label: the sample's true class name, if the data has one.
        layer: the convolution Grad-CAM read.
        pixel: the output pixel explained for a segmentation head.
        extras: per kind: "bases" and "motif_span" (dna), "series" and "series_attribution"
            (series_image), "feature_names" (features).
    """

    method: str
    kind: str
    target: int
    target_name: str
    probability: float
    predicted: int
    predicted_name: str
    input: np.ndarray
    attribution: np.ndarray
    deletion: DeletionCurve
    seconds: float
    sample: int | None = None
    label: str | None = None
    layer: str | None = None
    pixel: tuple[int, int] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def share_inside(self, start: int, stop: int) -> float:
        """Fraction of the absolute attribution at positions start..stop-1 of the last axis."""
        per_position = np.abs(self.attribution).reshape(-1, self.attribution.shape[-1]).sum(0)
        total = per_position.sum()
        return float(per_position[start:stop].sum() / total) if total > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the attribution itself is in the PNG, not here)."""
        out: dict[str, Any] = {
            "method": self.method, "kind": self.kind, "target": self.target, "target_name": self.target_name,
            "probability": self.probability, "predicted": self.predicted, "predicted_name": self.predicted_name,
            "sample": self.sample, "label": self.label, "layer": self.layer,
            "pixel": list(self.pixel) if self.pixel else None, "seconds": round(self.seconds, 4),
            "input_shape": list(self.input.shape), "deletion": self.deletion.to_dict(),
            "faithful": self.deletion.faster_than_random,
        }
        span = self.extras.get("motif_span")
        if span is not None:
            out["motif_span"] = list(span)
            out["motif_attribution_share"] = self.share_inside(*span)
            out["motif_length_share"] = (span[1] - span[0]) / self.input.shape[-1]
        return out


def explain(subject: Subject, method: str, sample: int | None = None, values: dict[str, np.ndarray] | None = None,
            target: int | str | None = None, layer: str | None = None,
            pixel: tuple[int, int] | None = None) -> Explanation:
    """Explain one sample (a validation index, or `values`: the fields of a sample read from a file).

    Args:
        subject: from `load_subject`.
        method: one of METHODS.
        sample: index into the validation split.
        values: the sample's fields, instead of `sample`.
        target: class index or name; default the predicted class ("fake" for a Discriminator).
        layer: the convolution node for gradcam (default the last).
        pixel: (row, column) of a segmentation head's output (default the centre).
    """
    if method not in METHODS:
        raise ExplainError(f"unknown method {method!r} (methods: {', '.join(METHODS)})")
    if values is None:
        values = subject.sample(0 if sample is None else sample)
        sample = 0 if sample is None else sample
    x = subject.explained_input(values)
    scorer = subject.scorer(values, pixel)
    with torch.no_grad():
        probs = scorer.probabilities(x)[0]
    predicted = int(probs.argmax())
    chosen = _target(subject, target, predicted)
    layer_name, module = subject.layer_module(layer) if method == "gradcam" else (None, None)
    torch.manual_seed(0)
    start = time.perf_counter()
    attribution = attribute(method, scorer, x, chosen, module)
    seconds = time.perf_counter() - start
    curve = deletion_curve(scorer.probabilities, x, attribution, chosen)
    names = subject.class_names
    label = _label(subject, values)
    kind, extras = _read_kind(subject, values, x[0].numpy(), attribution)
    head = subject.head
    return Explanation(method, kind, chosen, names[chosen], float(probs[chosen]), predicted, names[predicted],
                       x[0].numpy(), attribution, curve, seconds, sample, label, layer_name,
                       scorer.pixel if head is not None and head.kind == "segment" else None, extras)


def _target(subject: Subject, target: int | str | None, predicted: int) -> int:
    names = subject.class_names
    if target is None:
        return 0 if subject.is_gan else predicted
    if isinstance(target, str) and not target.lstrip("-").isdigit():
        if target not in names:
            raise ExplainError(f"--target {target}: no such class (classes: {', '.join(names)})")
        return names.index(target)
    index = int(target)
    if not 0 <= index < len(names):
        raise ExplainError(f"--target {index}: classes run from 0 to {len(names) - 1} ({', '.join(names)})")
    return index


def _label(subject: Subject, values: dict[str, np.ndarray]) -> str | None:
    head = subject.head
    if head is None or head.kind not in ("classify", "binary") or head.target_field not in values:
        return None
    value = np.asarray(values[head.target_field]).reshape(-1)
    if value.size != 1:
        return None
    index = int(value[0])
    return subject.class_names[index] if 0 <= index < len(subject.class_names) else str(index)


def _read_kind(subject: Subject, values: dict[str, np.ndarray], x: np.ndarray,
               attribution: np.ndarray) -> tuple[str, dict[str, Any]]:
    layout = layout_of(x.shape)
    info = subject.data.info.get(subject.field)
    if layout == "sequence" and x.shape[0] == 4 and (subject.onehot_classes == 4 or (info and info.kind == "sequence")):
        ids = np.where(x.sum(0) > 0, x.argmax(0), -1)
        bases = "".join(DNA[i] if i >= 0 else "N" for i in ids)
        extras: dict[str, Any] = {"bases": bases}
        motif = subject.graph.data.get("motif", "TGACGTCA") if subject.data.name == "dna_motif" else None
        span = planted_motif_span(bases, str(motif).upper(), int(subject.graph.data.get("mutations", 1))) \
            if motif else None
        if span is not None:
            extras["motif_span"] = span
        return "dna", extras
    if layout == "sequence" and subject.embeddings:
        ids = np.where(x.sum(0) > 0, x.argmax(0), -1)
        return "tokens", {"tokens": [int(i) for i in ids]}
    if layout == "image" and "series" in values and info is not None and info.kind == "image":
        series = np.asarray(values["series"], dtype=np.float32)
        return "series_image", {"series": series,
                                "series_attribution": series_attribution(attribution, len(series))}
    if layout == "image":
        return "image", {}
    if layout == "vector":
        names = info.column_names if info is not None and info.column_names else None
        return "features", {"feature_names": names or [f"feature {i}" for i in range(x.shape[0])]}
    return "sequence", {}


def planted_motif_span(bases: str, motif: str, mutations: int = 1) -> tuple[int, int] | None:
    """(start, stop) of the best copy of `motif` in `bases` with at most `mutations` changes."""
    if not motif or len(motif) > len(bases):
        return None
    seq = np.frombuffer(bases.encode(), dtype=np.uint8)
    pattern = np.frombuffer(motif.encode(), dtype=np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(seq, len(pattern))
    mismatches = (windows != pattern).sum(axis=1)
    best = int(mismatches.argmin())
    if mismatches[best] > mutations:
        return None
    return best, best + len(motif)


def series_attribution(attribution: np.ndarray, length: int) -> np.ndarray:
    """A Gramian angular field's attribution (C, S, S) mapped onto the series' L time points.

    Pixel (i, j) of a GAF combines time points i and j, so half of its attribution goes to each;
    point i of the S-point PAA covers original points floor(t S / L) = i.
    """
    field_map = attribution.sum(axis=0)
    per_point = 0.5 * (field_map.sum(axis=1) + field_map.sum(axis=0))
    size = len(per_point)
    index = np.minimum((np.arange(length) * size) // max(length, 1), size - 1) if length >= size else \
        np.round(np.linspace(0, size - 1, length)).astype(int)
    return (per_point[index] * size / max(length, size)).astype(np.float32)
