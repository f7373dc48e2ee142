"""Sequences as images: DNA one-hot encoded into a (4, L) picture for motif-finding convolutions,
time series turned into Gramian angular field images, and token ids through an Embedding."""

from __future__ import annotations

from graph_core import Graph

from .catalog import p_choice, p_float, p_int, template
from .sketch import Sketch


@template(
    "dna_cnn",
    "DNA as an image: each base becomes one of 4 channels (one-hot), so a sequence of length L "
    "is a (4, L) picture. Conv1d filters are learned motif detectors (like position weight "
    "matrices), a global max pool asks whether each motif occurs anywhere, and a logistic "
    "output says whether the sequence carries the planted motif.",
    p_choice("encoding", "onehot", ("onehot", "embedding"),
             "onehot: fixed 4 channels; embedding: a learned vector per base (channels first)"),
    p_int("length", 100, "sequence length L", minimum=4),
    p_int("filters", 32, "number of motif detectors (Conv1d out_channels)"),
    p_int("motif_width", 12, "width of each motif filter (Conv1d kernel_size)"),
    p_int("embedding_dim", 8, "vector length per base when encoding is embedding"),
    p_int("hidden", 32, "neurons in the Dense layer before the output (0: none)", minimum=0),
    p_float("dropout", 0.2, "dropout after pooling (0: none)", maximum=0.9),
)
def dna_cnn(encoding: str, length: int, filters: int, motif_width: int, embedding_dim: int,
            hidden: int, dropout: float) -> Graph:
    s = Sketch("dna_cnn")
    x = s.add("sequence", "Input", 0, shape=[length], dtype="int64", field="sequence")
    if encoding == "onehot":
        x = s.then(x, "onehot", "OneHot", num_classes=4)
    else:
        x = s.then(x, "embed", "Embedding", num_embeddings=4, embedding_dim=embedding_dim,
                   channels_first=True)
    x = s.then(x, "motifs", "Conv1d", out_channels=filters, kernel_size=min(motif_width, length))
    x = s.then(x, "relu", "ReLU")
    x = s.then(x, "anywhere", "GlobalMaxPool")
    if dropout > 0:
        x = s.then(x, "dropout", "Dropout", p=dropout)
    if hidden:
        x = s.then(x, "dense", "Dense", out_features=hidden)
        x = s.then(x, "relu2", "ReLU")
    x = s.then(x, "logit", "Dense", out_features=1)
    s.then(x, "has_motif", "Output", loss="bce", target="label")
    data = {"dataset": "dna_motif", "length": length}
    return s.settings(data, optimizer="adam", lr=0.003, epochs=15, batch_size=64)


@template(
    "timeseries_gaf",
    "A time series as an image: the Gramian angular field rescales the series to angles and "
    "lays out cos(φi + φj) (GASF) or sin(φi − φj) (GADF) for every pair of time points, so "
    "temporal patterns become textures. A small CNN then classifies the pictures of the "
    "cylinder–bell–funnel series.",
    p_choice("transform", "gasf", ("gasf", "gadf"), "summation (gasf) or difference (gadf) field"),
    p_int("image_size", 32, "side of the GAF image (the series is shortened to this many points)",
          minimum=8),
    p_int("num_classes", 3, "number of classes (cylinder, bell, funnel)"),
    p_int("channels", 16, "filters in the first convolution; doubled in the second"),
)
def timeseries_gaf(transform: str, image_size: int, num_classes: int, channels: int) -> Graph:
    s = Sketch("timeseries_gaf")
    x = s.add("image", "Input", 0, shape=[1, image_size, image_size], field="image")
    for k, width in ((1, channels), (2, 2 * channels)):
        x = s.then(x, f"conv{k}", "Conv2d", out_channels=width, kernel_size=3, padding=1)
        x = s.then(x, f"relu{k}", "ReLU")
        x = s.then(x, f"pool{k}", "MaxPool2d", kernel_size=2)
    x = s.then(x, "gap", "GlobalAvgPool")
    x = s.then(x, "scores", "Dense", out_features=num_classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    data = {"dataset": "cbf", "transform": transform, "image_size": image_size}
    return s.settings(data, optimizer="adam", lr=0.003, epochs=40, batch_size=32)


@template(
    "embedding_classifier",
    "Token ids through an Embedding: each id picks a learned vector, so similar tokens end up "
    "close together. Pooling over the sequence gives one vector per text, and a Dense layer "
    "gives a score per class (the cross-entropy loss applies the softmax).",
    p_int("vocab_size", 50, "number of distinct tokens (ids 0 .. vocab_size-1)", minimum=2),
    p_int("length", 20, "tokens per sequence"),
    p_int("embedding_dim", 16, "length of each token's vector"),
    p_choice("pooling", "mean", ("mean", "max"), "how the token vectors are summarised"),
    p_int("hidden", 32, "neurons in the hidden Dense layer (0: none)", minimum=0),
    p_int("num_classes", 2, "number of classes", minimum=2),
)
def embedding_classifier(vocab_size: int, length: int, embedding_dim: int, pooling: str, hidden: int,
                         num_classes: int) -> Graph:
    s = Sketch("embedding_classifier")
    x = s.add("tokens", "Input", 0, shape=[length], dtype="int64", field="tokens")
    x = s.then(x, "embed", "Embedding", num_embeddings=vocab_size, embedding_dim=embedding_dim,
               channels_first=True)
    x = s.then(x, "pool", "GlobalAvgPool" if pooling == "mean" else "GlobalMaxPool")
    if hidden:
        x = s.then(x, "hidden", "Dense", out_features=hidden)
        x = s.then(x, "relu", "ReLU")
    x = s.then(x, "scores", "Dense", out_features=num_classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    data = {"dataset": "tokens_synth", "vocab_size": vocab_size, "length": length,
            "num_classes": num_classes}
    return s.settings(data, optimizer="adam", lr=0.005, epochs=15, batch_size=64)
