"""Pure: what a plan costs, by capacity type, next to all-on-demand and static-peak fleets.

Replicas are billed per minute of target (a replica ordered is billed, DESIGN.md "simulator"),
at gpus_per_replica * $/GPU-hour of its capacity type. Reserved replicas are billed for every
minute of the horizon, used or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planner import spec

MINUTES_PER_HOUR = 60.0
HOURS_PER_WEEK = 168.0


@dataclass(frozen=True, slots=True)
class TypeCost:
    capacity_type: spec.CapacityType
    peak_replicas: int
    mean_replicas: float
    gpu_hours: float
    dollars: float


@dataclass(frozen=True, slots=True)
class CostSummary:
    hours: float  # length of the horizon
    by_type: tuple[TypeCost, ...]  # reserved, spot, on_demand
    gpu_hours: float
    dollars: float
    dollars_per_hour: float
    dollars_per_week: float
    requests: float  # expected requests over the horizon (forecast p50)
    tokens: float | None  # prompt + completion tokens, for LLM workloads
    dollars_per_1m_requests: float | None  # None: no requests expected
    dollars_per_1m_tokens: float | None
    all_on_demand_dollars: float  # the same replicas, all on-demand
    static_peak_replicas: int
    static_peak_dollars: float  # peak replicas all the time, on-demand

    def share(self, capacity_type: spec.CapacityType) -> float:
        """Fraction of the plan's GPU-hours on this capacity type."""
        for item in self.by_type:
            if item.capacity_type is capacity_type:
                return item.gpu_hours / self.gpu_hours if self.gpu_hours > 0 else 0.0
        return 0.0


def summarise(
    workload: spec.WorkloadSpec,
    *,
    reserved: npt.NDArray[np.int64],
    spot: npt.NDArray[np.int64],
    on_demand: npt.NDArray[np.int64],
    requests: float,
    request: spec.RequestShape | None = None,
) -> CostSummary:
    """Cost of per-minute targets.

    One A100 replica on-demand for 60 minutes: 1 GPU * 1 h * $3.67 = $3.67. Reserved is billed
    at its base for the whole horizon even where the plan runs fewer.
    """
    minutes = reserved.size
    hours = minutes / MINUTES_PER_HOUR
    gpr = workload.gpus_per_replica
    prices = workload.prices
    reserved_base = int(reserved.max()) if minutes else 0
    by_type: list[TypeCost] = []
    for capacity_type, counts in (
        (spec.CapacityType.RESERVED, reserved),
        (spec.CapacityType.SPOT, spot),
        (spec.CapacityType.ON_DEMAND, on_demand),
    ):
        replica_minutes = float(counts.sum())
        if capacity_type is spec.CapacityType.RESERVED:
            replica_minutes = float(reserved_base * minutes)
        gpu_hours = replica_minutes * gpr / MINUTES_PER_HOUR
        by_type.append(
            TypeCost(
                capacity_type=capacity_type,
                peak_replicas=int(counts.max()) if minutes else 0,
                mean_replicas=float(counts.mean()) if minutes else 0.0,
                gpu_hours=gpu_hours,
                dollars=gpu_hours * prices.per_gpu_hour(capacity_type),
            )
        )
    total = reserved + spot + on_demand
    dollars = sum(item.dollars for item in by_type)
    gpu_hours = sum(item.gpu_hours for item in by_type)
    tokens = None
    if workload.kind is spec.WorkloadKind.LLM:
        shape = request or workload.request  # measured from the trace where it had tokens
        tokens = requests * (shape.prompt_tokens + shape.completion_tokens)
    peak = int(total.max()) if minutes else 0
    on_demand_rate = prices.on_demand_per_gpu_hour * gpr
    return CostSummary(
        hours=hours,
        by_type=tuple(by_type),
        gpu_hours=gpu_hours,
        dollars=dollars,
        dollars_per_hour=dollars / hours if hours else math.nan,
        dollars_per_week=dollars / hours * HOURS_PER_WEEK if hours else math.nan,
        requests=requests,
        tokens=tokens,
        dollars_per_1m_requests=dollars / requests * 1e6 if requests > 0 else None,
        dollars_per_1m_tokens=dollars / tokens * 1e6 if tokens else None,
        all_on_demand_dollars=float(total.sum()) / MINUTES_PER_HOUR * on_demand_rate,
        static_peak_replicas=peak,
        static_peak_dollars=peak * hours * on_demand_rate,
    )
