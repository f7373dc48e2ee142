"""`netwright`: one command, a subcommand per task. With no subcommand it opens the designer.

Each subcommand lives in its own module (`netwright.cmd_*`) exposing `add_parser(subparsers)`;
heavy libraries (torch, Qt) are imported only inside the handlers, so `--help` is instant.
Exit codes: 0 success, 1 the input is invalid or a check failed, 2 unreadable input or usage.
"""

from __future__ import annotations

import argparse
import sys

from netwright import (
    __version__,
    cmd_codegen,
    cmd_explain,
    cmd_graph,
    cmd_gui,
    cmd_import,
    cmd_pretrained,  # issue 15
    cmd_templates,
    cmd_train,
    cmd_translate,
)

_MODULES = (cmd_gui, cmd_templates, cmd_graph, cmd_codegen, cmd_train, cmd_explain)
_MODULES += (cmd_pretrained, cmd_translate, cmd_import)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netwright",
        description="Design, train and export neural networks as graphs. "
                    "Run without a command to open the designer.",
    )
    parser.add_argument("--version", action="version", version=f"netwright {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _MODULES:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
