"""Shell: `prescale plan` (being built)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plan", help="(being built)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print("prescale plan: not built yet")
    return 1
