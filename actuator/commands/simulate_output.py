"""Shell: what `prescale simulate` prints and writes as JSON.

The table per workload (and, for several, the fleet's line per policy from
`simulator.lineup.fleet`), the pool note, and the JSON summary documents, rendered from
`simulator.simulate.SimulationResult`. No I/O: `actuator.commands.simulate` prints and writes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from planner import operating, spec
from report import model
from simulator import lineup, operating_point, results

JSON_VERSION = 1
# Floats in the JSON are rounded so that the file is stable to the byte for a seed (and
# readable); 6 significant decimals are far below any figure the report shows.
JSON_DECIMALS = 6


def pool_note(workload: spec.WorkloadSpec) -> str | None:
    """The line saying a workload's pool budget was not simulated; None without a pool."""
    if workload.pool is None:
        return None
    budget = "" if workload.pool_gpu_budget is None else f" ({workload.pool_gpu_budget} GPUs)"
    return (
        f"pool      {workload.name} is in pool {workload.pool}{budget}: pool budgets are not "
        "simulated, this workload replayed unconstrained by it (prescale plan applies it)"
    )


def _ratio(value: float, reference: float | None) -> float | None:
    if reference is None or reference <= 0:
        return None
    return value / reference


def as_table(
    result: results.SimulationResult, *, source: str, column: str, mix: results.MixMode
) -> str:
    oracle = result.result(results.PolicyName.ORACLE)
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
    scored = result.policies[0].minutes_with_data if result.policies else result.minutes
    missing = result.minutes - scored - result.dropout_minutes
    if missing > 0:
        lines.append(
            f"gaps      {missing} replayed minutes ({missing / result.minutes:.1%}) have no data "
            "in the trace: no policy is scored on them"
        )
    if result.forecast_model is not None:
        lines.append(
            f"prescale  forecast model {result.forecast_model}, {result.forecast_refits} "
            "forecasts (warm-up + scheduled refits on data before each refit)"
        )
    lines += operating_point_lines(result.operating_point)
    lines += ["", *_rows(result.policies, oracle)]
    ours = result.result(results.PolicyName.PRESCALE)
    if ours is not None and ours.unserved_runs:
        lines.append(
            f"misses    prescale's {ours.minutes_with_data - ours.served_minutes} unserved "
            f"minutes came in {ours.unserved_runs} run(s), the longest "
            f"{ours.longest_unserved_minutes} minutes (cold start {result.cold_start.describe()}):"
            f" {model.MISS_RUNS_MEANING}"
        )
    lines += [
        "",
        "served% of minutes with data; unserved% of demand; GPU-h and $ billed from each order "
        "(cold starts included; reserved at the commitment); events = target changes per "
        "capacity type; starts = replicas ordered (cold starts paid).",
    ]
    return "\n".join(lines)


Row = results.PolicyResult | lineup.FleetResult


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
    return next((row for row in rows if row.policy is results.PolicyName.ORACLE), None)


def fleet_tables(
    chosen: Sequence[spec.WorkloadSpec],
    results: Sequence[results.SimulationResult],
    *,
    source: str,
    column: str,
    mix: results.MixMode,
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


def _by_type(values: spec.ByType[float]) -> dict[str, float | None]:
    return {key: _round(value) for key, value in values.as_dict().items()}


def _shared_json(
    row: results.PolicyResult | lineup.FleetResult,
    oracle: results.PolicyResult | lineup.FleetResult | None,
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


def policy_json(row: results.PolicyResult, oracle: results.PolicyResult | None) -> dict[str, Any]:
    return {
        **_shared_json(row, oracle),
        "unserved_demand": _round(row.unserved_demand),
        "unserved_runs": row.unserved_runs,
        "longest_unserved_minutes": row.longest_unserved_minutes,
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
    results: Sequence[results.SimulationResult],
    *,
    source: str,
    column: str,
    mix: results.MixMode,
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
    result: results.SimulationResult, *, source: str, column: str, mix: results.MixMode
) -> dict[str, Any]:
    oracle = result.result(results.PolicyName.ORACLE)
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
        "operating_point": operating_point_json(result.operating_point),
        "policies": {row.policy.value: policy_json(row, oracle) for row in result.policies},
    }


def operating_point_json(choice: operating_point.Choice | None) -> dict[str, Any] | None:
    """prescale's operating point, why, and the frontier it was chosen from."""
    if choice is None:
        return None
    return {
        "slo_served_minutes_pct": _round(choice.slo.served_minutes_pct),
        "chosen": _point_json(choice.point),
        "met": choice.met,
        "reason": choice.reason,
        "windows": [[_stamp(start), _stamp(end)] for start, end in choice.windows],
        "frontier": [
            {
                **_point_json(f.point),
                "served_minutes_pct": [_round(v) for v in f.served_pct],
                "gpu_hours": _round(f.gpu_hours),
            }
            for f in choice.frontier
        ],
    }


def _point_json(point: operating.OperatingPoint) -> dict[str, Any]:
    return {
        "band_scale": None if point.band_scale is None else _round(point.band_scale),
        "level_correction": point.level_correction,
        "hold": point.hold.value,
    }


def operating_point_lines(choice: operating_point.Choice | None) -> list[str]:
    """The chosen point and the frontier (served % over the windows against GPU-hours)."""
    if choice is None:
        return []
    lines = [
        f"operating point {choice.point.describe()} for SLO {choice.slo.served_minutes_pct:g} % "
        f"of minutes served: {choice.reason}"
    ]
    if choice.frontier:
        lines.append(
            f"  frontier on the warm-up's last {len(choice.windows)} window(s), cheapest first "
            "(minutes served over the windows, GPU-hours over the windows):"
        )
        for label, served, gpu_hours, chosen in operating_point.frontier_rows(choice):
            mark = "*" if chosen else " "
            lines.append(f"  {mark} {label:<44} {served:7.2f} % {gpu_hours:10.1f} GPU-h")
    return lines


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
