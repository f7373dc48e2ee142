"""Recorded runs: a run directory read back (config, curves, checkpoints, summary).

The engine writes every run to its own folder (see training/rundir.py); the runs panel lists
those folders and reads them here. No Qt, no torch: reading a run is reading JSON lines.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graph_core as gc

from .series import MetricStore

HEADLINES = ("val_accuracy", "val_miou", "reconstruction", "kl", "g_loss", "d_loss", "val_mae", "val_loss")


def runs_root(graph_path: str | os.PathLike | None) -> Path:
    """Where the designer's runs go: $NETWRIGHT_RUNS_DIR, else `runs/` beside the graph file,
    else `runs/` in the current folder (as `netwright train` does)."""
    env = os.environ.get("NETWRIGHT_RUNS_DIR")
    if env:
        return Path(env)
    if graph_path:
        return Path(graph_path).resolve().parent / "runs"
    return Path.cwd() / "runs"


@dataclass
class RunRecord:
    """What one run directory holds, read once when listed."""

    path: Path
    status: str = "running"
    regime: str | None = None
    epochs: int = 0
    steps: int = 0
    seconds: float = 0.0
    final: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def checkpoint(self) -> Path | None:
        """The best checkpoint when there is one, else the last."""
        for name in ("best.safetensors", "last.safetensors"):
            if (self.path / name).exists():
                return self.path / name
        return None

    def headline(self) -> str:
        """The run's main figure, e.g. 'val_accuracy 0.931'."""
        for key in HEADLINES:
            value = self.final.get(key)
            if isinstance(value, int | float):
                return f"{key} {value:.4g}"
        return self.error or ""

    def settings(self) -> str:
        c = self.config
        bits = [f"{k} {c[k]}" for k in ("epochs", "batch_size", "lr", "optimizer") if k in c]
        if c.get("runtime"):
            bits.append(str(c["runtime"]).split(",")[0])
        return ", ".join(bits)

    def graph(self) -> gc.Graph:
        """The graph exactly as it was trained."""
        return gc.load_graph(self.path / "graph.json")

    def curves(self) -> MetricStore:
        """The run's step and epoch figures as a MetricStore."""
        store = MetricStore()
        store.add_history(_jsonl(self.path / "steps.jsonl"), _jsonl(self.path / "epochs.jsonl"))
        return store


def read_run(path: str | os.PathLike) -> RunRecord | None:
    """Read a run directory; None when the folder is not one (no config.json)."""
    path = Path(path)
    config_file = path / "config.json"
    if not config_file.is_file():
        return None
    record = RunRecord(path, started=config_file.stat().st_mtime)
    record.config = _json(config_file) or {}
    summary = _json(path / "summary.json")
    if summary:
        record.status = str(summary.get("status", "?"))
        record.regime = summary.get("regime")
        record.epochs = int(summary.get("epochs") or 0)
        record.steps = int(summary.get("steps") or 0)
        record.seconds = float(summary.get("seconds") or 0.0)
        record.final = dict(summary.get("final") or {})
        record.error = summary.get("error")
    return record


def list_runs(root: str | os.PathLike) -> list[RunRecord]:
    """Every run under `root`, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    records = [r for r in (read_run(p) for p in root.iterdir() if p.is_dir()) if r is not None]
    return sorted(records, key=lambda r: r.started, reverse=True)


def same_model(a: gc.Graph, b: gc.Graph) -> bool:
    """True when the two graphs build the same module (same nodes, types, parameters, wires and
    blocks), so one's weights fit the other; names, positions, frozen flags, training and data
    settings may differ."""
    return _model_key(a) == _model_key(b)


def runs_of(graph: gc.Graph, records: list[RunRecord]) -> list[RunRecord]:
    """The records (in their order) that trained this graph and left a checkpoint."""
    out = []
    for r in records:
        if r.checkpoint is None:
            continue
        try:
            if same_model(r.graph(), graph):
                out.append(r)
        except Exception:  # a damaged or foreign run folder is simply not one of this graph's
            continue
    return out


def _model_key(graph: gc.Graph) -> Any:
    data = gc.graph_to_dict(graph)
    nodes = sorted((n["id"], n["type"], json.dumps(n.get("params", {}), sort_keys=True))
                   for n in data.get("nodes", []))
    edges = sorted(json.dumps(e, sort_keys=True) for e in data.get("edges", []))
    blocks = {name: _model_key(block) for name, block in graph.blocks.items()}
    return nodes, edges, blocks


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    break  # a row cut short by a crash ends the log
    except OSError:
        pass
    return rows
