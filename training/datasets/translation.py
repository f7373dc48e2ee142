"""Parallel text for sequence-to-sequence models: a generated toy language pair, or the user's TSV.

Both give two int64 fields, `source` (Ls,) and `target` (Lt,), padded with PAD_ID to the
longest sentence; the target ends with EOS. Their FieldInfo carries the vocabulary as
`class_names` (id -> word), so the vocabularies travel with the prepared data and the run
(vocab.json) and `netwright translate` reads sentences with the same ids. Ids 0-3 are reserved
in both vocabularies: padding, begin, end, unknown word.

The built-in pair is an English-like to French-like toy grammar with the two things a
translator must learn beyond word-for-word lookup: the adjective moves after the noun, and
articles and adjectives agree with the noun's gender ("the black cat" -> "le chat noir",
"the black house" -> "la maison noire"). Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .core import DataError, FieldInfo, Options, RawData

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
SPECIALS = (PAD, BOS, EOS, UNK)
MAX_SOURCE, MAX_TARGET = 7, 8  # the toy grammar's longest sentence; the target ends with EOS

# noun: (French, gender)
_NOUNS = {"cat": ("chat", "m"), "dog": ("chien", "m"), "house": ("maison", "f"), "car": ("voiture", "f"),
          "book": ("livre", "m"), "table": ("table", "f"), "bird": ("oiseau", "m"), "flower": ("fleur", "f"),
          "tree": ("arbre", "m"), "door": ("porte", "f"), "boy": ("garçon", "m"), "girl": ("fille", "f")}
# adjective: (masculine, feminine)
_ADJECTIVES = {"black": ("noir", "noire"), "small": ("petit", "petite"), "green": ("vert", "verte"),
               "big": ("grand", "grande"), "white": ("blanc", "blanche"), "old": ("vieux", "vieille"),
               "red": ("rouge", "rouge"), "pretty": ("joli", "jolie")}
_VERBS = {"sees": "voit", "likes": "aime", "has": "a", "finds": "trouve"}
_ARTICLES = {"the": ("le", "la"), "a": ("un", "une")}


def make_translation(opts: Options, data_seed: int) -> RawData:
    """The toy English -> French pair (see the module docstring).

    Sentences are "ART [ADJ] NOUN is ADJ" or "ART [ADJ] NOUN VERB ART [ADJ] NOUN".
    Options: n_samples (4000 distinct sentences). Fields `source` and `target` (token ids).
    """
    n = opts.integer("n_samples", 4000, minimum=4)
    rng = np.random.default_rng(data_seed)
    seen: set[str] = set()
    pairs = []
    for _ in range(50 * n):  # distinct sentences, so held-out ones were never seen in training
        en, fr = _sentence(rng)
        if " ".join(en) not in seen:
            seen.add(" ".join(en))
            pairs.append((en, fr))
            if len(pairs) == n:
                break
    return parallel_data("translation_synth", pairs, source="translation_synth", vocabulary_from=_GRAMMAR_WORDS,
                         lengths=(MAX_SOURCE, MAX_TARGET))


def toy_vocabularies() -> tuple[list[str], list[str]]:
    """(source, target) vocabularies of the built-in pair: every word of its grammar, so they
    (and a graph's sizes) never depend on how many sentences are drawn."""
    return build_vocabulary(s for s, _ in _GRAMMAR_WORDS), build_vocabulary(t for _, t in _GRAMMAR_WORDS)


def load_parallel(path: Path, opts: Options) -> RawData:
    """A TSV of `source<TAB>target` lines, whitespace-tokenised; blank and # lines skipped."""
    pairs = []
    for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].split() or not parts[1].split():
            raise DataError(f"{path}:{k}: expected 'source sentence<TAB>target sentence'")
        pairs.append((parts[0].split(), parts[1].split()))
    if len(pairs) < 2:
        raise DataError(f"{path}: needs at least two sentence pairs; found {len(pairs)}")
    if opts.flag("lowercase", True):
        pairs = [([w.lower() for w in s], [w.lower() for w in t]) for s, t in pairs]
    lengths = (opts.integer("source_length", 0), opts.integer("target_length", 0))
    return parallel_data(path.stem, pairs, source=str(path), lengths=lengths)


def parallel_data(name: str, pairs: list[tuple[list[str], list[str]]], source: str,
                  vocabulary_from: list[tuple[list[str], list[str]]] | None = None,
                  lengths: tuple[int, int] = (0, 0)) -> RawData:
    """Sentence pairs as padded id arrays with their vocabularies (sorted, specials first).

    `lengths` pads (or cuts) source and target (EOS included) to fixed lengths; 0: the longest.
    """
    words = vocabulary_from or pairs
    src_vocab = build_vocabulary(s for s, _ in words)
    tgt_vocab = build_vocabulary(t for _, t in words)
    src = encode([s for s, _ in pairs], src_vocab, eos=False, length=lengths[0] or None)
    tgt = encode([t for _, t in pairs], tgt_vocab, eos=True, length=lengths[1] or None)
    info = {"source": FieldInfo((src.shape[1],), "int64", len(src_vocab), src_vocab, "tokens"),
            "target": FieldInfo((tgt.shape[1],), "int64", len(tgt_vocab), tgt_vocab, "tokens")}
    return RawData(name, {"source": src, "target": tgt}, info, source=source)


def build_vocabulary(sentences) -> list[str]:
    words = sorted({w for s in sentences for w in s} - set(SPECIALS))
    return [*SPECIALS, *words]


def encode(sentences: list[list[str]], vocab: list[str], eos: bool, length: int | None = None) -> np.ndarray:
    """Ids padded with PAD_ID to `length` (default: the longest, plus EOS when asked)."""
    index = {w: i for i, w in enumerate(vocab)}
    rows = [[index.get(w, UNK_ID) for w in s] + ([EOS_ID] if eos else []) for s in sentences]
    width = length or max(len(r) for r in rows)
    out = np.full((len(rows), width), PAD_ID, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : min(len(r), width)] = r[:width]
    return out


def decode(ids, vocab: list[str]) -> list[str]:
    """Words of one id sequence, up to (not including) EOS; padding and BOS left out."""
    words = []
    for i in ids:
        i = int(i)
        if i == EOS_ID:
            break
        if i in (PAD_ID, BOS_ID):
            continue
        words.append(vocab[i] if 0 <= i < len(vocab) else UNK)
    return words


_GRAMMAR_WORDS = [(list(_NOUNS) + list(_ADJECTIVES) + list(_VERBS) + list(_ARTICLES) + ["is"],
                   [f for f, _ in _NOUNS.values()] + [a for pair in _ADJECTIVES.values() for a in pair]
                   + list(_VERBS.values()) + [a for pair in _ARTICLES.values() for a in pair] + ["est"])]


def _phrase(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    noun = str(rng.choice(list(_NOUNS)))
    french, gender = _NOUNS[noun]
    article = str(rng.choice(list(_ARTICLES)))
    g = 0 if gender == "m" else 1
    en, fr = [article], [_ARTICLES[article][g]]
    if rng.random() < 0.5:
        adjective = str(rng.choice(list(_ADJECTIVES)))
        en += [adjective, noun]
        fr += [french, _ADJECTIVES[adjective][g]]  # the adjective follows the noun and agrees
    else:
        en.append(noun)
        fr.append(french)
    return en, fr


def _sentence(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    en, fr = _phrase(rng)
    subject = _NOUNS[en[-1]][1]
    if rng.random() < 0.4:
        adjective = str(rng.choice(list(_ADJECTIVES)))
        return en + ["is", adjective], fr + ["est", _ADJECTIVES[adjective][0 if subject == "m" else 1]]
    verb = str(rng.choice(list(_VERBS)))
    en2, fr2 = _phrase(rng)
    return en + [verb] + en2, fr + [_VERBS[verb]] + fr2
