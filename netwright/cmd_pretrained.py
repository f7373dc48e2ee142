"""`netwright pretrained`: load a torchvision- or timm-style state dict into a graph by name.

Prints what was loaded, what the model still misses and what the file holds that no node takes,
and writes the loaded weights as .safetensors (what `export --weights` and the designer read).
The module-path -> node-path mapping comes from the graph (`training.init_weights.keys`, which
templates fill), from `--map PREFIX=NODE` arguments or a `--map-file` of such lines, or else from matching names; `--save-map`
writes the mapping used into the graph file, where the user can edit it.
Exit codes: 0 everything fit, 1 some keys did not, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pretrained", help="load a state dict (.pth) into a graph by module name",
                       description="Copy a torchvision- or timm-style state dict into the graph's "
                                   "model by module path, report loaded / missing / unexpected keys, "
                                   "and optionally write the weights (.safetensors).")
    p.add_argument("file", help="a .json graph file")
    p.add_argument("weights", nargs="?", help="the state dict (.pth/.pt/.safetensors); default: the "
                                              "graph's training.init_weights.path")
    p.add_argument("-o", "--output", help="write the loaded model's weights here (.safetensors)")
    p.add_argument("--map", action="append", default=[], metavar="PREFIX=NODE",
                   help="map a module path to a node path (node/inner-node for a block); repeatable; "
                        "NODE empty means 'deliberately unused'")
    p.add_argument("--map-file", metavar="FILE",
                   help="read PREFIX=NODE lines (one per line, '#' comments) from FILE, before any --map; "
                        "the designer's key map saves this format")
    p.add_argument("--save-map", action="store_true",
                   help="store the mapping used in the graph file's training.init_weights")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run_pretrained)


def run_pretrained(args: argparse.Namespace) -> int:
    import graph_core as gc
    from codegen import WeightsError, compile_graph
    from codegen.key_map import parse_key_map
    from codegen.pretrained import STATE_DICT, load_state_dict_by_name, match_keys
    from codegen.weights import read_state, save_weights
    from netwright.cmd_graph import load_or_exit

    graph = load_or_exit(args.file)
    if graph is None:
        return 2
    problems = gc.errors(gc.validate(graph))
    if problems:
        for issue in problems:
            print(str(issue), file=sys.stderr)
        return 1
    spec = dict(graph.training.get("init_weights") or {})
    if not (args.weights or spec.get("path")):
        print("error: no weights file: give one, or set training.init_weights.path", file=sys.stderr)
        return 2
    # --weights is read from where the command runs; the graph's own path from the graph's folder,
    # as training reads it (an imported graph names its weights file beside it)
    folder = Path(args.file).resolve().parent
    path = Path(args.weights).expanduser() if args.weights else Path(str(spec["path"])).expanduser()
    if not args.weights and not path.is_absolute():
        path = folder / path
    model = compile_graph(graph)
    try:
        state = read_state(path)
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = spec.get("keys")
    if not isinstance(keys, dict):
        keys = match_keys(model, state, graph)
    keys = dict(keys)
    if args.map_file:
        try:
            keys.update(parse_key_map(Path(args.map_file).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            print(f"error: --map-file {args.map_file}: {exc}", file=sys.stderr)
            return 2
    for item in args.map:
        prefix, sep, node = item.partition("=")
        if not sep or not prefix:
            print(f"error: --map {item!r}: expected PREFIX=NODE", file=sys.stderr)
            return 2
        keys[prefix] = node or None
    report = load_state_dict_by_name(model, graph, keys=keys, state=state)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(str(report))
    if args.output:
        save_weights(model, args.output)
    if args.save_map:
        # as given when absolute; a path relative to here is stored relative to the graph's folder
        stored = spec["path"] if not args.weights else str(path) if path.is_absolute() \
            else _beside(path.resolve(), folder)
        graph.training["init_weights"] = {"path": stored, "format": spec.get("format", STATE_DICT), "keys": keys}
        gc.save_graph(graph, args.file)
    return 0 if report.ok else 1


def _beside(path: Path, folder: Path) -> str:
    """`path` as the graph file stores it: relative to the graph's folder when inside it."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)
