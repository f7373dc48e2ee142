"""CustOmics-style multi-omics integration with a VAE.

Several omics blocks of the same samples (RNA, methylation, proteins, ...) are each read by
their own Input (`omics_<name>`). Where they meet decides the integration strategy:

- early: the raw blocks are concatenated and one encoder reads them all;
- joint: each omics has its own encoder, their outputs are concatenated into one shared VAE
  latent (CustOmics' mixed integration);
- late: each omics has its own VAE latent, and only the latent codes are concatenated.

Every omics has its own decoder whose head reconstructs that omics' input; an optional
classification head reads the latent code(s).
"""

from __future__ import annotations

import re

from graph_core import Graph

from .catalog import TemplateError, p_bool, p_choice, p_float, p_int, p_text, template
from .sketch import Sketch

_ENTRY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*[:=]\s*([0-9]+)\s*$")


def parse_omics(text: str) -> list[tuple[str, int]]:
    """"rna:200, methylation:150" -> [("rna", 200), ("methylation", 150)]; TemplateError if malformed."""
    out = []
    for part in text.split(","):
        match = _ENTRY.match(part)
        if not match or int(match.group(2)) < 1:
            raise TemplateError(f"multiomics_vae: omics: expected entries like 'rna:200' separated by "
                                f"commas; got {part.strip()!r}")
        out.append((match.group(1).lower(), int(match.group(2))))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise TemplateError(f"multiomics_vae: omics: each name may appear once; got {', '.join(names)}")
    if len(out) < 2:
        raise TemplateError("multiomics_vae: omics: integration needs at least two omics")
    return out


@template(
    "multiomics_vae",
    "Multi-omics integration with a VAE (CustOmics-style): each omics block has its own Input and "
    "its own decoder that reconstructs it, and the blocks meet early (raw concatenation), jointly "
    "(per-omics encoders feeding one latent) or late (one latent per omics). An optional "
    "classification head reads the shared code, so the latent space is organised by both "
    "reconstruction and class.",
    p_choice("integration", "joint", ("early", "joint", "late"), "where the omics blocks are merged"),
    p_text("omics", "rna:200,methylation:150,protein:50", "omics blocks as name:features, comma separated"),
    p_int("hidden", 64, "neurons in each encoder and decoder layer"),
    p_int("latent_dim", 8, "size of the latent code (per omics when late)"),
    p_float("beta", 1.0, "weight of the KL term"),
    p_bool("classify", True, "add a classification head on the latent code"),
    p_int("num_classes", 3, "classes of the classification head", minimum=2),
    p_float("class_weight", 1.0, "weight of the classification loss beside the reconstructions"),
)
def multiomics_vae(integration: str, omics: str, hidden: int, latent_dim: int, beta: float,
                   classify: bool, num_classes: int, class_weight: float) -> Graph:
    blocks = parse_omics(omics)
    s = Sketch(f"multiomics_vae_{integration}")
    inputs = {name: s.add(f"omics_{name}", "Input", 0, 2 * k, shape=[size], field=f"omics_{name}")
              for k, (name, size) in enumerate(blocks)}
    middle = len(blocks) - 1  # row of the shared part, centred between the omics rows
    if integration == "late":
        codes = [_vae_latent(s, _encoder(s, inputs[name], name, hidden), name, latent_dim, beta)
                 for name, _ in blocks]
        decoders_from = dict(zip([n for n, _ in blocks], codes))
        head_src, head_port = "codes", "out"
    else:
        if integration == "early":
            x = s.add("merge", "Concat", 1, middle, name="concat omics", dim=1)
            for name, _ in blocks:
                s.wire(inputs[name], x)
            x = _encoder(s, x, "joint", hidden)
        else:
            encoded = [_encoder(s, inputs[name], name, hidden) for name, _ in blocks]
            x = s.add("merge", "Concat", s.col(encoded[0]) + 1, middle, name="concat encodings", dim=1)
            for e in encoded:
                s.wire(e, x)
            x = s.then(x, "joint_fc", "Dense", out_features=hidden)
            x = s.then(x, "joint_relu", "ReLU")
        z = _vae_latent(s, x, "joint", latent_dim, beta)
        decoders_from = {name: z for name, _ in blocks}
        head_src, head_port = z, "z"
    start = max(s.col(z) for z in decoders_from.values()) + 1
    for k, (name, size) in enumerate(blocks):
        _decoder(s, decoders_from[name], name, size, hidden, start, 2 * k)
    if classify:
        head_col, head_row = start, 2 * len(blocks)
        if integration == "late":  # the per-omics codes meet only in the classification head
            s.add("codes", "Concat", start, head_row, dim=1)
            for z in decoders_from.values():
                s.wire(z, "codes", "z", "in")
            head_col += 1
        c = s.add("class_fc", "Dense", head_col, head_row, out_features=num_classes)
        s.wire(head_src, c, head_port, "in")
        s.then(c, "class_head", "Output", loss="cross_entropy", target="label", weight=class_weight)
    # The synthetic set reads each omics width as its own key (rna, methylation, protein).
    data = {"dataset": "multiomics_synth", **dict(blocks), "num_classes": num_classes}
    return s.settings(data, optimizer="adam", lr=0.001, epochs=40, batch_size=64)


def _encoder(s: Sketch, x: str, name: str, hidden: int) -> str:
    x = s.then(x, f"{name}_enc", "Dense", out_features=hidden)
    return s.then(x, f"{name}_enc_relu", "ReLU")


def _vae_latent(s: Sketch, x: str, name: str, latent_dim: int, beta: float) -> str:
    row = s.row(x)
    mu = s.then(x, f"{name}_mu", "Dense", out_features=latent_dim)
    logvar = s.then(x, f"{name}_logvar", "Dense", out_features=latent_dim, row=row + 1)
    z = s.add(f"{name}_z", "Reparametrisation", s.col(mu) + 1, row + 0.5, beta=beta)
    s.wire(mu, z, "out", "mu")
    s.wire(logvar, z, "out", "logvar")
    return z


def _decoder(s: Sketch, z: str, name: str, size: int, hidden: int, col: float, row: float) -> None:
    x = s.add(f"{name}_dec", "Dense", col, row, out_features=hidden)
    s.wire(z, x, "z", "in")
    x = s.then(x, f"{name}_dec_relu", "ReLU")
    x = s.then(x, f"{name}_dec_out", "Dense", out_features=size)
    # mse: omics values are continuous measurements, not probabilities.
    s.then(x, f"{name}_reconstruction", "Output", loss="mse", target=f"input:omics_{name}")
