"""Shell: `prescale simulate` (being built)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("simulate", help="(being built)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("prescale simulate: not built yet")
    return 1
