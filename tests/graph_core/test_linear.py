"""Loading and validating grow linearly with the graph (issue 13: each wire was checked against
a list of all wires, so 4,000 nodes took 4 s and 50,000 never loaded).

Timing never decides a test: these count the work instead — wire comparisons and per-node scans
of the wire list — for two sizes, and require it to grow in proportion.
benchmarks/bench_graph_core.py --chains measures the seconds (docs/benchmarks.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import graph_core as gc
from graph_core import Edge, Graph

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_graph_core import chain_file  # noqa: E402


def _work(nodes: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    path = tmp_path / f"chain_{nodes}.json"
    chain_file(nodes, path)
    calls = [0]
    eq, edges_into = Edge.__eq__, Graph.edges_into

    def counting_eq(self: Edge, other: object) -> bool:
        calls[0] += 1
        return eq(self, other)

    def counting_edges_into(self: Graph, *args: object) -> list:
        calls[0] += len(self.edges)  # one scan of every wire
        return edges_into(self, *args)

    monkeypatch.setattr(Edge, "__eq__", counting_eq)
    monkeypatch.setattr(Graph, "edges_into", counting_edges_into)
    graph = gc.load_graph(path)
    issues = gc.validate(graph)
    monkeypatch.undo()
    assert not gc.errors(issues) and len(graph.nodes) == nodes
    return calls[0]


def test_load_and_validate_do_work_in_proportion_to_the_graph(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = _work(1000, tmp_path, monkeypatch), _work(4000, tmp_path, monkeypatch)
    # quadratic work grows 16-fold from 1,000 to 4,000 nodes; linear work 4-fold
    assert large <= 4.5 * max(small, 1) + 50, (small, large)

