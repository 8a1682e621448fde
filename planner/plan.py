"""Pure: a workload's plan for a forecast horizon at 1-minute resolution, vectorised.

`build_plan` computes, for every minute, exactly what `step.plan_step` would decide when
stepped minute by minute with no observed demand and every replica ready (a parity test holds
it to that): need at the provisioning quantile, the floor over the next lead time, bounds,
hold (max(cooldown, lead time), `step.hold_s`), scale-in step limit, warm standby, then the
capacity-type mix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from kernel import errors
from planner import capacity, cost, demand, mix, spec, step

PLAN_STEP_S = 60
# A forecast need this many times max_replicas is no capacity shortfall but a unit mistake
# (a capacity in tokens/s against a demand in requests): refused rather than planned at the cap.
MAX_NEED_FACTOR = 100
# needed: replicas the forecast peak needs that minute; floor: max of needed over the next lead
# time; base: after warm standby, bounds, cooldown hold and step limit, before the mix (the
# reserved count is decided on it); reserved + spot + on_demand = total.
TARGET_COLUMNS = ("needed", "floor", "base", "reserved", "spot", "on_demand", "total")


class ForecastLike(Protocol):
    """What the planner needs of a `forecaster.forecast.Forecast`."""

    @property
    def frame(self) -> pd.DataFrame: ...  # p50 p90 p99 peak_p50 peak_p90 peak_p99

    @property
    def resolution_s(self) -> int: ...

    @property
    def input_interval_s(self) -> int: ...


@dataclass(frozen=True)
class Plan:
    workload: str
    # 1-minute UTC index over the horizon; int columns TARGET_COLUMNS
    targets: pd.DataFrame
    reserved: int  # the reserved base, by break-even on the planned replicas
    lead_time_s: int
    capacity_per_replica: float  # in the workload's unit, at full utilisation
    provisioning_quantile: spec.ProvisioningQuantile
    cost: cost.CostSummary


def window_minutes(seconds: float) -> int:
    """Grid points a window of `seconds` spans at 1-minute ticks, both ends included:
    600 s -> 11 (t .. t+10), 90 s -> 3 (a tick at t reaches back to the minute before t-1.5)."""
    return math.ceil(seconds / PLAN_STEP_S) + 1


def lookahead_max(values: npt.NDArray[np.int64], seconds: float) -> npt.NDArray[np.int64]:
    """max(values[t : t + window]) for every t, truncated at the end of the horizon."""
    width = window_minutes(seconds)
    padded = np.concatenate([values, np.zeros(width - 1, dtype=values.dtype)])
    result: npt.NDArray[np.int64] = sliding_window_view(padded, width).max(axis=1)
    return result


def lookback_max(values: npt.NDArray[np.int64], seconds: float) -> npt.NDArray[np.int64]:
    """max(values[t - window + 1 : t + 1]) for every t, truncated at the start."""
    width = window_minutes(seconds)
    padded = np.concatenate([np.full(width - 1, values.min(initial=0), values.dtype), values])
    result: npt.NDArray[np.int64] = sliding_window_view(padded, width).max(axis=1)
    return result


def step_limited(
    held: npt.NDArray[np.int64], cap: npt.NDArray[np.int64], step: int
) -> npt.NDArray[np.int64]:
    """b(t) = min(cap(t), max(held(t), b(t-1) - step)), b(0) = min(held(0), cap(0)).

    While the cap never binds this unrolls to max over s <= t of (held(s) - step * (t - s)),
    a running maximum: held [6, 2, 2, 2] with step 1 gives [6, 5, 4, 3]. A binding (pool
    budget) cap breaks that identity, and those plans take the plain loop.
    """
    ticks = np.arange(held.size, dtype=np.int64) * step
    unrolled = np.maximum.accumulate(held + ticks) - ticks
    if np.all(unrolled <= cap):
        return unrolled
    result = np.empty_like(held)
    previous: int | None = None
    for i, (h, c) in enumerate(zip(held.tolist(), cap.tolist(), strict=True)):
        value = h if previous is None else max(h, previous - step)
        previous = min(value, c)
        result[i] = previous
    return result


def needed_per_bucket(
    workload: spec.WorkloadSpec,
    forecast: ForecastLike,
    request: spec.RequestShape,
    arrivals: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.int64]:
    """Replicas each forecast bucket needs at its within-bucket peak at the quantile.

    `arrivals` stands for the frame's provisioning column when the caller has it as values
    already (the replay's floors at an operating point); None reads it from the frame.
    """
    column = f"peak_{workload.provisioning_quantile.value}"
    if column not in forecast.frame.columns:
        raise errors.InputError(
            f"forecast column {column} is missing (columns: {list(forecast.frame.columns)}); "
            "pass a forecast from forecaster.forecast.forecast"
        )
    if arrivals is None:
        arrivals = forecast.frame[column].to_numpy(dtype=np.float64)
    unknown = int(np.count_nonzero(~np.isfinite(arrivals)))
    if unknown:
        # Planning an unknown bucket as zero demand would release replicas at random.
        raise errors.InputError(
            f"forecast column {column} has {unknown} missing or infinite values of "
            f"{arrivals.size}; forecast every bucket of the horizon before planning"
        )
    return needed_for(workload, arrivals, forecast.input_interval_s, request)


def needed_for(
    workload: spec.WorkloadSpec,
    arrivals: npt.NDArray[np.float64],
    input_interval_s: int,
    request: spec.RequestShape,
) -> npt.NDArray[np.int64]:
    """Replicas needed by arrivals per input interval (a forecast column), at target use."""
    load = demand.history_load(
        arrivals, interval_s=input_interval_s, workload=workload, request=request
    )
    per_replica = capacity.per_replica(workload, request)
    if not (math.isfinite(per_replica) and per_replica > 0):
        raise errors.InputError(
            errors.Problem(
                "capacity_per_replica",
                f"{per_replica:g} {workload.unit.value}",
                f"leaves workload {workload.name} no capacity per replica (the model's weights "
                f"fill the {workload.gpus_per_replica} x {workload.gpu_memory_gib:g} GiB or the "
                "request holds no tokens)",
                "set capacity_per_replica, or more gpus_per_replica, or a smaller model",
            )
        )
    needed = capacity.replicas_needed(load, per_replica, workload.target_utilization)
    peak = int(needed.max(initial=0))
    if peak > MAX_NEED_FACTOR * workload.max_replicas:
        raise errors.InputError(
            errors.Problem(
                "capacity_per_replica",
                f"{per_replica:g} {workload.unit.value}",
                f"makes workload {workload.name}'s forecast peak need {peak:,} replicas, more "
                f"than {MAX_NEED_FACTOR} times max_replicas ({workload.max_replicas}): the "
                "capacity or the demand is in the wrong unit",
                "check capacity_per_replica's unit against unit and the history's column, "
                "or raise max_replicas",
            )
        )
    return needed


def floor_per_minute(
    needed: npt.NDArray[np.int64], resolution_s: int, lead_time_s: int
) -> npt.NDArray[np.int64]:
    """The plan's `floor` column from the replicas needed per forecast bucket: each bucket's
    need held over its minutes, then the maximum over the next lead time."""
    return lookahead_max(np.repeat(needed, resolution_s // PLAN_STEP_S), lead_time_s)


def floor_of(
    workload: spec.WorkloadSpec,
    forecast: ForecastLike,
    *,
    lead_time_s: int,
    request: spec.RequestShape | None = None,
    arrivals: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.int64]:
    """`build_plan(...).targets["floor"]` alone, checked the same way (`arrivals` as in
    needed_per_bucket): the replay's refits after the first read nothing else of their plan
    (simulator/predictive.py)."""
    _check(forecast, lead_time_s)
    per_bucket = needed_per_bucket(workload, forecast, request or workload.request, arrivals)
    return floor_per_minute(per_bucket, forecast.resolution_s, lead_time_s)


def _check(forecast: ForecastLike, lead_time_s: int) -> None:
    """Every problem of a forecast and lead time that no plan can be built from, at once."""
    problems = []
    if forecast.resolution_s % PLAN_STEP_S != 0 or forecast.resolution_s <= 0:
        problems.append(
            f"forecast resolution_s ({forecast.resolution_s}) is not a whole number of minutes; "
            "forecast at 300 or 900 s for planning"
        )
    if forecast.frame.empty:
        problems.append(
            "forecast frame (0 rows) is empty; forecast a horizon of at least one bucket"
        )
    if lead_time_s < 0:
        problems.append(f"lead_time_s ({lead_time_s}) is negative; pass 0 or more seconds")
    if problems:
        raise errors.InputError(problems)


def build_plan(
    workload: spec.WorkloadSpec,
    forecast: ForecastLike,
    *,
    lead_time_s: int,
    request: spec.RequestShape | None = None,
    replica_cap: npt.NDArray[np.int64] | None = None,
) -> Plan:
    """Per-minute targets over the forecast horizon.

    `request` is the measured request shape (demand.measured_request) when the trace has token
    columns; the spec's otherwise. `replica_cap` is this workload's per-minute share of a pool
    GPU budget (budget.py); None when it has no budget.
    """
    shape = request or workload.request
    _check(forecast, lead_time_s)
    per_bucket = needed_per_bucket(workload, forecast, shape)
    needed = np.repeat(per_bucket, forecast.resolution_s // PLAN_STEP_S)
    index = pd.date_range(
        forecast.frame.index[0], periods=needed.size, freq="min", tz="UTC", name="timestamp"
    )
    cap = np.full(needed.size, workload.max_replicas, dtype=np.int64)
    if replica_cap is not None:
        cap = np.maximum(np.minimum(cap, replica_cap.astype(np.int64)), 0)

    floor = floor_per_minute(per_bucket, forecast.resolution_s, lead_time_s)
    wanted = floor + workload.warm_standby
    bounded = np.minimum(np.maximum(wanted, workload.min_replicas), cap)
    held = lookback_max(bounded, step.hold_s(workload, lead_time_s))
    base = step_limited(held, cap, workload.scale_in_step)

    reserved = mix.reserved_base(workload, base)
    split = mix.split_series(workload, base, reserved, lead_time_s, cap)
    total = split.reserved + split.spot + split.on_demand
    targets = pd.DataFrame(
        {
            "needed": needed,
            "floor": floor,
            "base": base,
            "reserved": split.reserved,
            "spot": split.spot,
            "on_demand": split.on_demand,
            "total": total,
        },
        index=index,
    )
    mean_column = workload.provisioning_quantile.value
    mean_arrivals = forecast.frame.get("p50", forecast.frame.get(mean_column))
    requests = 0.0
    # A gauge history (concurrency, KV tokens) counts no requests: cost per 1M requests is n/a.
    if mean_arrivals is not None and workload.history_unit is spec.HistoryUnit.ARRIVALS:
        buckets = forecast.resolution_s / forecast.input_interval_s
        requests = float(np.nansum(mean_arrivals.to_numpy(dtype=np.float64))) * buckets
    summary = cost.summarise(
        workload,
        reserved=split.reserved,
        spot=split.spot,
        on_demand=split.on_demand,
        requests=requests,
        request=shape,
    )
    return Plan(
        workload=workload.name,
        targets=targets,
        reserved=reserved,
        lead_time_s=lead_time_s,
        capacity_per_replica=capacity.per_replica(workload, shape),
        provisioning_quantile=workload.provisioning_quantile,
        cost=summary,
    )
