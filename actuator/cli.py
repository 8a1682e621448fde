"""Shell: the `prescale` console script: arguments, logging, errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from actuator.commands import forecast, plan, report, run, simulate
from kernel import errors

EXIT_OK = 0
EXIT_FAILURE = 1
# Config, input and usage errors exit 2, like argparse's own usage errors.
EXIT_USAGE = 2

log = logging.getLogger(__name__)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CRASH_FOLDER = "prescale"

COMMANDS = (forecast, plan, simulate, report, run)


class _Parser(argparse.ArgumentParser):
    """argparse, reading a value that starts with a minus and a digit (`--horizon -1d`,
    `--seed -3`) as the flag's value, so that our checks name the flag, the value and the fix,
    instead of argparse's "expected one argument". No prescale flag starts with a digit.
    Subcommands' parsers are of the same class (`add_subparsers` makes them so)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._negative_number_matcher = re.compile(r"^-\d")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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


def _log_level(text: str) -> int:
    level = str(text).strip().upper()
    if level not in LOG_LEVELS:
        raise errors.InputError(
            f"--log-level ({text!r}) is not a log level; pass one of {', '.join(LOG_LEVELS)}"
        )
    return int(getattr(logging, level))


def crash_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """Where details of an unexpected error go: $XDG_STATE_HOME/prescale (the XDG base
    directory for state such as logs), ~/.local/state/prescale, else the temp folder."""
    state = environ.get("XDG_STATE_HOME", "").strip()
    candidates = [Path(state)] if state else []
    home = environ.get("HOME", "").strip()
    if home:
        candidates.append(Path(home) / ".local" / "state")
    candidates.append(Path(tempfile.gettempdir()))
    for base in candidates:
        folder = base / CRASH_FOLDER
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return Path(tempfile.gettempdir())


def report_crash(exc: BaseException, argv: Sequence[str] | None) -> int:
    """One line on stderr and the traceback in a log file: never a traceback at the user."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = "".join(traceback.format_exception(exc))
    try:
        handle, name = tempfile.mkstemp(
            dir=crash_folder(), prefix=f"crash-{stamp}-", suffix=".log", text=True
        )
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            # The arguments, not the environment: flags carry paths to secrets, never secrets.
            stream.write(f"prescale {' '.join(argv if argv is not None else sys.argv[1:])}\n")
            stream.write(text)
        where = f"details in {name}"
    except OSError as write_error:
        where = f"details could not be saved ({write_error.strerror})"
    summary = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    print(
        f"prescale: internal error ({summary}); {where}; please report it with that file",
        file=sys.stderr,
    )
    return EXIT_FAILURE


class _TerminalFormatter(logging.Formatter):
    """A one-shot command's log lines read like its other messages: `prescale: warning: ...`."""

    def format(self, record: logging.LogRecord) -> str:
        return f"prescale: {record.levelname.lower()}: {record.getMessage()}"


def _configure_logging(level: int, *, service: bool) -> None:
    """The daemon (`run`) logs with time and module, for a log collector; the one-shot
    commands write their warnings as the plausibility checks do, for the person at the
    terminal."""
    if service:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        return
    handler = logging.StreamHandler()
    handler.setFormatter(_TerminalFormatter())
    logging.basicConfig(level=level, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        level = _log_level(args.log_level)
    except errors.InputError as exc:
        print(f"prescale: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _configure_logging(level, service=args.command == "run")
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
    except KeyboardInterrupt:
        print("prescale: interrupted; no output file was left half-written", file=sys.stderr)
        return 130
    except Exception as exc:
        log.debug("unexpected error", exc_info=exc)
        return report_crash(exc, argv)
    return code


if __name__ == "__main__":
    sys.exit(main())
