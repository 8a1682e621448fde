"""Pure: the baseline policies prescale is replayed against: reactive HPA, static, cron, the
last-week floor, oracle.

Each is built the way its users run it, with the same capacity per replica, target
utilisation, bounds and cold start as prescale:

- `reactive`: the Kubernetes HPA algorithm on a per-replica utilisation metric.
- `static`: a fixed fleet at the warm-up period's peak need.
- `cron`: a weekly schedule at the warm-up weeks' hour-of-week maximum need, what a KEDA cron
  scaler user writes by hand, switched on one lead time ahead of each hour.
- `last_week`: the simplest predictive floor, last week's need at the same minute (looked
  ahead one lead time, as the planner's floor), with the planner's own step on top (reactive
  need above it, the hold, the scale-in step): prescale with a copy of last week for a forecast
  and no band. A forecast that cannot beat it is not earning its keep.
- `oracle`: the lead-time floor from the true demand, max need over [t, t + L] (DESIGN.md
  "Lead time"): the cheapest fleet that keeps the target utilisation under this cold start.

"Need" everywhere is the planner's: ceil(demand / (capacity_per_replica x target_utilization))
clamped to [min_replicas, max_replicas]. A policy runs all on-demand, or splits its total with
the planner's mix (`mix.split`: the reserved base, a spot share with spare replicas for the
interruptions expected within one lead time, on-demand for the rest). A rival does not cover
reclaimed spot replicas with on-demand ones: the controller re-orders them on spot and they pay
the cold start again (prescale's step does cover them, `spot_fallback`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import capacity, mix, plan, spec, step
from simulator import engine, results

# Kubernetes HPA defaults (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale):
# --horizontal-pod-autoscaler-tolerance 0.1, and a scale-down stabilisation window of 300 s
# with no window for scale-up. The default scale-up rate limit (+100 % or +4 pods per 15 s)
# compounds to x16 or +16 per minute and never binds at our sizes, so it is not modelled.
HPA_TOLERANCE = 0.1
HPA_DOWNSCALE_WINDOW_S = 300
SECONDS_PER_MINUTE = 60
HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class Sizing:
    """What every rival is sized with; the same numbers prescale uses."""

    workload: spec.WorkloadSpec
    capacity_per_replica: float  # spec unit, at full utilisation
    lead_time_s: int  # what policies plan with: the oracle's look-ahead, spot spares, cron
    mix: results.MixMode
    reserved: int  # the reserved base under the planner's mix (ignored all on-demand)

    def needed(self, demand: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Replicas needed per minute at target utilisation, within [min, max]; gaps need min."""
        raw = capacity.replicas_needed(
            demand, self.capacity_per_replica, self.workload.target_utilization
        )
        clipped: npt.NDArray[np.int64] = np.clip(
            raw, self.workload.min_replicas, self.workload.max_replicas
        )
        return clipped


class Splitter:
    """A total replica count as targets per capacity type (cached: a few distinct totals)."""

    __slots__ = ("_cache", "_sizing")

    def __init__(self, sizing: Sizing) -> None:
        self._sizing = sizing
        self._cache: dict[int, spec.ByType[int]] = {}

    @property
    def reserved_commitment(self) -> int:
        return self._sizing.reserved if self._sizing.mix is results.MixMode.PLANNER else 0

    def split(self, total: int) -> spec.ByType[int]:
        found = self._cache.get(total)
        if found is None:
            found = self._split(total)
            self._cache[total] = found
        return found

    def _split(self, total: int) -> spec.ByType[int]:
        sizing = self._sizing
        if sizing.mix is results.MixMode.ON_DEMAND:
            return spec.ByType(on_demand=total)
        return mix.split(
            sizing.workload,
            total,
            sizing.reserved,
            sizing.lead_time_s,
            sizing.workload.max_replicas,
        )


class Scheduled:
    """A policy whose targets are fixed in advance, one per replayed minute (static, cron,
    oracle): it ignores what it observes."""

    def __init__(
        self, name: results.PolicyName, totals: npt.NDArray[np.int64], sizing: Sizing
    ) -> None:
        self._name = name
        self._splitter = Splitter(sizing)
        self._targets = [self._splitter.split(total) for total in totals.tolist()]
        self._mix = sizing.mix
        self.totals = totals

    @property
    def name(self) -> results.PolicyName:
        return self._name

    @property
    def mix(self) -> results.MixMode:
        return self._mix

    @property
    def reserved_commitment(self) -> int:
        return self._splitter.reserved_commitment

    def initial(self, observation: engine.Observation) -> spec.ByType[int]:
        return self.decide(observation)

    def decide(self, observation: engine.Observation) -> spec.ByType[int]:
        return self._targets[observation.minute]


def static(sizing: Sizing, warmup_demand: pd.Series, minutes: int) -> Scheduled:
    """A fixed fleet at the warm-up period's peak need (max over its minutes with data)."""
    peak = int(sizing.needed(warmup_demand.to_numpy(dtype=np.float64)).max(initial=0))
    peak = max(peak, sizing.workload.min_replicas)
    return Scheduled(results.PolicyName.STATIC, np.full(minutes, peak, dtype=np.int64), sizing)


def cron_schedule(sizing: Sizing, warmup_demand: pd.Series) -> npt.NDArray[np.int64]:
    """Replicas per hour of the week (0 = Monday 00:00 UTC): the warm-up's maximum need.

    An hour of the week the warm-up never observed (a gap, or less than a week of warm-up)
    takes the maximum of the same hour of the day on the other days, else the overall maximum.
    """
    values = warmup_demand.to_numpy(dtype=np.float64)
    present = np.isfinite(values)
    index = pd.DatetimeIndex(warmup_demand.index)
    hour_of_week = (index.day_of_week * 24 + index.hour).to_numpy()[present]
    needed = sizing.needed(values[present])
    floor = sizing.workload.min_replicas
    schedule = np.full(HOURS_PER_WEEK, -1, dtype=np.int64)
    np.maximum.at(schedule, hour_of_week, needed)
    overall = int(needed.max(initial=floor))
    by_hour_of_day = schedule.reshape(7, 24).max(axis=0)
    for slot in np.nonzero(schedule < 0)[0]:
        same_hour = int(by_hour_of_day[slot % 24])
        schedule[slot] = same_hour if same_hour >= 0 else overall
    return np.maximum(schedule, floor)


def cron(sizing: Sizing, warmup_demand: pd.Series, timestamps: pd.DatetimeIndex) -> Scheduled:
    """The hour-of-week schedule, switched on one lead time early: at minute t the target is
    max(schedule at t, schedule at t + lead time), so each hour's fleet is ready when it starts
    (a user who knows the cold start shifts the cron entries by it)."""
    schedule = cron_schedule(sizing, warmup_demand)
    now = _hour_of_week(timestamps)
    ahead = _hour_of_week(timestamps + pd.Timedelta(seconds=sizing.lead_time_s))
    totals = np.maximum(schedule[now], schedule[ahead])
    return Scheduled(results.PolicyName.CRON, totals, sizing)


def oracle(sizing: Sizing, demand: npt.NDArray[np.float64]) -> Scheduled:
    """max(need(t') for t' in [t, t + L]) from the true replayed demand (plan.lookahead_max,
    the same floor the planner holds on a forecast). Past the end of the replay it looks no
    further than the last minute."""
    floor = plan.lookahead_max(sizing.needed(demand), sizing.lead_time_s)
    return Scheduled(results.PolicyName.ORACLE, floor, sizing)


class Reactive:
    """The Kubernetes HPA on the per-replica utilisation of the workload's load metric.

    Each minute (one HPA sync on the replay grid):
      ratio    = (observed load / ready replicas / capacity per replica) / target utilisation
      desired  = current when |ratio - 1| <= tolerance, else ceil(ratio x ready replicas)
    When scaling up while replicas are still starting, those count as using nothing: if the
    ratio over all replicas is within tolerance or below 1, the HPA waits for them (as the
    HPA's replica calculator treats unready pods). No metric (a gap, or no ready replica)
    keeps the current count. Scale-up applies at once; scale-down takes the highest desired
    count of the last 300 s (the stabilisation window). Then clamp to [min, max].
    """

    def __init__(self, sizing: Sizing) -> None:
        self._sizing = sizing
        self._splitter = Splitter(sizing)
        window = math.ceil(HPA_DOWNSCALE_WINDOW_S / SECONDS_PER_MINUTE)
        # recommendations strictly newer than now - 300 s: this minute and the 4 before
        self._recent: deque[int] = deque(maxlen=window)
        self._current = 0
        self._per_replica = sizing.capacity_per_replica * sizing.workload.target_utilization

    @property
    def name(self) -> results.PolicyName:
        return results.PolicyName.REACTIVE

    @property
    def mix(self) -> results.MixMode:
        return self._sizing.mix

    @property
    def reserved_commitment(self) -> int:
        return self._splitter.reserved_commitment

    def initial(self, observation: engine.Observation) -> spec.ByType[int]:
        """A settled HPA: the need of the last warm-up minute."""
        workload = self._sizing.workload
        load = observation.demand or 0.0
        settled = _clamp(self._need(load), workload)
        self._current = settled
        self._recent.append(settled)
        return self._splitter.split(settled)

    def desired(self, observation: engine.Observation) -> int:
        """The replica calculator's recommendation before stabilisation and bounds."""
        current = self._current
        load = observation.demand
        ready = observation.ready.total
        if load is None or ready == 0:
            return current
        wanted = load / self._per_replica  # replica-equivalents at target utilisation
        ratio = wanted / ready
        if abs(ratio - 1.0) <= HPA_TOLERANCE:
            return current
        starting = observation.ordered.total - ready
        if ratio > 1.0 and starting > 0:
            ratio_all = wanted / (ready + starting)
            if abs(ratio_all - 1.0) <= HPA_TOLERANCE or ratio_all < 1.0:
                return current
            return max(self._need(load), current)
        return self._need(load)

    def _need(self, load: float) -> int:
        """Replicas `load` needs at target utilisation (the planner's rounding)."""
        workload = self._sizing.workload
        return capacity.replicas_for(
            load, self._sizing.capacity_per_replica, workload.target_utilization
        )

    def decide(self, observation: engine.Observation) -> spec.ByType[int]:
        desired = self.desired(observation)
        self._recent.append(desired)
        current = self._current
        # scale up at once; scale down only to the highest recommendation in the window
        stabilised = desired if desired > current else min(current, max(self._recent))
        chosen = _clamp(stabilised, self._sizing.workload)
        self._current = chosen
        return self._splitter.split(chosen)


def reactive(sizing: Sizing) -> Reactive:
    return Reactive(sizing)


def _clamp(value: int, workload: spec.WorkloadSpec) -> int:
    return min(max(value, workload.min_replicas), workload.max_replicas)


def _hour_of_week(timestamps: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    hours: npt.NDArray[np.int64] = (timestamps.day_of_week * 24 + timestamps.hour).to_numpy(
        dtype=np.int64
    )
    return hours


WEEK_MINUTES = 7 * 1440


class LastWeek:
    """Last week's need as the floor, the planner's `step.plan_step` on top (see the module
    docstring). The floor at replayed minute t is max(need(t' - 1 week)) for t' in [t, t + L]:
    minutes at least a week minus L before t, so it reads only the past (L < 1 week)."""

    def __init__(self, sizing: Sizing, past_demand: npt.NDArray[np.float64]) -> None:
        """`past_demand` is the demand per minute from one week before the first replayed
        minute on (the warm-up's last week, then the replayed minutes as they are observed;
        NaN where unknown). Only its entries at least a week before minute t are read at t."""
        self._sizing = sizing
        workload = sizing.workload
        self._workload = results.for_mix(workload, sizing.mix)
        need = sizing.needed(past_demand).astype(np.int64)
        need[~np.isfinite(past_demand)] = -1  # no data a week ago: no floor, reactive only
        self._floors: list[int] = plan.lookahead_max(need, sizing.lead_time_s).tolist()
        self._state = step.PolicyState.initial()
        self._reserved = sizing.reserved if sizing.mix is results.MixMode.PLANNER else 0

    @property
    def name(self) -> results.PolicyName:
        return results.PolicyName.LAST_WEEK

    @property
    def mix(self) -> results.MixMode:
        return self._sizing.mix

    @property
    def reserved_commitment(self) -> int:
        return self._reserved

    def initial(self, observation: engine.Observation) -> spec.ByType[int]:
        """A settled fleet at the first minute's want, all ready."""
        first = self.decide(observation)
        self._state = step.PolicyState.initial(first)
        return self.decide(observation)

    def decide(self, observation: engine.Observation) -> spec.ByType[int]:
        minute = observation.minute
        floor = self._floors[minute] if minute < len(self._floors) else -1
        inputs = step.StepInputs(
            observation.now,
            floor if floor >= 0 else None,
            self._reserved,
            observation.demand,
            observation.ready,
            self._sizing.lead_time_s,
            None,
            self._sizing.capacity_per_replica,
        )
        result = step.plan_step(self._workload, inputs, self._state)
        self._state = result.state
        return result.state.targets


def last_week(
    sizing: Sizing, warmup_demand: npt.NDArray[np.float64], demand: npt.NDArray[np.float64]
) -> LastWeek:
    """The last-week floor over a replay of `demand` after a warm-up of `warmup_demand`.

    The replayed demand is passed whole for convenience; `LastWeek` reads minute t - 1 week
    (+ L) at minute t, which the engine had shown it as observed a week earlier."""
    before = warmup_demand[-WEEK_MINUTES:]
    padding = np.full(WEEK_MINUTES - before.size, np.nan)
    return LastWeek(sizing, np.concatenate([padding, before, demand]))
