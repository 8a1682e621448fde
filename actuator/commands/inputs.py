"""Shell: command-line arguments shared by the subcommands, and the bundled example inputs."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from actuator import outputs, presets, prometheus, source, trace, workloads
from forecaster import series
from kernel import duration, errors
from planner import spec

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


# Upper bounds of the duration flags: past them a run hangs or overflows instead of answering.
# A forecast or plan horizon: 90 days at 1-minute planning ticks is 129,600 rows; forecasts
# are calibrated on one-week folds, so anything past a quarter is extrapolation anyway.
MAX_HORIZON_S = 90 * 86400
# A replay or Prometheus history: two years at one minute is about a million points.
MAX_HISTORY_S = 2 * 365 * 86400
# A cold start (DESIGN.md: LLM pods 5-15 min, node provisioning 5-8 min): a day is far past any.
MAX_LEAD_TIME_S = 86400
# Seeds: numpy's generators take any non-negative integer; 2**63 - 1 keeps it a 64-bit value.
MAX_SEED = 2**63 - 1
DURATION_LIMITS = {
    "--horizon": MAX_HORIZON_S,
    "--replay": MAX_HISTORY_S,
    "--since": MAX_HISTORY_S,
    "--refit-every": MAX_HORIZON_S,
    "--lead-time": MAX_LEAD_TIME_S,
    "--lead-time-p90": MAX_LEAD_TIME_S,
}
# Lower bounds, with the reason the message gives: the refit's is the daemon's `schedule.refit`
# floor (spec.MIN_REFIT_S), so a replay and the daemon take the same intervals.
DURATION_FLOORS = {
    "--refit-every": (
        spec.MIN_REFIT_S,
        "a refit reads the history's complete 5-minute buckets, so more often refits the same "
        "history, for minutes of work on a replayed day",
    ),
}


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
    limit = DURATION_LIMITS.get(flag)
    floor_s, why = DURATION_FLOORS.get(flag, (0, ""))
    if seconds < floor_s:
        upper = f" to {duration.text(limit)}" if limit is not None else " or more"
        problems.append(
            f"{flag} ({text!r}) is {duration.text(seconds)}, outside {duration.text(floor_s)}"
            f"{upper} ({why}); pass {duration.text(floor_s)} or more"
        )
        return 0
    if limit is not None and seconds > limit:
        problems.append(
            f"{flag} ({text!r}) is {seconds:,} s, more than the {duration.text(limit)} "
            f"limit; pass {duration.text(limit)} or less"
        )
        return 0
    return seconds


def seed(value: int, problems: list[str], flag: str = "--seed") -> int:
    """The seed if it is within 0..2**63-1 (numpy refuses negative seeds); a problem otherwise."""
    if not 0 <= value <= MAX_SEED:
        problems.append(
            f"{flag} ({value}) must be a whole number from 0 to {MAX_SEED}; pass e.g. --seed 1"
        )
        return 0
    return value


# pandas keeps nanoseconds in 64 bits: 1677-09-21 to 2262-04-11. A time outside is no time a
# trace or a run can have.
TIME_RANGE = "1677-09-22 to 2262-04-10"
TIME_MIN = pd.Timestamp("1677-09-22", tz="UTC")
TIME_MAX = pd.Timestamp("2262-04-10", tz="UTC")


def parse_time(flag: str, text: object) -> pd.Timestamp:
    """An ISO 8601 time as UTC (naive is UTC); an InputError naming the flag otherwise."""
    raw = str(text).strip()
    try:
        stamp = pd.Timestamp(raw)
    except (ValueError, OverflowError) as exc:
        rule = (
            f"is outside the times this tool handles ({TIME_RANGE})"
            if isinstance(exc, pd.errors.OutOfBoundsDatetime | OverflowError)
            else "is not a timestamp"
        )
        raise errors.InputError(
            f"{flag} ({raw!r}) {rule}; write ISO 8601 UTC like 2026-11-30T00:00:00Z"
        ) from None
    if pd.isna(stamp):
        raise errors.InputError(
            f"{flag} ({raw!r}) is not a timestamp; write ISO 8601 UTC like 2026-11-30T00:00:00Z"
        )
    stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
    # pandas 3 parses year 3000 (to microseconds); the nanosecond grids downstream cannot.
    if not TIME_MIN <= stamp <= TIME_MAX:
        raise errors.InputError(
            f"{flag} ({raw!r}) is outside the times this tool handles ({TIME_RANGE}); write "
            "ISO 8601 UTC like 2026-11-30T00:00:00Z"
        )
    return stamp


def files_read(args: argparse.Namespace) -> list[outputs.Input]:
    """Every file the command's flags name for reading: no output may be one of them."""
    found: list[outputs.Input] = []
    if getattr(args, "prometheus", None) is None:
        found.append(outputs.Input("--trace", trace_path(args)))
    if hasattr(args, "workload"):
        found.append(outputs.Input("--workload", workload_path(args)))
    for name in SECRET_FILE_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            found.append(outputs.Input("--" + name.replace("_", "-"), value))
    return found


SECRET_FILE_FLAGS = (
    "bearer_token_file",
    "basic_auth_password_file",
    "ca_file",
    "cert_file",
    "key_file",
)


def add_prometheus_arguments(parser: argparse.ArgumentParser, *, until: bool = True) -> None:
    """The flags that read history from Prometheus instead of --trace (docs/prometheus.md).

    `until=False` for a command that has its own --until with the same meaning (simulate).
    """
    group = parser.add_argument_group("Prometheus history (instead of --trace; docs/prometheus.md)")
    group.add_argument("--prometheus", metavar="URL", default=None, help="Prometheus base URL")
    group.add_argument("--query", metavar="PROMQL", default=None, help="PromQL, one series")
    group.add_argument(
        "--query-unit",
        choices=[u.value for u in presets.SourceUnit],
        default=None,
        help="what --query yields (default requests_per_s: a counter rate)",
    )
    group.add_argument(
        "--preset", metavar="NAME", default=None, help=f"one of {', '.join(presets.PRESETS)}"
    )
    group.add_argument(
        "--selector",
        metavar="'{...}'",
        default="",
        help='label matchers for the preset, e.g. \'{model_name="llama-3-8b",namespace="chat"}\'',
    )
    group.add_argument("--since", default=None, help="history length before --until (28d)")
    if until:
        group.add_argument(
            "--until", metavar="TIME", default=None, help="end of history, ISO 8601 UTC (now)"
        )
    group.add_argument("--step", default=None, help="query step = trace interval (1m)")
    group.add_argument("--bearer-token-file", type=Path, default=None)
    group.add_argument("--basic-auth-user", default=None)
    group.add_argument("--basic-auth-password-file", type=Path, default=None)
    group.add_argument("--ca-file", type=Path, default=None, help="CA bundle (PEM)")
    group.add_argument("--cert-file", type=Path, default=None, help="client certificate (PEM)")
    group.add_argument("--key-file", type=Path, default=None, help="client key (PEM)")
    group.add_argument("--insecure", action="store_true", help="skip TLS verification (warns)")
    group.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra HTTP header, repeatable (e.g. 'X-Scope-OrgID: team-a')",
    )
    group.add_argument("--prometheus-timeout", default=None, help="per request (30s)")


@dataclass(frozen=True)
class History:
    """The demand history a command runs on, and where it came from."""

    trace: series.Trace
    label: str  # the CSV path, or the Prometheus URL and query (no credentials)
    name: str  # short form for titles: the CSV file's name, or the label
    unit: spec.HistoryUnit  # what the values measure (arrivals for a CSV)

    def apply(self, specs: Sequence[spec.WorkloadSpec]) -> tuple[spec.WorkloadSpec, ...]:
        """The specs told what their history measures (so a gauge skips Little's law).

        A token column read as arrivals is refused: every token would count as a request
        (Little's law would then multiply it by the request's duration and tokens again).
        """
        if self.unit is spec.HistoryUnit.ARRIVALS and self.trace.column in trace.TOKEN_COLUMNS:
            raise errors.InputError(
                f"--column ({self.trace.column!r}) holds token counts, but the planner reads "
                "the history as request arrivals per interval and would take every token for "
                "a request; pass --column requests (token columns beside it are used for the "
                "request shape by themselves)"
            )
        return tuple(dataclasses.replace(w, history_unit=self.unit) for w in specs)


def _flag_source(args: argparse.Namespace) -> source.SourceSpec:
    headers: dict[str, str] = {}
    problems: list[str] = []
    for text in args.header:
        name, sep, value = str(text).partition(":")
        if not sep or not name.strip():
            problems.append(f"--header ({text!r}) is not 'Name: value'; write 'X-Scope-OrgID: a'")
        else:
            headers[name.strip()] = value.strip()
    if problems:
        raise errors.InputError(problems)
    auth = {
        key: value
        for key, value in {
            "bearer_token_file": args.bearer_token_file,
            "basic_auth_user": args.basic_auth_user,
            "basic_auth_password_file": args.basic_auth_password_file,
            "ca_file": args.ca_file,
            "cert_file": args.cert_file,
            "key_file": args.key_file,
            "insecure": args.insecure or None,
        }.items()
        if value is not None
    }
    data: dict[str, object] = {"url": args.prometheus, "headers": headers, "auth": auth}
    optional = {
        "query": args.query,
        "preset": args.preset,
        "selector": args.selector or None,
        "unit": args.query_unit,
        "step": args.step,
        "since": args.since,
        "timeout": args.prometheus_timeout,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    return source.parse(data, where="command line")


def _until(args: argparse.Namespace, step_s: int) -> pd.Timestamp:
    if args.until is None or str(args.until).strip().lower() == "now":
        return pd.Timestamp.now(tz="UTC").floor(f"{step_s}s")
    return parse_time("--until", args.until)


def _workload_source(args: argparse.Namespace) -> source.SourceSpec | None:
    """The one source the workload file names, if its workloads carry `source:` blocks."""
    path = getattr(args, "workload", None)
    if path is None:
        return None
    found = workloads.load_sources(path)
    name = getattr(args, "name", None)
    if name is not None:
        found = {k: v for k, v in found.items() if k == name}
    distinct = {repr(s): s for s in found.values()}
    if len(distinct) > 1:
        raise errors.InputError(
            f"workload file {path}: workloads {', '.join(found)} name different source: blocks; "
            "one run reads one history: run them one at a time (--name) or pass --prometheus"
        )
    return next(iter(distinct.values()), None)


@dataclass(frozen=True)
class HistoryRequest:
    """Where a command's history comes from, resolved from the flags (typed: no Namespace)."""

    trace_path: Path  # the CSV, when `source` is None
    column: str | None
    source: source.SourceSpec | None  # Prometheus (flags or the workload file's source:)
    since: pd.Timestamp | None  # the Prometheus range; None with a CSV
    until: pd.Timestamp | None


def history_request(args: argparse.Namespace) -> HistoryRequest:
    """--trace, --prometheus, the workload file's source:, or the bundled example."""
    if args.prometheus is not None and args.trace is not None:
        raise errors.InputError("--trace and --prometheus are both given; pass one history source")
    if args.prometheus is None:
        stray = [f for f in ("query", "preset") if getattr(args, f) is not None]
        if stray:
            raise errors.InputError(
                f"--{stray[0]} needs --prometheus URL; pass the server to query"
            )
    chosen = _flag_source(args) if args.prometheus is not None else None
    if chosen is None and args.trace is None:
        chosen = _workload_source(args)
    if chosen is None:
        return HistoryRequest(trace_path(args), args.column, None, None, None)
    until = _until(args, chosen.step_s)
    since_s = chosen.since_s
    if args.since is not None:
        problems: list[str] = []
        since_s = duration_s("--since", args.since, problems)
        if problems:
            raise errors.InputError(problems)
    since = until - pd.Timedelta(seconds=since_s)
    return HistoryRequest(trace_path(args), args.column, chosen, since, until)


def load(request: HistoryRequest) -> History:
    """Read the requested history (the CSV file, or the Prometheus range)."""
    chosen = request.source
    if chosen is None or request.since is None or request.until is None:
        loaded = trace.load(request.trace_path, request.column, given_as="--trace")
        return History(
            loaded, str(request.trace_path), request.trace_path.name, spec.HistoryUnit.ARRIVALS
        )
    fetched = prometheus.load_trace(chosen, request.since, request.until)
    return History(fetched, chosen.describe(), chosen.describe(), chosen.history_unit)


def load_history(args: argparse.Namespace) -> History:
    """The history from --trace, --prometheus, the workload file's source:, or the example."""
    return load(history_request(args))
