"""The pieces that keep inference fast must not change its answers (timing itself lives in
benchmarks/, never in a test)."""

from __future__ import annotations

import gc as pygc
import importlib.util
from pathlib import Path

import pytest

import graph_core as gc
from graph_core.shapes import cyclic_gc_paused
from tests.graph_core.helpers import chain

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_graph_core.py"


def test_the_benchmark_graph_is_valid_and_exactly_the_size_asked() -> None:
    spec = importlib.util.spec_from_file_location("bench_graph_core", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    g = bench.build_graph(1000)
    assert len(g.nodes) == 1000
    types = {n.type for n in g.nodes.values()}
    assert {"Conv2d", "BatchNorm", "Add", "Concat", "Block", "MaxPool2d"} <= types
    shapes = gc.infer_shapes(g)
    assert gc.validate(g, shapes) == []
    assert all(s.known for s in shapes.values())


def test_remembered_parameters_never_confuse_similar_values() -> None:
    dense = gc.get_spec("Dense")
    assert dense.resolve({"out_features": 3})["out_features"] == 3
    with pytest.raises(gc.ParamError, match="must be a whole number; got True"):
        dense.resolve({"out_features": True})  # True == 1 and hashes alike: the cache must tell them apart
    assert dense.resolve({"out_features": 1})["out_features"] == 1
    resolved = dense.resolve({"out_features": 4})
    resolved["out_features"] = 99  # a caller changing its copy changes nothing for the next one
    assert dense.resolve({"out_features": 4})["out_features"] == 4


def test_editing_params_in_place_is_seen_by_the_next_inference() -> None:
    g = chain((10,), ("Dense", {"out_features": 3}))
    assert gc.infer_shapes(g)["n1"].output_shape == (3,)
    g.nodes["n1"].params["out_features"] = 5
    assert gc.infer_shapes(g)["n1"].output_shape == (5,)


def test_the_collector_pause_restores_what_it_found() -> None:
    assert pygc.isenabled()
    with cyclic_gc_paused():
        assert not pygc.isenabled()
        with cyclic_gc_paused():
            assert not pygc.isenabled()
        assert not pygc.isenabled(), "an inner pause must not re-enable early"
    assert pygc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("boom")
    assert pygc.isenabled()
    pygc.disable()
    try:
        gc.validate(chain((10,), ("Dense", {})))
        assert not pygc.isenabled(), "a program that disabled the collector keeps it disabled"
    finally:
        pygc.enable()
