"""The run directory: everything a training run leaves behind, written so nothing is half-written.

Layout::

    graph.json  config.json             what was trained, with which settings
    steps.csv   steps.jsonl             one row per step
    epochs.csv  epochs.jsonl            one row per epoch (train and validation figures)
    last.safetensors  best.safetensors  weights only (codegen.load_weights reads them)
    last_state.pt                       optimizer/scheduler/progress, loadable with weights_only=True
    samples/epoch_NNN.png               sample grids of generative and segmentation models
    summary.json                        final figures and status

Whole files (JSON, checkpoints, PNGs) go to a temporary name first and are renamed into place;
metric rows are appended line by line, so a crash loses at most the rows not yet flushed.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

STATE_FILE = "last_state.pt"


class RunDirectory:
    """Writes one run's files; with `enabled=False` (torchrun ranks other than 0) writes nothing."""

    def __init__(self, path: str | os.PathLike, enabled: bool = True, append: bool = False) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self._logs: dict[str, tuple[Any, Any, Any]] = {}
        self._append = append
        if enabled:
            self.path.mkdir(parents=True, exist_ok=True)

    # ---- whole files ---------------------------------------------------------------------

    def write_json(self, name: str, data: Any) -> Path:
        target = self.path / name
        if self.enabled:
            atomic_write_bytes(target, (json.dumps(data, indent=2, default=_json_default) + "\n").encode())
        return target

    def save_weights(self, model: Any, name: str) -> Path:
        """Weights only, as safetensors, through codegen so export/load read the same format."""
        import codegen

        target = self.path / name
        if self.enabled:
            codegen.save_weights(model, target)  # atomic: temporary file, then rename
        return target

    def save_state(self, state: dict[str, Any]) -> Path:
        """Optimizer and progress state: tensors and plain containers only (weights_only-safe)."""
        import torch

        target = self.path / STATE_FILE
        if self.enabled:
            buffer = io.BytesIO()
            torch.save(state, buffer)
            atomic_write_bytes(target, buffer.getvalue())
        return target

    def save_png(self, name: str, image: np.ndarray) -> Path:
        from PIL import Image

        target = self.path / name
        if self.enabled:
            target.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            atomic_write_bytes(target, buffer.getvalue())
        return target

    # ---- metric rows ---------------------------------------------------------------------

    def log(self, kind: str, row: dict[str, Any]) -> None:
        """Append one row to `<kind>.csv` and `<kind>.jsonl` (kind: steps or epochs)."""
        if not self.enabled:
            return
        if kind not in self._logs:
            self._open(kind, row)
        writer, jsonl, _ = self._logs[kind]
        writer.writerow(row)
        jsonl.write(_ENCODE(row) + "\n")

    def log_rows(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Append many rows at once (the steps of an epoch): one write per file."""
        if not self.enabled or not rows:
            return
        if kind not in self._logs:
            self._open(kind, rows[0])
        writer, jsonl, _ = self._logs[kind]
        writer.writerows(rows)
        jsonl.write("".join([_ENCODE(row) + "\n" for row in rows]))

    def flush(self) -> None:
        for _, jsonl, csv_file in self._logs.values():
            jsonl.flush()
            csv_file.flush()

    def close(self) -> None:
        for _, jsonl, csv_file in self._logs.values():
            jsonl.close()
            csv_file.close()
        self._logs.clear()

    def _open(self, kind: str, first_row: dict[str, Any]) -> None:
        csv_path = self.path / f"{kind}.csv"
        resuming = self._append and csv_path.exists() and csv_path.stat().st_size > 0
        if resuming:
            with open(csv_path, newline="") as f:
                columns = next(csv.reader(f), None) or list(first_row)
        else:
            columns = list(first_row)
        mode = "a" if resuming else "w"
        csv_file = open(csv_path, mode, newline="")  # noqa: SIM115 (held open for the run)
        writer = csv.DictWriter(csv_file, fieldnames=columns, extrasaction="ignore")
        if not resuming:
            writer.writeheader()
        jsonl = open(self.path / f"{kind}.jsonl", mode)  # noqa: SIM115
        self._logs[kind] = (writer, jsonl, csv_file)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary sibling, fsync, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_state(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Read `last_state.pt` with weights_only=True (never unpickles code)."""
    import torch

    return torch.load(Path(run_dir) / STATE_FILE, map_location="cpu", weights_only=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


# one encoder for every row (json.dumps with an argument builds a new one each call)
_ENCODE = json.JSONEncoder(default=_json_default).encode
