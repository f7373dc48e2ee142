"""templates: every network of the course as a parametrised function that returns a Graph.

`build(name, **params)` makes a fresh, valid graph laid out for the canvas, with a description,
default dataset and training settings; `catalog()` lists the templates and their parameters.
Built only from graph_core (no torch, no Qt).
"""

from __future__ import annotations

# Importing the modules registers their templates.
from . import (  # noqa: F401
    autoencoders,
    gans,
    multiomics,
    pix2pix,
    seq2seq,
    sequences,
    shortcut,
    tabular,
    torchvision_nets,
    transfer,
    unet,
    vgg,
    vision,
)
from .catalog import (
    Template,
    TemplateError,
    all_templates,
    arrange,
    build,
    catalog,
    get_template,
    hide,
)
from .vgg import WEIGHTS_FORMAT, torchvision_vgg_keys

# The gallery follows a course: from one neuron to GANs and multi-omics.
GALLERY = ["perceptron", "logistic", "softmax_regression", "mlp", "lenet", "vgg", "transfer",
           "autoencoder", "vae", "conv_vae", "segnet", "gan", "dcgan", "dna_cnn", "timeseries_gaf",
           "multiomics_vae", "embedding_classifier", "husky_wolf"]
GALLERY += ["resnet", "mobilenet_v2", "unet", "pix2pix"]  # issue 15: real architectures
GALLERY += ["rnn_classifier", "seq2seq", "transformer", "bert_tiny"]  # issue 16: sequence models
arrange(GALLERY)
hide("transfer_vgg")  # renamed `transfer` (any base with a torchvision twin); old files still build

__all__ = ["GALLERY", "WEIGHTS_FORMAT", "Template", "TemplateError", "all_templates", "build",
           "catalog", "get_template", "torchvision_vgg_keys"]
