"""Shell: command-line arguments shared by the subcommands, and the bundled example inputs."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from kernel import duration

EXAMPLE_TRACE = "nasa_ksc_aug1995_per_minute.csv.gz"
EXAMPLE_WORKLOAD = "workload.yaml"


def example_path(name: str) -> Path:
    """Path of a file bundled in actuator/examples (installed as package data)."""
    return Path(str(resources.files("actuator") / "examples" / name))


def add_trace_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace",
        type=Path,
        default=None,
        help="CSV trace (timestamp,requests,... or timestamp,value; .gz ok). "
        "Default: the bundled NASA KSC August 1995 per-minute trace.",
    )
    parser.add_argument(
        "--column", default=None, help="column to forecast (default: requests, or value)"
    )


def add_workload_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workload",
        type=Path,
        default=None,
        help="workload spec YAML (one or many). Default: the bundled example workload.",
    )


def trace_path(args: argparse.Namespace) -> Path:
    return args.trace if args.trace is not None else example_path(EXAMPLE_TRACE)


def workload_path(args: argparse.Namespace) -> Path:
    return args.workload if args.workload is not None else example_path(EXAMPLE_WORKLOAD)


def duration_s(flag: str, text: str, problems: list[str]) -> int:
    """Whole seconds of a positive duration flag (`90s`, `1h30m`, `7d`); a problem otherwise.

    Appends to `problems` instead of raising, so a command can report every bad flag at once.
    """
    seconds = duration.whole_seconds(text)
    if seconds is None or seconds <= 0:
        problems.append(
            f"{flag} ({text!r}) is not a positive duration in whole seconds; "
            f"write it like {duration.EXAMPLES}"
        )
        return 0
    return seconds
