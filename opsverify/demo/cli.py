"""STUB: not implemented yet."""

from __future__ import annotations

import argparse

HELP = "(not implemented yet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define this subcommand's options."""


def run(args: argparse.Namespace) -> int:
    print("not implemented yet")
    return 2
