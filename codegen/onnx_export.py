"""export_onnx: a graph (or one part of it) as one verified, self-contained ONNX file.

The compiled module, in eval mode, goes through torch.onnx's default (dynamo) exporter with a
dynamic batch axis named "batch" and input/output names from the node identifiers. The file is
written next to the target under a temporary name, checked with onnx.checker (full check),
and run in onnxruntime against PyTorch on random input of a different batch size; only when the
largest absolute difference is within the tolerance is it renamed into place. A failed export
leaves no file behind. Node types whose spec says they cannot be exported are refused before
anything is written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graph_core as gc
from graph_core import Graph

from .errors import ExportError
from .onnx_unpool import needs_unpool_translation, unpool_translations
from .parts import decoder_graph, resolve_part
from .source import check_graph, int_input_high

if TYPE_CHECKING:
    import torch

TOLERANCE = 1e-4
EXPORT_BATCH, CHECK_BATCH = 2, 3


@dataclass
class ExportReport:
    """What was exported and how well onnxruntime agrees with PyTorch.

    Attributes:
        path: the written file.
        part: "full", "decoder", "generator" or "discriminator".
        max_abs_diff: the largest |onnxruntime - PyTorch| over every output.
        inputs / outputs: (name, shape with "batch" first, dtype) of the model's tensors.
        opset: the ONNX opset of the file.
        size_bytes: the file size.
        seconds: time taken by export and verification.
    """

    path: Path
    part: str
    max_abs_diff: float
    inputs: list[tuple[str, tuple, str]] = field(default_factory=list)
    outputs: list[tuple[str, tuple, str]] = field(default_factory=list)
    opset: int = 0
    size_bytes: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        ins = ", ".join(f"{n} {_fmt_shape(s)}" for n, s, _ in self.inputs)
        outs = ", ".join(f"{n} {_fmt_shape(s)}" for n, s, _ in self.outputs)
        return (f"{self.path}: {self.part} model, inputs {ins}; outputs {outs}; opset {self.opset}; "
                f"{self.size_bytes / 1e6:.1f} MB; onnxruntime matches PyTorch to {self.max_abs_diff:.2e}")


@dataclass
class _Target:
    module: Any
    input_names: list[str]
    input_types: list[gc.TensorType]
    output_names: list[str]
    unpools: bool = False  # write pools with indices and unpools as ONNX's MaxPool -> MaxUnpool


def unexportable(graph: Graph) -> list[str]:
    """'node-id: reason' for every node (blocks included) whose type cannot go to ONNX."""
    out = []
    for g, prefix in [(graph, "")] + [(b, f"{name}/") for name, b in graph.blocks.items()]:
        for node in g.nodes.values():
            if gc.has_spec(node.type) and gc.get_spec(node.type).onnx is not None:
                out.append(f"{prefix}{node.id}: {node.type} cannot be exported to ONNX: "
                           f"{gc.get_spec(node.type).onnx}")
    return out


def export_onnx(graph: Graph, path: str | os.PathLike, weights: str | os.PathLike | None = None,
                part: str | None = None, tolerance: float = TOLERANCE,
                dynamic_length: bool = False) -> ExportReport:
    """Export the graph's model (or one part) to ONNX and verify it in onnxruntime.

    Args:
        graph: a valid graph.
        path: the .onnx file to write.
        weights: a weights file for the full model (see `load_weights`); random init without.
        part: None (the model; a GAN's generator), "decoder" (VAE), "generator" or
            "discriminator" (GAN).
        tolerance: the largest max-abs difference accepted.
        dynamic_length: also leave each input's first axis after the batch (a sequence's
            length) open, named "length_<input>", and verify at a shorter length: a translator
            then takes sentences of any length up to the one it was drawn with.

    Raises:
        GraphInvalidError: the graph has validation errors.
        ExportError: a node cannot be exported, the part does not exist, the exporter failed,
            or onnxruntime disagrees with PyTorch; the target file is then left untouched.
    """
    import torch

    started = time.perf_counter()
    check_graph(graph)
    which = resolve_part(graph, part)
    refused = unexportable(graph)
    if refused:
        raise ExportError("cannot export to ONNX:\n" + "\n".join(f"  {r}" for r in refused))
    target = _target(graph, which, weights)
    target.unpools = needs_unpool_translation(graph)
    target.module.eval()
    target_path = Path(path)
    tmp = target_path.with_name(f".{target_path.name}.partial")
    high = int_input_high(graph)
    try:
        with torch.no_grad():
            _export(target, tmp, high, dynamic_length)
        diff, outputs = _verify(target, tmp, high, tolerance, dynamic_length)
        os.replace(tmp, target_path)
    finally:
        tmp.unlink(missing_ok=True)
    import onnx

    opset = next((o.version for o in onnx.load(str(target_path), load_external_data=False).opset_import
                  if o.domain in ("", "ai.onnx")), 0)
    inputs = [(n, ("batch", *_axes(n, t.shape, dynamic_length)), t.dtype)
              for n, t in zip(target.input_names, target.input_types)]
    return ExportReport(target_path, which, diff, inputs, outputs, opset, target_path.stat().st_size,
                        time.perf_counter() - started)


def _target(graph: Graph, which: str, weights: str | os.PathLike | None) -> _Target:
    from .compiler import build_module
    from .weights import load_weights

    full = build_module(graph)
    if weights is not None:
        load_weights(full, weights)
    gen = full.generated
    if which == "full":
        return _Target(full, [n for _, n in gen.inputs], list(gen.input_types),
                       [n for _, n in gen.outputs] or ["score"])
    if which == "generator":
        ids = gen.gan["generator_inputs"]
        names = dict(gen.inputs)
        types = dict(zip((i for i, _ in gen.inputs), gen.input_types))
        return _Target(full.generator, [names[i] for i in ids], [types[i] for i in ids], ["sample"])
    if which == "discriminator":
        # a conditional discriminator takes the (condition, sample) pair as one tensor
        judged = gc.TensorType(tuple(gen.gan.get("discriminator_shape", gen.gan["sample_shape"])))
        return _Target(full.discriminator, ["sample"], [judged], ["score"])
    dec_graph = decoder_graph(graph)
    dec = build_module(dec_graph)
    _copy_weights(full, dec)
    dgen = dec.generated
    return _Target(dec, [n for _, n in dgen.inputs], list(dgen.input_types), [n for _, n in dgen.outputs])


def _copy_weights(full: Any, part: Any) -> None:
    """Give the part's submodules the full model's weights, matched by node id."""
    source = full.generated.node_paths
    for path, attr in part.generated.node_paths.items():
        if path in source:
            part.get_submodule(attr).load_state_dict(full.get_submodule(source[path]).state_dict())


def example_inputs(types: list[gc.TensorType], batch: int, high: int, seed: int) -> list[torch.Tensor]:
    """Random inputs of the declared shapes; int64 ones within every lookup table's range."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = []
    for t in types:
        if t.dtype == "int64":
            out.append(torch.randint(0, high, (batch, *t.shape), generator=gen))
        else:
            out.append(torch.randn((batch, *t.shape), generator=gen))
    return out


def _export(target: _Target, tmp: Path, high: int, dynamic_length: bool = False) -> None:
    import torch

    args = tuple(example_inputs(target.input_types, EXPORT_BATCH, high, seed=0))
    batch = torch.export.Dim("batch")
    dynamic = []
    for name, x in zip(target.input_names, args):
        axes = {0: batch}
        if dynamic_length and x.dim() > 1:
            axes[1] = torch.export.Dim(f"length_{name}", min=2, max=4096)
        dynamic.append(axes)
    table = unpool_translations() if target.unpools else None
    try:
        with _quiet(), _fresh_rnn_dispatch():
            torch.onnx.export(target.module, args, str(tmp), dynamo=True, external_data=False,
                              verbose=False, input_names=target.input_names,
                              output_names=target.output_names, dynamic_shapes=tuple(dynamic),
                              custom_translation_table=table)
    except Exception as exc:
        raise ExportError(f"the ONNX exporter failed: {type(exc).__name__}: {_first_line(exc)}") from exc


@contextlib.contextmanager
def _fresh_rnn_dispatch():
    """Make an export trace aten.lstm / aten.gru afresh, whatever earlier exports left behind.

    With dynamic shapes, torch.onnx swaps in while_loop decompositions of these ops (so a
    sequence length can stay open); two process-wide caches make a second export in one process
    fix the length silently (sizes those of the example input):
      - the swap assigns to the op's py_kernels without clearing the op's per-dispatch-key
        cache, which an earlier export left holding the ordinary decomposition: that one unrolls
        the loop over the example's time steps;
      - while_loop runs through torch.compile, and Dynamo's code for its wrapper, compiled
        by an earlier export at a static length, is reused for the symbolic one (its guards
        pass on the example's sizes), so the loop body keeps the static bounds.
    Both are cleared before the export and after it (so nothing of it lingers); nothing else of
    Dynamo's (a training run's torch.compile) is touched.
    """
    import importlib

    import torch
    from torch._dynamo.eval_frame import reset_code

    ops = [torch.ops.aten.lstm.input, torch.ops.aten.gru.input]
    loop = importlib.import_module("torch._higher_order_ops.while_loop").while_loop
    codes = [c for c in loop.__code__.co_consts if getattr(c, "co_name", "") == "_while_loop_op_wrapper"]

    def clear() -> None:
        for op in ops:
            op._dispatch_cache.clear()
        for code in codes:
            reset_code(code)

    clear()
    try:
        yield
    finally:
        clear()


def _axes(name: str, shape: tuple[int, ...], dynamic_length: bool) -> tuple:
    if dynamic_length and shape:
        return (f"length_{name}", *shape[1:])
    return tuple(shape)


def _shorter(types: list[gc.TensorType]) -> list[gc.TensorType]:
    """The same inputs, each sequence a little shorter: what a dynamic length is checked at."""
    import dataclasses

    return [dataclasses.replace(t, shape=(max(2, t.shape[0] - 2), *t.shape[1:])) if t.shape else t
            for t in types]


def _verify(target: _Target, tmp: Path, high: int, tolerance: float,
            dynamic_length: bool = False) -> tuple[float, list]:
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    try:
        onnx.checker.check_model(str(tmp), full_check=True)
    except Exception as exc:
        raise ExportError(f"the written model fails onnx.checker: {_first_line(exc)}") from exc
    types = _shorter(target.input_types) if dynamic_length else target.input_types
    inputs = example_inputs(types, CHECK_BATCH, high, seed=1)
    with torch.no_grad():
        expected = target.module(*inputs)
    expected = list(expected.values()) if isinstance(expected, dict) else [expected]
    session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    feed = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)}
    try:
        got = session.run(None, feed)
    except Exception as exc:
        raise ExportError(f"onnxruntime cannot run the written model: {_first_line(exc)}") from exc
    if len(got) != len(expected):
        raise ExportError(f"onnxruntime returned {len(got)} outputs; PyTorch {len(expected)}")
    diff = max(float(np.max(np.abs(g - e.numpy()), initial=0.0)) for g, e in zip(got, expected))
    if not diff <= tolerance:  # also catches NaN
        raise ExportError(f"onnxruntime disagrees with PyTorch: max abs difference {diff:.3g} "
                          f"exceeds {tolerance:g}; nothing was written")
    outputs = [(o.name, ("batch", *e.shape[1:]), str(e.dtype).replace("torch.", ""))
               for o, e in zip(session.get_outputs(), expected)]
    return diff, outputs


@contextlib.contextmanager
def _quiet():
    """Silence the exporter's progress chatter and its warnings about our own code."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo",
                                              "torch.fx.experimental.symbolic_shapes",
                                              "torch.onnx._internal.exporter._registration")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with open(os.devnull, "w") as sink, warnings.catch_warnings(), \
                contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fmt_shape(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"
