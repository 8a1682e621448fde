"""Shell: `prescale simulate`: replay a trace through prescale and its rivals, side by side.

Loads the trace and the workloads (every one of the file, or the one `--name` picks), runs
`planner.lineup.run` (pure) for each on the same trace, demand, seed and cold starts, prints a
table per workload and, for several, the fleet's figures per policy (`planner.lineup.fleet`),
and optionally writes the JSON summary and the per-minute time series. A progress bar goes to
stderr only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from actuator import trace, workloads
from actuator.commands import inputs
from forecaster import errors
from planner import cold_start, lineup, simulate, spec

JSON_VERSION = 1
# Floats in the JSON are rounded so that the file is stable to the byte for a seed (and
# readable); 6 significant decimals are far below any figure the report shows.
JSON_DECIMALS = 6
BAR_WIDTH = 30

EPILOG = """examples:
  prescale simulate                                 (bundled NASA trace and example workload)
  prescale simulate --trace nasa.csv.gz --workload chat.yaml --replay 7d --lead-time 10m \\
      --policies prescale,reactive,static,cron,oracle --seed 1 --json sim.json
  prescale simulate --lead-time 5m --lead-time-p90 12m --mix on_demand --timeseries sim.csv
  prescale simulate --trace nasa.csv.gz --until 1995-08-28T00:00Z --replay 7d
  prescale simulate --workload fleet.yaml --name chat-llama-8b   (one workload of several)

The last --replay of the trace is replayed minute by minute; everything before it is the
warm-up the forecasts, the static fleet and the cron schedule are fitted on. Coarse traces
(10-min, hourly) are replayed holding each interval's rate, per-second traces summed per
minute. A minute is served when the ready replicas' full capacity covers its demand; minutes
without data (trace gaps, and collection dropouts unless --keep-dropouts) count neither way
and are still billed. --json writes one object per policy under
"policies"; --timeseries writes one row per policy and minute.

Every workload of the --workload file is replayed (--name picks one), each on its own fleet
with the same trace, --column, seed and cold-start draws; prescale's forecast model is chosen
once on the warm-up and shared. With several workloads a fleet line per policy follows their
tables: GPU-hours and $ summed; served% = minutes in which every workload was served;
unserved% of the trace's requests (each workload's unserved share of its demand, per minute,
applied to that minute's requests: demand units differ across workloads and are not summed).
The JSON then holds "workloads" (name and policies each) and the fleet under "policies"; the
time series gets a "workload" column. Pool budgets (pools: in the spec) are not simulated:
each workload replays unconstrained by its pool; `prescale plan` applies them.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="replay a trace through prescale and rival autoscaling policies",
        description="What-if replay: prescale (forecast floor + reactive step), a Kubernetes "
        "HPA, a static fleet, a cron schedule and the oracle, on the same demand, cold starts "
        "and spot interruptions. Prints served minutes, unserved demand, GPU-hours, cost by "
        "capacity type and scale events per policy, with ratios to the oracle.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inputs.add_trace_arguments(parser)
    inputs.add_workload_argument(parser)
    parser.add_argument(
        "--name",
        default=None,
        help="replay only this workload of the file (default: every workload)",
    )
    parser.add_argument(
        "--replay", default="7d", help="replayed period at the end of the trace (default 7d)"
    )
    parser.add_argument(
        "--until",
        default=None,
        help="end of the replayed period (UTC, e.g. 1995-08-28T00:00Z); data after it is "
        "ignored (default: the end of the trace)",
    )
    parser.add_argument(
        "--keep-dropouts",
        action="store_true",
        help="replay collection dropouts (runs of near-zero intervals) as demand instead of "
        "treating them as gaps",
    )
    parser.add_argument(
        "--lead-time",
        default=None,
        help="cold start from order to ready, e.g. 10m (default: the workload's lead_time)",
    )
    parser.add_argument(
        "--lead-time-p90",
        default=None,
        help="P90 cold start: draws become lognormal with --lead-time as the median",
    )
    parser.add_argument(
        "--policies",
        default=",".join(p.value for p in lineup.ALL_POLICIES),
        help="comma-separated, any of prescale,reactive,static,cron,oracle (default all)",
    )
    parser.add_argument(
        "--mix",
        choices=[m.value for m in simulate.MixMode],
        default=simulate.MixMode.PLANNER.value,
        help="planner: the planner's reserved/spot/on-demand split of the workload's "
        "capacity_types (default); on_demand: everything on demand",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of cold starts and spot losses")
    parser.add_argument(
        "--refit-every", default="6h", help="prescale's forecast refit interval (default 6h)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the JSON summary here")
    parser.add_argument(
        "--timeseries", type=Path, default=None, help="write per-minute series (CSV) here"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options, problems = _options(args)
    chosen = _workloads(args, problems)
    if problems or not chosen:
        raise errors.InputError(problems)
    loaded = trace.load(inputs.trace_path(args), args.column)
    terminal = sys.stderr.isatty()
    selection = None
    if len(chosen) > 1:
        # Every workload replays the same warm-up, so prescale's model choice (the backtest,
        # the slow part) is made once and shared, as `prescale report --simulate` does.
        if terminal:
            ProgressBar(sys.stderr).note("choosing the forecast model on the warm-up ...")
        selection = lineup.prescale_selection(loaded, options)
    results = []
    for number, workload in enumerate(chosen, start=1):
        label = f"{workload.name} ({number}/{len(chosen)}) " if len(chosen) > 1 else ""
        bar = ProgressBar(sys.stderr, label=label) if terminal else None
        if bar is not None:
            bar.note(f"{label}fitting the forecast on the warm-up ...")
        results.append(lineup.run(workload, loaded, options, selection=selection, progress=bar))
        if bar is not None:
            bar.done()
    source = str(inputs.trace_path(args))
    if len(chosen) == 1:
        print(as_table(results[0], source=source, column=loaded.column, mix=options.mix))
        note = pool_note(chosen[0])
        if note is not None:
            print(note)
    else:
        print(fleet_tables(chosen, results, source=source, column=loaded.column, mix=options.mix))
    if args.json is not None:
        if len(chosen) == 1:
            document = as_json(results[0], source=source, column=loaded.column, mix=options.mix)
        else:
            document = fleet_json(
                chosen, results, source=source, column=loaded.column, mix=options.mix
            )
        _write(args.json, "--json", dumps(document))
    if args.timeseries is not None:
        write_timeseries(args.timeseries, results, several=len(chosen) > 1)
    return 0


def _options(args: argparse.Namespace) -> tuple[lineup.Options, list[str]]:
    problems: list[str] = []
    replay_s = inputs.duration_s("--replay", args.replay, problems)
    refit_s = inputs.duration_s("--refit-every", args.refit_every, problems)
    cold: cold_start.ColdStartDistribution | None = None
    if args.lead_time_p90 is not None and args.lead_time is None:
        problems.append(
            f"--lead-time-p90 ({args.lead_time_p90}) needs --lead-time as the median; "
            "pass e.g. --lead-time 10m --lead-time-p90 15m"
        )
    elif args.lead_time is not None:
        median_s = inputs.duration_s("--lead-time", args.lead_time, problems)
        p90_s = (
            median_s
            if args.lead_time_p90 is None
            else inputs.duration_s("--lead-time-p90", args.lead_time_p90, problems)
        )
        if not problems:
            try:
                cold = (
                    cold_start.ColdStartDistribution.fixed(median_s)
                    if p90_s == median_s
                    else cold_start.ColdStartDistribution.lognormal(median_s, p90_s)
                )
            except errors.InputError as exc:
                problems.extend(exc.problems)
    names: tuple[simulate.PolicyName, ...] = ()
    try:
        names = lineup.names([n for n in args.policies.split(",") if n.strip()])
    except errors.InputError as exc:
        problems.extend(exc.problems)
    until: pd.Timestamp | None = None
    if args.until is not None:
        try:
            until = pd.Timestamp(args.until)
        except ValueError:
            problems.append(
                f"--until ({args.until!r}) is not a timestamp; write it like 1995-08-28T00:00Z"
            )
        else:
            until = until.tz_localize("UTC") if until.tzinfo is None else until.tz_convert("UTC")
    options = lineup.Options(
        replay_s=replay_s,
        until=until,
        mask_dropouts=not args.keep_dropouts,
        cold_start=cold,
        policies=names,
        mix=simulate.MixMode(args.mix),
        seed=args.seed,
        refit_every_s=refit_s,
    )
    return options, problems


def _workloads(args: argparse.Namespace, problems: list[str]) -> tuple[spec.WorkloadSpec, ...]:
    """Every workload of the file, in its order, or the one `--name` picks."""
    specs = workloads.load(inputs.workload_path(args))
    if args.name is None:
        return specs
    for candidate in specs:
        if candidate.name == args.name:
            return (candidate,)
    problems.append(
        f"--name ({args.name}) is not a workload of {inputs.workload_path(args)} "
        f"({', '.join(s.name for s in specs)}); pass one of those"
    )
    return ()


def pool_note(workload: spec.WorkloadSpec) -> str | None:
    """The line saying a workload's pool budget was not simulated; None without a pool."""
    if workload.pool is None:
        return None
    budget = "" if workload.pool_gpu_budget is None else f" ({workload.pool_gpu_budget} GPUs)"
    return (
        f"pool      {workload.name} is in pool {workload.pool}{budget}: pool budgets are not "
        "simulated, this workload replayed unconstrained by it (prescale plan applies it)"
    )


class ProgressBar:
    """A one-line progress bar on a terminal: replayed days per policy."""

    def __init__(self, stream: TextIO, *, label: str = "") -> None:
        self._stream = stream
        self._label = label  # e.g. the workload's name when several are replayed

    def note(self, text: str) -> None:
        self._stream.write(f"\r{text:<70}")
        self._stream.flush()

    def __call__(self, policy: simulate.PolicyName, minute: int, minutes: int) -> None:
        done = minute / minutes if minutes else 1.0
        filled = round(done * BAR_WIDTH)
        days = minutes / 1440
        self._stream.write(
            f"\r{self._label}{policy.value:<9} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{done * days:5.1f}/{days:.1f} d"
        )
        self._stream.flush()

    def done(self) -> None:
        width = 70 + len(self._label)
        self._stream.write("\r" + " " * width + "\r")
        self._stream.flush()


def _ratio(value: float, reference: float | None) -> float | None:
    if reference is None or reference <= 0:
        return None
    return value / reference


def as_table(
    result: simulate.SimulationResult, *, source: str, column: str, mix: simulate.MixMode
) -> str:
    oracle = result.result(simulate.PolicyName.ORACLE)
    end = result.start + pd.Timedelta(minutes=result.minutes)
    lines = [
        f"workload  {result.workload}   trace {source} (column {column})",
        f"replay    {_stamp(result.start)} .. {_stamp(end)} ({result.minutes / 1440:.2f} d, "
        f"{result.minutes} minutes), seed {result.seed}, mix {mix.value}",
        f"cold start {result.cold_start.describe()}; policies plan with "
        f"{result.planning_lead_time_s} s; {result.capacity_per_replica:g} per replica",
    ]
    if result.dropout_minutes:
        lines.append(
            f"gaps      {result.dropout_minutes} replayed minutes were collection dropouts "
            "(near-zero runs), replayed as gaps (--keep-dropouts to count them as demand)"
        )
    if result.forecast_model is not None:
        lines.append(
            f"prescale  forecast model {result.forecast_model}, {result.forecast_refits} "
            "forecasts (warm-up + scheduled refits on data before each refit)"
        )
    lines += ["", *_rows(result.policies, oracle)]
    lines += [
        "",
        "served% of minutes with data; unserved% of demand; GPU-h and $ billed from each order "
        "(cold starts included; reserved at the commitment); events = target changes per "
        "capacity type; starts = replicas ordered (cold starts paid).",
    ]
    return "\n".join(lines)


Row = simulate.PolicyResult | lineup.FleetResult


def _rows(rows: Sequence[Row], oracle: Row | None) -> list[str]:
    """The policy table: header, rule, one line per policy with its ratios to `oracle`."""
    header = (
        f"{'policy':<9} {'served%':>8} {'unserved%':>9} {'GPU-h':>8} {'xoracle':>7} "
        f"{'cost $':>9} {'xoracle':>7} {'reserved$':>9} {'spot$':>8} {'on-dem$':>8} "
        f"{'overflow$':>9} {'events':>6} {'starts':>6} {'spot-lost':>9}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        gpu_x = _ratio(row.gpu_hours, oracle.gpu_hours if oracle else None)
        cost_x = _ratio(row.cost_usd, oracle.cost_usd if oracle else None)
        overflow = "-" if row.api_overflow_usd is None else f"{row.api_overflow_usd:.2f}"
        lines.append(
            f"{row.policy.value:<9} {row.served_minutes_pct:8.3f} {row.unserved_demand_pct:9.3f} "
            f"{row.gpu_hours:8.1f} {_x(gpu_x):>7} {row.cost_usd:9.2f} {_x(cost_x):>7} "
            f"{row.cost_by_type.reserved:9.2f} {row.cost_by_type.spot:8.2f} "
            f"{row.cost_by_type.on_demand:8.2f} {overflow:>9} {row.scale_events:6d} "
            f"{row.replicas_ordered:6d} {row.spot_interruptions:9d}"
        )
    return lines


def _fleet_oracle(rows: Sequence[lineup.FleetResult]) -> lineup.FleetResult | None:
    return next((row for row in rows if row.policy is simulate.PolicyName.ORACLE), None)


def fleet_tables(
    chosen: Sequence[spec.WorkloadSpec],
    results: Sequence[simulate.SimulationResult],
    *,
    source: str,
    column: str,
    mix: simulate.MixMode,
) -> str:
    """Each workload's table (and pool note), then the fleet's line per policy."""
    blocks = []
    for workload, result in zip(chosen, results, strict=True):
        block = as_table(result, source=source, column=column, mix=mix)
        note = pool_note(workload)
        blocks.append(block if note is None else f"{block}\n{note}")
    rows = lineup.fleet(results)
    names = ", ".join(w.name for w in chosen)
    lines = [
        f"fleet     {len(chosen)} workloads ({names}): the same trace, seed and cold starts, "
        "each on its own replicas",
        "",
        *_rows(rows, _fleet_oracle(rows)),
        "",
        FLEET_NOTE,
    ]
    return "\n\n".join([*blocks, "\n".join(lines)])


FLEET_NOTE = (
    "fleet: GPU-h, $, events, starts and spot losses summed over workloads; served% = minutes "
    "in which every workload with data was served; unserved% of the trace's requests (each "
    "workload's unserved share of its demand per minute, applied to that minute's requests, "
    "summed over workloads: demand units differ across workloads and are not summed); "
    "overflow$ summed over the workloads that price it; pool budgets are not simulated."
)


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _stamp(value: pd.Timestamp) -> str:
    return value.strftime("%Y-%m-%dT%H:%MZ")


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), JSON_DECIMALS)


def _by_type(values: simulate.ByType) -> dict[str, float | None]:
    return {key: _round(value) for key, value in values.as_dict().items()}


def _shared_json(
    row: simulate.PolicyResult | lineup.FleetResult,
    oracle: simulate.PolicyResult | lineup.FleetResult | None,
) -> dict[str, Any]:
    """The keys a policy's object has for one workload and for the fleet alike."""
    return {
        "served_minutes_pct": _round(row.served_minutes_pct),
        "unserved_demand_pct": _round(row.unserved_demand_pct),
        "gpu_hours": _round(row.gpu_hours),
        "cost_usd": _round(row.cost_usd),
        "cost_by_type": _by_type(row.cost_by_type),
        "scale_events": row.scale_events,
        "gpu_hours_by_type": _by_type(row.gpu_hours_by_type),
        "gpu_hours_vs_oracle": _round(_ratio(row.gpu_hours, oracle.gpu_hours if oracle else None)),
        "cost_vs_oracle": _round(_ratio(row.cost_usd, oracle.cost_usd if oracle else None)),
        "api_overflow_usd": _round(row.api_overflow_usd),
        "served_minutes": row.served_minutes,
        "minutes_with_data": row.minutes_with_data,
    }


def policy_json(row: simulate.PolicyResult, oracle: simulate.PolicyResult | None) -> dict[str, Any]:
    return {
        **_shared_json(row, oracle),
        "unserved_demand": _round(row.unserved_demand),
        "scale_out_events": row.scale_out_events,
        "scale_in_events": row.scale_in_events,
        "replicas_ordered": row.replicas_ordered,
        "spot_interruptions": row.spot_interruptions,
        "reserved_commitment": row.reserved_commitment,
        "peak_replicas": row.peak_replicas,
        "mean_replicas": _round(row.mean_replicas),
        "mix": row.mix.value,
    }


def fleet_policy_json(row: lineup.FleetResult, oracle: lineup.FleetResult | None) -> dict[str, Any]:
    """A policy over the fleet: the per-workload object's first keys, summed as `lineup.fleet`
    says (unserved_demand_pct is of the trace's requests)."""
    return {
        **_shared_json(row, oracle),
        "requests": _round(row.requests),
        "unserved_requests": _round(row.unserved_requests),
        "replicas_ordered": row.replicas_ordered,
        "spot_interruptions": row.spot_interruptions,
    }


def fleet_json(
    chosen: Sequence[spec.WorkloadSpec],
    results: Sequence[simulate.SimulationResult],
    *,
    source: str,
    column: str,
    mix: simulate.MixMode,
) -> dict[str, Any]:
    """Several workloads: the shared run, each workload's figures under "workloads", and the
    fleet's per policy under "policies" (the keys of the one-workload document's policies)."""
    entries = []
    for workload, result in zip(chosen, results, strict=True):
        single = as_json(result, source=source, column=column, mix=mix)
        entry: dict[str, Any] = {"name": workload.name, "pool": workload.pool}
        entry.update((key, value) for key, value in single.items() if key not in SHARED_KEYS)
        entries.append(entry)
    rows = lineup.fleet(results)
    oracle = _fleet_oracle(rows)
    first = results[0]
    return {
        "version": JSON_VERSION,
        "trace": source,
        "column": column,
        "replay_start": _stamp(first.start),
        "replay_minutes": first.minutes,
        "seed": first.seed,
        "mix": mix.value,
        "fleet_note": FLEET_NOTE,
        "workloads": entries,
        "policies": {row.policy.value: fleet_policy_json(row, oracle) for row in rows},
    }


# Keys of the one-workload document said once at the top of the several-workload document.
SHARED_KEYS = frozenset(
    {"version", "workload", "trace", "column", "replay_start", "replay_minutes", "seed", "mix"}
)


def as_json(
    result: simulate.SimulationResult, *, source: str, column: str, mix: simulate.MixMode
) -> dict[str, Any]:
    oracle = result.result(simulate.PolicyName.ORACLE)
    cold = result.cold_start
    return {
        "version": JSON_VERSION,
        "workload": result.workload,
        "trace": source,
        "column": column,
        "replay_start": _stamp(result.start),
        "replay_minutes": result.minutes,
        "seed": result.seed,
        "mix": mix.value,
        "cold_start": {
            "kind": cold.kind.value,
            "median_s": _round(cold.median_s),
            "p90_s": _round(cold.p90_s),
        },
        "planning_lead_time_s": result.planning_lead_time_s,
        "capacity_per_replica": _round(result.capacity_per_replica),
        "forecast_model": result.forecast_model,
        "forecast_refits": result.forecast_refits,
        "dropout_minutes": result.dropout_minutes,
        "policies": {row.policy.value: policy_json(row, oracle) for row in result.policies},
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def write_timeseries(
    path: Path, results: Sequence[simulate.SimulationResult], *, several: bool
) -> None:
    """One row per (workload,) policy and minute: timestamp, `workload` when `several`,
    policy, then the engine's columns."""
    frames = []
    for result in results:
        for row in result.policies:
            frame = row.timeseries.copy()
            frame.insert(0, "policy", row.policy.value)
            if several:
                frame.insert(0, "workload", result.workload)
            frames.append(frame)
    joined = pd.concat(frames)
    joined.index = pd.DatetimeIndex(joined.index).strftime("%Y-%m-%dT%H:%M:%SZ")
    joined.index.name = "timestamp"
    _write(path, "--timeseries", joined.to_csv(float_format="%.6g"))


def _write(path: Path, flag: str, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise errors.InputError(
            f"{flag} {path} cannot be written ({exc}); pass a writable path"
        ) from None
