"""templates: every network of the course as a parametrised function that returns a Graph.

`build(name, **params)` makes a fresh, valid graph laid out for the canvas, with a description,
default dataset and training settings; `catalog()` lists the templates and their parameters.
Built only from graph_core (no torch, no Qt).
"""

from __future__ import annotations

# Importing the modules registers their templates, in gallery order.
from . import tabular, vision, vgg, autoencoders, gans, sequences, multiomics  # noqa: F401, I001
from .catalog import Template, TemplateError, all_templates, build, catalog, get_template
from .vgg import WEIGHTS_FORMAT, torchvision_vgg_keys

__all__ = ["WEIGHTS_FORMAT", "Template", "TemplateError", "all_templates", "build", "catalog",
           "get_template", "torchvision_vgg_keys"]
