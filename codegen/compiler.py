"""compile_graph: execute exactly the generated source and hand back the module.

The source is compiled under a filename like "<netwright:vgg16:1a2b3c4d>" and registered in linecache,
so tracebacks show the generated lines; an exception inside forward is re-raised as a
NodeRuntimeError naming the node whose line failed. Also: optimizer parameter groups that
honour frozen nodes and learning-rate factors.
"""

from __future__ import annotations

import hashlib
import linecache
import types
from typing import TYPE_CHECKING, Any

import graph_core as gc
from graph_core import Graph

from .errors import NodeRuntimeError
from .source import GeneratedSource, generate_source

if TYPE_CHECKING:
    import torch


def source_filename(graph: Graph, generated: GeneratedSource) -> str:
    """The pseudo-filename tracebacks show for a graph's generated code.

    A short hash of the source tells apart successive versions of the same graph, so the
    linecache entry of a model compiled earlier is not overwritten by a later edit.
    """
    digest = hashlib.sha1(generated.source.encode("utf-8")).hexdigest()[:8]
    # compile() refuses a NUL in a filename and a traceback shows it on one line: keep the
    # name's printable characters only (a graph named "a\x00b" is "<netwright:ab:...>")
    name = "".join(c for c in graph.name if c.isprintable())[:60]
    return f"<netwright:{name}:{digest}>"


def load_source(generated: GeneratedSource, filename: str) -> types.ModuleType:
    """Execute generated source as a fresh module (not in sys.modules) and return it."""
    module = types.ModuleType("netwright_generated")
    module.__file__ = filename
    lines = generated.source.splitlines(keepends=True)
    linecache.cache[filename] = (len(generated.source), None, lines, filename)
    code = compile(generated.source, filename, "exec")
    exec(code, module.__dict__)  # noqa: S102 — our own generated text, identifiers allocated
    return module


def build_module(graph: Graph, generated: GeneratedSource | None = None) -> torch.nn.Module:
    """Instantiate the generated class as is (no error translation): used for export."""
    generated = generate_source(graph) if generated is None else generated
    module = load_source(generated, source_filename(graph, generated))
    model = getattr(module, generated.class_name)()
    _attach(model, graph, generated)
    return model


def compile_graph(graph: Graph) -> torch.nn.Module:
    """Compile a graph into an `nn.Module` running exactly `generate_source(graph).source`.

    forward takes the Input nodes positionally in file order or by keyword (their identifiers
    in the source); it returns the single Output head's tensor, or a dict keyed by Output id.
    The module also has `node_modules`, `kl_loss()`, `generated` (the GeneratedSource), and
    for a GAN `generator`, `discriminator`, `latent_shape`, `sample_shape`.

    Raises:
        GraphInvalidError: the graph has validation errors.
    """
    generated = generate_source(graph)
    filename = source_filename(graph, generated)
    module = load_source(generated, filename)
    base = getattr(module, generated.class_name)
    checked = type(base.__name__, (base,), {
        "forward": _checked_forward(base.forward, generated, filename),
        "__module__": base.__module__,
        "__doc__": base.__doc__,
    })
    model = checked()
    _attach(model, graph, generated)
    return model


def _attach(model: Any, graph: Graph, generated: GeneratedSource) -> None:
    # Plain attributes (not submodules): object.__setattr__ keeps them out of state_dict.
    object.__setattr__(model, "node_modules", generated.node_modules)
    object.__setattr__(model, "generated", generated)
    object.__setattr__(model, "graph_name", graph.name)


def _checked_forward(forward: Any, generated: GeneratedSource, filename: str) -> Any:
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return forward(self, *args, **kwargs)
        except NodeRuntimeError:
            raise
        except Exception as exc:
            located = locate_failure(exc, generated, filename)
            if located is None:
                raise
            node, inner, line = located
            raise NodeRuntimeError(node, f"{type(exc).__name__}: {exc}", inner, line) from exc

    checked.__name__ = "forward"
    checked.__doc__ = forward.__doc__
    return checked


def locate_failure(exc: BaseException, generated: GeneratedSource,
                   filename: str) -> tuple[str, tuple[str, str] | None, int] | None:
    """The node (and the node inside a block) of the deepest generated line in a traceback."""
    node: str | None = None
    inner: tuple[str, str] | None = None
    line = 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
            if lineno in generated.line_to_node:
                node, line = generated.line_to_node[lineno], lineno
            elif lineno in generated.block_lines:
                inner, line = generated.block_lines[lineno], lineno
        tb = tb.tb_next
    if node is None:
        return None
    return node, inner, line


def param_groups(model: torch.nn.Module, graph: Graph, lr: float, part: str | None = None) -> list[dict]:
    """Optimizer parameter groups: frozen nodes left out, each lr factor its own group.

    A node inside a block gets its own factor times its Block node's factor, and is frozen
    when either is. Each group is `{"params", "lr", "lr_factor"}`; pass the list to any
    torch optimizer.

    Args:
        model: a module from `compile_graph(graph)`.
        graph: the graph it was compiled from (frozen flags and lr factors are read here).
        lr: the base learning rate.
        part: only the parameters of this submodule ("generator" or "discriminator" of a GAN,
            each trained by its own optimizer); None for all.
    """
    generated: GeneratedSource = model.generated
    factor_of: dict[int, float] = {}
    # Deepest paths first, so a node inside a block keeps its own factor.
    for path, attr in sorted(generated.node_paths.items(), key=lambda kv: -len(kv[0])):
        factor, frozen = _path_settings(graph, path)
        sub = model.get_submodule(attr)
        for p in sub.parameters():
            if id(p) not in factor_of:
                factor_of[id(p)] = -1.0 if frozen else factor
    groups: dict[float, list] = {}
    scope = model if part is None else model.get_submodule(part)
    for p in scope.parameters():
        factor = factor_of.get(id(p), 1.0)
        if factor < 0 or not p.requires_grad:
            continue
        groups.setdefault(factor, []).append(p)
    return [{"params": ps, "lr": lr * f, "lr_factor": f} for f, ps in groups.items()]


def _path_settings(graph: Graph, path: tuple[str, ...]) -> tuple[float, bool]:
    factor, frozen, g = 1.0, False, graph
    for nid in path:
        node = g.nodes[nid]
        factor *= node.lr_factor
        frozen = frozen or node.frozen
        if node.type in ("Block", "Discriminator"):
            g = graph.blocks.get(str(gc.resolved_params(node)["block"]), g)
    return factor, frozen
