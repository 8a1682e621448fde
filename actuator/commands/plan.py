"""Shell: `prescale plan`: forecast a trace, plan each workload's replicas for the week ahead,
print the plan and write its per-minute targets."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from actuator import outputs, plausibility, pool, workloads
from actuator.commands import inputs, operating
from forecaster import forecast as forecasting
from forecaster import series
from kernel import errors, timestamp
from planner import demand, fleet, mix, spec, step
from simulator import results

HORIZON_S = 7 * 86400
CSV_COLUMNS = ("reserved", "spot", "on_demand", "total", "needed")
JSON_VERSION = 1

EPILOG = """examples:
  prescale plan                                    (bundled NASA trace and example workload)
  prescale plan --trace traffic.csv.gz --workload chat.yaml --out plan.csv
  prescale plan --workload fleet.yaml --format json > plan.json
  prescale plan --prometheus http://prometheus:9090 --preset vllm-concurrency \\
      --selector '{namespace="chat"}' --workload chat.yaml   (a gauge: no Little's law)

The trace's column (--column, default requests) must count arrivals per interval; a
Prometheus gauge preset is load already (docs/prometheus.md). --out writes
timestamp,reserved,spot,on_demand,total,needed per minute of the week ahead; with several
workloads a `workload` column follows the timestamp. The lead time is each workload's
configured lead_time (a CSV trace carries no cold starts to learn from).
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="plan GPU replicas per capacity type for the week ahead",
        description="Forecast the trace, then plan each workload's replicas minute by minute\n"
        "ahead of the cold start, within its bounds and pool budget, split into reserved,\n"
        "spot and on-demand, and priced next to all-on-demand and static peak.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inputs.add_trace_arguments(parser)
    inputs.add_prometheus_arguments(parser)
    inputs.add_workload_argument(parser)
    parser.add_argument("--out", type=Path, default=None, help="write per-minute targets (CSV)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="workloads whose operating points are chosen in parallel processes (default: one "
        "per core; 1 = serial)",
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="table (default) or json"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    wrong_jobs = pool.jobs_problem(args.jobs)
    if wrong_jobs is not None:
        raise errors.InputError(wrong_jobs)
    if args.out is not None:
        outputs.check([outputs.Output("--out", args.out)], inputs.files_read(args))
    history = inputs.load_history(args)
    specs = history.apply(workloads.load(inputs.workload_path(args)))
    loaded = history.trace
    plausibility.warn_long_horizon("the plan's horizon", HORIZON_S, loaded)
    plausibility.warn_spikes(loaded)
    specs = plausibility.without_unfounded_reservations(specs, loaded)
    predicted = forecasting.forecast(loaded.values, horizon_s=HORIZON_S)
    at_points = operating.plan(specs, loaded, predicted, jobs=args.jobs)
    planned = at_points.planned
    if args.out is not None:
        write_csv(args.out, planned)
    if args.format == "json":
        json.dump(as_json(planned, predicted, at_points.choices), sys.stdout, indent=2)
        print()
    else:
        print(as_table(planned, predicted, loaded, at_points.choices))
    return 0


def write_csv(path: Path, planned: Sequence[fleet.PlannedWorkload]) -> None:
    frames = []
    for item in planned:
        frame = item.plan.targets.loc[:, list(CSV_COLUMNS)].copy()
        if len(planned) > 1:
            frame.insert(0, "workload", item.workload.name)
        frames.append(frame)
    table = pd.concat(frames)
    table.index = pd.DatetimeIndex(table.index).strftime(timestamp.FORMAT)
    table.index.name = "timestamp"
    outputs.write_text(outputs.Output("--out", path), table.to_csv())


def _money(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"${value:,.2f}"


def _shape(w: spec.WorkloadSpec, request: spec.RequestShape) -> str:
    """How one request per second turns into load, and where the request shape came from."""
    source = "from the spec" if request == w.request else "tokens measured from the trace"
    factor = demand.load_factor(w.unit, request)
    return (
        f"1 request/s = {_amount(factor)} {w.unit.value} ({request.prompt_tokens:,.0f} in, "
        f"{request.completion_tokens:,.0f} out, {request.duration_s:.3g} s each, {source})"
    )


def _amount(value: float) -> str:
    """12 -> '12', 0.5 -> '0.5', 38035.1 -> '38,035'."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _saved(planned: float, other: float) -> str:
    return f"{(other - planned) / other * 100:.1f} % less" if other > 0 else "n/a"


def as_table(
    planned: Sequence[fleet.PlannedWorkload],
    predicted: forecasting.Forecast,
    loaded: series.Trace,
    choices: Sequence[results.Choice | None],
) -> str:
    start = predicted.frame.index[0]
    lines = [
        f"forecast    {predicted.model.value} ({predicted.reason.value}), "
        f"{predicted.resolution_s} s buckets of {loaded.column} per {loaded.interval_s} s, "
        f"from {start:%Y-%m-%d %H:%M} UTC",
    ]
    if predicted.reason is not forecasting.ForecastReason.BACKTEST_SELECTED:
        lines.append(
            f"note        the forecast is {predicted.reason.value}: a reserved base is a long "
            "commitment, check it against more history before buying"
        )
    for item, choice in zip(planned, choices, strict=True):
        lines.extend(["", *_workload_table(item, predicted.input_interval_s, choice)])
    return "\n".join(lines)


def _workload_table(
    item: fleet.PlannedWorkload, interval_s: int, choice: results.Choice | None
) -> list[str]:
    w, p, c = item.workload, item.plan, item.plan.cost
    lines = [
        f"workload    {w.name} ({w.kind.value}, {w.unit.value}, {w.gpus_per_replica} x {w.gpu})",
        f"demand      {_shape(w, item.request)}",
        f"history     {demand.describe(w, item.request, interval_s)}",
        f"capacity    {_amount(p.capacity_per_replica)} {w.unit.value} per replica at "
        f"{w.target_utilization:.0%} target, provisioned at {results.provisioned_for(w, choice)}",
        *_operating_line(w, choice),
        f"lead time   {p.lead_time_s} s ({item.lead_time.source.value}), cooldown "
        f"{w.cooldown_s} s, replicas {w.min_replicas}..{w.max_replicas}",
        f"scale-in    after {step.hold_s(w, p.lead_time_s)} s without a higher want ("
        + (
            "the cooldown"
            if w.scale_in_hold is spec.HoldRule.COOLDOWN
            else "the longer of the cooldown and the lead time"
        )
        + ")",
        f"horizon     {c.hours:.1f} h; reserved base {p.reserved} (a replica is reserved when "
        f"needed more than {mix.break_even_fraction(w.prices):.0%} of the time: "
        f"{w.prices.reserved_per_gpu_hour:.2f} / {w.prices.on_demand_per_gpu_hour:.2f} $/GPU-h)",
        "",
        f"{'type':<11}{'peak':>6}{'mean':>8}{'GPU-hours':>12}{'cost':>13}{'share':>8}",
    ]
    for t in c.by_type:
        lines.append(
            f"{t.capacity_type.value:<11}{t.peak_replicas:>6}{t.mean_replicas:>8.2f}"
            f"{t.gpu_hours:>12,.1f}{_money(t.dollars):>13}{c.share(t.capacity_type):>8.0%}"
        )
    total = p.targets["total"]
    lines.append(
        f"{'total':<11}{int(total.max()):>6}{float(total.mean()):>8.2f}"
        f"{c.gpu_hours:>12,.1f}{_money(c.dollars):>13}{1:>8.0%}"
    )
    lines.extend(
        [
            "",
            f"cost        {_money(c.dollars_per_week)} per week, {_money(c.dollars_per_hour)} "
            f"per hour, {_money(c.dollars_per_1m_requests)} per 1M requests"
            + (f", {_money(c.dollars_per_1m_tokens)} per 1M tokens" if c.tokens else ""),
            f"vs          all on-demand {_money(c.all_on_demand_dollars)} "
            f"({_saved(c.dollars, c.all_on_demand_dollars)}); static peak "
            f"{c.static_peak_replicas} replicas {_money(c.static_peak_dollars)} "
            f"({_saved(c.dollars, c.static_peak_dollars)})",
        ]
    )
    over = _minutes_over_max(item)
    if over:
        lines.append(
            f"bounds      the need exceeds max_replicas ({w.max_replicas}) in {over} minutes "
            f"(peak need {int(p.targets['needed'].max())}); raise max_replicas to serve them"
        )
    if item.shortfall is not None:
        s = item.shortfall
        lines.append(
            f"budget      got fewer replicas than wanted in {s.minutes} minutes (worst "
            f"{s.worst_granted} of {s.worst_wanted} at {s.worst_at:%Y-%m-%d %H:%M}): "
            f"{s.explanation}"
        )
    return lines


def _operating_line(w: spec.WorkloadSpec, choice: results.Choice | None) -> list[str]:
    """How the plan's point was chosen for the SLO (commands/operating.py); nothing for an
    expert override of the quantile, planned as it stands."""
    if choice is None:
        return []
    if not choice.windows:
        return [
            f"slo         {w.slo.served_minutes_pct:g} % of minutes served: no point chosen, "
            f"{choice.reason}"
        ]
    met = "met" if choice.met else "not met: the point that served most"
    return [
        f"slo         {w.slo.served_minutes_pct:g} % of minutes served: "
        f"{choice.point.describe()}, chosen by replaying {len(choice.windows)} window(s) of the "
        f"history ({met}; {choice.reason})"
    ]


def _minutes_over_max(item: fleet.PlannedWorkload) -> int:
    """Minutes whose need (before warm standby) is above max_replicas: demand left unserved."""
    return int((item.plan.targets["needed"] > item.workload.max_replicas).sum())


def as_json(
    planned: Sequence[fleet.PlannedWorkload],
    predicted: forecasting.Forecast,
    choices: Sequence[results.Choice | None],
) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "forecast": {
            "model": predicted.model.value,
            "reason": predicted.reason.value,
            "resolution_s": predicted.resolution_s,
            "start": timestamp.utc_text(predicted.frame.index[0]),
        },
        "workloads": [
            _workload_json(item, predicted.input_interval_s, choice)
            for item, choice in zip(planned, choices, strict=True)
        ],
    }


def _workload_json(
    item: fleet.PlannedWorkload, interval_s: int, choice: results.Choice | None
) -> dict[str, Any]:
    w, p, c = item.workload, item.plan, item.plan.cost
    total = p.targets["total"]
    shortfall = item.shortfall
    return {
        "name": w.name,
        "gpu": w.gpu,
        "gpus_per_replica": w.gpus_per_replica,
        "unit": w.unit.value,
        "history": {
            "source_unit": w.history_unit.value,
            "conversion": demand.describe(w, item.request, interval_s),
        },
        "capacity_per_replica": p.capacity_per_replica,
        "provisioning_quantile": w.provisioning_quantile.value,
        # the operating point planned at, chosen for the SLO; null: the spec's quantile
        "operating_point": None
        if choice is None
        else {
            "band_scale": choice.point.band_scale,
            "level_correction": choice.point.level_correction,
            "hold": choice.point.hold.value,
            "slo_served_pct": choice.slo.served_minutes_pct,
            "met": choice.met,
            "reason": choice.reason,
        },
        "lead_time": {"seconds": p.lead_time_s, "source": item.lead_time.source.value},
        "reserved_base": p.reserved,
        "minutes_needing_more_than_max_replicas": _minutes_over_max(item),
        "replicas": {
            **{
                t.capacity_type.value: {"peak": t.peak_replicas, "mean": t.mean_replicas}
                for t in c.by_type
            },
            "total": {"peak": int(total.max()), "mean": float(total.mean())},
        },
        "cost": {
            "hours": c.hours,
            "gpu_hours": c.gpu_hours,
            "dollars": c.dollars,
            "by_type": {
                t.capacity_type.value: {
                    "gpu_hours": t.gpu_hours,
                    "dollars": t.dollars,
                    "share": c.share(t.capacity_type),
                }
                for t in c.by_type
            },
            "dollars_per_hour": c.dollars_per_hour,
            "dollars_per_week": c.dollars_per_week,
            "dollars_per_1m_requests": c.dollars_per_1m_requests,
            "dollars_per_1m_tokens": c.dollars_per_1m_tokens,
            "all_on_demand_dollars": c.all_on_demand_dollars,
            "static_peak_replicas": c.static_peak_replicas,
            "static_peak_dollars": c.static_peak_dollars,
            "prices_source": w.prices.source,
        },
        "budget_shortfall": None
        if shortfall is None
        else {
            "minutes": shortfall.minutes,
            "worst_at": timestamp.utc_text(shortfall.worst_at),
            "worst_wanted": shortfall.worst_wanted,
            "worst_granted": shortfall.worst_granted,
            "explanation": shortfall.explanation,
        },
    }
