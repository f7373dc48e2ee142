"""DNA sequences from FASTA files, labelled by a CSV file (id,label) or by "label=" in the header.

Fields as for the built-in dna_motif: `sequence` int64 base ids (L,) with A=0, C=1, G=2, T=3
and 4 for N, ambiguity codes and padding (vocabulary 5 then), or one-hot (4, L) float32 with an
all-zero column for those when "encoding" is "onehot"; `label`. Sequences shorter than the
common length are padded at the end, longer ones cut; "length" sets it (default the longest).
"""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import numpy as np

from .core import DataError, FieldInfo, Options, RawData, encode_labels, label_info
from .synthetic import dna_onehot

_BASES = {"A": 0, "C": 1, "G": 2, "T": 3, "U": 3}
_AMBIGUOUS = set("NRYSWKMBDHV-.")
# Byte -> base id (-1 = not a base), so a whole line is translated in one numpy lookup.
_LOOKUP = np.full(256, -1, dtype=np.int64)
for _letter, _id in _BASES.items():
    _LOOKUP[ord(_letter)] = _id
for _letter in _AMBIGUOUS:
    _LOOKUP[ord(_letter)] = 4
_HEADER_LABEL = re.compile(r"(?:^|[\s|;,])label\s*=\s*([^\s|;,]+)", re.IGNORECASE)


def load_fasta(path: Path, opts: Options, root: Path | None) -> RawData:
    """Read a FASTA file and its labels (see the module docstring)."""
    records = read_fasta(path)
    labels_path = opts.path("labels", root)
    if labels_path is not None:
        table = _read_label_table(labels_path)
        raw_labels = []
        for record_id, _, line_no, _ in records:
            if record_id not in table:
                raise DataError(f"{labels_path}: no label for sequence '{record_id}' "
                                f"(line {line_no} of {path.name})")
            raw_labels.append(table[record_id])
    else:
        raw_labels = []
        for record_id, _, line_no, header in records:
            match = _HEADER_LABEL.search(header)
            if match is None:
                raise DataError(f"{path}: line {line_no}: sequence '{record_id}' has no label=... "
                                "in its header; add one or set \"labels\" to a CSV file of id,label")
            raw_labels.append(match.group(1))
    labels, class_names = encode_labels(raw_labels, f"{path}: labels")
    longest = max(len(seq) for _, seq, _, _ in records)
    length = opts.integer("length", longest, minimum=1)
    ids = np.full((len(records), length), 4, dtype=np.int64)
    for i, (_, seq, _, _) in enumerate(records):
        ids[i, : min(length, len(seq))] = seq[:length]
    encoding = opts.choice("encoding", "tokens", ("tokens", "embedding", "onehot"))
    if encoding == "onehot":
        sequence = dna_onehot(ids)
        seq_info = FieldInfo((4, length), "float32", None, None, "sequence")
    else:
        vocab = 5 if (ids == 4).any() else 4
        sequence = ids
        names = list("ACGTN"[:vocab])
        shortest = min(len(seq) for _, seq, _, _ in records)
        if vocab == 5 and shortest < length and not any((seq == 4).any() for _, seq, _, _ in records):
            # the fifth id is padding alone: say so, or a OneHot of 4 classes reads as a mistake
            names[4] = f"N padding: the sequences are {shortest} to {longest} bases long, not all {length}"
        seq_info = FieldInfo((length,), "int64", vocab, names, "sequence")
    info = {"sequence": seq_info, "label": label_info(len(class_names), class_names)}
    return RawData(path.stem, {"sequence": sequence, "label": labels}, info, source=str(path),
                   sources=[f"{path} line {line_no}" for _, _, line_no, _ in records])


def read_fasta(path: Path) -> list[tuple[str, np.ndarray, int, str]]:
    """Records as (id, base ids, header line number, header text); bad letters name their line."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    records: list[tuple[str, np.ndarray, int, str]] = []
    header: tuple[str, int, str] | None = None
    chunks: list[int] = []
    for line_no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith(";"):
            continue
        if text.startswith(">"):
            _close_record(path, header, chunks, records)
            words = text[1:].split()
            if not words:
                raise DataError(f"{path}: line {line_no}: a header without a sequence id")
            header, chunks = (words[0], line_no, text[1:]), []
            continue
        if header is None:
            raise DataError(f"{path}: line {line_no}: sequence data before the first '>' header")
        chunks.extend(_base_ids(path, text, line_no))
    _close_record(path, header, chunks, records)
    if not records:
        raise DataError(f"{path}: no sequences found (a FASTA file starts with '>id')")
    return records


def _close_record(path: Path, header: tuple[str, int, str] | None, chunks: list[int],
                  records: list[tuple[str, np.ndarray, int, str]]) -> None:
    if header is None:
        return
    record_id, line_no, text = header
    if not chunks:
        raise DataError(f"{path}: line {line_no}: sequence '{record_id}' is empty")
    records.append((record_id, np.array(chunks, dtype=np.int64), line_no, text))


def _base_ids(path: Path, text: str, line_no: int) -> list[int]:
    codes = np.frombuffer(text.upper().encode("ascii", "replace"), dtype=np.uint8)
    ids = _LOOKUP[codes]
    bad = np.flatnonzero(ids < 0)
    if bad.size:
        column = int(bad[0])
        raise DataError(f"{path}: line {line_no}, column {column + 1}: {text[column]!r} is not a "
                        "DNA base")
    return ids.tolist()


def _read_label_table(path: Path) -> dict[str, str]:
    """A CSV of id,label (a header row is skipped when its second cell says 'label')."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: labels file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
    table: dict[str, str] = {}
    for line_no, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < 2:
            raise DataError(f"{path}: line {line_no}: expected id,label")
        key, value = row[0].strip(), row[1].strip()
        if line_no == 1 and value.lower() in ("label", "class", "y", "target"):
            continue
        table[key] = value
    return table
