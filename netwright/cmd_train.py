"""`netwright train` (placeholder until the training issue lands)."""

from __future__ import annotations

import argparse

from netwright._pending import pending


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train (not available yet)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=pending("train", "the training engine"))
