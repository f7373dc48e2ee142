"""Reading an ONNX file safely: parse, check, and refuse what cannot be trusted, in one line.

An ONNX file is a protobuf message; parsing it runs no code from the file. What can still go
wrong is a file that is not ONNX, is truncated, is huge, points at external data files, or is
internally inconsistent (edges to values nothing produces, types that do not agree). Each of
these becomes an `ImportRefused` with one clear line; the importer never shows a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

MAX_FILE_BYTES = 2 << 30  # protobuf's own limit; anything larger cannot be one ONNX message
OLDEST_OPSET = 7


@dataclass(frozen=True)
class Refusal:
    """One ONNX node the importer cannot map, and why."""

    node: str
    op_type: str
    why: str

    def __str__(self) -> str:
        return f"{self.node} ({self.op_type}): {self.why}"


class ImportRefused(ValueError):
    """The file cannot become a Netwright graph.

    Attributes:
        lines: one line per problem (for a malformed file, exactly one).
        refusals: the unmappable nodes, when that is the reason.
    """

    def __init__(self, lines: list[str] | str, refusals: list[Refusal] | None = None) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.refusals = list(refusals or [])
        super().__init__("\n".join(self.lines))


def read_model(path: str | os.PathLike, input_shape: Sequence[int] | None = None) -> onnx.ModelProto:
    """Parse, check and shape-infer an ONNX file without loading external data.

    `input_shape` (one sample, without the batch) fills the sizes the file leaves open on its
    first input (a model exported with a dynamic height and width).

    Raises:
        ImportRefused: the file is missing, not ONNX, truncated, inconsistent, too old, or
            keeps its weights in external files.
    """
    source = Path(path)
    if not source.is_file():
        raise ImportRefused(f"{source}: no such file")
    size = source.stat().st_size
    if size >= MAX_FILE_BYTES:
        raise ImportRefused(f"{source}: {size} bytes is larger than any ONNX file can be")
    return parse_model(source.read_bytes(), str(source), source.parent, input_shape)


def parse_model(data: bytes, where: str = "model", folder: Path | None = None,
                input_shape: Sequence[int] | None = None) -> onnx.ModelProto:
    """The checked model held by `data` (the bytes of an .onnx file); see `read_model`.

    Weights kept in external data files (what torch.onnx.export writes beside large models) are
    read from `folder`, and only from files directly inside it.
    """
    import onnx
    from google.protobuf.message import DecodeError

    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ImportRefused(f"{where}: not an ONNX file, or a truncated one ({_short(exc)})") from None
    if not model.graph.node and not model.graph.output:
        raise ImportRefused(f"{where}: not an ONNX model (no graph inside)")
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            _read_external(tensor, where, folder)
    if input_shape is not None:
        _fix_input_shape(model, input_shape, where)
    opset = default_opset(model)
    if opset < OLDEST_OPSET:
        raise ImportRefused(f"{where}: opset {opset} is older than {OLDEST_OPSET}; convert it with "
                            "onnx.version_converter first")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # the checker raises ValidationError and, on odd input, others
        raise ImportRefused(f"{where}: not a valid ONNX model ({_short(exc)})") from None
    if model.functions:
        try:
            import onnx.inliner

            model = onnx.inliner.inline_local_functions(model)
        except Exception as exc:
            raise ImportRefused(f"{where}: its local functions cannot be inlined ({_short(exc)})") from None
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as exc:
        raise ImportRefused(f"{where}: its shapes or types do not agree ({_short(exc)})") from None
    return model


def _read_external(tensor: onnx.TensorProto, where: str, folder: Path | None) -> None:
    """Move one tensor's external bytes into the message, refusing paths outside `folder`."""
    import onnx

    info = {e.key: e.value for e in tensor.external_data}
    location = info.get("location", "")
    if folder is None or not location or Path(location).name != location or location in (".", ".."):
        raise ImportRefused(f"{where}: tensor {tensor.name} points at external data {location!r}, "
                            "which is not a file beside the model")
    path = folder / location
    try:
        offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
        with path.open("rb") as fh:
            fh.seek(offset)
            raw = fh.read(length if length >= 0 else MAX_FILE_BYTES)
    except (OSError, ValueError) as exc:
        raise ImportRefused(f"{where}: cannot read the external data of {tensor.name} ({_short(exc)})") from None
    if length >= 0 and len(raw) != length:
        raise ImportRefused(f"{where}: the external data of {tensor.name} in {location} is truncated")
    tensor.raw_data = raw
    tensor.data_location = onnx.TensorProto.DEFAULT
    del tensor.external_data[:]


def _fix_input_shape(model: onnx.ModelProto, shape: Sequence[int], where: str) -> None:
    initializers = {t.name for t in model.graph.initializer}
    first = next((i for i in model.graph.input if i.name not in initializers), None)
    if first is None:
        raise ImportRefused(f"{where}: the model has no input to give a shape")
    dims = first.type.tensor_type.shape.dim
    if len(dims) != len(shape) + 1:
        raise ImportRefused(f"{where}: input {first.name} has {len(dims) - 1} axes besides the batch; "
                            f"--input-shape gives {len(shape)}")
    for k, (dim, size) in enumerate(zip(list(dims)[1:], shape), start=1):
        if dim.HasField("dim_value") and dim.dim_value != size:
            raise ImportRefused(f"{where}: input {first.name} has size {dim.dim_value} on axis {k}, "
                                f"--input-shape gives {size}")
        dim.dim_value = int(size)


def default_opset(model: onnx.ModelProto) -> int:
    """The version of the standard (ai.onnx) operator set the model uses."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
