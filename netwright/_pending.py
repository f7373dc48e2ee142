"""A subcommand whose implementation has not landed yet says so in one line and exits 2."""

from __future__ import annotations

import argparse
import sys


def pending(name: str, issue: str):
    def handler(args: argparse.Namespace) -> int:
        print(f"netwright {name}: not available yet ({issue} has not landed)", file=sys.stderr)
        return 2

    return handler
