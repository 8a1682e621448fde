"""Pure: the per-tick decision. The daemon calls `plan_step` every tick, the simulator every
simulated minute; `build_plan` computes the same thing for a whole horizon at once.

One tick, in order (each step named by the `Reason` it can produce):
  wanted  = max(forecast floor, reactive need from observed demand) + warm standby
  bounded = clamp(wanted, min_replicas, cap)           cap = min(max_replicas, budget share)
  held    = max of `bounded` over the last hold_s      (scale-in waits; scale-out never does)
  base    = min(max(held, previous base - scale_in_step), cap)
  targets = mix.split(base, reserved, ...) plus on-demand cover for missing spot replicas

The hold is a stabilisation window like the Kubernetes HPA's scale-down window: a replica is
released only once no tick in the last hold_s = max(cooldown_s, lead time) wanted it (see
`hold_s` for why the lead time). So there is no scale-in within cooldown_s of a scale-out.
Plain scalars only: this runs every minute of every replay."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from planner import capacity, mix, spec


class Reason(StrEnum):
    FORECAST_FLOOR = "forecast_floor"  # the need over the next lead time, from the forecast
    REACTIVE = "reactive"  # observed demand above what the forecast floor covers
    NO_SIGNAL = "no_signal"  # no forecast and no observation: hold
    WARM_STANDBY = "warm_standby"  # only the warm standby is wanted
    COOLDOWN_HOLD = "cooldown_hold"  # a higher want within hold_s (cooldown or lead time) holds
    SCALE_IN_STEP = "scale_in_step"  # scale-in limited to scale_in_step per tick
    MIN_REPLICAS = "min_replicas"
    MAX_REPLICAS = "max_replicas"
    BUDGET = "budget"  # the pool's GPU budget share binds
    RESERVED_BASE = "reserved_base"  # the reserved replicas, paid every hour
    SPOT_FALLBACK = "spot_fallback"  # on-demand covering spot replicas that are missing


@dataclass(frozen=True, slots=True)
class StepInputs:
    now: datetime  # tz-aware
    forecast_floor: int | None  # Plan.targets.floor at now; None: no forecast yet
    reserved: int  # the plan's reserved base
    observed_demand: float | None  # current load in spec.unit; None: not observed
    ready: spec.ByType[int]  # replicas serving now, per capacity type
    lead_time_s: int
    replica_cap: int | None = None  # this workload's share of the pool budget; None: no budget
    # capacity of one replica in spec.unit (Plan.capacity_per_replica, which uses the measured
    # request shape); None: computed from the spec
    capacity_per_replica: float | None = None


@dataclass(frozen=True, slots=True)
class PolicyState:
    """Policy memory, persisted by the shell between ticks."""

    targets: spec.ByType[int]
    base: int | None  # last tick's base (before the mix); None before the first tick
    # (until epoch seconds, bounded want): the wants that can still be the maximum over the
    # hold window, oldest first with values decreasing, so the first is the held maximum; the
    # last is in force now (until +inf). A want is dropped once it ended before the window or
    # a later, larger want covers every window it could be in.
    wants: tuple[tuple[float, int], ...]
    # (epoch seconds, spot target) at each change, covering the last lead time
    spot_targets: tuple[tuple[float, int], ...]

    @classmethod
    def initial(cls, current: spec.ByType[int] | None = None) -> PolicyState:
        """State before the first tick; `current` is what runs now (zero when unknown)."""
        counts = current or spec.ByType()
        return cls(
            targets=counts,
            base=counts.total if current is not None else None,
            # a running fleet counts as wanted just before the first tick, so a (re)start
            # waits the hold (hold_s) before releasing it, like any other scale-in
            wants=((math.inf, counts.total),) if current is not None else (),
            # what runs now has run "forever": only spot ordered from now on is still starting
            spot_targets=((-math.inf, counts.spot),),
        )


class Evidence(NamedTuple):
    """The numbers behind a tick's decisions, in the order the step computes them.

    Immutable like the frozen dataclasses elsewhere, but a NamedTuple: it is built on every
    replayed minute, and a frozen dataclass sets each of its 16 fields through
    object.__setattr__ (bench/simulate.py: prescale's replay 0.70 s -> 1.21 s for 60 days).
    """

    forecast_floor: int | None
    observed_demand: float | None
    reactive_need: int | None  # replicas the observed demand needs at target utilisation
    need: int  # max(forecast floor, reactive need); -1 without either
    warm_standby: int
    wanted: int
    cap: int
    bounded: int
    held: int  # max of bounded over the hold window (hold_s)
    stepped: int  # held after the scale-in step limit, before the cap
    base: int
    reserved: int
    spot_extra: int
    expected_spot_ready: int  # lowest spot target over the last lead time
    spot_fallback: int
    lead_time_s: int


@dataclass(frozen=True, slots=True)
class Decision:
    capacity_type: spec.CapacityType
    target: int  # absolute and idempotent
    reason: Reason
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class StepResult:
    """One tick's outcome: the new `state` (which carries the targets) and the evidence; the
    reasons and per-type decisions are derived from them on access (the simulator reads only
    the targets)."""

    state: PolicyState
    evidence: Evidence
    workload: spec.WorkloadSpec

    @property
    def targets(self) -> spec.ByType[int]:
        return self.state.targets

    @property
    def total(self) -> int:
        return self.state.targets.total

    @property
    def capacity_types(self) -> tuple[spec.CapacityType, ...]:
        """The workload's capacity types: one decision each."""
        return self.workload.capacity_types

    @property
    def reason(self) -> Reason:
        """Why the total is what it is."""
        return _total_reason(self.evidence, self.workload.max_replicas)

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """One absolute target per capacity type the workload uses, with its reason."""
        evidence = self.evidence
        reason = self.reason
        return tuple(
            Decision(
                capacity_type=t,
                target=self.targets.of(t),
                reason=_type_reason(t, reason, evidence.spot_fallback),
                evidence=evidence,
            )
            for t in self.capacity_types
        )


def plan_step(workload: spec.WorkloadSpec, inputs: StepInputs, state: PolicyState) -> StepResult:
    """One tick: absolute targets per capacity type, with reasons and evidence, and new state.

    Steady ticks (same wants, same targets) return the previous state's objects unchanged, so
    a replay allocates little more than the result itself.
    """
    now_s = inputs.now.timestamp()
    lead_time_s = inputs.lead_time_s
    cap = workload.max_replicas
    if inputs.replica_cap is not None:
        cap = max(min(cap, inputs.replica_cap), 0)

    floor = inputs.forecast_floor
    observed = inputs.observed_demand
    reactive: int | None = None
    need = -1 if floor is None else floor
    if observed is not None:
        per_replica = inputs.capacity_per_replica
        reactive = capacity.replicas_for(
            observed,
            capacity.per_replica(workload) if per_replica is None else per_replica,
            workload.target_utilization,
        )
        if floor is None or reactive > floor:
            need = reactive
    previous = state.base
    if need >= 0:
        wanted = need + workload.warm_standby
    else:
        wanted = previous if previous is not None else workload.min_replicas
    # Conditional expressions rather than min()/max() on this path: a builtin call costs ten
    # times the comparison (0.34 us against 0.03 us a pair, measured), and this runs every
    # minute of every replay.
    bounded = wanted if wanted > workload.min_replicas else workload.min_replicas
    bounded = cap if bounded > cap else bounded

    # The windows change only when a value changes or a want ages out; checking that inline
    # spares most ticks the call (this runs every minute of every replay).
    wants = state.wants
    if not (
        wants
        and wants[-1][1] == bounded
        and (len(wants) == 1 or wants[0][0] > now_s - hold_s(workload, lead_time_s))
    ):
        wants = _hold_window(wants, now_s, bounded, hold_s(workload, lead_time_s))
    held = wants[0][1]
    stepped = held
    if previous is not None and previous - workload.scale_in_step > held:
        stepped = previous - workload.scale_in_step
    base = cap if stepped > cap else stepped

    reserved, spot, spot_extra, on_demand = mix.split_counts(
        workload, base, inputs.reserved, lead_time_s, cap
    )
    # Spot ordered at least a lead time ago (and before this tick) should be ready; what is
    # not was interrupted or never granted, so on-demand covers it (within the cap) until spot
    # is back. The window is taken before this tick's target joins it.
    spot_targets = state.spot_targets
    if len(spot_targets) > 1 and spot_targets[1][0] <= now_s - lead_time_s:
        spot_targets = _window_prune(spot_targets, now_s - lead_time_s)
    expected_spot = spot
    for _, value in spot_targets:
        if value < expected_spot:  # noqa: PLR1730 - as above
            expected_spot = value
    if not spot_targets or spot_targets[-1][1] != spot:
        spot_targets = _window_append(spot_targets, now_s, spot, lead_time_s)
    planned = reserved + spot + on_demand
    missing = expected_spot - inputs.ready.spot
    room = cap - planned
    fallback = 0  # min(max(missing, 0), max(room, 0))
    if missing > 0 and room > 0:
        fallback = missing if missing < room else room
    on_demand += fallback

    targets = state.targets
    if targets.on_demand != on_demand or targets.spot != spot or targets.reserved != reserved:
        targets = spec.ByType(reserved, spot, on_demand)
    if (
        targets is state.targets
        and base == previous
        and wants is state.wants
        and spot_targets is state.spot_targets
    ):
        new_state = state
    else:
        new_state = PolicyState(targets, base, wants, spot_targets)
    # In Evidence's field order. Positional, because this runs every replayed minute: with
    # keywords plan_step costs 37,957 instructions a call, positionally 30,527 (callgrind);
    # the tuple.__new__ it replaces, 27,395.
    evidence = Evidence(
        floor,
        observed,
        reactive,
        need,
        workload.warm_standby,
        wanted,
        cap,
        bounded,
        held,
        stepped,
        base,
        reserved,
        spot_extra,
        expected_spot,
        fallback,
        lead_time_s,
    )
    return StepResult(new_state, evidence, workload)


def hold_s(workload: spec.WorkloadSpec, lead_time_s: int) -> int:
    """The scale-in stabilisation window: a replica is released only once no tick within this
    many seconds wanted it. max(cooldown_s, lead_time_s).

    Why the lead time: a replica released now cannot serve again before now + L (DESIGN.md
    "Lead time"). If the want comes back within L, the release bought nothing: the re-order
    pays a cold start of L again (billed from the order) and the demand goes unserved while it
    starts. Keeping the idle replica instead costs at most L of GPU time, about what the
    re-order bills anyway: L is the break-even between keeping and re-ordering (the
    rent-or-buy rule), so holding for L never pays more than twice the best choice in
    hindsight. It matters most for a reactive scale-out on a short spike: with a 300 s cooldown
    and a 600 s cold start the cooldown released it halfway through its own cold start. A
    longer operator cooldown still wins. Replayed against the 300 s cooldown alone (NASA
    per-minute, ServeGen m-mid and m-small, last week each; fixed 600 s and lognormal 300 s /
    P90 720 s cold starts; two forecaster versions): prescale served as many or more minutes
    in every run (up to 0.9 points, e.g. NASA 99.71 -> 99.89 %) for 0.8-2.5 % more
    GPU-hours, with fewer scale events.

    `scale_in_hold: cooldown` (an expert override, or the operating point chosen by replaying
    the workload's own history) waits the cooldown only: where spikes are short and frequent,
    holding each for a whole lead time costs more than the re-orders it saves.
    """
    if workload.scale_in_hold is spec.HoldRule.COOLDOWN:
        return workload.cooldown_s
    return max(workload.cooldown_s, lead_time_s)


def _hold_window(
    wants: tuple[tuple[float, int], ...], now_s: float, value: int, span_s: float
) -> tuple[tuple[float, int], ...]:
    """`PolicyState.wants` after a tick that wants `value`: max over [now - span, now] of the
    bounded want, kept as a decreasing queue so the maximum is its first entry."""
    entries = list(wants)
    if entries and entries[-1][1] != value:
        entries[-1] = (now_s, entries[-1][1])  # the previous want ends now
        while entries and entries[-1][1] <= value:
            entries.pop()  # this want covers every window a smaller, older one could be in
        entries.append((math.inf, value))
    elif not entries:
        entries.append((math.inf, value))
    start_s = now_s - span_s
    first = 0
    while entries[first][0] <= start_s:  # the last entry, in force, never ends
        first += 1
    return tuple(entries[first:])


def _window_append(
    window: tuple[tuple[float, int], ...], now_s: float, value: int, span_s: float
) -> tuple[tuple[float, int], ...]:
    """Change points of a step function, pruned to those in force over [now - span, now]."""
    if not window or window[-1][1] != value:
        window = (*window, (now_s, value))
    return _window_prune(window, now_s - span_s)


def _window_prune(
    window: tuple[tuple[float, int], ...], start_s: float
) -> tuple[tuple[float, int], ...]:
    """Drop change points superseded at or before `start_s` (the last one always stays)."""
    first = 0
    while first + 1 < len(window) and window[first + 1][0] <= start_s:
        first += 1
    return window[first:] if first else window


def _total_reason(f: Evidence, max_replicas: int) -> Reason:
    if f.stepped > f.cap or f.wanted > f.cap:
        return Reason.BUDGET if f.cap < max_replicas else Reason.MAX_REPLICAS
    if f.stepped > f.held:
        return Reason.SCALE_IN_STEP
    if f.held > f.bounded:
        return Reason.COOLDOWN_HOLD
    if f.bounded > f.wanted:
        return Reason.MIN_REPLICAS
    if f.need < 0:
        return Reason.NO_SIGNAL
    if f.need == 0 and f.warm_standby > 0:
        return Reason.WARM_STANDBY
    if f.reactive_need is not None and (
        f.forecast_floor is None or f.reactive_need > f.forecast_floor
    ):
        return Reason.REACTIVE
    return Reason.FORECAST_FLOOR


def _type_reason(capacity_type: spec.CapacityType, reason: Reason, fallback: int) -> Reason:
    if capacity_type is spec.CapacityType.RESERVED:
        return Reason.RESERVED_BASE
    if capacity_type is spec.CapacityType.ON_DEMAND and fallback > 0:
        return Reason.SPOT_FALLBACK
    return reason
