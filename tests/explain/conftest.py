"""Tiny trained runs shared by the explanation tests (trained once per session, one thread)."""

from __future__ import annotations

from pathlib import Path

import pytest

import graph_core as gc
import templates


def trained(tmp_path_factory: pytest.TempPathFactory, name: str, data: dict | None = None,
            params: dict | None = None, **config) -> tuple[Path, Path]:
    """Build template `name` (with `params`), train it briefly; returns (graph file, run directory)."""
    import torch

    from training import train

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp(name)
    graph = templates.build(name, **(params or {}))
    graph.data.update(data or {})
    path = folder / f"{name}.json"
    gc.save_graph(graph, path)
    result = train(graph, {"out": str(folder / "run"), "samples": False, **config}, root=folder)
    assert result.ok, result.error
    return path, folder / "run"


@pytest.fixture(scope="session")
def dna_run(tmp_path_factory):
    # 1,000 sequences, 8 epochs: about 3 s on one thread, and validation accuracy above 0.9.
    return trained(tmp_path_factory, "dna_cnn", {"n_samples": 1000}, epochs=8)


@pytest.fixture(scope="session")
def husky_run(tmp_path_factory):
    return trained(tmp_path_factory, "husky_wolf", {"n_samples": 600}, epochs=5)


@pytest.fixture(scope="session")
def lenet_run(tmp_path_factory):
    return trained(tmp_path_factory, "lenet", None, {"input_size": 16}, max_steps=20, epochs=1,
                   augment="none")
