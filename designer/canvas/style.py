"""Colours and sizes shared by the canvas items, in one place so they stay consistent."""

from __future__ import annotations

from PySide6.QtGui import QColor

NODE_WIDTH = 200.0
PORT_RADIUS = 6.0
PORT_HIT_RADIUS = 10.0  # generous, so a port is easy to grab with a mouse (or xdotool)
ROW = 17.0

CATEGORY_COLOURS = {
    "io": QColor("#4c8bf5"),
    "dense": QColor("#8e6fd8"),
    "conv": QColor("#2aa198"),
    "pool": QColor("#6c9a3a"),
    "unpool": QColor("#a0a030"),
    "embedding": QColor("#d0743c"),
    "generative": QColor("#c2478f"),
    "shape": QColor("#7a8595"),
    "normalise": QColor("#3e9fbf"),
    "activation": QColor("#e0a030"),
    "block": QColor("#5a5a8a"),
    "recurrent": QColor("#b54708"),
    "attention": QColor("#c11574"),
    "sequence": QColor("#4e5ba6"),
}
# Each port kind has its own colour and its own shape, so the difference survives colour blindness.
PORT_COLOURS = {"tensor": QColor("#2d7ff9"), "indices": QColor("#f08c00"), "state": QColor("#7a3ff2"),
                "mask": QColor("#475467"), "memory": QColor("#0e9384"), "weights": QColor("#dd2590")}
PORT_SHAPES = {"tensor": "circle", "indices": "diamond", "state": "square", "mask": "triangle",
               "memory": "ring", "weights": "triangle_down"}
ERROR_COLOUR = QColor("#d92d20")
WARNING_COLOUR = QColor("#e8a317")
SELECTED_COLOUR = QColor("#1570ef")
CARD_FILL = QColor("#ffffff")
FROZEN_FILL = QColor("#e4ecf7")
TEXT_COLOUR = QColor("#1d2939")
MUTED_TEXT = QColor("#667085")
WIRE_COLOUR = QColor("#667085")
WIRE_SELECTED = QColor("#1570ef")


class LevelOfDetail:
    """Whether cards zoomed far out may be drawn without text (set by the scene: only for big
    graphs, where painting every label costs; a small graph stays fully readable at any zoom)."""

    far_threshold = 0.25  # below this scale, simplified drawing
    simplify = False

    @classmethod
    def far(cls, lod: float) -> bool:
        return cls.simplify and lod < cls.far_threshold
