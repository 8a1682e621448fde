"""Shell: the `prescale` console script: arguments, logging, errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from actuator.commands import forecast, plan, report, run, simulate
from kernel import errors

EXIT_OK = 0
EXIT_FAILURE = 1
# Config, input and usage errors exit 2, like argparse's own usage errors.
EXIT_USAGE = 2

log = logging.getLogger(__name__)

COMMANDS = (forecast, plan, simulate, report, run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prescale",
        description="Predictive autoscaler and capacity planner for GPU inference.",
        epilog="example: prescale report --out prescale-report   (bundled trace and workload)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        code: int = args.run(args)
    except errors.InputError as exc:
        for problem in exc.problems:
            print(f"prescale: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except errors.PrescaleError as exc:
        print(f"prescale: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        # The reader went away (`prescale forecast | head`): not an error of ours. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    return code


if __name__ == "__main__":
    sys.exit(main())
