"""Shell: `prescale run` (the daemon, or one tick with --once) and `prescale check-config`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from actuator import clock
from kernel import errors, timestamp

if TYPE_CHECKING:
    from actuator import daemon

# `config.Mode`'s values (tests/daemon/test_cli_run.py holds them equal). The daemon's modules
# (config, daemon, service: the Kubernetes client, SQLAlchemy's store, APScheduler) load only
# when `run` or `check-config` runs, not on every `prescale` command's start.
MODES = ("advisory", "actuate")

RUN_EPILOG = """examples:
  prescale run --config prescale.yaml                  (the daemon: advisory unless mode: actuate)
  prescale run --config prescale.yaml --once           (one tick now, then exit: a CronJob)
  prescale run --config prescale.yaml --once --at 2026-12-07T08:00Z   (one tick as of then)
  prescale run --config prescale.yaml --mode actuate --dry-run   (prove permissions, change nothing)

With --once the exit code is 1 when any write of the tick failed (a missing target, a 403 on
its read or patch): each failed target's "outcomes" entry says "failed", the log says why, and
a CronJob's run fails so that it alerts. It is 1 too when the Lease is forbidden (a 403 on its
get, create or update: the targets say "standby" and no run would ever write); stderr names
the Lease, the verb and the Role to fix. 0 means every target was written, unchanged or, by
design, not written (advisory, metric, standby behind another leader, held).

Settings load in this order: defaults, the --config YAML, PRESCALE_ environment variables
(PRESCALE_MODE=actuate, PRESCALE_HTTP__PORT=9000: a double underscore between levels), flags.
SIGTERM finishes the running tick, releases the Lease and exits 0.
"""

CHECK_EPILOG = """examples:
  prescale check-config prescale.yaml       (every problem at once, exit 2; or the resolved config)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the daemon: raise autoscaler floors one cold start ahead of each peak",
        description="Reads each workload's demand, refits forecasts on schedule, steps the "
        "planner every tick and, in actuate mode, writes one floor per capacity type. Serves "
        "/metrics, /healthz, /readyz, /api/v1/plan, /api/v1/decisions and /report.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, required=True, help="the daemon's YAML config")
    parser.add_argument(
        "--once",
        action="store_true",
        help="run one tick, print it, and exit; exit 1 when a write of the tick failed or "
        "the Lease is forbidden",
    )
    parser.add_argument(
        "--at",
        default=None,
        help="with --once: the tick's time (UTC, e.g. 2026-12-07T08:00Z); history up to it",
    )
    parser.add_argument("--dry-run", action="store_true", help="server-side dry-run writes")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="advisory or actuate (overrides the config)",
    )
    parser.add_argument("--port", type=int, default=None, help="HTTP port (overrides the config)")
    parser.set_defaults(run=run)

    check = subparsers.add_parser(
        "check-config",
        help="validate a daemon config: every problem at once, or the resolved config",
        description="Loads the config as `prescale run` would (file, PRESCALE_ variables) and "
        "prints every problem with its field, value, rule and fix (exit 2), or the resolved "
        "config without secrets (exit 0).",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", type=Path, help="the daemon's YAML config")
    check.set_defaults(run=check_config)


def check_config(args: argparse.Namespace) -> int:
    from actuator import config  # noqa: PLC0415 - see MODES

    settings = config.load(args.file)
    print(yaml.safe_dump(config.resolved(settings), sort_keys=False), end="")
    return 0


def flags(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that override settings, as config data."""
    overrides: dict[str, Any] = {}
    if args.mode is not None:
        overrides["mode"] = args.mode
    if args.dry_run:
        overrides["dry_run"] = True
    if args.port is not None:
        overrides["http"] = {"port": args.port}
    return overrides


def parse_at(text: str) -> clock.ManualClock:
    try:
        moment = pd.Timestamp(text)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or pd.isna(moment) or moment.tzinfo is None:
        raise errors.InputError(
            f"--at ({text!r}) is not a UTC time with a zone; write it like 2026-12-07T08:00Z"
        )
    return clock.ManualClock(moment.to_pydatetime())


def run(args: argparse.Namespace) -> int:
    if args.at is not None and not args.once:
        raise errors.InputError("--at (given) needs --once; add --once for a tick as of --at")
    from actuator import config, service  # noqa: PLC0415 - see MODES

    settings = config.load(args.config, flags=flags(args))
    if settings.log_format == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonLines())
    quiet_scheduler()
    now: clock.Clock = parse_at(args.at) if args.at is not None else clock.SystemClock()
    restore = service.restorer(settings)
    if args.once:
        # one tick needs its store now: a store down fails this run (the next CronJob run
        # tries again)
        core, _ = restore()
        # a one-shot run contends for the Lease like any replica (and gives it back at once),
        # so two CronJob runs that overlap never both write
        core.renew_lease_now()
        try:
            report = core.run_once(now.now())
        finally:
            core.release()
        for w in report.workloads:
            print(json.dumps(_tick_line(report, w), allow_nan=False))
        return _once_exit(report, core.lease_problem())
    running = service.Service(settings, restore, now)
    running.start()
    running.wait_for_stop()
    print("prescale: stopped", file=sys.stderr)
    return 0


def _once_exit(report: daemon.TickReport, lease_problem: str | None) -> int:
    """0 when the tick did what it could, 1 (with one line on stderr each) when a write failed
    or the Lease was forbidden (its targets then say standby, and no run ever writes): a
    CronJob that exited 0 on either would never alert."""
    from actuator import daemon  # noqa: PLC0415 - see MODES

    decisions = [d for w in report.workloads for d in w.decisions]
    failed = [d for d in decisions if d.outcome is daemon.Outcome.FAILED]
    if lease_problem is not None:
        print(f"prescale: error: {lease_problem}", file=sys.stderr)
    if not failed:
        return 0 if lease_problem is None else 1
    print(
        f"prescale: {len(failed)} of {len(decisions)} target(s) failed to write "
        f'({", ".join(d.target.ref for d in failed)}); their "outcomes" above say '
        '"failed" and the log\'s warnings say why',
        file=sys.stderr,
    )
    return 1


def quiet_scheduler() -> None:
    """APScheduler says every job run at INFO ("Running job ...", "... executed successfully"):
    with the lease job every 2 s that would drown the daemon's own lines at `--log-level info`.
    Its warnings (a missed run) still show; at DEBUG everything does."""
    scheduler = logging.getLogger("apscheduler")
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        scheduler.setLevel(logging.WARNING)


class JsonLines(logging.Formatter):
    """One JSON object per log record, for a cluster's log pipeline."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def _tick_line(report: daemon.TickReport, w: daemon.WorkloadTick) -> dict[str, Any]:
    return {
        "at": timestamp.utc_text(report.at),
        "workload": w.workload,
        "floor": w.floor,
        "targets": {d.target.capacity_type.value: d.replicas for d in w.decisions},
        "reasons": {d.target.capacity_type.value: d.reason for d in w.decisions},
        "outcomes": {d.target.capacity_type.value: d.outcome.value for d in w.decisions},
        "observed_demand": w.observed_demand,
        "lead_time_s": w.lead_time_s,
        "lead_time_source": w.lead_time_source,
        "source_up": w.source_up,
    }
