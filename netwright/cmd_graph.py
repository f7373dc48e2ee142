"""`netwright validate` and `netwright summary`: read a graph file and report on it.

`validate` checks the graph and, when the file names a dataset, whether the graph fits that data
(the same checks as the designer's Issues list and `netwright train`, each with its fixes), so a
file that validates is one that trains.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import graph_core as gc


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a graph file (exit 0 valid, 1 invalid, 2 unreadable)",
                       description="Check a graph file. Problems go to stderr, one 'node-id: message' "
                                   "line each. Exit 0 when valid, 1 when invalid, 2 when unreadable.")
    p.add_argument("file", help="a .json graph file")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--no-data", action="store_true",
                   help="check the graph only, not whether it fits the dataset its file names")
    p.set_defaults(handler=run_validate)

    p = sub.add_parser("summary", help="per node: type, output shape, parameters, cost; totals",
                       description="Print each node's type, output shape (without the batch axis), "
                                   "parameter count, multiply-accumulates of one forward of one sample "
                                   "and activation memory at a batch size, with totals.")
    p.add_argument("file", help="a .json graph file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--batch-size", type=int, default=None,
                   help="batch size for the activation memory (default: the file's, else 1)")
    p.set_defaults(handler=run_summary)


def load_or_exit(path: str) -> gc.Graph | None:
    """Load a graph, or print the loader's message and return None (exit code 2)."""
    try:
        return gc.load_graph(path)
    except gc.GraphLoadError as exc:
        print(gc.one_line(f"error: {exc}"), file=sys.stderr)
        return None


def run_validate(args: argparse.Namespace) -> int:
    graph = load_or_exit(args.file)
    if graph is None:
        return 2
    shapes = gc.infer_shapes(graph)
    issues: list = gc.validate(graph, shapes)
    if not args.no_data:
        issues += data_issues(graph, shapes, Path(args.file).resolve().parent)
    for issue in issues:
        print(f"{issue}" if issue.severity == gc.ERROR else f"{issue} (warning)", file=sys.stderr)
        for fix in getattr(issue, "fixes", ()):
            print(gc.one_line(f"    fix: {fix.label}"), file=sys.stderr)
    failing = [i for i in issues if i.severity == gc.ERROR or args.strict]
    if not failing:
        warn = sum(1 for i in issues if i.severity == gc.WARNING)
        warnings = f", {warn} warning{'s' if warn != 1 else ''}" if warn else ""
        print(f"{args.file}: valid ({len(graph.nodes)} nodes{warnings})")
    return 1 if failing else 0


def data_issues(graph: gc.Graph, shapes: dict, root: Path) -> list:
    """Whether the graph fits the dataset its file names (nothing when it names none)."""
    from training import DataError, check_data, describe

    if not str(graph.data.get("dataset") or "").strip():
        return []  # a graph without data is checked as a graph; `train` asks for a dataset
    try:
        schema, problem = describe(graph.data, root), None
    except DataError as exc:
        schema, problem = None, str(exc)
    return check_data(graph, schema, shapes, problem)


def _batch_size(args: argparse.Namespace, graph: gc.Graph) -> int:
    """--batch-size, else the file's training batch size when it is a usable number, else 1 (the
    summary of a file whose training section is damaged still prints: validate says what is wrong)."""
    if args.batch_size:
        return max(1, args.batch_size)
    training = graph.training if isinstance(graph.training, dict) else {}
    batch = training.get("batch_size")
    return batch if isinstance(batch, int) and not isinstance(batch, bool) and 0 < batch <= 2**20 else 1


def run_summary(args: argparse.Namespace) -> int:
    graph = load_or_exit(args.file)
    if graph is None:
        return 2
    shapes = gc.infer_shapes(graph)
    summary = gc.summarize(graph, shapes, batch_size=_batch_size(args, graph))
    issues = gc.validate(graph, shapes)
    for issue in gc.errors(issues):
        print(str(issue), file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_json()))
    else:
        print(format_table(summary))
    return 1 if gc.errors(issues) else 0


def format_table(summary: gc.GraphSummary) -> str:
    from graph_core.cost import format_bytes, format_macs

    rows = [("node", "type", "output shape", "params", "MACs", f"memory (batch {summary.batch_size})")]
    for r in summary.rows:
        shape = gc.format_shape(r.output_shape)
        params = "?" if r.params is None else gc.format_count(r.params) + (" (frozen)" if r.frozen and r.params else "")
        macs = "?" if r.macs is None else (format_macs(r.macs) if r.macs else "")
        memory = "?" if r.activation_bytes is None else format_bytes(r.activation_bytes)
        rows.append((r.id, r.type, shape, params, macs, memory))
    widths = [max(len(row[k]) for row in rows) for k in range(6)]
    lines = ["  ".join(c.ljust(w) if k < 3 else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"total parameters: {gc.format_count(summary.total_params)}   "
                 f"trainable: {gc.format_count(summary.trainable_params)}")
    lines.append(f"multiply-accumulates per sample: {format_macs(summary.total_macs)} ({gc.format_count(summary.total_macs)})   "
                 f"activations at batch {summary.batch_size}: {format_bytes(summary.activation_bytes)}")
    return "\n".join(lines)
