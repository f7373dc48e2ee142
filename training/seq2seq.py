"""The sequence-to-sequence regime: teacher forcing while training, greedy decoding to validate.

A graph is a translator when an Input reads the same token field that a per-position
cross-entropy head predicts (`task.teacher_forced`). While training, that Input is fed the
target shifted right (BOS first, the last token dropped), so position i predicts token i having
seen the true tokens before it; the loss ignores padding. Validation decodes greedily: BOS,
then each predicted token fed back in, one position at a time, as a translator at work does;
token accuracy and exact match compare those predictions with the reference (padding left
out), and BLEU is sacrebleu's corpus BLEU of the decoded sentences.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .datasets.translation import BOS_ID, EOS_ID, PAD_ID, decode
from .feed import Feeder
from .regimes import HeadRegime
from .task import teacher_forced


def shift_right(target: torch.Tensor) -> torch.Tensor:
    """BOS followed by the target without its last token: what the decoder reads at each position."""
    shifted = torch.full_like(target, PAD_ID)
    shifted[:, 0] = BOS_ID
    shifted[:, 1:] = target[:, :-1]
    return shifted


def token_loss(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of (batch, L, vocabulary) scores against (batch, L) ids, padding ignored."""
    return F.cross_entropy(scores.float().transpose(1, 2), target.long(), ignore_index=PAD_ID)


@torch.no_grad()
def greedy_decode(net: torch.nn.Module, args: list[torch.Tensor], decoder_index: int, head: str | None,
                  length: int) -> torch.Tensor:
    """Predicted ids (batch, length): BOS first, then each prediction fed back in.

    Args:
        net: the compiled graph (in eval mode).
        args: its inputs in order; the decoder's is replaced.
        decoder_index: which argument is the decoder's (teacher-forced) input.
        head: the Output id to read when the model returns a dict.
        length: positions to predict (the decoder Input's length).
    """
    n = args[0].shape[0]
    device = args[0].device
    tokens = torch.full((n, length), PAD_ID, dtype=torch.long, device=device)
    tokens[:, 0] = BOS_ID
    predicted = torch.full((n, length), PAD_ID, dtype=torch.long, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    for t in range(length):
        call = list(args)
        call[decoder_index] = tokens
        out = net(*call)
        scores = out[head] if isinstance(out, dict) else out
        step = scores[:, t].argmax(-1)
        step = torch.where(done, torch.full_like(step, PAD_ID), step)
        predicted[:, t] = step
        done |= step == EOS_ID
        if bool(done.all()):
            break
        if t + 1 < length:
            tokens[:, t + 1] = step
    return predicted


def sequence_scores(predicted: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Counts for token accuracy and exact match, padding left out (device tensors, no sync)."""
    real = target != PAD_ID
    right = (predicted == target) & real
    whole = (right | ~real).all(1)
    return {"correct": right.sum(), "seen": real.sum(), "exact": whole.sum(), "sentences": target.new_tensor(len(target))}


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """sacrebleu's corpus BLEU (0-100) of decoded sentences against their references."""
    import sacrebleu

    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


class Seq2SeqRegime(HeadRegime):
    """HeadRegime with teacher forcing, a padding-free loss and greedy-decoding validation."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        head, decoder = teacher_forced(self.task.heads, self.task.inputs)[0]
        self.head, self.decoder = head, decoder
        self.decoder_index = [b.node for b in self.task.inputs].index(decoder.node)
        self.vocabulary: list[str] | None = None  # the target's words, for BLEU (set by the engine)

    def _forward(self, module, batch, n):
        batch = dict(batch)
        batch[self.decoder.field] = shift_right(batch[self.decoder.field].long())
        return super()._forward(module, batch, n)

    def _losses(self, outputs, batch, targets=None, detail=True):
        targets = self._targets(batch) if targets is None else targets
        parts: dict[str, torch.Tensor] = {}
        total = None
        for h in self.task.heads:
            loss = token_loss(outputs[h.node], targets[h.node])
            weighted = loss if h.weight == 1.0 else h.weight * loss
            total = weighted if total is None else total + weighted
            parts[h.node] = loss.detach()
        return total, parts

    def _args(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        return [batch[b.field].long() if b.dtype == "int64" else batch[b.field].float() for b in self.task.inputs]

    @torch.no_grad()
    def evaluate(self, feeder: Feeder, batch_size: int) -> tuple[dict[str, float], dict[str, float]]:
        losses, _ = super().evaluate(feeder, batch_size)
        counts: dict[str, torch.Tensor] = {}
        hypotheses: list[str] = []
        references: list[str] = []
        self.net.eval()
        try:
            for start in range(0, len(feeder), batch_size):
                batch = feeder.batch(torch.arange(start, min(start + batch_size, len(feeder))))
                target = batch[self.head.target_field].long()
                predicted = greedy_decode(self.net, self._args(batch), self.decoder_index,
                                          self._head_key(), target.shape[1])
                for k, v in sequence_scores(predicted, target).items():
                    counts[k] = counts[k] + v if k in counts else v
                if self.vocabulary is not None:
                    for p, t in zip(predicted.tolist(), target.tolist()):
                        hypotheses.append(" ".join(decode(p, self.vocabulary)))
                        references.append(" ".join(decode(t, self.vocabulary)))
        finally:
            self.net.train()
        metrics = {"accuracy": float(counts["correct"]) / max(float(counts["seen"]), 1.0),
                   "exact_match": float(counts["exact"]) / max(float(counts["sentences"]), 1.0)}
        if hypotheses:
            metrics["bleu"] = bleu(hypotheses, references)
        return losses, metrics

    def _head_key(self) -> str | None:
        return self.head.node if len(self.outputs) > 1 else None


def translate(graph, run_dir, sentences: Sequence[str]) -> list[str]:
    """Translate sentences with a trained run: its weights, the vocabularies it saved, greedy decoding.

    Args:
        graph: the translator's graph (a source Input, a teacher-forced decoder Input, a head).
        run_dir: the run directory (best.safetensors, else last.safetensors; vocab.json).
        sentences: whitespace-tokenised source sentences; unknown words become <unk>.

    Raises:
        ValueError: the graph is not a translator, the run lacks its vocabularies or weights, or
            a sentence is longer than the source Input.
    """
    import json
    from pathlib import Path

    import codegen

    from .datasets.translation import encode
    from .task import analyse

    run = Path(run_dir)
    task = analyse(graph)
    pairs = teacher_forced(task.heads, task.inputs)
    if not pairs:
        raise ValueError(f"{graph.name}: not a translator — no Input reads the token field its head predicts")
    head, decoder = pairs[0]
    vocab_file = run / "vocab.json"
    if not vocab_file.exists():
        raise ValueError(f"{run}: no vocab.json; train the translator first (its vocabularies are saved with the run)")
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
    weights = next((run / n for n in ("best.safetensors", "last.safetensors") if (run / n).exists()), None)
    if weights is None:
        raise ValueError(f"{run}: no weights (best.safetensors or last.safetensors)")
    net = codegen.compile_graph(graph).eval()
    codegen.load_weights(net, weights)
    words = [s.lower().split() for s in sentences]
    args = []
    for b in task.inputs:
        if b.node == decoder.node:
            args.append(torch.zeros((len(words), *b.shape), dtype=torch.long))
            continue
        if b.field not in vocab:
            raise ValueError(f"{b.node}: the run has no vocabulary for field {b.field!r}")
        for s in words:
            if len(s) > b.shape[0]:
                raise ValueError(f"{b.node}: {' '.join(s)!r} has {len(s)} words; this translator reads at most "
                                 f"{b.shape[0]}")
        args.append(torch.from_numpy(encode(words, vocab[b.field], eos=False, length=b.shape[0])))
    index = [b.node for b in task.inputs].index(decoder.node)
    outputs = [n.id for n in graph.nodes_of_type("Output")]
    predicted = greedy_decode(net, args, index, head.node if len(outputs) > 1 else None, decoder.shape[0])
    return [" ".join(decode(p, vocab[head.target_field])) for p in predicted.tolist()]
