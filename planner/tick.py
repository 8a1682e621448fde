"""Pure: one tick of the prescale policy on the plan in force: the latest plan's floor at now,
then `step.plan_step` on top of it.

The daemon calls `step_on_floors` every minute with live inputs and the simulator's prescale
policy every replayed minute with replayed ones. It is the only place that turns plans into the
floor a tick steps on, so what-if replays and the daemon cannot drift apart (a parity test drives
both over a trace excerpt and compares their targets minute by minute).

`Floors` is the floor column of the plans made so far, on the 1-minute grid: a newer plan
takes over from its first minute on, and an older plan still covers the minutes before it (for
example a bucket the forecaster skipped because it was under way when the refit ran).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from planner import plan, spec, step

MINUTE_S = 60
# Marks a minute that no plan covers; plain ints keep the per-minute read cheap.
NO_FLOOR = -1


@dataclass(frozen=True, slots=True)
class Floors:
    """The forecast floor per minute from `start_s` on; `NO_FLOOR` where no plan covers it."""

    start_s: float  # epoch seconds of the first minute
    values: tuple[int, ...]

    @classmethod
    def empty(cls) -> Floors:
        return cls(0.0, ())

    @property
    def end_s(self) -> float:
        """Epoch seconds just after the last covered minute."""
        return self.start_s + len(self.values) * MINUTE_S

    def at(self, now: datetime) -> int | None:
        """The floor in force at `now` (tz-aware), None when no plan covers that minute."""
        offset = math.floor((now.timestamp() - self.start_s) / MINUTE_S)
        if 0 <= offset < len(self.values):
            floor = self.values[offset]
            return floor if floor >= 0 else None
        return None


def plan_start_s(planned: plan.Plan) -> float:
    """Epoch seconds of a plan's first minute."""
    return float(pd.Timestamp(planned.targets.index[0]).timestamp())


def extend(
    floors: Floors,
    planned: plan.Plan,
    *,
    keep_from_s: float | None = None,
    fill_from_s: float | None = None,
) -> Floors:
    """`floors` with `planned`'s floor column in force from its first minute on.

    `keep_from_s` drops minutes before it (the daemon has no use for the past; the simulator
    keeps it for its record); `fill_from_s` as in `overlay`.
    """
    new = tuple(planned.targets["floor"].to_numpy(dtype="int64").tolist())
    return overlay(
        floors, plan_start_s(planned), new, keep_from_s=keep_from_s, fill_from_s=fill_from_s
    )


def overlay(
    floors: Floors,
    start_s: float,
    new: tuple[int, ...],
    *,
    keep_from_s: float | None = None,
    fill_from_s: float | None = None,
) -> Floors:
    """`floors` with the floors `new` in force from `start_s` on (one per minute).

    Minutes before `start_s` keep the older floor (NO_FLOOR where none covered them); the
    simulator's level correction overlays a re-planned floor this way between refits.
    `fill_from_s` (the refit's minute) gives the minutes from it to `start_s` that no plan
    covers the new plan's first floor: the forecast starts after the bucket under way at the
    refit, and at a start nothing else covers that bucket's minutes, which would otherwise be
    stepped on with no floor at all (reactive only).
    """
    if floors.values and start_s > floors.start_s:
        offset = round((start_s - floors.start_s) / MINUTE_S)
        kept = floors.values[:offset]
        missing = (NO_FLOOR,) * (offset - len(kept))  # no plan covered these minutes
        merged = Floors(floors.start_s, kept + missing + new)
    else:
        merged = Floors(start_s, new)
    if fill_from_s is not None and new and start_s > fill_from_s:
        merged = _filled(merged, fill_from_s, start_s, new[0])
    if keep_from_s is not None and keep_from_s > merged.start_s:
        drop = min(math.floor((keep_from_s - merged.start_s) / MINUTE_S), len(merged.values))
        merged = Floors(merged.start_s + drop * MINUTE_S, merged.values[drop:])
    return merged


def _filled(floors: Floors, from_s: float, until_s: float, floor: int) -> Floors:
    """`floors` with `floor` at the minutes from `from_s` to `until_s` that no plan covers
    (the minutes on `until_s`'s grid, so the filled ones line up with the plan's)."""
    first_s = until_s - math.ceil((until_s - from_s) / MINUTE_S) * MINUTE_S
    values = list(floors.values)
    start_s = floors.start_s
    if first_s < start_s:
        values[:0] = [NO_FLOOR] * round((start_s - first_s) / MINUTE_S)
        start_s = first_s
    low = round((first_s - start_s) / MINUTE_S)
    high = round((until_s - start_s) / MINUTE_S)
    for i in range(low, high):
        if values[i] == NO_FLOOR:
            values[i] = floor
    return Floors(start_s, tuple(values))


def step_on_floors(  # noqa: PLR0917 - positional on the per-minute path, see docstring
    workload: spec.WorkloadSpec,
    floors: Floors,
    now: datetime,
    observed_demand: float | None,
    ready: spec.ByType[int],
    state: step.PolicyState,
    reserved: int,
    lead_time_s: int,
    capacity_per_replica: float | None,
    replica_cap: int | None = None,
) -> step.StepResult:
    """One tick: the floor in force at `now`, then the planner's step with what was observed.

    `capacity_per_replica` is the plan's (it uses the measured request shape), so the reactive
    need above the floor is counted in the same replicas as the floor itself. Positional
    arguments: this runs every minute of every replay, and keywords cost more on that path.
    """
    inputs = step.StepInputs(
        now,
        floors.at(now),
        reserved,
        observed_demand,
        ready,
        lead_time_s,
        replica_cap,
        capacity_per_replica,
    )
    return step.plan_step(workload, inputs, state)
