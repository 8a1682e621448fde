"""Pure: the prescale policy's replay with the planner's step taken for every minute at once.

The operating-point chooser replays the same weeks at a dozen points; stepping
`step.plan_step` minute by minute is most of a replay's time there. Almost all of a step
depends on what the replay shows prescale and on its own earlier steps only: the floor in force
(the policy's own refits and level updates, made as it observes each minute), the observed
demand, the hold window, the scale-in step and the mix. Only the spot fallback (on-demand
covering spot replicas that are not ready) depends on the engine's fleet. So `ahead` feeds the
policy the minutes' observations (`Prescale.observe`: the same refits and floors as the
replay), computes every minute's step up to the fallback with numpy, by the arithmetic of
`plan_step` (the same comparisons, the same order), and the returned policy adds the fallback
from each minute's ready spot replicas when the engine asks.

Every value at minute t comes from minutes up to t (floors from refits of the history before
t, windows that look back), so nothing is seen earlier than in the replay. Where the shortcut
does not hold (a minute no plan covers, a fleet above the cap) `ahead` returns None and the
caller replays the policy itself. A test holds the two to the same result, minute by minute.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from planner import capacity, mix, plan, spec, step, tick
from simulator import engine, predictive, results
from simulator import scenario as scenario_

MINUTE_S = 60


class Ahead:
    """An `engine.Policy` replaying precomputed steps (see the module docstring)."""

    def __init__(
        self,
        policy: predictive.Prescale,
        *,
        reserved: npt.NDArray[np.int64],
        spot: npt.NDArray[np.int64],
        on_demand: npt.NDArray[np.int64],
        expected_spot: npt.NDArray[np.int64],
        room: npt.NDArray[np.int64],
    ) -> None:
        """One entry per call of the policy: the initial step, then one per minute."""
        self._policy = policy
        self._rows = list(
            zip(
                reserved.tolist(),
                spot.tolist(),
                on_demand.tolist(),
                expected_spot.tolist(),
                room.tolist(),
                strict=True,
            )
        )
        self._next = 0
        self._counts: dict[tuple[int, int, int], spec.ByType[int]] = {}

    @property
    def name(self) -> results.PolicyName:
        return self._policy.name

    @property
    def mix(self) -> results.MixMode:
        return self._policy.mix

    @property
    def reserved_commitment(self) -> int:
        return self._policy.reserved_commitment

    def initial(self, observation: engine.Observation) -> spec.ByType[int]:
        """As `Prescale.initial`: one step with the first plan's fleet all ready."""
        return self._take(self._policy.running_at_start().spot)

    def decide(self, observation: engine.Observation) -> spec.ByType[int]:
        return self._take(observation.ready.spot)

    def _take(self, ready_spot: int) -> spec.ByType[int]:
        reserved, spot, on_demand, expected_spot, room = self._rows[self._next]
        self._next += 1
        # plan_step's fallback: min(max(missing, 0), max(room, 0))
        missing = expected_spot - ready_spot
        if missing > 0 and room > 0:
            on_demand += missing if missing < room else room
        key = (reserved, spot, on_demand)
        found = self._counts.get(key)
        if found is None:
            found = spec.ByType(reserved, spot, on_demand)
            self._counts[key] = found
        return found


def ahead(policy: predictive.Prescale, world: scenario_.Scenario) -> Ahead | None:
    """`policy` (just built, nothing replayed) with its steps on `world` computed at once;
    None where the shortcut does not hold (module docstring)."""
    minutes = world.minutes
    if minutes == 0:
        return None
    floors = floors_in_force(policy, world)
    if floors is None:
        return None
    workload = policy.workload
    cap = workload.max_replicas
    running = policy.running_at_start()
    start_total = running.total
    if start_total > cap:  # plan.step_limited would clamp the fleet's base, plan_step not
        return None
    # calls: the initial step and the engine's at minute 0 (both at minute 0), then one a minute
    calls = np.concatenate([[0], np.arange(minutes)])
    seen = engine.observed(world.demand_before, world.demand)
    demand = np.array([math.nan if d is None else d for d in seen], dtype=np.float64)
    known = ~np.isnan(demand)
    reactive = capacity.replicas_needed(
        demand, policy.capacity_per_replica, workload.target_utilization
    )
    need = np.where(known & (reactive > floors), reactive, floors)
    wanted = need + workload.warm_standby
    bounded = np.where(wanted > workload.min_replicas, wanted, workload.min_replicas)
    bounded = np.where(bounded > cap, cap, bounded)
    # the hold window's maximum (`step._hold_window`): a want is kept while it ended less
    # than hold_s ago, so minute t holds the wants of minutes t - ceil(hold_s/60) to t, and
    # the running fleet counts as wanted the minute before the first; then
    # base = min(cap, max(held, previous base - scale_in_step)) from the running fleet on.
    # Both as build_plan computes them (plan.lookback_max, plan.step_limited).
    wants = np.concatenate([[start_total], bounded]).astype(np.int64)
    held = plan.lookback_max(wants, step.hold_s(workload, policy.lead_time_s))[1:][calls]
    chain = np.concatenate([[start_total], held]).astype(np.int64)
    caps = np.full(chain.size, cap, dtype=np.int64)
    base = plan.step_limited(chain, caps, workload.scale_in_step)[1:]
    caps = caps[1:]
    split = mix.split_series(workload, base, policy.reserved_commitment, policy.lead_time_s, caps)
    expected = _expected_spot(split.spot, running.spot, calls, policy.lead_time_s)
    room = cap - (split.reserved + split.spot + split.on_demand)
    return Ahead(
        policy,
        reserved=split.reserved,
        spot=split.spot,
        on_demand=split.on_demand,
        expected_spot=expected,
        room=room,
    )


def floors_in_force(
    policy: predictive.Prescale, world: scenario_.Scenario
) -> npt.NDArray[np.int64] | None:
    """The floor each minute steps on, for `policy` just built: it observes every minute (its
    refits and level updates, as in the replay) and each minute reads the floors in force then;
    None when a minute has no floor. The policy has then observed the whole world."""
    minutes = world.minutes
    first_s = world.timestamps[0].timestamp()
    now_s = first_s + MINUTE_S * np.arange(minutes, dtype=np.float64)
    arrivals = engine.observed(world.arrivals_before, world.arrivals)
    result = np.empty(minutes, dtype=np.int64)
    current, since = policy.floors, 0
    for minute in range(1, minutes + 1):
        if minute < minutes:
            policy.observe(minute, arrivals[minute])
            if policy.floors is current:
                continue
        if not _read(current, now_s[since:minute], result[since:minute]):
            return None
        current, since = policy.floors, minute
    return result


def _read(floors: tick.Floors, now_s: npt.NDArray[np.float64], out: npt.NDArray[np.int64]) -> bool:
    """`floors.at` for consecutive minutes into `out`; False when a minute has no floor."""
    offsets = np.floor((now_s - floors.start_s) / MINUTE_S).astype(np.int64)
    low, high = int(offsets[0]), int(offsets[-1])
    if low < 0 or high >= len(floors.values):
        return False
    values = np.asarray(floors.values[low : high + 1], dtype=np.int64)[offsets - low]
    if np.any(values < 0):  # tick.NO_FLOOR
        return False
    out[:] = values
    return True


def _expected_spot(
    spot: npt.NDArray[np.int64], before: int, calls: npt.NDArray[np.int64], lead_time_s: int
) -> npt.NDArray[np.int64]:
    """The lowest spot target in force over the last lead time, this call's included
    (`plan_step`'s window of spot targets): per call, the minimum from the target in force
    a lead time ago (the running fleet's before the first call) to this call's."""
    targets = np.concatenate([[before], spot]).astype(np.int64)
    times = np.concatenate([[-math.inf], calls * float(MINUTE_S)])
    calls_before = np.arange(targets.size - 1)  # targets[:c] are those before call c
    low = np.searchsorted(times, times[1:] - lead_time_s, side="right") - 1
    return _range_min(targets, np.minimum(low, calls_before), calls_before + 1)


def _range_min(
    values: npt.NDArray[np.int64], low: npt.NDArray[np.int64], high: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """min(values[low[i] : high[i] + 1]) for every i (a sparse table: one level per power of
    two of the window's length)."""
    levels = [values]
    width = 1
    while 2 * width <= int((high - low).max(initial=0)) + 1:
        previous = levels[-1]
        levels.append(np.minimum(previous[:-width], previous[width:]))
        width *= 2
    length = high - low + 1
    order = np.floor(np.log2(length)).astype(np.int64)
    result = np.empty(low.size, dtype=np.int64)
    for k in np.unique(order).tolist():
        at = order == k
        table = levels[k]
        result[at] = np.minimum(table[low[at]], table[high[at] - (1 << k) + 1])
    return result
