"""Shell: `prescale report`: forecast, plan (and optionally replay) every workload of a spec
file on one trace, and write report.html, report.json and report.md to a directory."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from actuator import outputs, plausibility, pool, workloads
from actuator.commands import inputs, operating
from forecaster import forecast as fc
from kernel import errors
from planner import budget
from report import content, html, jsondoc, markdown, model
from simulator import lineup, results

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("prescale-report")
# The core's field names, as the user typed them on this command's line.
FLAGS = {"replay": "--replay"}
FILES = ("report.html", "report.json", "report.md")

EPILOG = """\
examples:
  prescale report --out prescale-report
      bundled NASA trace and example workload; open prescale-report/report.html
  prescale report --trace traffic.csv.gz --workload workloads.yaml --simulate --out weekly
      every workload in workloads.yaml, with the what-if replay of the last 7 days
  prescale report --prometheus http://prometheus:9090 --preset vllm \\
      --selector '{model_name="llama-3-8b"}' --workload chat.yaml --out weekly
      the last 28 days from Prometheus (docs/prometheus.md; or a source: block in chat.yaml)

Writes report.html (one self-contained page, plots inline as SVG), report.json (every number,
schema_version) and report.md (the tables) into --out.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write the capacity report (HTML, JSON, Markdown) for next week",
        description="Forecast, plan and price every workload; optionally replay rival policies.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inputs.add_trace_arguments(parser)
    inputs.add_prometheus_arguments(parser)
    inputs.add_workload_argument(parser)
    parser.add_argument(
        "--horizon", default="7d", help="how far ahead to plan, e.g. 7d, 1d, 12h (default 7d)"
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="also replay the last --replay of the trace through every policy",
    )
    parser.add_argument(
        "--replay", default="7d", help="with --simulate: the replayed period (default 7d)"
    )
    parser.add_argument("--seed", type=int, default=0, help="with --simulate: random seed")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="workloads whose operating points are chosen (and, with --simulate, replayed) in "
        "parallel processes (default: one per core; 1 = serial)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})"
    )
    parser.set_defaults(run=run)


def budget_note(shortfall: budget.Shortfall | None) -> str | None:
    if shortfall is None:
        return None
    return (
        f"got {shortfall.worst_granted} of the {shortfall.worst_wanted} replicas it wanted at "
        f"{shortfall.worst_at:%a %d %b %H:%M} UTC and fewer in {shortfall.minutes} minutes: "
        f"{shortfall.explanation}."
    )


@dataclass(frozen=True)
class Request:
    """What `prescale report` was asked for, resolved from the flags (typed: no Namespace)."""

    history: inputs.HistoryRequest  # the CSV trace or the Prometheus source and range
    workload_path: Path
    horizon_s: int
    replay_s: int | None  # None: no what-if replay
    seed: int
    jobs: int | None = None  # processes choosing points and replaying (None: one per core)


def request_of(args: argparse.Namespace) -> Request:
    problems: list[str] = []
    horizon_s = inputs.duration_s("--horizon", args.horizon, problems)
    replay_s = inputs.duration_s("--replay", args.replay, problems) if args.simulate else None
    seed = inputs.seed(args.seed, problems)
    wrong_jobs = pool.jobs_problem(args.jobs)
    if wrong_jobs is not None:
        problems.append(wrong_jobs)
    if problems:
        raise errors.InputError(problems)
    return Request(
        history=inputs.history_request(args),
        workload_path=inputs.workload_path(args),
        horizon_s=horizon_s,
        replay_s=replay_s,
        seed=seed,
        jobs=args.jobs,
    )


def build(request: Request, *, now: datetime) -> model.Report:
    """The report asked for: one forecast of the trace, every workload's plan (and replay when
    asked)."""
    loaded = inputs.load(request.history)
    specs = loaded.apply(workloads.load(request.workload_path))
    history = loaded.trace
    plausibility.warn_long_horizon("--horizon", request.horizon_s, history)
    plausibility.warn_spikes(history)
    specs = plausibility.without_unfounded_reservations(specs, history)
    replay_s = request.replay_s
    options = lineup.Options(replay_s=replay_s or 0, seed=request.seed)
    # Every workload replays the same warm-up, so prescale's model choice (the backtest, the
    # slow part) is made once and shared, exactly as `prescale simulate` makes it.
    with errors.named(FLAGS):
        selection = lineup.prescale_selection(history, options) if replay_s else None
    prediction = fc.forecast(history.values, horizon_s=request.horizon_s)
    jobs = pool.default_jobs(len(specs)) if request.jobs is None else request.jobs
    # Next week at each workload's operating point for its SLO (commands/operating.py), the
    # same plans `prescale plan` prints; the what-if replay chooses its own on its warm-up.
    at_points = operating.plan(specs, history, prediction, jobs=jobs)
    simulations: list[results.SimulationResult | None] = [None] * len(specs)
    if replay_s:
        tasks = [lineup.Task(w, history, options, selection) for w in specs]
        with errors.named(FLAGS):
            simulations = list(pool.run_all(lineup.run_task, tasks, jobs))
    sections = []
    rows = zip(at_points.planned, simulations, at_points.choices, strict=True)
    for planned, simulation, choice in rows:
        sections.append(
            content.WorkloadInputs(
                workload=planned.workload,
                history=history.values,
                column=history.column,
                forecast=prediction,
                plan=planned.plan,
                lead_time=planned.lead_time,
                budget_note=budget_note(planned.shortfall),
                simulation=simulation,
                request=planned.request,
                choice=choice,
            )
        )
    return content.report(
        sections,
        trace_name=loaded.name,
        workload_file=request.workload_path.name,
        generated_at=now,
    )


def write(report: model.Report, out: Path) -> tuple[Path, ...]:
    outputs.make_directory("--out", out)
    texts = (html.render(report), jsondoc.dumps(report), markdown.render(report))
    paths = tuple(out / name for name in FILES)
    for path, text in zip(paths, texts, strict=True):
        outputs.write_text(outputs.Output(f"--out ({path.name})", path), text)
    return paths


def run(args: argparse.Namespace) -> int:
    request = request_of(args)
    outputs.check_directory("--out", args.out, FILES, inputs.files_read(args))
    report = build(request, now=datetime.now(UTC))
    paths = write(report, args.out)
    fleet = report.fleet
    print(
        f"planned ${fleet.usd_per_week:,.0f} per week for {len(report.workloads)} workload(s); "
        f"{fleet.savings_vs_on_demand_pct:.1f} % below all-on-demand; "
        f"{len(fleet.caveats)} warning(s)"
    )
    for path in paths:
        print(f"wrote {path}")
    return 0
