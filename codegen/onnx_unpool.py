"""Max pooling with indices and max unpooling written as ONNX's own MaxPool -> MaxUnpool.

torch.onnx's dynamo exporter has no ONNX translation for aten.max_unpool2d/3d: it decomposes
each unpool into batch-offset arithmetic and a ScatterND, and turns each pool's indices into
PyTorch's per-map numbering with a second MaxPool and a Sub. The file then runs, but no reader
(Netwright's importer included) sees an unpool in it. These translations write what other tools
write instead: the pool's MaxPool hands its Indices (ONNX numbers them over the whole tensor)
straight to a MaxUnpool whose output_shape input is the pool's input size, with the batch and
channels read from the map. The indices tensor between them is then in ONNX's numbering, not
PyTorch's; in a Netwright graph a pool's indices feed only unpools, and the export's
onnxruntime check compares every output with PyTorch, so nothing else can read them unnoticed.

A 1-D unpool reaches the exporter as a 2-D one on maps given a trailing axis of 1; it is written
as a 1-D MaxUnpool on the original maps, the trailing axis added back after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graph_core import Graph

# Unsqueeze and Squeeze of a pool's indices keep ONNX's numbers: an axis of size 1 adds nothing
_PASS_THROUGH = ("Unsqueeze", "Squeeze", "Identity")


def needs_unpool_translation(graph: Graph) -> bool:
    """True when the graph (or one of its blocks) has a max unpool."""
    graphs = [graph, *graph.blocks.values()]
    return any(n.type.startswith("MaxUnpool") for g in graphs for n in g.nodes.values())


def unpool_translations() -> dict[Any, Callable]:
    """torch.onnx custom_translation_table entries for the pools with indices and the unpools."""
    import torch

    aten = torch.ops.aten
    return {aten.max_pool1d_with_indices.default: _pool(1),
            aten.max_pool2d_with_indices.default: _pool(2),
            aten.max_pool3d_with_indices.default: _pool(3),
            aten.max_unpool2d.default: _unpool(2),
            aten.max_unpool3d.default: _unpool(3)}


def _sizes(value: Sequence[int] | int | None, rank: int, default: Sequence[int]) -> list[int]:
    """aten's int[rank] argument as a full list: empty means the default, one value repeats."""
    if isinstance(value, int):
        value = [value]
    value = [int(v) for v in value] if value else [int(v) for v in default]
    return value * rank if len(value) == 1 else value


def _pool(rank: int) -> Callable:
    from onnxscript import opset18 as op

    def max_pool_with_indices(self, kernel_size, stride=(), padding=(0,), dilation=(1,), ceil_mode=False):
        kernel = _sizes(kernel_size, rank, ())
        pads = _sizes(padding, rank, (0,))
        return op.MaxPool(self, kernel_shape=kernel, strides=_sizes(stride, rank, kernel), pads=pads + pads,
                          dilations=_sizes(dilation, rank, (1,)), ceil_mode=int(bool(ceil_mode)))

    return max_pool_with_indices


def _unpool(rank: int) -> Callable:
    from onnxscript import opset18 as op

    def max_unpool(self, indices, output_size, stride=(), padding=()):  # the last two: 3-D only
        size = [int(v) for v in output_size]
        lifted = _lifted_1d(self, indices, rank, size)
        if lifted is not None:
            x, idx, pool = lifted
            out = op.MaxUnpool(x, idx, op.Concat(op.Shape(x, start=0, end=2), op.Constant(value_ints=size[:1]),
                                                 axis=0), **_window(pool, 1))
            return op.Unsqueeze(out, op.Constant(value_ints=[-1]))
        shape = op.Concat(op.Shape(self, start=0, end=2), op.Constant(value_ints=size), axis=0)
        return op.MaxUnpool(self, indices, shape, **_window(_source_pool(indices), rank))

    return max_unpool


def _source_pool(value: Any) -> Any:
    """The MaxPool node whose Indices `value` is (through Unsqueeze/Squeeze), or None."""
    node = value.producer()
    while node is not None and node.op_type in _PASS_THROUGH:
        node = node.inputs[0].producer()
    return node if node is not None and node.op_type == "MaxPool" else None


def _lifted_1d(x: Any, indices: Any, rank: int, size: list[int]) -> tuple[Any, Any, Any] | None:
    """For F.max_unpool1d's 2-D unpool: the 1-D map, indices and pool under the Unsqueezes."""
    if rank != 2 or size[1:] != [1]:
        return None
    x_node, idx_node = x.producer(), indices.producer()
    if x_node is None or idx_node is None or x_node.op_type != "Unsqueeze" or idx_node.op_type != "Unsqueeze":
        return None
    pool = _source_pool(idx_node.inputs[0])
    if pool is None or len(pool.attributes["kernel_shape"].as_ints()) != 1:
        return None
    return x_node.inputs[0], idx_node.inputs[0], pool


def _window(pool: Any, rank: int) -> dict[str, list[int]]:
    """MaxUnpool's window attributes: the pool's own, so a reader sees the pair match.

    Without a pool (not expected in a Netwright graph) a window of 1 still runs: output_shape
    sets the size, and onnxruntime only asks that it is at least the window's.
    """
    if pool is None:
        return {"kernel_shape": [1] * rank, "strides": [1] * rank}
    attrs = pool.attributes
    kernel = list(attrs["kernel_shape"].as_ints())
    strides = list(attrs["strides"].as_ints()) if "strides" in attrs else [1] * len(kernel)
    pads = list(attrs["pads"].as_ints()) if "pads" in attrs else [0] * 2 * len(kernel)
    return {"kernel_shape": kernel, "strides": strides, "pads": pads}
