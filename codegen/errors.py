"""The exceptions codegen raises, each carrying what a user needs to fix the problem."""

from __future__ import annotations

from collections.abc import Sequence

from graph_core import Issue


class GraphInvalidError(ValueError):
    """The graph has validation errors, so there is nothing sound to generate.

    Attributes:
        issues: the error-severity issues, as `graph_core.validate` reported them.
    """

    def __init__(self, graph_name: str, issues: Sequence[Issue]) -> None:
        self.graph_name = graph_name
        self.issues = list(issues)
        listing = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"graph {graph_name!r} is invalid:\n{listing}")


class NodeRuntimeError(RuntimeError):
    """An exception raised inside the generated forward, re-raised naming the node.

    Attributes:
        node: id of the top-level node whose line failed.
        inner: (block name, node id inside it) when the failing line is inside a block.
        line: the generated source line that failed.
    """

    def __init__(self, node: str, message: str, inner: tuple[str, str] | None = None,
                 line: int | None = None) -> None:
        where = node if inner is None else f"{node} (block {inner[0]!r}, node {inner[1]})"
        super().__init__(f"{where}: {message}")
        self.node = node
        self.inner = inner
        self.line = line


class ExportError(RuntimeError):
    """ONNX export was refused or its verification failed; no file was left behind."""


class WeightsError(ValueError):
    """A weights file cannot be read or does not fit the model."""
