"""Pure: the what-if replay engine: policies against a demand history, minute by minute.

Semantics (DESIGN.md "The what-if simulator"):

- Time runs on a 1-minute grid. At the start of minute `t` a policy sees what it may know: the
  load of the last complete minute `t - 1` (never minute `t` itself, as a metrics scrape would),
  its replicas ready and ordered, and the clock. It returns absolute targets per capacity type.
- The engine reconciles like a Deployment controller: it orders replicas up to the target and
  removes surplus ones, replicas still starting first (the newest first), then ready ones.
  Scale-in is immediate; any cooldown is the policy's business. A replica ordered at `t` is
  ready at `t + m`, with `m` minutes drawn from the cold-start distribution (cold_start.py).
- Billing runs from the order to the removal: a cold start holds its GPU. Reserved capacity is
  a commitment: billed every minute at the policy's committed count even when idle.
- Spot replicas (starting or ready) are reclaimed by a seeded Poisson process (spot.py) at the
  start of a minute; the controller re-orders them while the target stays, paying the cold
  start again, and a policy may cover the gap on another capacity type.
- A minute is served when ready replicas x capacity per replica >= its demand (at full
  capacity: target utilisation is the planner's headroom, not part of the test). Unserved
  demand is summed and, when the spec prices it, charged as API overflow per 1M tokens.
- A minute with no data (a trace gap, NaN) is neither served nor unserved: it is left out of
  both percentages, while the replicas the policy keeps through it are still billed. The
  policy sees no observation for it, as a daemon would see no metric.

The engine loop is plain Python over ints so that 60 days x 1440 minutes of a rival replay in
well under a second (bench/simulate.py; prescale adds the planner's plan_step every minute);
per-minute series are assembled with numpy afterwards.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import spec
from simulator import accounting, cold_start, results, spot
from simulator import scenario as scenario_

_RESERVED, _SPOT, _ON_DEMAND = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Observation:
    """What a policy may know at the start of replayed minute `minute`."""

    minute: int  # 0 = the first replayed minute
    now: datetime  # start of the minute, UTC
    demand: float | None  # load of minute - 1 in the spec's unit; None in a trace gap
    arrivals: float | None  # arrivals of minute - 1 in the trace's unit; None in a gap
    ready: spec.ByType[int]  # serving now
    ordered: spec.ByType[int]  # ready plus starting: what is billed and what the controller holds


class Policy(Protocol):
    """A scaling policy under replay. It keeps its own memory between minutes."""

    @property
    def name(self) -> results.PolicyName: ...

    @property
    def mix(self) -> results.MixMode: ...

    @property
    def reserved_commitment(self) -> int:
        """Reserved replicas paid for every minute of the replay (0 when none are reserved)."""
        ...

    def initial(self, observation: Observation) -> spec.ByType[int]:
        """The fleet running (and ready) when the replay starts."""
        ...

    def decide(self, observation: Observation) -> spec.ByType[int]:
        """Absolute targets per capacity type for this minute."""
        ...


class Progress(Protocol):
    """Told how far a replay got (the shell draws a progress bar; the engine does no I/O)."""

    def __call__(self, policy: results.PolicyName, minute: int, minutes: int) -> None: ...


# How often (in replayed minutes) the engine reports progress: once per simulated day.
PROGRESS_EVERY_MINUTES = 1440


def simulate(
    scenario: scenario_.Scenario,
    policies: Sequence[Policy],
    *,
    workload: str,
    progress: Progress | None = None,
) -> results.SimulationResult:
    """Replay every policy on the same scenario (same demand, lead-time draws, spot losses)."""
    draws = spot.InterruptionDraws.draw(_stream_seed(scenario.seed, 1), scenario.minutes)
    replayed = tuple(run(policy, scenario, draws, progress=progress) for policy in policies)
    return results.SimulationResult(
        workload=workload,
        start=pd.Timestamp(scenario.timestamps[0]),
        minutes=scenario.minutes,
        capacity_per_replica=scenario.capacity_per_replica,
        cold_start=scenario.cold_start,
        seed=scenario.seed,
        policies=replayed,
    )


def run(
    policy: Policy,
    scenario: scenario_.Scenario,
    draws: spot.InterruptionDraws,
    *,
    progress: Progress | None = None,
) -> results.PolicyResult:
    """Replay one policy (see the module docstring for the rules).

    The loop keeps plain ints per capacity type (ready count, and the sorted minutes at which
    starting replicas become ready) and records a row only in minutes where something changed;
    the per-minute arrays are filled forward afterwards. Most minutes change nothing, so a
    minute costs little more than building the observation and asking the policy.
    """
    minutes = scenario.minutes
    now = _minutes_from(scenario.timestamps)
    seen_demand = observed(scenario.demand_before, scenario.demand)
    seen_arrivals = observed(scenario.arrivals_before, scenario.arrivals)
    leads = cold_start.LeadTimeStream(scenario.cold_start, _stream_seed(scenario.seed, 2))
    survival = spot.survival_per_minute(scenario.spot_interruption_rate_per_hour)
    count_u, victim_u = draws.count_uniforms, draws.victim_uniforms
    cache: dict[tuple[int, int, int], spec.ByType[int]] = {}

    first = Observation(
        minute=0,
        now=now[0] if minutes else datetime.min,
        demand=seen_demand[0] if minutes else None,
        arrivals=seen_arrivals[0] if minutes else None,
        ready=spec.ByType(),
        ordered=spec.ByType(),
    )
    start = policy.initial(first)
    ready = [start.reserved, start.spot, start.on_demand]
    pending: tuple[list[int], list[int], list[int]] = ([], [], [])  # ready-at minutes, sorted
    wanted = (start.reserved, start.spot, start.on_demand)
    last: spec.ByType[int] | None = None  # the policy's previous answer
    ready_now = _replicas(cache, (ready[0], ready[1], ready[2]))
    ordered_now = ready_now
    have = (ready[0], ready[1], ready[2])  # ordered_now as a tuple, compared every minute
    next_ready = _NEVER
    # (minute, targets, ready, billed) at the end of each minute in which any of them changed
    rows: list[tuple[int, tuple[int, int, int], spec.ByType[int], spec.ByType[int]]] = []
    ordered_count = 0
    interruptions = 0
    spot_risk = survival < 1.0

    for t in range(minutes):
        if progress is not None and t % PROGRESS_EVERY_MINUTES == 0:
            progress(policy.name, t, minutes)
        changed = False
        if next_ready <= t:
            for kind in _KINDS:
                ready[kind] += _promote(pending[kind], t)
            next_ready = _next_ready(pending)
            changed = True
        if spot_risk:
            alive = ready[_SPOT] + len(pending[_SPOT])
            if alive and count_u[t] >= survival**alive:
                lost = spot.interrupted_count(alive, survival, count_u[t])
                for order in range(lost):
                    _lose(
                        ready, pending[_SPOT], spot.victim_index(alive - order, victim_u[t], order)
                    )
                interruptions += lost
                next_ready = _next_ready(pending)
                changed = True
        if changed:
            ready_now = _replicas(cache, (ready[0], ready[1], ready[2]))
            have = _ordered(ready, pending)
            ordered_now = _replicas(cache, have)

        decided = policy.decide(
            Observation(t, now[t], seen_demand[t], seen_arrivals[t], ready_now, ordered_now)
        )
        if decided is last and not changed:
            # The same targets object as last minute and nothing happened to the fleet: the
            # fleet already matches it (each minute ends reconciled). Policies return the same
            # object while their targets hold, so most minutes stop here.
            continue
        last = decided
        targets = (decided.reserved, decided.spot, decided.on_demand)
        if targets != wanted:
            wanted = targets
            changed = True
        if targets != have:
            for kind in _KINDS:
                if targets[kind] > have[kind]:
                    extra = targets[kind] - have[kind]
                    for _ in range(extra):
                        _order(pending[kind], t + leads.next_minutes())
                    ordered_count += extra
                elif targets[kind] < have[kind]:
                    _remove(ready, pending[kind], kind, have[kind] - targets[kind])
            # a zero lead time serves this very minute
            for kind in _KINDS:
                ready[kind] += _promote(pending[kind], t)
            next_ready = _next_ready(pending)
            ready_now = _replicas(cache, (ready[0], ready[1], ready[2]))
            have = _ordered(ready, pending)
            ordered_now = _replicas(cache, have)
            changed = True
        if changed or t == 0:
            rows.append((t, wanted, ready_now, ordered_now))

    if progress is not None:
        progress(policy.name, minutes, minutes)
    record = accounting.record(rows, minutes, ordered_count, interruptions)
    return accounting.result(policy.name, policy.mix, policy.reserved_commitment, scenario, record)


_KINDS = (_RESERVED, _SPOT, _ON_DEMAND)
_NEVER = 1 << 62


def _promote(pending: list[int], minute: int) -> int:
    """Drop the starting replicas that are ready by `minute`; return how many."""
    count = bisect.bisect_right(pending, minute)
    if count:
        del pending[:count]
    return count


def _next_ready(pending: tuple[list[int], list[int], list[int]]) -> int:
    return min((p[0] for p in pending if p), default=_NEVER)


def _order(pending: list[int], ready_at: int) -> None:
    if not pending or ready_at >= pending[-1]:
        pending.append(ready_at)
    else:
        bisect.insort(pending, ready_at)


def _remove(ready: list[int], pending: list[int], kind: int, count: int) -> None:
    """Remove `count` replicas: starting ones first (the latest to be ready first), then ready
    ones, as a ReplicaSet scales down unready pods before ready ones."""
    cancel = min(count, len(pending))
    if cancel:
        del pending[len(pending) - cancel :]
    ready[kind] -= count - cancel


def _lose(ready: list[int], pending: list[int], index: int) -> None:
    """Spot replica `index` of ready + starting (ready ones are 0 .. ready - 1) is reclaimed."""
    if index < ready[_SPOT]:
        ready[_SPOT] -= 1
    else:
        del pending[index - ready[_SPOT]]


def _ordered(
    ready: list[int], pending: tuple[list[int], list[int], list[int]]
) -> tuple[int, int, int]:
    return (
        ready[0] + len(pending[0]),
        ready[1] + len(pending[1]),
        ready[2] + len(pending[2]),
    )


def observed(before: float | None, values: npt.NDArray[np.float64]) -> list[float | None]:
    """What each minute observes: the previous minute's value, None for a gap (the value
    `before` the first minute is the last of the warm-up)."""
    shifted = np.concatenate([[math.nan if before is None else before], values[:-1]])
    observed = shifted.astype(object)
    observed[np.isnan(shifted)] = None
    result: list[float | None] = observed.tolist()
    return result


def _minutes_from(timestamps: pd.DatetimeIndex) -> list[datetime]:
    """The start of every replayed minute as a datetime (cheaper than to_pydatetime)."""
    if len(timestamps) == 0:
        return []
    first = pd.Timestamp(timestamps[0]).to_pydatetime()
    minute = timedelta(minutes=1)
    return [first + minute * i for i in range(len(timestamps))]


def _replicas(
    cache: dict[tuple[int, int, int], spec.ByType[int]], counts: tuple[int, int, int]
) -> spec.ByType[int]:
    found = cache.get(counts)
    if found is None:
        found = spec.ByType(counts[0], counts[1], counts[2])
        cache[counts] = found
    return found


def _stream_seed(seed: int, stream: int) -> int:
    """Independent, reproducible seeds for the lead-time and interruption streams."""
    sequence = np.random.SeedSequence([seed, stream])
    return int(sequence.generate_state(1)[0])
