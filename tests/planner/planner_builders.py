"""Builders of small, real planner inputs: specs through the real loader, Forecast-shaped frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from actuator import workloads
from planner import plan, spec, step

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def workload_data(**overrides: Any) -> dict[str, Any]:
    """The YAML mapping of a small on-demand-only workload, 10 concurrent per replica."""
    data: dict[str, Any] = {
        "name": "chat",
        "kind": "llm",
        "unit": "concurrency",
        "gpu": "A100-80GB",
        "gpus_per_replica": 1,
        "capacity_per_replica": 10,
        "target_utilization": 1.0,
        "min_replicas": 1,
        "max_replicas": 20,
        "lead_time": "10m",
        "request": {"prompt_tokens": 500, "completion_tokens": 200, "ttft_s": 0.5, "itl_s": 0.02},
        "capacity_types": ["on_demand"],
    }
    data.update(overrides)
    return data


def workload(**overrides: Any) -> spec.WorkloadSpec:
    (parsed,) = workloads.parse_workloads(workload_data(**overrides))
    return parsed


@dataclass(frozen=True)
class ForecastFrame:
    """Forecast-shaped input: the three fields the planner reads of forecaster's Forecast."""

    frame: pd.DataFrame
    resolution_s: int
    input_interval_s: int


def forecast(
    peaks: Sequence[float], *, resolution_s: int = 300, input_interval_s: int = 60
) -> ForecastFrame:
    """A forecast whose every quantile column equals `peaks` (arrivals per input interval)."""
    values = np.asarray(peaks, dtype=float)
    index = pd.date_range(START, periods=values.size, freq=f"{resolution_s}s", tz="UTC")
    frame = pd.DataFrame(
        {c: values for c in ("p50", "p90", "p99", "peak_p50", "peak_p90", "peak_p99")},
        index=index,
    )
    return ForecastFrame(frame, resolution_s, input_interval_s)


def minute(i: int) -> datetime:
    return START + timedelta(minutes=i)


def inputs(
    i: int,
    *,
    floor: int | None = None,
    observed: float | None = None,
    reserved: int = 0,
    ready: spec.ByType[int] | None = None,
    lead_time_s: int = 600,
    cap: int | None = None,
) -> step.StepInputs:
    return step.StepInputs(
        now=minute(i),
        forecast_floor=floor,
        reserved=reserved,
        observed_demand=observed,
        ready=ready or spec.ByType(),
        lead_time_s=lead_time_s,
        replica_cap=cap,
    )


def run_floors(
    workload: spec.WorkloadSpec, floors: Sequence[int | None], **kwargs: Any
) -> list[step.StepResult]:
    """Step minute by minute over `floors` with every target ready the next minute."""
    state = step.PolicyState.initial()
    results = []
    for i, value in enumerate(floors):
        result = step.plan_step(
            workload, inputs(i, floor=value, ready=state.targets, **kwargs), state
        )
        results.append(result)
        state = result.state
    return results


def totals(results: Sequence[step.StepResult]) -> list[int]:
    return [r.total for r in results]


def plan_of(workload: spec.WorkloadSpec, per_minute_peaks: Sequence[float]) -> plan.Plan:
    """A plan over a forecast at 1-minute resolution (no bucket holding) for exact tables."""
    return plan.build_plan(
        workload, forecast(per_minute_peaks, resolution_s=60), lead_time_s=workload.lead_time_s
    )
