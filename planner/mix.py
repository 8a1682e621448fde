"""Pure: the capacity-type mix: the reserved base by break-even, the spot share with
over-provisioning for interruptions, and on-demand for the rest (DESIGN.md "Capacity types").

`split` (one tick, plain scalars) and `split_series` (a whole plan, numpy) do the same
arithmetic in the same order, so the step and the plan agree to the replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planner import spec

SECONDS_PER_HOUR = 3600.0


def break_even_fraction(prices: spec.Prices) -> float:
    """Fraction of the time a replica must be needed for reserving it to pay:
    price_reserved / price_on_demand (A100: 2.20 / 3.67 = 0.60)."""
    if prices.on_demand_per_gpu_hour <= 0:
        return math.inf
    return prices.reserved_per_gpu_hour / prices.on_demand_per_gpu_hour


def reserved_base(workload: spec.WorkloadSpec, planned: npt.NDArray[np.int64]) -> int:
    """Largest k such that the fraction of minutes planning >= k replicas exceeds break-even.

    The duration curve of `planned` (replicas per minute) gives, for each k, the share of the
    horizon needing at least k. With break-even 0.60 and 10 minutes planning
    [1,1,2,2,2,2,2,3,3,4]: >=1 in 10/10, >=2 in 8/10, >=3 in 3/10, so reserve 2.
    """
    if spec.CapacityType.RESERVED not in workload.capacity_types or planned.size == 0:
        return 0
    threshold = break_even_fraction(workload.prices)
    counts = np.bincount(np.maximum(planned, 0))
    # at_least[k] = minutes with planned >= k
    at_least = np.cumsum(counts[::-1])[::-1]
    fractions = at_least / planned.size
    qualifying = np.nonzero(fractions[1:] > threshold)[0]
    return int(qualifying[-1] + 1) if qualifying.size else 0


def expected_interruptions(spot: float, rate_per_hour: float, lead_time_s: float) -> float:
    """Spot replicas expected to be interrupted within one lead time: n * rate * L.

    8 spot replicas at 0.05 per hour and a 10-minute lead time: 8 * 0.05 * 600/3600 = 0.067.
    """
    return spot * rate_per_hour * (lead_time_s / SECONDS_PER_HOUR)


def split(
    workload: spec.WorkloadSpec, base: int, reserved: int, lead_time_s: float, cap: int
) -> spec.ByType[int]:
    """Split `base` replicas into reserved, spot and on-demand for one tick (before any spot
    fallback).

    Reserved replicas are paid anyway, so they always run: total >= reserved (within the cap,
    which a pool budget may lower below the reserved base). Of the rest, floor(rest *
    spot_share) go on spot, plus ceil(expected interruptions) spare spot replicas while the cap
    leaves room; on-demand takes the remainder. Base 10, reserved 4, share 0.5, rate 0.05/h,
    lead 600 s: rest 6, spot 3, extra ceil(0.025) = 1, on-demand 3, total 11.
    """
    reserved, spot, _, on_demand = split_counts(workload, base, reserved, lead_time_s, cap)
    return spec.ByType(reserved, spot, on_demand)


def split_counts(
    workload: spec.WorkloadSpec, base: int, reserved: int, lead_time_s: float, cap: int
) -> tuple[int, int, int, int]:
    """`split` as a plain tuple (reserved, spot, spot_extra, on_demand), for the per-tick path:
    spot includes spot_extra, the spare replicas for interruptions within one lead time."""
    reserved = min(reserved, cap)
    total = base if base > reserved else reserved
    rest = total - reserved
    spot = int(rest * workload.spot_share)
    if not spot:  # no spot, nothing to interrupt (and no spare): the common on-demand case
        return reserved, 0, 0, rest
    expected = expected_interruptions(spot, workload.spot_interruption_rate_per_hour, lead_time_s)
    extra = min(math.ceil(expected), max(cap - total, 0))
    return reserved, spot + extra, extra, rest - spot


@dataclass(frozen=True)
class SplitSeries:
    """`split` over a whole plan: one array per capacity type."""

    reserved: npt.NDArray[np.int64]
    spot: npt.NDArray[np.int64]
    on_demand: npt.NDArray[np.int64]


def split_series(
    workload: spec.WorkloadSpec,
    base: npt.NDArray[np.int64],
    reserved: int,
    lead_time_s: float,
    cap: npt.NDArray[np.int64],
) -> SplitSeries:
    """Vectorised `split`, the same operations in the same order."""
    reserved_now = np.minimum(reserved, cap)
    total = np.maximum(base, reserved_now)
    rest = total - reserved_now
    spot = np.floor(rest * workload.spot_share).astype(np.int64)
    expected = spot * workload.spot_interruption_rate_per_hour * (lead_time_s / SECONDS_PER_HOUR)
    extra = np.minimum(np.ceil(expected).astype(np.int64), np.maximum(cap - total, 0))
    return SplitSeries(
        reserved=reserved_now.astype(np.int64),
        spot=spot + extra,
        on_demand=rest - spot,
    )
