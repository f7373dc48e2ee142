"""The canvas: a QGraphicsScene of node cards, port dots and wires, and the view around it."""

from __future__ import annotations

from .scene import GraphScene
from .view import GraphView

__all__ = ["GraphScene", "GraphView"]
