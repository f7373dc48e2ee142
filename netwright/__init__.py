"""Netwright's entry point: the `netwright` command and `python -m netwright`."""

__version__ = "0.1.0"
