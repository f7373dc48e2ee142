"""Where attention's automatic padding mask comes from: the Embedding behind a port."""

from __future__ import annotations

import graph_core as gc

from .helpers import chain


def _encoder(**embedding):
    return chain((8,), ("Embedding", {"num_embeddings": 10, "embedding_dim": 8, **embedding}),
                 ("PositionalEncoding", {}), ("LayerNorm", {}), ("TransformerEncoderLayer", {"nhead": 2}),
                 dtype="int64")


def test_the_embedding_behind_a_port_is_found_with_or_without_padding_idx():
    plain, padded = _encoder(), _encoder(padding_idx=0)
    assert gc.embedding_behind(plain, "n4", "in") == gc.embedding_behind(padded, "n4", "in") == "n1"
    assert gc.padding_source(plain, "n4", "in") is None
    assert gc.padding_source(padded, "n4", "in") == ("x", 0)


def test_no_embedding_behind_a_channels_first_one_or_a_float_input():
    assert gc.embedding_behind(_encoder(channels_first=True), "n4", "in") is None
    floats = chain((8, 8), ("TransformerEncoderLayer", {"nhead": 2}))
    assert gc.embedding_behind(floats, "n1", "in") is None
