"""What a translator does: source, reference and model translation side by side, and where it
looked — the attention map of a chosen validation sentence.

`translations_of` runs in the engine process beside the analyser (torch, no Qt): it decodes a
few validation sentences greedily and records, for each, the attention weights of the model's
last attention over the source (a MultiheadAttention node's map, or a transformer decoder
layer's cross-attention). `translations_view.TranslationsTab` only paints what arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SENTENCES = 8


@dataclass
class Translation:
    """One validation sentence: its words, the reference, the model's output and its attention."""

    source: list[str]
    reference: list[str]
    model: list[str]
    attention: np.ndarray | None = None  # (model words + EOS, source words) rows sum to ~1


@dataclass
class Translations:
    rows: list[Translation] = field(default_factory=list)
    exact: int = 0
    note: str = ""  # when there are no rows: why none could be made


def translations_of(analyser: Any, count: int = SENTENCES) -> Translations | None:
    """Greedy translations (and attention maps) of the first `count` validation sentences.

    Nothing in it depends on node ids: the decoder is the int64 Input reading the field a tokens
    head predicts, the source another int64 Input (an imported graph's do). When no sentence can be
    made, the result has no rows and a `note` saying why (the Translations tab shows it).
    """
    import torch

    from training.datasets.translation import decode
    from training.seq2seq import greedy_decode
    from training.task import teacher_forced

    pairs = teacher_forced(analyser.task.heads, analyser.task.inputs)
    if not pairs:
        return Translations(note="No translations: no cross_entropy head predicts the field an int64 "
                            "Input reads (the decoder's words), so there is nothing to decode.")
    head, decoder = pairs[0]
    source = next((b for b in analyser.task.inputs if b.node != decoder.node and b.dtype == "int64"), None)
    if source is None:
        return Translations(note=f"No translations: no int64 Input besides {decoder.node} reads the "
                            "source sentence.")
    vocab_src = getattr(analyser.info.get(source.field), "class_names", None)
    vocab_tgt = getattr(analyser.info.get(head.target_field), "class_names", None)
    if not vocab_src or not vocab_tgt:
        missing = source.field if not vocab_src else head.target_field
        return Translations(note=f"No translations: the data's field {missing!r} has no vocabulary to "
                            "turn ids back into words.")
    n = min(count, analyser.count)
    args = [torch.from_numpy(np.ascontiguousarray(analyser.data[b.field][:n])).long() for b in analyser.task.inputs]
    index = [b.node for b in analyser.task.inputs].index(decoder.node)
    key = head.node if len(analyser.outputs) > 1 else None
    model = analyser.model
    with torch.no_grad():
        predicted = greedy_decode(model, args, index, key, decoder.shape[0])
        maps = _attention(model, args, index, predicted)
    out = Translations()
    for i in range(n):
        src = decode(args[[b.node for b in analyser.task.inputs].index(source.node)][i].tolist(), vocab_src)
        ref = decode(analyser.data[head.target_field][i].tolist(), vocab_tgt)
        made = decode(predicted[i].tolist(), vocab_tgt)
        attention = None
        if maps is not None:
            attention = maps[i, : len(made) + 1, : len(src)]
        out.rows.append(Translation(src, ref, made, attention))
        out.exact += made == ref
    return out


def _attention(model: Any, args: list, index: int, predicted: Any) -> np.ndarray | None:
    """(batch, target, source) weights of the last attention over the source, teacher-forced on
    the model's own words (the pass that produced them)."""
    import torch

    found: list[Any] = []

    def keep(_module, _args, output):
        if isinstance(output, tuple) and len(output) == 2 and output[1] is not None:
            found.append(output[1])

    def recompute(module, a, kw, _output):  # a decoder layer asks for no weights: ask again
        kw = {**kw, "need_weights": True, "average_attn_weights": True}
        found.append(module.forward(*a, **kw)[1])  # forward, not __call__: this hook must not run again

    handles = []
    for name, sub in model.named_modules():
        if isinstance(sub, torch.nn.MultiheadAttention):
            if name.endswith("multihead_attn"):  # a transformer decoder's cross-attention
                handles.append(sub.register_forward_hook(recompute, with_kwargs=True))
            elif not name.endswith("self_attn"):
                handles.append(sub.register_forward_hook(keep))
    if not handles:
        return None
    tokens = torch.zeros_like(predicted)
    tokens[:, 0] = 1  # BOS, then the model's own words
    tokens[:, 1:] = predicted[:, :-1]
    call = list(args)
    call[index] = tokens
    try:
        model(*call)
    finally:
        for h in handles:
            h.remove()
    return found[-1].float().cpu().numpy() if found else None
