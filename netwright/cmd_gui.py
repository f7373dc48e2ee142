"""`netwright gui` (placeholder until the designer issue lands)."""

from __future__ import annotations

import argparse

from netwright._pending import pending


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the designer (not available yet)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=pending("gui", "the designer"))
