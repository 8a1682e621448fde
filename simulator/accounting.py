"""Pure: a replay's bookkeeping: the engine's change rows filled into per-minute counts, then
scored (served minutes, unserved demand), billed (GPU-hours and $ by capacity type, reserved at
its commitment) and priced (API overflow for unserved tokens)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kernel import units
from planner import spec
from simulator import results
from simulator import scenario as scenario_

RESERVED_COLUMN = 0  # column of results.TYPES
TOKENS_PER_MILLION = 1e6


@dataclass(frozen=True)
class Record:
    """The engine's per-minute counts of one policy: rows are minutes, columns TYPES."""

    targets: npt.NDArray[np.int64]
    ready: npt.NDArray[np.int64]
    billed: npt.NDArray[np.int64]
    ordered: int
    interruptions: int


def result(
    name: results.PolicyName,
    mix: results.MixMode,
    commitment: int,
    scenario: scenario_.Scenario,
    record: Record,
) -> results.PolicyResult:
    """One policy's result from the engine's per-minute counts, priced and scored."""
    targets, ready = record.targets, record.ready
    billed = record.billed.copy()
    billed[:, RESERVED_COLUMN] = np.maximum(billed[:, RESERVED_COLUMN], commitment)
    demand = scenario.demand
    has_data = np.isfinite(demand)
    capacity = ready.sum(axis=1) * scenario.capacity_per_replica
    served = np.where(has_data, (capacity >= demand).astype(float), np.nan)
    unserved = np.where(has_data, np.maximum(np.nan_to_num(demand) - capacity, 0.0), np.nan)
    minutes_with_data = int(has_data.sum())
    served_minutes = int(np.nansum(served))
    runs = unserved_runs(served)
    demand_sum = float(np.nansum(demand))
    unserved_sum = float(np.nansum(unserved))

    gpu_minutes = billed.sum(axis=0) * scenario.gpus_per_replica
    gpu_hours = spec.ByType(*(float(value) / units.MINUTES_PER_HOUR for value in gpu_minutes))
    prices = scenario.prices
    cost = spec.ByType.build(lambda t: gpu_hours.of(t) * prices.per_gpu_hour(t))
    total_target = targets.sum(axis=1)
    steps = np.diff(total_target)
    billed_total = billed.sum(axis=1)
    return results.PolicyResult(
        policy=name,
        mix=mix,
        minutes=scenario.minutes,
        minutes_with_data=minutes_with_data,
        served_minutes=served_minutes,
        served_minutes_pct=results.percent(served_minutes, minutes_with_data),
        unserved_runs=runs.size,
        longest_unserved_minutes=int(runs.max(initial=0)),
        # No demand at all: nothing went unserved (0 %), not 100 %.
        unserved_demand_pct=100.0 * unserved_sum / demand_sum if demand_sum > 0 else 0.0,
        unserved_demand=unserved_sum,
        gpu_hours=gpu_hours.total,
        gpu_hours_by_type=gpu_hours,
        cost_usd=cost.total,
        cost_by_type=cost,
        api_overflow_usd=_overflow_usd(scenario, unserved),
        scale_events=int((np.diff(targets, axis=0) != 0).sum()),
        scale_out_events=int((steps > 0).sum()),
        scale_in_events=int((steps < 0).sum()),
        replicas_ordered=record.ordered,
        spot_interruptions=record.interruptions,
        reserved_commitment=commitment,
        peak_replicas=int(billed_total.max()) if billed_total.size else 0,
        mean_replicas=float(billed_total.mean()) if billed_total.size else 0.0,
        timeseries=_timeseries(
            scenario,
            Record(targets, ready, billed, record.ordered, record.interruptions),
            capacity=capacity,
            served=served,
            unserved=unserved,
        ),
    )


def unserved_runs(served: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The length in minutes of each run of consecutive unserved minutes, in order, from a
    served column (1.0 served, 0.0 not, NaN in a gap: a gap ends a run). A run of about one
    cold start is a rise no replica was ready for, served once those ordered for it were; a
    run shorter than one is a burst over before they could be."""
    missed = np.concatenate([[0], (served == 0.0).astype(np.int8), [0]])
    edges = np.diff(missed)
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def _overflow_usd(scenario: scenario_.Scenario, unserved: npt.NDArray[np.float64]) -> float | None:
    """Unserved demand priced as API overflow.

    The unserved share of a minute's demand is the unserved share of its requests (load is
    proportional to arrivals within a minute), each of `tokens_per_request` tokens.
    """
    price = scenario.api_overflow_price_per_1m_tokens
    if price is None:
        return None
    demand = scenario.demand
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(demand > 0, unserved / demand, 0.0)
    tokens = np.nansum(share * scenario.arrivals * scenario.tokens_per_request)
    return float(tokens) / TOKENS_PER_MILLION * price


def _timeseries(
    scenario: scenario_.Scenario,
    record: Record,
    *,
    capacity: npt.NDArray[np.float64],
    served: npt.NDArray[np.float64],
    unserved: npt.NDArray[np.float64],
) -> pd.DataFrame:
    columns: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]] = {
        "arrivals": scenario.arrivals,
        "demand": scenario.demand,
        "capacity": capacity,
        "served": served,
        "unserved_demand": unserved,
    }
    for index, capacity_type in enumerate(results.TYPES):
        columns[f"target_{capacity_type.value}"] = record.targets[:, index]
        columns[f"ready_{capacity_type.value}"] = record.ready[:, index]
        columns[f"billed_{capacity_type.value}"] = record.billed[:, index]
    return pd.DataFrame(columns, index=scenario.timestamps)


def record(
    rows: list[tuple[int, tuple[int, int, int], spec.ByType[int], spec.ByType[int]]],
    minutes: int,
    ordered_count: int,
    interruptions: int,
) -> Record:
    """Per-minute arrays from the change rows: each row holds until the next one."""
    if not rows:
        empty = np.zeros((0, 3), dtype=np.int64)
        return Record(empty, empty, empty, ordered_count, interruptions)
    starts = np.array([row[0] for row in rows], dtype=np.int64)
    lengths = np.diff(np.append(starts, minutes))

    def fill(values: list[tuple[int, int, int]]) -> npt.NDArray[np.int64]:
        return np.repeat(np.array(values, dtype=np.int64).reshape(-1, 3), lengths, axis=0)

    return Record(
        targets=fill([row[1] for row in rows]),
        ready=fill([(r.reserved, r.spot, r.on_demand) for _, _, r, _ in rows]),
        billed=fill([(o.reserved, o.spot, o.on_demand) for _, _, _, o in rows]),
        ordered=ordered_count,
        interruptions=interruptions,
    )
