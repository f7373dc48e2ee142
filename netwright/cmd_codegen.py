"""`netwright codegen` and `netwright export` (placeholder until the codegen issue lands)."""

from __future__ import annotations

import argparse

from netwright._pending import pending


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name in ("codegen", "export"):
        p = sub.add_parser(name, help=f"{name} (not available yet)")
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(handler=pending(name, "code generation"))
