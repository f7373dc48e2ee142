"""What each loss curve of a run adds up, said in its legend and its plot's title.

The plots' curves read the engine's loss names (`loss`, `g_loss`, ...). A GAN whose generator
feeds Output heads (pix2pix: an L1 head of weight 100) has a g_loss of adversarial + 100·L1, in
training and in validation alike (training.regimes.GanRegime), so its loss curve sits near 30
where a plain GAN's sits near 2: the legends say which terms it adds, and `curve_text` adds the
plot of the heads' own validation figure (an image head's MAE, a mask head's IoU), which early
stopping follows. No Qt here: the plots (plots.LivePlots) apply the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LOSS_NAMES = {"l1": "L1", "mse": "MSE", "nll": "NLL", "cross_entropy": "CE", "bce": "BCE",
              "bce_probs": "BCE"}


@dataclass(frozen=True)
class CurveText:
    """Legend labels (store key -> label), plot titles (plot name -> title), plots to show
    beside the regime's own, and the words after a run's name for its train and validation loss
    where runs are compared; empty: the plots' defaults."""

    labels: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)
    extra_plots: tuple[str, ...] = ()
    run_labels: tuple[str, str] = ("train", "validation")


def curve_text(task: Any) -> CurveText:
    """The curve text for a run of `task` (training.analyse's Task); the defaults unless its
    losses add terms the names do not say (a GAN with generator heads)."""
    if getattr(task, "regime", None) != "gan":
        return CurveText()
    heads = [h for h in task.heads if h.node in task.gan_generator_heads]
    if not heads:
        return CurveText()
    terms = " + ".join(f"{h.weight:g}·{LOSS_NAMES.get(h.loss, h.loss)}" for h in heads)
    labels = {
        "train/loss": f"train (step): D + G + {terms}",
        "epoch_train/loss": f"train (epoch): D + G + {terms}",
        "val/loss": f"validation: D + G + {terms}",
        "train/g_loss": f"g_loss: adversarial + {terms}",
        "epoch_train/g_loss": f"g_loss (epoch): adversarial + {terms}",
        "val/g_loss": f"g_loss (val): adversarial + {terms}",
    }
    titles = {"lossPlot": f"Loss (D + G + {terms})",
              "ganLossPlot": f"D and G loss (g_loss adds {terms})"}
    extra: list[str] = []
    first = heads[0]  # the unprefixed metrics are the first head's (training.metrics)
    if first.kind == "regress":
        extra.append("errorPlot")
        labels["val/mae"] = (f"validation MAE: head {first.node}'s L1 term before ×{first.weight:g}"
                             if first.loss == "l1" else f"validation MAE (head {first.node})")
    elif first.kind == "segment":
        extra.append("iouPlot")
    return CurveText(labels, titles, tuple(extra),
                     (f"train (D + G + {terms})", f"validation (D + G + {terms})"))


def graph_curve_text(graph: Any) -> CurveText:
    """`curve_text` of a graph (a recorded run's); the defaults when it cannot be analysed."""
    from training import BindingError, analyse

    try:
        return curve_text(analyse(graph))
    except BindingError:  # an unfinished graph: plain labels rather than none
        return CurveText()
