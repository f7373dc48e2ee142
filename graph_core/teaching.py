"""Teaching overlays: what a card or a wire shows on hover, derived here as plain text so the
designer only displays it.

For a node: the output-size formula with this node's own numbers
(`floor((28 + 2*1 - 3) / 1) + 1 = 28`), how its parameter count comes about
(`5*5*1*6 + 6 = 156`) and its receptive field (how many input pixels one output value sees).
For a wire: the tensor it carries, its size per sample and the receptive field of its source.
Pure functions over a graph and its inferred shapes; no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .graph import Edge, Graph
from .layers.generative import judged_sample
from .shapes import NodeShapes, infer_shapes, topological_order
from .specs import TensorType, format_shape, get_spec, has_spec

WHOLE = "whole"  # a receptive field that covers the whole input (after Flatten, Dense, global pools)
# Receptive field per spatial axis and the jump (input pixels between neighbouring outputs).
Field = tuple[tuple[float, ...], tuple[float, ...]]


def explain_node(graph: Graph, node_id: str, shapes: Mapping[str, NodeShapes] | None = None,
                 fields: Mapping[str, Field | str | None] | None = None) -> str:
    """The overlay text of one node: formula, parameter derivation, receptive field (each when known)."""
    shapes = infer_shapes(graph) if shapes is None else shapes
    fields = receptive_fields(graph, shapes) if fields is None else fields
    node, info = graph.nodes[node_id], shapes[node_id]
    lines: list[str] = []
    if info.known and has_spec(node.type):
        params = get_spec(node.type).resolve(node.params)
        x = _single(info)
        y = info.main_output
        if x is not None and y is not None:
            lines += size_formula(node.type, params, x, y)
        if node.type == "Discriminator":
            lines.append(judged_text(info))
            x = info.inputs["fake"][0]
        derivation = param_derivation(node.type, params, x, info.params or 0)
        if derivation:
            lines.append(f"parameters: {derivation}")
    rf = describe_field(fields.get(node_id))
    if rf:
        lines.append(f"receptive field: {rf}")
    return "\n".join(lines)


def explain_wire(graph: Graph, edge: Edge, shapes: Mapping[str, NodeShapes] | None = None,
                 fields: Mapping[str, Field | str | None] | None = None) -> str:
    """The overlay text of one wire: what it carries and what each of its values has seen."""
    shapes = infer_shapes(graph) if shapes is None else shapes
    info = shapes.get(edge.src[0])
    t = None if info is None else info.outputs.get(edge.src[1])
    if t is None:
        return ""
    size = math.prod(t.shape)
    width = 8 if t.dtype == "int64" else 4
    lines = [f"carries {format_shape(t.shape)} {t.dtype}: {size:,} values, {_bytes(size * width)} per sample"]
    fields = receptive_fields(graph, shapes) if fields is None else fields
    rf = describe_field(fields.get(edge.src[0]))
    if rf:
        lines.append(f"receptive field: {rf}")
    return "\n".join(lines)


def size_formula(type_name: str, params: Mapping, x: TensorType, y: TensorType) -> list[str]:
    """One line per spatial axis: PyTorch's output-size formula with this node's numbers."""
    rank = x.rank - 1
    if type_name.startswith(("Conv", "MaxPool", "AvgPool")) and not type_name.startswith("ConvTranspose"):
        k, d = _axes(params["kernel_size"], rank), _axes(params.get("dilation", 1), rank)
        s = k if params.get("stride", 1) is None else _axes(params.get("stride", 1), rank)
        pad = _padding(params, k, d, rank)
        ceil = params.get("ceil_mode", False)
        out = []
        for n, kk, ss, pp, dd, o in zip(x.shape[1:], k, s, pad, d, y.shape[1:]):
            span = f"{kk}" if dd == 1 else f"{dd}*({kk} - 1) - 1"
            rounding = "ceil" if ceil else "floor"
            out.append(f"{rounding}(({n} + 2*{pp} - {span}) / {ss}) + 1 = {o}")
        return [_label("output size", out)]
    if type_name.startswith("ConvTranspose"):
        k, s, d, p, op = (_axes(params.get(n, dflt), rank) for n, dflt in
                          (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("padding", 0), ("output_padding", 0)))
        out = [f"({n} - 1)*{ss} - 2*{pp} + {dd}*({kk} - 1) + {oo} + 1 = {o}"
               for n, kk, ss, pp, dd, oo, o in zip(x.shape[1:], k, s, p, d, op, y.shape[1:])]
        return [_label("output size", out)]
    if type_name == "Upsample" and params.get("size") is None:
        f = params["scale_factor"]
        return [_label("output size", [f"floor({n} * {f:g}) = {o}" for n, o in zip(x.shape[1:], y.shape[1:])])]
    if type_name in ("Pad", "Crop") and x.shape != y.shape:
        sign = "+" if type_name == "Pad" else "-"
        out = [f"{n} {sign} {abs(o - n)} = {o}" for n, o in zip(x.shape, y.shape) if n != o]
        return [_label("output size", out)]
    if type_name == "Flatten":
        return [f"output size: {' * '.join(str(n) for n in x.shape)} = {math.prod(x.shape)}"]
    return []


def judged_text(info: NodeShapes) -> str:
    """What a Discriminator's block judges: one sample, or the (condition, sample) pair."""
    fake = info.inputs["fake"][0]
    if not info.inputs.get("condition"):
        return f"judges one sample {format_shape(fake.shape)} at a time (real or generated)"
    cond, pair = info.inputs["condition"][0], judged_sample(info.inputs).shape
    return (f"judges pairs: concat(condition {format_shape(cond.shape)}, sample {format_shape(fake.shape)}) "
            f"on the channels = {format_shape(pair)}, {cond.shape[0]} + {fake.shape[0]} = {pair[0]} channels "
            "into the block's first layer")


def param_derivation(type_name: str, params: Mapping, x: TensorType | None, count: int) -> str:
    """How the parameter count comes about, with this node's numbers ('' for none)."""
    if x is None or count == 0:
        return ""
    bias = params.get("bias", True)
    if type_name.startswith(("Conv1d", "Conv2d", "Conv3d", "ConvTranspose")):
        rank = x.rank - 1
        k = _axes(params["kernel_size"], rank)
        c_in, c_out, g = x.shape[0], params["out_channels"], params["groups"]
        per = f"{c_in // g}*{c_out}" if not type_name.startswith("ConvTranspose") else f"{c_in}*{c_out // g}"
        text = "*".join(str(v) for v in k) + f"*{per}" + (f" + {c_out}" if bias else "")
        return f"{text} = {count:,}  (kernel × inputs per group × filters{' + a bias per filter' if bias else ''})"
    if type_name == "Dense":
        n_in, n_out = x.shape[-1], params["out_features"]
        return f"{n_in}*{n_out}" + (f" + {n_out}" if bias else "") + f" = {count:,}  (a weight per input and neuron" \
            + (", a bias per neuron)" if bias else ")")
    if type_name in ("BatchNorm", "GroupNorm", "InstanceNorm"):
        return f"2*{x.shape[0]} = {count:,}  (a scale and a shift per channel)"
    if type_name == "LayerNorm":
        return f"2*{count // 2} = {count:,}  (a scale and a shift per normalised value)"
    if type_name == "Embedding":
        return f"{params['num_embeddings']}*{params['embedding_dim']} = {count:,}  (a vector per token id)"
    if type_name == "PReLU":
        return f"{count:,} learned slope{'s' if count != 1 else ''}"
    if type_name in ("Block", "Discriminator"):
        return f"{count:,}  (the sum of the layers inside)"
    return f"{count:,}"


def receptive_fields(graph: Graph, shapes: Mapping[str, NodeShapes] | None = None,
                     feed: Mapping[str, Field | str | None] | None = None,
                     depth: int = 0) -> dict[str, Field | str | None]:
    """Per node its receptive field: (sizes, jumps) per spatial axis, WHOLE, or None (unknown)."""
    shapes = infer_shapes(graph) if shapes is None else shapes
    out: dict[str, Field | str | None] = {}
    for nid in topological_order(graph):
        node, info = graph.nodes[nid], shapes.get(nid)
        if info is None or not info.known:
            out[nid] = None
            continue
        arriving = [out.get(e.src[0]) for e in graph.edges_into(nid, "in")]
        if node.type == "Input":
            y = info.main_output
            given = feed.get(nid) if feed is not None else None
            out[nid] = given if feed is not None else (((1.0,) * (y.rank - 1), (1.0,) * (y.rank - 1))
                                                         if y is not None and y.rank >= 2 else None)
        elif node.type == "Block" and depth < 8:
            out[nid] = _block_field(graph, node, info, out, depth)
        else:
            params = get_spec(node.type).resolve(node.params) if has_spec(node.type) else {}
            out[nid] = _step(node.type, params, arriving, _single(info), info.main_output)
    return out


def describe_field(field: Field | str | None) -> str:
    if field is None:
        return ""
    if field == WHOLE:
        return "every value of the input"
    sizes = [math.ceil(s) for s in field[0]]
    if not sizes:
        return ""
    return "×".join(str(s) for s in sizes) + " input pixels per value"


# ---- helpers ---------------------------------------------------------------------------------


def _step(type_name: str, params: Mapping, arriving: list, x: TensorType | None,
          y: TensorType | None) -> Field | str | None:
    if not arriving or any(a is None for a in arriving):
        return None
    if any(a == WHOLE for a in arriving):
        return WHOLE
    if len(arriving) > 1:  # Add, Concat, Multiply: the widest view, the finest step
        sizes = tuple(max(v) for v in zip(*(a[0] for a in arriving)))
        jumps = tuple(min(v) for v in zip(*(a[1] for a in arriving)))
        return sizes, jumps
    rf, jump = arriving[0]
    rank = len(rf)
    if type_name in ("Flatten", "Dense", "GlobalAvgPool", "GlobalMaxPool", "Reshape") or y is None or x is None:
        return WHOLE if type_name != "Reshape" or y is None or y.rank != x.rank else (rf, jump)
    if type_name.startswith(("Conv1d", "Conv2d", "Conv3d", "MaxPool", "AvgPool")):
        k = _axes(params["kernel_size"], rank)
        s = k if params.get("stride", 1) is None else _axes(params.get("stride", 1), rank)
        d = _axes(params.get("dilation", 1), rank)
        return (tuple(r + (kk - 1) * dd * j for r, kk, dd, j in zip(rf, k, d, jump)),
                tuple(j * ss for j, ss in zip(jump, s)))
    if type_name.startswith("ConvTranspose"):
        k, s = _axes(params["kernel_size"], rank), _axes(params["stride"], rank)
        return (tuple(r + (math.ceil(kk / ss) - 1) * j for r, kk, ss, j in zip(rf, k, s, jump)),
                tuple(j / ss for j, ss in zip(jump, s)))
    if type_name.startswith("Adaptive"):
        k = tuple(math.ceil(n / o) for n, o in zip(x.shape[1:], y.shape[1:]))
        s = tuple(max(1, n // o) for n, o in zip(x.shape[1:], y.shape[1:]))
        return (tuple(r + (kk - 1) * j for r, kk, j in zip(rf, k, jump)), tuple(j * ss for j, ss in zip(jump, s)))
    if type_name in ("Upsample",) or type_name.startswith("MaxUnpool"):
        factor = tuple(o / n for n, o in zip(x.shape[1:], y.shape[1:]))
        return rf, tuple(j / f for j, f in zip(jump, factor))
    if y.rank != x.rank:
        return None  # a layer that changes the layout in a way this does not follow
    return rf, jump  # element-wise layers, norms, Pad, Crop: each value sees what its input saw


def _block_field(graph: Graph, node, info: NodeShapes, out: Mapping, depth: int) -> Field | str | None:
    block = graph.blocks.get(str(node.params.get("block", "block")))
    if block is None:
        return None
    feed = {e.dst[1]: out.get(e.src[0]) for e in graph.edges_into(node.id)}
    inner_shapes = infer_shapes(block, graph.blocks, {p: ts[0] for p, ts in info.inputs.items() if ts})
    inner = receptive_fields(block, inner_shapes, feed, depth + 1)
    first = next(iter(block.nodes_of_type("Output")), None)
    wires = block.edges_into(first.id, "in") if first is not None else []
    return inner.get(wires[0].src[0]) if wires else None


def _single(info: NodeShapes) -> TensorType | None:
    wires = info.inputs.get("in") or []
    return wires[0] if len(wires) == 1 and wires[0] is not None else None


def _axes(value, rank: int) -> tuple[int, ...]:
    if isinstance(value, int | float):
        return (int(value),) * rank
    return tuple(value)


def _padding(params: Mapping, k: tuple[int, ...], d: tuple[int, ...], rank: int) -> tuple[int, ...]:
    padding = params.get("padding", 0)
    if padding == "valid":
        return (0,) * rank
    if padding == "same":
        return tuple(dd * (kk - 1) // 2 for kk, dd in zip(k, d))
    return _axes(padding, rank)


def _label(name: str, parts: list[str]) -> str:
    if not parts:
        return ""
    if len(set(parts)) == 1:
        return f"{name}: {parts[0]}"
    return f"{name}: " + "; ".join(parts)


def _bytes(n: int) -> str:
    for unit, size in (("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"
