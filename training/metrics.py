"""Losses per head and the metrics each regime reports, accumulated without per-step syncs.

Counts stay on the device as tensors while an epoch runs and become floats once, in `result()`,
so measuring accuracy or IoU costs no GPU synchronisation per step. Names: the first head's
metrics are unprefixed (`accuracy`, `mae`, `pixel_accuracy`, `miou`); with several heads each
head's are also reported as `<head-id>.<metric>`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .task import Head


def head_loss(head: Head, output: torch.Tensor, target: torch.Tensor,
              sum_per_sample: bool = False) -> torch.Tensor:
    """The loss of one head, in float32 whatever precision the forward ran in.

    Args:
        sum_per_sample: add the loss over each sample's values and average over the batch,
            instead of averaging over every value. A VAE needs this: its KL term sums over the
            latent dimensions, and a per-value reconstruction mean would be outweighed by it
            (the posterior collapses to the prior and the decoder ignores the code).
    """
    if output.dtype is not torch.float32:
        output = output.float()
    if head.loss in ("cross_entropy", "nll"):
        if target.dtype is not torch.int64:
            target = target.long()
        if head.loss == "cross_entropy":
            return F.cross_entropy(output, target)
        return F.nll_loss(output, target)  # the head receives log-probabilities (a LogSoftmax ends the branch)
    target = target.float().reshape(output.shape)
    reduction = "none" if sum_per_sample else "mean"
    if head.loss == "bce":
        loss = F.binary_cross_entropy_with_logits(output, target, reduction=reduction)
    elif head.loss == "bce_probs":
        loss = bce_on_probabilities(output, target, reduction)
    elif head.loss == "mse":
        loss = F.mse_loss(output, target, reduction=reduction)
    else:
        loss = F.l1_loss(output, target, reduction=reduction)
    return loss.flatten(1).sum(1).mean() if sum_per_sample else loss


def bce_on_probabilities(p: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Binary cross-entropy of probabilities (a Sigmoid ends the branch), as
    F.binary_cross_entropy computes it (logs clamped at -100), but safe under autocast."""
    loss = -(target * torch.log(p).clamp_min(-100) + (1 - target) * torch.log1p(-p).clamp_min(-100))
    return loss.mean() if reduction == "mean" else loss


# A head keeps up to this many values of its batches' outputs and targets before counting them
# (1 MiB of float32): a training step then adds a reference instead of four kernels or more
# (argmax, compare, sum, add), and the counting runs on many batches at once.
FOLD_ELEMENTS = 1 << 18


class _Kept:
    """One head's batches not yet counted: (detached output, target) pairs and their size."""

    __slots__ = ("pairs", "values")

    def __init__(self) -> None:
        self.pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.values = 0


class MetricAccumulator:
    """Sums losses (floats, weighted by batch size) and metric counts (device tensors).

    `add_outputs` keeps each batch's detached output and target per head; they are concatenated
    and counted together, on the device, once FOLD_ELEMENTS values are kept and in `result()`
    (batches whose shape past the batch dimension differs, sequences of another length, are
    counted in runs of one shape). The counts are the same as counting every batch on its own.
    """

    def __init__(self, heads: list[Head]) -> None:
        self.heads = heads
        self.loss_sums: dict[str, float] = {}
        self.loss_counts: dict[str, int] = {}
        self.counts: dict[str, dict[str, Any]] = {h.node: {} for h in heads}
        self._kept = [(h, _Kept()) for h in heads]

    def add_losses(self, losses: dict[str, float], n: int) -> None:
        """Add one batch's losses (already floats), each weighted by the batch size n."""
        for name, value in losses.items():
            self.loss_sums[name] = self.loss_sums.get(name, 0.0) + value * n
            self.loss_counts[name] = self.loss_counts.get(name, 0) + n

    def add_outputs(self, outputs: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> None:
        """Keep one batch's outputs and targets for every head (no kernel, no host sync; the
        shapes are compared when the kept batches are counted, not at every step)."""
        for h, kept in self._kept:
            out, tgt = outputs[h.node].detach(), targets[h.node]
            kept.pairs.append((out, tgt))
            kept.values += out.numel() + tgt.numel()
            if kept.values >= FOLD_ELEMENTS:
                self._fold(h, kept)

    def add_output(self, head: Head, out: torch.Tensor, tgt: torch.Tensor) -> None:
        """add_outputs for an accumulator of the one head `head`."""
        kept = self._kept[0][1]
        out = out.detach()
        kept.pairs.append((out, tgt))
        kept.values += out.numel() + tgt.numel()
        if kept.values >= FOLD_ELEMENTS:
            self._fold(head, kept)

    @torch.no_grad()
    def _fold(self, h: Head, kept: _Kept) -> None:
        """Count a head's kept batches into its device counts: a few kernels for each run of
        batches that share their shape past the batch dimension (all of them, as a rule)."""
        pairs, kept.pairs, kept.values = kept.pairs, [], 0
        start = 0
        for i in range(1, len(pairs) + 1):
            if i == len(pairs) or pairs[i][0].shape[1:] != pairs[start][0].shape[1:] \
                    or pairs[i][1].shape[1:] != pairs[start][1].shape[1:]:
                run = pairs[start:i]
                if len(run) == 1:
                    (out, tgt), = run
                else:
                    out, tgt = torch.cat([o for o, _ in run]), torch.cat([t for _, t in run])
                self._count(h, out, tgt)
                start = i

    def _count(self, h: Head, out: torch.Tensor, tgt: torch.Tensor) -> None:
        """Add one (output, target) stack of batches to the head's device counts."""
        c = self.counts[h.node]
        if h.kind == "classify":
            _add(c, "correct", (out.argmax(1) == tgt.long()).sum())
            _add(c, "seen", tgt.numel())
        elif h.kind == "binary":
            cut = 0.5 if h.loss == "bce_probs" else 0.0  # probabilities or logits
            _add(c, "correct", ((out.reshape(tgt.shape) > cut) == (tgt > 0.5)).sum())
            _add(c, "seen", tgt.numel())
        elif h.kind == "tokens":  # per position, padding (id 0) left out
            real = tgt != 0
            right = (out.argmax(-1) == tgt.long()) & real
            _add(c, "correct", right.sum())
            _add(c, "seen", real.sum())
            _add(c, "exact", (right | ~real).all(1).sum())
            _add(c, "sentences", tgt.shape[0])
        elif h.kind == "segment":
            classes = out.shape[1]
            pairs = tgt.long().flatten() * classes + out.argmax(1).flatten()
            _add(c, "confusion", torch.bincount(pairs, minlength=classes * classes))
        else:
            # a bce head outputs logits: compare its probabilities with the target
            pred = torch.sigmoid(out.float()) if h.loss == "bce" else out.float()
            _add(c, "abs_error", (pred.reshape(-1) - tgt.float().reshape(-1)).abs().sum())
            _add(c, "seen", tgt.numel())

    def result(self) -> tuple[dict[str, float], dict[str, float]]:
        """(losses, metrics) as plain floats averaged over everything added."""
        for h, kept in self._kept:
            self._fold(h, kept)
        losses = {k: self.loss_sums[k] / max(self.loss_counts[k], 1) for k in self.loss_sums}
        metrics: dict[str, float] = {}
        for i, h in enumerate(self.heads):
            for name, value in _head_metrics(h, self.counts[h.node]).items():
                if i == 0:
                    metrics[name] = value
                if len(self.heads) > 1:
                    metrics[f"{h.node}.{name}"] = value
        return losses, metrics


def _add(counts: dict[str, Any], key: str, value: Any) -> None:
    counts[key] = counts[key] + value if key in counts else value


def _head_metrics(h: Head, c: dict[str, Any]) -> dict[str, float]:
    if not c:
        return {}
    if h.kind in ("classify", "binary"):
        return {"accuracy": float(c["correct"]) / max(float(c["seen"]), 1.0)}
    if h.kind == "segment":
        return segmentation_scores(c["confusion"])
    if h.kind == "tokens":
        return {"accuracy": float(c["correct"]) / max(float(c["seen"]), 1.0),
                "exact_match": float(c["exact"]) / max(float(c["sentences"]), 1.0)}
    return {"mae": float(c["abs_error"]) / max(float(c["seen"]), 1.0)}


def segmentation_scores(confusion: torch.Tensor) -> dict[str, float]:
    """Pixel accuracy and mean IoU from a flat (true * C + predicted) confusion count.

    Classes absent from both the truth and the prediction are left out of the mean, since
    their IoU is undefined (0/0), not zero.
    """
    classes = int(round(confusion.numel() ** 0.5))
    m = confusion.reshape(classes, classes).double().cpu()
    tp = m.diag()
    union = m.sum(0) + m.sum(1) - tp
    present = union > 0
    iou = (tp[present] / union[present]) if bool(present.any()) else torch.zeros(1)
    return {"pixel_accuracy": float(tp.sum() / m.sum().clamp(min=1)), "miou": float(iou.mean())}
