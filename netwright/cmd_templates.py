"""`netwright templates` and `netwright new` (placeholder until the templates issue lands)."""

from __future__ import annotations

import argparse

from netwright._pending import pending


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name in ("templates", "new"):
        p = sub.add_parser(name, help=f"{name} (not available yet)")
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(handler=pending(name, "templates"))
