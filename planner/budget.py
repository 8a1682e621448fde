"""Pure: a GPU budget shared by the workloads of one pool.

Every workload first keeps its min_replicas (spec validation checks they fit). When the
workloads together want more GPUs than the pool has, the GPUs above the minimums are shared in
proportion to each workload's extra want (wanted - min_replicas, in GPUs), and the GPUs that
rounding down leaves go to the largest unmet wants; otherwise each gets what it wants plus an
equal part of the slack. The resulting per-minute replica caps go back
into `plan.build_plan`, which keeps every target (spot spares included) under its cap, so the
pool never exceeds its budget. `Shortfall` says who got less, when, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kernel import errors
from planner import plan, spec


@dataclass(frozen=True, slots=True)
class Shortfall:
    workload: str
    minutes: int  # minutes granted fewer replicas than the unconstrained plan wanted
    worst_at: pd.Timestamp  # the minute with the largest gap
    worst_wanted: int
    worst_granted: int
    explanation: str


@dataclass(frozen=True)
class PoolPlan:
    pool: str
    gpu_budget: int
    plans: tuple[plan.Plan, ...]  # in the order of the specs given
    binding_minutes: int  # minutes where the unconstrained plans exceeded the budget
    shortfalls: tuple[Shortfall, ...]  # one per workload that got less
    # each workload's replica cap per minute (`allocate`), in the order of the specs: what a
    # live tick may step up to without the pool exceeding its budget; () when no workload
    caps: tuple[npt.NDArray[np.int64], ...] = ()


def allocate(
    wanted: npt.NDArray[np.int64],
    *,
    min_replicas: npt.NDArray[np.int64],
    gpus_per_replica: npt.NDArray[np.int64],
    gpu_budget: int,
) -> npt.NDArray[np.int64]:
    """Replica caps, shape (workloads, minutes), with sum(cap * gpus) <= budget every minute.

    Budget 10 GPUs, two 1-GPU workloads with min 1 wanting 8 and 4: 8 GPUs above the minimums,
    extra wants 7 and 3, so 1 + floor(8 * 7/10) = 6 and 1 + floor(8 * 3/10) = 3; the one GPU
    rounding left over goes to the larger unmet want (8 - 6 = 2 > 4 - 3 = 1): caps 7 and 3.
    """
    gpus = gpus_per_replica[:, None]
    floor_gpus = int((min_replicas * gpus_per_replica).sum())
    if floor_gpus > gpu_budget:
        raise errors.InputError(
            f"gpu budget ({gpu_budget}) is below the {floor_gpus} GPUs the workloads' "
            "min_replicas hold; raise the pool's gpus or lower min_replicas"
        )
    free = gpu_budget - floor_gpus
    extra = np.maximum(wanted - min_replicas[:, None], 0) * gpus
    total_extra = extra.sum(axis=0)
    binding = total_extra > free
    safe_total = np.where(total_extra > 0, total_extra, 1)
    shared = min_replicas[:, None] + (free * extra // safe_total) // gpus
    _hand_out_leftovers(
        shared, wanted, gpus_per_replica, free - _extra_used(shared, min_replicas, gpus)
    )
    slack = np.maximum(free - total_extra, 0)
    workloads = wanted.shape[0]
    generous = np.maximum(wanted, min_replicas[:, None]) + (slack // workloads) // gpus
    caps: npt.NDArray[np.int64] = np.where(binding, shared, generous).astype(np.int64)
    return caps


def _extra_used(
    caps: npt.NDArray[np.int64], min_replicas: npt.NDArray[np.int64], gpus: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """GPUs the caps hold above the minimums, per minute."""
    used: npt.NDArray[np.int64] = ((caps - min_replicas[:, None]) * gpus).sum(axis=0)
    return used


def _hand_out_leftovers(
    shared: npt.NDArray[np.int64],
    wanted: npt.NDArray[np.int64],
    gpus_per_replica: npt.NDArray[np.int64],
    leftover: npt.NDArray[np.int64],
) -> None:
    """Give the GPUs that rounding down left over to the largest unmet wants first (in place),
    so a short pool is used to the last replica that fits."""
    minutes = np.arange(shared.shape[1])
    order = np.argsort(-(wanted - shared), axis=0, kind="stable")
    left = leftover.copy()
    for rank in range(shared.shape[0]):
        index = order[rank]
        gpus = gpus_per_replica[index]
        unmet = np.maximum(wanted[index, minutes] - shared[index, minutes], 0)
        add = np.minimum(unmet, np.maximum(left, 0) // gpus)
        shared[index, minutes] += add
        left -= add * gpus


def plan_pool(
    pool: str,
    gpu_budget: int,
    workloads: Sequence[spec.WorkloadSpec],
    forecasts: Sequence[plan.ForecastLike],
    *,
    lead_times_s: Sequence[int],
    requests: Sequence[spec.RequestShape | None] | None = None,
) -> PoolPlan:
    """Plan the workloads of one pool within its GPU budget (forecasts on one time grid)."""
    shapes = list(requests) if requests is not None else [None] * len(workloads)
    free_plans = [
        plan.build_plan(w, f, lead_time_s=lt, request=r)
        for w, f, lt, r in zip(workloads, forecasts, lead_times_s, shapes, strict=True)
    ]
    if not free_plans:
        return PoolPlan(pool, gpu_budget, (), 0, ())
    sizes = {len(p.targets) for p in free_plans}
    starts = {p.targets.index[0] for p in free_plans}
    if len(sizes) > 1 or len(starts) > 1:
        raise errors.InputError(
            f"pool {pool}: the forecasts cover different minutes ({sorted(sizes)} minutes from "
            f"{sorted(map(str, starts))}); forecast every workload of a pool over one horizon"
        )
    wanted = np.stack([p.targets["total"].to_numpy(dtype=np.int64) for p in free_plans])
    gpus = np.array([w.gpus_per_replica for w in workloads], dtype=np.int64)
    mins = np.array([w.min_replicas for w in workloads], dtype=np.int64)
    used = (wanted * gpus[:, None]).sum(axis=0)
    binding = used > gpu_budget
    caps = allocate(wanted, min_replicas=mins, gpus_per_replica=gpus, gpu_budget=gpu_budget)
    if not binding.any():
        return PoolPlan(pool, gpu_budget, tuple(free_plans), 0, (), tuple(caps))
    plans = tuple(
        plan.build_plan(w, f, lead_time_s=lt, request=r, replica_cap=cap)
        for w, f, lt, r, cap in zip(workloads, forecasts, lead_times_s, shapes, caps, strict=True)
    )
    shortfalls = []
    for index, (workload, capped) in enumerate(zip(workloads, plans, strict=True)):
        gap = wanted[index] - capped.targets["total"].to_numpy(dtype=np.int64)
        if gap.max() <= 0:
            continue
        worst = int(gap.argmax())
        others = ", ".join(w.name for w in workloads if w.name != workload.name)
        shortfalls.append(
            Shortfall(
                workload=workload.name,
                minutes=int((gap > 0).sum()),
                worst_at=capped.targets.index[worst],
                worst_wanted=int(wanted[index, worst]),
                worst_granted=int(capped.targets["total"].iloc[worst]),
                explanation=(
                    f"pool {pool} has {gpu_budget} GPUs, shared with {others or 'no one'}; "
                    "where the pool runs short, the GPUs above every workload's min_replicas "
                    "go in proportion to each workload's extra want (rounding leftovers to the "
                    "largest unmet want)"
                ),
            )
        )
    return PoolPlan(pool, gpu_budget, plans, int(binding.sum()), tuple(shortfalls), tuple(caps))
