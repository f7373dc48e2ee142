"""explain: why did a trained run decide? Attributions on Captum, faithfulness, pictures.

    from explain import load_subject, explain, render
    subject = load_subject(graph, "runs/dna_cnn-1")      # the run's weights and data split
    e = explain(subject, "integrated_gradients", sample=3)
    render(e, "why.png")                                   # the input in its own terms + deletion curve
    e.to_dict()["deletion"]["area"]

Methods: saliency, integrated_gradients, gradcam (on a convolution node), occlusion, lime. Every
regime's classifier heads are explained, a GAN's Discriminator (classes fake/real) and one
pixel of a segmentation head included. Imports training (and torch, captum) but never Qt; the
designer runs it in its engine process.
"""

from __future__ import annotations

from .explanation import Explanation, explain, planted_motif_span, series_attribution
from .faithfulness import DeletionCurve, deletion_curve
from .figures import render
from .methods import METHODS, attribute
from .subject import ExplainError, Subject, load_subject

__all__ = ["METHODS", "DeletionCurve", "ExplainError", "Explanation", "Subject", "attribute", "deletion_curve",
           "explain", "load_subject", "planted_motif_span", "render", "series_attribution"]
