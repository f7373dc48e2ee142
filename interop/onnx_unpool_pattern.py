"""torch.onnx's decomposition of max unpooling, read back as ONNX's MaxPool -> MaxUnpool.

torch.onnx's dynamo exporter has no MaxUnpool translation. For a PyTorch SegNet it writes:
  - each pool with indices as MaxPool plus a second MaxPool (kernel 1) whose first Indices per
    map, taken with a Slice, are subtracted (Sub): PyTorch numbers indices per map, ONNX over
    the whole tensor;
  - each unpool as arithmetic on the batch size (arange(N*C) * H*W added to the indices),
    ScatterND of the flattened map into flattened zeros of (N, C, H, W), and a Reshape back.
`fuse_torch_unpool` finds that chain from each ScatterND up and rewrites it into one standard
MaxUnpool reading the first MaxPool's own Indices (so the offsets added and subtracted vanish)
with output_shape the zeros' shape; the nodes only the chain read are dropped. Anything that
differs from the chain (another reader of an intermediate value, a fill other than zero, an
offset that reads more than tensor shapes) leaves the nodes as they are, to be refused by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .onnx_patterns import wiring

if TYPE_CHECKING:
    import onnx

ConstOf = Callable[[str], "np.ndarray | None"]

# what batch-offset arithmetic may be made of: shapes, constants and integer arithmetic
_SHAPE_OPS = {"Shape", "Constant", "Squeeze", "Unsqueeze", "Gather", "Slice", "Concat", "Cast", "Mul", "Add",
              "Range", "Reshape", "Expand", "Identity"}


def fuse_torch_unpool(nodes: list[onnx.NodeProto], const_of: ConstOf, outputs: set[str]) -> list[onnx.NodeProto]:
    """The node list with each decomposed unpool (and the per-map index conversion of its pool)
    replaced by one MaxUnpool; unchanged when there is none."""
    from onnx import helper

    producer, readers = wiring(nodes)
    replaced: dict[int, onnx.NodeProto | None] = {}
    for scatter in (n for n in nodes if n.op_type == "ScatterND" and len(n.input) == 3):
        try:
            match = _match(scatter, producer, readers, const_of, outputs)
        except (ValueError, IndexError, KeyError, TypeError):  # an odd file: its nodes are refused by name
            match = None
        if match is None:
            continue
        values, pool, shape, chain, reshape = match
        attrs = {a.name: helper.get_attribute_value(a) for a in pool.attribute}
        rank = len(attrs["kernel_shape"])
        window = {"kernel_shape": attrs["kernel_shape"], "strides": attrs.get("strides") or [1] * rank,
                  "pads": attrs.get("pads") or [0] * 2 * rank}
        name = scatter.name.replace("ScatterND", "MaxUnpool") if "ScatterND" in scatter.name else reshape.name
        unpool = helper.make_node("MaxUnpool", [values, pool.output[1], shape], [reshape.output[0]], name=name,
                                  **window)
        for n in chain:
            replaced[id(n)] = None
        replaced[id(reshape)] = unpool
    for unpool in (n for n in nodes if n.op_type == "MaxUnpool"):
        _drop_axis_round_trip(unpool, readers, const_of, outputs, replaced)
    if not replaced:
        return nodes
    kept = [replaced.get(id(n), n) for n in nodes]
    return _drop_dead([n for n in kept if n is not None], {id(n) for n in nodes if id(n) in replaced}, nodes,
                      outputs)


def _drop_axis_round_trip(unpool, readers, const_of, outputs, replaced) -> None:
    """MaxUnpool -> Unsqueeze -> Squeeze of the same axis (netwright's export of a 1-D unpool,
    whose torch code adds a trailing axis for a 2-D unpool and removes it after): an Identity."""
    from onnx import helper

    def axes(n):
        given = const_of(n.input[1]) if len(n.input) > 1 and n.input[1] else None
        if given is None:
            given = next((helper.get_attribute_value(a) for a in n.attribute if a.name == "axes"), None)
        return None if given is None else np.asarray(given).reshape(-1).tolist()

    users = readers.get(unpool.output[0], [])
    if len(users) != 1 or users[0].op_type != "Unsqueeze" or unpool.output[0] in outputs:
        return
    unsqueeze = users[0]
    after = readers.get(unsqueeze.output[0], [])
    if len(after) != 1 or after[0].op_type != "Squeeze" or unsqueeze.output[0] in outputs:
        return
    if axes(unsqueeze) is None or axes(unsqueeze) != axes(after[0]):
        return
    replaced[id(unsqueeze)] = None
    replaced[id(after[0])] = helper.make_node("Identity", [unpool.output[0]], [after[0].output[0]],
                                              name=after[0].name)


def _match(scatter, producer, readers, const_of, outputs):
    """(values, pool, output_shape name, nodes to remove, final Reshape) or None."""
    def made_by(name: str, op: str):
        n = producer.get(name)
        private = name not in outputs and len(readers.get(name, [])) == 1
        return n if n is not None and n.op_type == op and private else None

    def flat(n) -> bool:  # Reshape(x, [-1])
        c = const_of(n.input[1]) if len(n.input) > 1 else None
        return c is not None and np.asarray(c).reshape(-1).tolist() == [-1]

    data, index, update = scatter.input
    upd, zeros_flat = made_by(update, "Reshape"), made_by(data, "Reshape")
    unsq = made_by(index, "Unsqueeze")
    if not (upd and zeros_flat and unsq and flat(upd) and flat(zeros_flat)):
        return None
    idx_flat = made_by(unsq.input[0], "Reshape")
    zeros = made_by(zeros_flat.input[0], "ConstantOfShape")
    add = made_by(idx_flat.input[0], "Add") if idx_flat is not None and flat(idx_flat) else None
    if zeros is None or add is None or any(a.name == "value" and np.any(_tensor(a)) for a in zeros.attribute):
        return None
    found = _per_map_indices(add, producer, readers, outputs)
    if found is None:
        return None
    pool, conversion, offset = found
    if not _shape_only(offset, producer, set()):
        return None
    users = readers.get(scatter.output[0], [])
    if len(users) != 1 or users[0].op_type != "Reshape" or scatter.output[0] in outputs:
        return None
    shape = zeros.input[0]
    return upd.input[0], pool, shape, [scatter, upd, zeros_flat, unsq, idx_flat, zeros, add, *conversion], users[0]


def _per_map_indices(add, producer, readers, outputs):
    """For Add(indices, offset): the MaxPool, the Sub/Slice/kernel-1 MaxPool converting its
    Indices to PyTorch's per-map numbers, and the offset's name; None when not that."""
    for t, offset in (tuple(add.input), tuple(reversed(add.input))):
        sub = producer.get(t)
        if sub is None or sub.op_type != "Sub" or len(readers.get(t, [])) != 1 or t in outputs:
            continue
        pool, slice_ = producer.get(sub.input[0]), producer.get(sub.input[1])
        if (pool is None or slice_ is None or pool.op_type != "MaxPool" or slice_.op_type != "Slice"
                or len(pool.output) < 2):
            continue
        ones = producer.get(slice_.input[0])
        if (ones is None or ones.op_type != "MaxPool" or list(ones.input) != list(pool.input)
                or sub.input[0] != pool.output[1] or len(readers.get(sub.input[0], [])) != 1
                or len(readers.get(slice_.output[0], [])) != 1):
            continue
        from onnx import helper

        kernel = next((helper.get_attribute_value(a) for a in ones.attribute if a.name == "kernel_shape"), [])
        if any(k != 1 for k in kernel) or readers.get(ones.output[0]) or len(readers.get(ones.output[1], [])) != 1:
            continue
        return pool, [sub, slice_, ones], offset
    return None


def _shape_only(name: str, producer, seen: set[str], depth: int = 0) -> bool:
    """True when `name` is computed from tensor shapes and constants alone (no tensor's numbers)."""
    n = producer.get(name)
    if n is None or name in seen:
        return True  # an initializer, a graph input's name read only through Shape below, or seen
    if depth > 32 or n.op_type not in _SHAPE_OPS:
        return False
    seen.add(name)
    if n.op_type == "Shape":
        return True
    return all(not i or _shape_only(i, producer, seen, depth + 1) for i in n.input)


def _drop_dead(nodes, removed: set[int], original, outputs):
    """Also drop the nodes that fed only removed nodes (the offsets' arithmetic), going up."""
    producer = {o: n for n in original for o in n.output}
    gone = set(removed)
    frontier = [i for n in original if id(n) in gone for i in n.input]
    alive = list(nodes)
    while frontier:
        read = {i for n in alive for i in n.input} | outputs
        above = []
        for name in frontier:
            n = producer.get(name)
            if (n is None or id(n) in gone or n.op_type not in _SHAPE_OPS | {"ConstantOfShape"}
                    or any(o in read for o in n.output)):
                continue
            gone.add(id(n))
            above += list(n.input)
        alive = [n for n in alive if id(n) not in gone]
        frontier = above
    return alive


def _tensor(attr) -> np.ndarray:
    from onnx import numpy_helper

    return numpy_helper.to_array(attr.t)
