"""Small graph builders shared by the graph_core tests."""

from __future__ import annotations

from typing import Any

import graph_core as gc
from graph_core import Edge, Graph, Node


def chain(input_shape: tuple[int, ...] | list[int], *layers: tuple[str, dict[str, Any]],
          dtype: str = "float32", head: dict[str, Any] | None = None) -> Graph:
    """Input -> layer_1 -> ... -> layer_n -> Output; node ids are n1, n2, ... and head."""
    g = Graph(name="chain")
    g.nodes["x"] = Node("x", "Input", {"shape": list(input_shape), "dtype": dtype})
    prev = "x"
    for k, (type_name, params) in enumerate(layers, start=1):
        nid = f"n{k}"
        g.nodes[nid] = Node(nid, type_name, dict(params))
        g.edges.append(Edge((prev, "out"), (nid, "in")))
        prev = nid
    g.nodes["head"] = Node("head", "Output", head if head is not None else {"loss": "none"})
    g.edges.append(Edge((prev, "out"), ("head", "in")))
    return g


def out_shape(input_shape: tuple[int, ...], type_name: str, dtype: str = "float32",
              **params: Any) -> tuple[int, ...] | None:
    """The output shape of one node on one input; raises AssertionError on a shape error."""
    info = gc.infer_shapes(chain(input_shape, (type_name, params), dtype=dtype))["n1"]
    assert info.error is None, info.error
    return info.output_shape


def shape_error(input_shape: tuple[int, ...], type_name: str, dtype: str = "float32",
                **params: Any) -> str:
    """The shape error one node reports on one input (fails when there is none)."""
    info = gc.infer_shapes(chain(input_shape, (type_name, params), dtype=dtype))["n1"]
    assert info.error is not None, f"expected an error, got {info.output_shape}"
    return info.error


def add(g: Graph, nid: str, type_name: str, **params: Any) -> str:
    g.nodes[nid] = Node(nid, type_name, params)
    return nid


def wire(g: Graph, src: str, dst: str, src_port: str = "out", dst_port: str = "in") -> None:
    g.edges.append(Edge((src, src_port), (dst, dst_port)))


def messages(graph: Graph, severity: str | None = None) -> list[str]:
    """What `netwright validate` prints, one 'node-id: message' per issue."""
    return [str(i) for i in gc.validate(graph) if severity is None or i.severity == severity]
