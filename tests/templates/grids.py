"""Parameter grids the template tests sweep: every choice and flag of every template, plus the
sizes where an off-by-one would show (smallest images, odd sizes, deep stacks)."""

from __future__ import annotations

import itertools
from typing import Any

import templates

# Values swept one parameter at a time beyond each template's choices and flags.
EXTRA_VALUES: dict[str, dict[str, list[Any]]] = {
    "mlp": {"layers": [1, 4], "hidden": [3], "dropout": [0.3]},
    "lenet": {"input_size": [12, 16, 32, 33], "in_channels": [3], "dropout": [0.5]},
    "vgg": {"input_size": [33, 64, 224], "in_channels": [3], "pool_size": [1, 3], "classifier_width": [64]},
    "transfer_vgg": {"in_channels": [3], "input_size": [48], "weights": ["/tmp/vgg16.pth"]},
    "transfer": {"in_channels": [3], "input_size": [48], "weights": ["/tmp/vgg16.pth"], "depth": [11, 19]},
    "resnet": {"input_size": [33, 64], "in_channels": [3], "base_width": [8]},
    "mobilenet_v2": {"input_size": [33, 64], "in_channels": [3], "width_mult": [0.5, 1.4]},
    "unet": {"input_size": [16, 64], "depth": [1, 3], "in_channels": [3], "num_classes": [2]},
    "pix2pix": {"image_size": [16, 64], "depth": [1, 4], "channels": [3]},
    "autoencoder": {"image_size": [16, 28, 32], "latent_dim": [16]},
    "vae": {"image_size": [16, 28], "latent_dim": [8], "beta": [0.0, 4.0]},
    "conv_vae": {"image_size": [8, 28, 32], "latent_dim": [16]},
    "segnet": {"image_size": [16, 64], "depth": [1, 2, 4], "in_channels": [3], "num_classes": [2]},
    "gan": {"image_size": [28], "channels": [3], "latent_dim": [2], "dropout": [0.0]},
    "dcgan": {"image_size": [8, 28, 32, 64], "channels": [3]},
    "dna_cnn": {"length": [12, 200], "motif_width": [24], "hidden": [0], "dropout": [0.0]},
    "timeseries_gaf": {"image_size": [9, 64], "num_classes": [2]},
    "multiomics_vae": {"omics": ["rna:20,protein:5", "rna:30,methylation:20,protein:10,mirna:7"],
                       "latent_dim": [2]},
    "embedding_classifier": {"hidden": [0], "vocab_size": [5], "num_classes": [4]},
    "rnn_classifier": {"length": [8, 301], "hidden_size": [1]},
    "seq2seq": {"embedding_dim": [3], "hidden_size": [5]},
    "transformer": {"d_model": [8], "nhead": [1, 8], "num_layers": [1, 4]},
    "bert_tiny": {"length": [4, 64], "num_classes": [5], "nhead": [1]},
}

# Small versions for tests that compile and run: same structure, tiny tensors.
SMALL: dict[str, dict[str, Any]] = {
    "vgg": {"depth": 11, "classifier_width": 32},
    "transfer_vgg": {"depth": 11, "head_width": 16},
    "transfer": {"head_width": 16},
    "resnet": {"base_width": 8},
    "mobilenet_v2": {"width_mult": 0.25},
    "pix2pix": {"base_channels": 4},
    "segnet": {"image_size": 16, "depth": 2, "base_channels": 4},
    "multiomics_vae": {"omics": "rna:20,methylation:12,protein:6", "hidden": 8},
    "dcgan": {"base_channels": 8},
    "gan": {"hidden": 16},
    "conv_vae": {"channels": 8},
    "rnn_classifier": {"length": 16, "hidden_size": 4},
    "seq2seq": {"embedding_dim": 8, "hidden_size": 8},
    "transformer": {"d_model": 8, "nhead": 2, "num_layers": 1, "dim_feedforward": 16},
    "bert_tiny": {"length": 8, "d_model": 8, "nhead": 2, "num_layers": 1},
}


def choice_combinations(name: str) -> list[dict[str, Any]]:
    """Every combination of a template's choice and bool parameters (the rest at defaults)."""
    tpl = templates.get_template(name)
    axes = []
    for p in tpl.params:
        if p.kind == "choice":
            axes.append([(p.name, c) for c in p.choices])
        elif p.kind == "bool":
            axes.append([(p.name, False), (p.name, True)])
        elif p.choices:
            axes.append([(p.name, int(c)) for c in p.choices])
    return [dict(combo) for combo in itertools.product(*axes)]


def grid(name: str) -> list[dict[str, Any]]:
    """Choice/flag combinations, then each extra value on its own."""
    cases = choice_combinations(name)
    for param, values in EXTRA_VALUES.get(name, {}).items():
        cases += [{param: v} for v in values]
    return cases


def all_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(t.name, case) for t in templates.all_templates() for case in grid(t.name)]
