"""Shell: the advisory shadow score: what the plan would have served and cost, against what ran.

Every tick adds one minute per workload: the planned replicas (the sum of the decided targets)
and the replicas that were actually ready, each against the observed demand (a minute is served
when replicas x capacity per replica >= demand, the simulator's rule) and priced per capacity
type at the spec's $/GPU-hour. Minutes are kept in hourly buckets over a rolling window (a week
by default), so a thousand workloads cost a few hundred kilobytes. The buckets a tick changed
are stored (`unsaved`, then `saved` once the store took them) and read back at a start
(`restore`), so a restart carries the week on; it is evidence to read before switching to
actuate, not a ledger.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from actuator import daemon, store
from planner import spec

HOUR_S = 3600


@dataclass(frozen=True)
class Score:
    """One workload's shadow score over the window."""

    window_s: int  # the rolling window, whole hours
    minutes: int  # minutes with an observed demand and every type's ready replicas known
    plan_served_pct: float | None  # None before the first such minute
    actual_served_pct: float | None
    plan_usd: float
    actual_usd: float


@dataclass
class _Bucket:
    hour: int
    minutes: int = 0
    plan_served: int = 0
    actual_served: int = 0
    plan_usd: float = 0.0
    actual_usd: float = 0.0


class Shadow:
    """Rolling shadow scores per workload (see the module docstring)."""

    def __init__(self, window_s: int) -> None:
        self._hours = max(1, math.ceil(window_s / HOUR_S))
        self._buckets: dict[str, collections.deque[_Bucket]] = {}
        self._unsaved: dict[tuple[str, int], _Bucket] = {}

    def restore(self, hours: Sequence[store.ShadowHour]) -> None:
        """Buckets as stored, in place of any held (the caller reads the window's hours; the
        next `add` drops any that fall out of it)."""
        self._buckets = {}
        for h in sorted(hours, key=lambda h: (h.workload, h.hour_at)):
            bucket = _Bucket(
                int(h.hour_at.timestamp() // HOUR_S),
                h.minutes,
                h.plan_served,
                h.actual_served,
                h.plan_usd,
                h.actual_usd,
            )
            self._buckets.setdefault(h.workload, collections.deque()).append(bucket)

    def unsaved(self) -> list[store.ShadowHour]:
        """The buckets changed since the last `saved`, as the store keeps them."""
        return [
            store.ShadowHour(
                workload=name,
                hour_at=dt.datetime.fromtimestamp(b.hour * HOUR_S, dt.UTC),
                minutes=b.minutes,
                plan_served=b.plan_served,
                actual_served=b.actual_served,
                plan_usd=b.plan_usd,
                actual_usd=b.actual_usd,
            )
            for (name, _), b in sorted(self._unsaved.items())
        ]

    def saved(self) -> None:
        self._unsaved = {}

    def add(self, workload: spec.WorkloadSpec, at_s: float, ticked: daemon.WorkloadTick) -> None:
        """Score one tick of `workload` (skipped when demand or any ready count is unknown)."""
        demand = ticked.observed_demand
        capacity_per_replica = ticked.capacity_per_replica
        planned = {d.target.capacity_type: d.replicas for d in ticked.decisions}
        ready = {d.target.capacity_type: d.ready for d in ticked.decisions}
        if demand is None or capacity_per_replica is None or any(v is None for v in ready.values()):
            return
        hour = int(at_s // HOUR_S)
        buckets = self._buckets.setdefault(workload.name, collections.deque())
        if not buckets or buckets[-1].hour != hour:
            buckets.append(_Bucket(hour))
        while buckets and buckets[0].hour <= hour - self._hours:
            buckets.popleft()
        bucket = buckets[-1]
        ran = {t: int(v or 0) for t, v in ready.items()}
        bucket.minutes += 1
        bucket.plan_served += int(sum(planned.values()) * capacity_per_replica >= demand)
        bucket.actual_served += int(sum(ran.values()) * capacity_per_replica >= demand)
        bucket.plan_usd += _usd_per_minute(workload, planned)
        bucket.actual_usd += _usd_per_minute(workload, ran)
        self._unsaved[(workload.name, hour)] = bucket

    def score(self, workload: str) -> Score:
        buckets = self._buckets.get(workload, ())
        minutes = sum(b.minutes for b in buckets)
        return Score(
            window_s=self._hours * HOUR_S,
            minutes=minutes,
            plan_served_pct=_pct(sum(b.plan_served for b in buckets), minutes),
            actual_served_pct=_pct(sum(b.actual_served for b in buckets), minutes),
            plan_usd=sum(b.plan_usd for b in buckets),
            actual_usd=sum(b.actual_usd for b in buckets),
        )


def _usd_per_minute(workload: spec.WorkloadSpec, replicas: dict[spec.CapacityType, int]) -> float:
    prices = workload.prices
    per_hour = {
        spec.CapacityType.RESERVED: prices.reserved_per_gpu_hour,
        spec.CapacityType.SPOT: prices.spot_per_gpu_hour,
        spec.CapacityType.ON_DEMAND: prices.on_demand_per_gpu_hour,
    }
    gpus = workload.gpus_per_replica
    return sum(n * gpus * per_hour[t] for t, n in replicas.items()) / 60.0


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole
