"""Shell: `prescale simulate`: replay a trace through prescale and its rivals, side by side.

Loads the trace and the workloads (every one of the file, or the one `--name` picks), runs
`simulator.lineup.run` (pure) for each on the same trace, demand, seed and cold starts, prints a
table per workload and, for several, the fleet's figures per policy (`simulator.lineup.fleet`),
and optionally writes the JSON summary and the per-minute time series. A progress bar goes to
stderr only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from actuator import outputs, pool, workloads
from actuator.commands import inputs, progress
from actuator.commands import simulate_output as output
from forecaster import forecast, series
from kernel import errors, timestamp
from planner import spec
from simulator import cold_start, lineup, results

EPILOG = """examples:
  prescale simulate                                 (bundled NASA trace and example workload)
  prescale simulate --trace nasa.csv.gz --workload chat.yaml --replay 7d --lead-time 10m \\
      --policies prescale,reactive,static,cron,oracle --seed 1 --json sim.json
  prescale simulate --lead-time 5m --lead-time-p90 12m --mix on_demand --timeseries sim.csv
  prescale simulate --trace nasa.csv.gz --until 1995-08-28T00:00Z --replay 7d
  prescale simulate --workload fleet.yaml --name chat-llama-8b   (one workload of several)
  prescale simulate --prometheus http://prometheus:9090 --preset vllm --since 21d --replay 7d

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
    inputs.add_prometheus_arguments(parser, until=False)
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
        help="comma-separated, any of "
        + ",".join(p.value for p in lineup.ALL_POLICIES)
        + " (default all)",
    )
    parser.add_argument(
        "--mix",
        choices=[m.value for m in results.MixMode],
        default=results.MixMode.PLANNER.value,
        help="planner: the planner's reserved/spot/on-demand split of the workload's "
        "capacity_types (default); on_demand: everything on demand",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of cold starts and spot losses")
    parser.add_argument(
        "--refit-every", default="6h", help="prescale's forecast refit interval (default 6h)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="workloads replayed in parallel processes (default: one per core; 1 = serial)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the JSON summary here")
    parser.add_argument(
        "--timeseries", type=Path, default=None, help="write per-minute series (CSV) here"
    )
    parser.set_defaults(run=run)


# The core's field names, as the user typed them on this command's line.
FLAGS = {
    "replay": "--replay",
    "until": "--until",
    "lead_time": "--lead-time",
    "lead_time_p90": "--lead-time-p90",
    "policies": "--policies",
    "refit_every": "--refit-every",
}


def run(args: argparse.Namespace) -> int:
    options, problems = _options(args)
    chosen = _workloads(args, problems)
    if problems or not chosen:
        raise errors.InputError(problems)
    written = [
        outputs.Output(flag, path)
        for flag, path in (("--json", args.json), ("--timeseries", args.timeseries))
        if path is not None
    ]
    if written:
        outputs.check(written, inputs.files_read(args))
    history = inputs.load_history(args)
    loaded = history.trace
    chosen = history.apply(chosen)
    terminal = sys.stderr.isatty()
    selection = None
    if len(chosen) > 1:
        # Every workload replays the same warm-up, so prescale's model choice (the backtest,
        # the slow part) is made once and shared, as `prescale report --simulate` does.
        if terminal:
            progress.ProgressBar(sys.stderr).note("choosing the forecast model on the warm-up ...")
        with errors.named(FLAGS):
            selection = lineup.prescale_selection(loaded, options)
    jobs = pool.default_jobs(len(chosen)) if args.jobs is None else args.jobs
    if jobs > 1 and len(chosen) > 1:
        results = _replay_in_parallel(
            chosen, loaded, options, selection, jobs=jobs, terminal=terminal
        )
    else:
        results = []
        for number, workload in enumerate(chosen, start=1):
            label = f"{workload.name} ({number}/{len(chosen)}) " if len(chosen) > 1 else ""
            bar = progress.ProgressBar(sys.stderr, label=label) if terminal else None
            if bar is not None:
                bar.note(f"{label}fitting the forecast on the warm-up ...")
            with errors.named(FLAGS):
                replayed = lineup.run(workload, loaded, options, selection=selection, progress=bar)
            results.append(replayed)
            if bar is not None:
                bar.done()
    source = history.label
    if len(chosen) == 1:
        print(output.as_table(results[0], source=source, column=loaded.column, mix=options.mix))
        note = output.pool_note(chosen[0])
        if note is not None:
            print(note)
    else:
        print(
            output.fleet_tables(
                chosen, results, source=source, column=loaded.column, mix=options.mix
            )
        )
    if args.json is not None:
        if len(chosen) == 1:
            document = output.as_json(
                results[0], source=source, column=loaded.column, mix=options.mix
            )
        else:
            document = output.fleet_json(
                chosen, results, source=source, column=loaded.column, mix=options.mix
            )
        _write(args.json, "--json", output.dumps(document))
    if args.timeseries is not None:
        write_timeseries(args.timeseries, results, several=len(chosen) > 1)
    return 0


def _replay_in_parallel(
    chosen: Sequence[spec.WorkloadSpec],
    loaded: series.Trace,
    options: lineup.Options,
    selection: forecast.Selection | None,
    *,
    jobs: int,
    terminal: bool,
) -> list[results.SimulationResult]:
    """Every workload's replay in `jobs` processes (actuator/pool.py): the serial results."""
    tasks = [lineup.Task(w, loaded, options, selection) for w in chosen]
    bar = progress.ProgressBar(sys.stderr) if terminal else None

    def done(count: int) -> None:
        if bar is not None:
            bar.note(f"replayed {count}/{len(tasks)} workloads in {jobs} processes ...")

    done(0)
    with errors.named(FLAGS):
        replayed = pool.run_all(lineup.run_task, tasks, jobs, on_done=done)
    if bar is not None:
        bar.done()
    return replayed


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
                problems.extend(exc.renamed(FLAGS).problems)
    names: tuple[results.PolicyName, ...] = ()
    try:
        names = lineup.names([n for n in args.policies.split(",") if n.strip()])
    except errors.InputError as exc:
        problems.extend(exc.renamed(FLAGS).problems)
    until: pd.Timestamp | None = None
    if args.until is not None:
        try:
            until = inputs.parse_time("--until", args.until)
        except errors.InputError as exc:
            problems.extend(exc.problems)
    wrong_jobs = pool.jobs_problem(args.jobs)
    if wrong_jobs is not None:
        problems.append(wrong_jobs)
    options = lineup.Options(
        replay_s=replay_s,
        until=until,
        mask_dropouts=not args.keep_dropouts,
        cold_start=cold,
        policies=names,
        mix=results.MixMode(args.mix),
        seed=inputs.seed(args.seed, problems),
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


def write_timeseries(
    path: Path, results: Sequence[results.SimulationResult], *, several: bool
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
    joined.index = pd.DatetimeIndex(joined.index).strftime(timestamp.FORMAT)
    joined.index.name = "timestamp"
    _write(path, "--timeseries", joined.to_csv(float_format="%.6g"))


def _write(path: Path, flag: str, text: str) -> None:
    outputs.write_text(outputs.Output(flag, path), text)
