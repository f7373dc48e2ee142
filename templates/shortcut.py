"""The husky-vs-wolf lesson: a small CNN that learns the background instead of the animal.

Trained on `snow_shortcut`, where every training wolf stands in snow, it reaches near-perfect
training accuracy and near-chance validation accuracy; `netwright explain` (or the designer's
Explain tab) then shows the attribution on the snow, not on the animal.
"""

from __future__ import annotations

from graph_core import Graph

from .catalog import p_float, p_int, template
from .sketch import Sketch


@template(
    "husky_wolf",
    "CNNs overfit too: the husky classified as a wolf because of the snow behind it. In the "
    "training pictures every wolf stands in snow, so this small CNN learns the background, "
    "which is easier to see than the animal: training accuracy is near perfect and validation "
    "accuracy (where the background no longer goes with the class) near chance. Explain a "
    "validation picture to see the attribution on the snow.",
    p_int("image_size", 32, "side of the square images", minimum=16),
    p_int("channels", 8, "filters in the first convolution; doubled in the second"),
    p_float("train_correlation", 1.0, "how often the training background goes with the class",
            maximum=1.0),
)
def husky_wolf(image_size: int, channels: int, train_correlation: float) -> Graph:
    s = Sketch("husky_wolf")
    x = s.add("image", "Input", 0, shape=[1, image_size, image_size], field="image")
    for k, width in ((1, channels), (2, 2 * channels)):
        x = s.then(x, f"conv{k}", "Conv2d", out_channels=width, kernel_size=3, padding=1)
        x = s.then(x, f"relu{k}", "ReLU")
        x = s.then(x, f"pool{k}", "MaxPool2d", kernel_size=2)
    # Averaging over the whole picture lets the background's texture decide: the shortcut.
    x = s.then(x, "gap", "GlobalAvgPool")
    x = s.then(x, "scores", "Dense", out_features=2)
    s.then(x, "animal", "Output", loss="cross_entropy", target="label")
    data = {"dataset": "snow_shortcut", "image_size": image_size, "train_correlation": train_correlation}
    return s.settings(data, optimizer="adam", lr=0.003, epochs=6, batch_size=32)
