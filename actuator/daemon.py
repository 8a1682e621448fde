"""Shell: the daemon's tick: read demand and the targets, refit on schedule, step, write, record.

One tick, for every workload, with `now` read once by the caller:

1. read the ready replicas (and current floor) of each target, and the demand of the last
   minute from the workload's source; a source outage holds: the last targets stay, nothing is
   stepped, and the decision is recorded with the reason `source_unavailable` (or
   `demand_missing` when the source answers with no value, e.g. NaN): a missing reading never
   scales anything in;
2. refit when due (or when no plan is in force): history up to now from the source, the model
   chosen by the last selection (re-selected daily), the lead time learned from observed cold
   starts, then `plan.build_plan`; the plan and its forecast are stored;
3. `tick.step_on_floors`, the same function the simulator's prescale policy runs each replayed
   minute (the plan's floor at now, then `step.plan_step`);
4. in actuate mode and only as the leader, write each target that differs from the cluster's
   floor (absolute and idempotent, through the `TargetWriter`); in advisory mode write nothing;
5. store the decisions that changed and the policy state, so that a restart carries on from
   the same state and sets the same targets (no churn); when the store does not answer they
   wait in memory, in order, for the next tick that reaches it (none is lost, the tick goes on).

The outside systems come in as small protocols (`DemandSource`, `TargetWriter`,
`ColdStartReader`, `Leadership`), so the tick runs on a CSV trace, a real Prometheus or a real
API server alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from actuator import config, store
from forecaster import forecast, level, series
from kernel import errors
from planner import budget, demand, lead_time, operating, plan, spec, step, tick
from report import content
from simulator import lineup, operating_point, predictive, replay, results

log = logging.getLogger(__name__)

# The class's `tick` method hides the module inside its body.
Floors = tick.Floors

# The reason recorded when a tick could not read its source and kept the last targets.
SOURCE_UNAVAILABLE = "source_unavailable"
# The reason recorded when the source answered with no value for the last minute (no series, or
# NaN): as little known as in an outage, so the last targets stay the same way.
DEMAND_MISSING = "demand_missing"
# The reason recorded when the clock reads earlier than a tick already stepped (NTP stepped it
# back, a VM was restored): the policy's windows would read as if time ran backwards, so the
# last targets stay until the clock passes that tick again.
CLOCK_BEHIND = "clock_behind"
HOLD_REASONS = frozenset({SOURCE_UNAVAILABLE, DEMAND_MISSING, CLOCK_BEHIND})
# Forecast error is scored at these horizons after the refit (1 h, 6 h, 1 d): the floor looks a
# lead time ahead (minutes to an hour), the hold and the day's shape need the longer ones.
ERROR_HORIZONS_S = (3600, 6 * 3600, 86400)
# A stored forecast keeps only the next day: enough to score every horizon above.
STORED_FORECAST_S = 86400
# The level correction the simulator's prescale policy applies between refits (its defaults),
# so a chosen point with level correction runs here as it was replayed.
LEVEL_CORRECTION = level.LevelCorrection()
# The operating point's replays draw spot interruptions from this seed: a fixed one, so two
# re-selections on the same history choose the same point.
CHOICE_SEED = 0


class Outcome(StrEnum):
    APPLIED = "applied"  # written to the cluster
    DRY_RUN = "dry_run"  # written as a server-side dry run
    UNCHANGED = "unchanged"  # the cluster already holds this floor
    ADVISED = "advised"  # advisory mode: decided and stored, nothing written
    EXPORTED = "exported"  # a `metric` target: served on /metrics and /api/v1/plan only
    STANDBY = "standby"  # not the leader: another replica writes
    FAILED = "failed"  # the write failed; retried next tick with a fresh read
    HELD = "held"  # no demand reading (source down, no value): the last targets stay


@dataclass(frozen=True)
class Reading:
    """What the cluster says of one target."""

    floor: int | None  # the floor now held (minReplicas / minReplicaCount / replicas)
    max_replicas: int | None  # the autoscaler's ceiling, if it has one
    ready: int | None  # ready replicas of this capacity type


class DemandSource(Protocol):
    @property
    def interval_s(self) -> int:
        """Seconds per value: of the history's intervals and of `latest`."""
        ...

    def history(self, since: dt.datetime, until: dt.datetime) -> series.Trace:
        """Arrivals per minute in [since, until); SourceUnavailableError when unreadable."""
        ...

    def latest(self, at: dt.datetime) -> float | None:
        """Arrivals of the minute before `at`; None in a gap; SourceUnavailableError when the
        source cannot answer."""
        ...


class TargetWriter(Protocol):
    def read(self, target: config.Target) -> Reading: ...

    def write(self, target: config.Target, replicas: int, *, dry_run: bool) -> None:
        """Set the target's floor (absolute); ActuationError when it fails."""
        ...


class ColdStartReader(Protocol):
    def cold_starts(
        self, target: config.Target, since: dt.datetime
    ) -> Sequence[store.ColdStartRecord]: ...


class Leadership(Protocol):
    """Who writes. `tick` tries to acquire or renew (the service calls it every retry period,
    far more often than the daemon ticks); `is_leader` answers from the last attempt."""

    def tick(self) -> bool: ...

    def is_leader(self) -> bool: ...

    def release(self) -> None: ...


class SoleReplica:
    """Leadership when election is off: the only replica always leads."""

    def tick(self) -> bool:
        return True

    def is_leader(self) -> bool:
        return True

    def release(self) -> None:
        return None


@dataclass(frozen=True)
class TargetDecision:
    target: config.Target
    replicas: int
    reason: str
    outcome: Outcome
    ready: int | None


@dataclass(frozen=True)
class WorkloadTick:
    """One workload's tick, for /metrics and the logs."""

    workload: str
    decisions: tuple[TargetDecision, ...]
    floor: int | None  # the forecast floor in force at now
    forecast_p50: float | None  # forecast at now, in the spec's unit
    forecast_p90: float | None
    observed_demand: float | None  # the last minute's load, in the spec's unit
    lead_time_s: int
    lead_time_source: str
    refit_at: dt.datetime | None
    source_up: bool
    capacity_per_replica: float | None
    # the operating point in force: band (0 P50, 1 P90, 2 P99), level correction, hold; the
    # spec's quantile and hold until a re-selection chose one
    point: operating.OperatingPoint | None = None
    point_chosen: bool = False
    level_factor: float = 1.0
    replica_cap: int | None = None  # the pool budget's cap on this workload now; None: none


@dataclass(frozen=True)
class TickReport:
    at: dt.datetime
    workloads: tuple[WorkloadTick, ...]
    duration_s: float
    leader: bool
    # decisions and states decided but not yet in the store (it did not answer): written, in
    # order, by the first tick that reaches it again
    store_pending: int = 0


@dataclass
class _Live:
    """A workload's memory between ticks (mutable inside the daemon only; what must survive a
    restart is in the store)."""

    floors: tick.Floors = dataclasses.field(default_factory=tick.Floors.empty)
    state: step.PolicyState | None = None
    reserved: int | None = None
    capacity_per_replica: float | None = None
    lead: lead_time.LeadTime | None = None
    request: spec.RequestShape | None = None
    selection: forecast.Selection | None = None
    selected_at: dt.datetime | None = None
    refit_at: dt.datetime | None = None
    planned: pd.DataFrame | None = None  # the latest plan's targets (for the first state)
    frame: pd.DataFrame | None = None  # the latest forecast's frame (for metrics)
    latest_forecast: forecast.Forecast | None = None  # the latest forecast and plan (/report)
    latest_plan: plan.Plan | None = None
    last: dict[spec.CapacityType, tuple[int, str, Outcome]] = dataclasses.field(
        default_factory=dict
    )
    stepped_at: dt.datetime | None = None  # the latest tick that stepped (or decided, restored)
    # the operating point chosen at the last re-selection (None: the spec's quantile and hold)
    choice: results.Choice | None = None
    chosen_at: dt.datetime | None = None
    replan: bool = False  # a new point was chosen: plan with it at the next tick
    # the level correction: its factor, the model's P50 per minute in force (what observations
    # are compared with), since when this daemon has observed, and its last update
    factor: float = 1.0
    expected: pd.Series | None = None
    observed_from: dt.datetime | None = None
    level_at: dt.datetime | None = None
    # the pool budget's replica cap per minute (None: not pooled); on the same grid as floors
    caps: tick.Floors | None = None


@dataclass(frozen=True)
class _Fitted:
    """One workload's refit before its plan is made (alone, or with its pool)."""

    history: series.Trace
    made: forecast.Forecast  # the model's forecast
    at_point: forecast.Forecast  # the same at the operating point (band, level factor)
    lead: lead_time.LeadTime
    request: spec.RequestShape
    factor: float  # the level factor it was planned with


class Daemon:
    """The tick and the scheduled jobs over a set of workloads (see the module docstring)."""

    def __init__(
        self,
        settings: config.Config,
        db: store.Store,
        sources: Mapping[str, DemandSource],
        *,
        writer: TargetWriter | None = None,
        cold_start_reader: ColdStartReader | None = None,
        leadership: Leadership | None = None,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.settings = settings
        self._db = db
        self._sources = sources
        self._writer = writer
        self._cold = cold_start_reader
        self._leadership = leadership or SoleReplica()
        self._monotonic = monotonic
        self._live: dict[str, _Live] = {w.name: self._restore(w) for w in settings.workloads}
        self.last_report: TickReport | None = None
        # what the store has not taken yet (see `_persist`)
        self._pending_decisions: list[store.DecisionRecord] = []
        self._pending_states: dict[str, str] = {}
        self._pending_states_at: dt.datetime | None = None

    # ----- restart ---------------------------------------------------------------------

    def _restore(self, workload: config.Workload) -> _Live:
        """State and the latest plan from the store: a restart steps on where it left off."""
        live = _Live()
        text = self._db.load_policy_state(workload.name)
        if text is not None:
            live.state = store.decode_state(text)
        record = self._db.latest_plan(workload.name)
        if record is not None:
            live.floors = tick.Floors(record.start_at.timestamp(), record.floors)
            live.reserved = record.reserved
            live.capacity_per_replica = record.capacity_per_replica
            live.lead = lead_time.LeadTime(
                record.lead_time_s,
                lead_time.LeadTimeSource(record.lead_time_source),
                0,
                workload.spec.lead_time_s,
            )
            live.refit_at = record.made_at
            live.level_at = record.made_at
            live.factor = record.level_factor
            if record.caps is not None:
                live.caps = tick.Floors(record.start_at.timestamp(), record.caps)
            self._restore_expected(workload, live, record.made_at)
        chosen = self._db.latest_choice(workload.name)
        if chosen is not None:
            live.choice, live.chosen_at = chosen.choice, chosen.chosen_at
        for decision in self._db.latest_decisions(len(workload.targets), workload.name):
            if live.stepped_at is None or decision.decided_at > live.stepped_at:
                live.stepped_at = decision.decided_at
            capacity_type = spec.CapacityType(decision.capacity_type)
            live.last.setdefault(
                capacity_type,
                (decision.target_replicas, decision.reason, Outcome(decision.outcome)),
            )
        return live

    def _restore_expected(
        self, workload: config.Workload, live: _Live, made_at: dt.datetime
    ) -> None:
        """The level correction's expectation rebuilt from the stored forecasts in force over
        the correction's window before the latest plan."""
        since = made_at - dt.timedelta(
            seconds=LEVEL_CORRECTION.window_s + self.settings.schedule.refit_s
        )
        for record in self._db.forecasts(workload.name, since):
            if live.observed_from is None:
                live.observed_from = record.made_at
            start = pd.Timestamp(record.start_at)
            frame = pd.DataFrame(
                {"p50": record.column("p50")},
                index=pd.date_range(
                    start, periods=len(record.column("p50")), freq=f"{record.resolution_s}s"
                ),
            )
            live.expected = _expected_after(live.expected, frame, record.resolution_s)

    # ----- the tick --------------------------------------------------------------------

    def run_once(self, now: dt.datetime) -> TickReport:
        """Refit what is due (or correct the level between refits), then tick: what one
        scheduled minute does, in that order (the simulator's order: a refit at minute m uses
        history before m, then m is stepped)."""
        pools: set[str] = set()  # refitted this minute: a pool refits once, all members at once
        for workload in self.settings.workloads:
            pool = _pool_of(workload)
            if pool is not None and pool in pools:
                continue
            if self._refit_due(workload, now):
                self._refit_stored(workload, now)
                if pool is not None:
                    pools.add(pool)
            elif self._level_due(workload, now):
                self._correct_level_stored(workload, now)
        return self.tick(now)

    def tick(self, now: dt.datetime) -> TickReport:
        started = self._monotonic()
        leader = self._leadership.is_leader()
        results = []
        records: list[store.DecisionRecord] = []
        states: dict[str, step.PolicyState] = {}
        for workload in self.settings.workloads:
            result, changed, state = self._tick_one(workload, now, leader)
            results.append(result)
            records.extend(changed)
            if state is not None:
                states[workload.name] = state
        pending = self._persist(records, states, now)
        report = TickReport(now, tuple(results), self._monotonic() - started, leader, pending)
        self.last_report = report
        return report

    def _persist(
        self,
        records: Sequence[store.DecisionRecord],
        states: Mapping[str, step.PolicyState],
        now: dt.datetime,
    ) -> int:
        """Store this tick's decisions and states after any an earlier tick could not store;
        how many are still waiting. A store that does not answer costs no decision: they stay
        queued in memory (the targets were already acted on) and the tick goes on."""
        self._pending_decisions.extend(records)
        self._pending_states.update({name: store.encode_state(s) for name, s in states.items()})
        if states:
            self._pending_states_at = now
        try:
            self._db.record_decisions(self._pending_decisions)
            self._pending_decisions = []
            if self._pending_states:
                self._db.save_policy_states(self._pending_states, self._pending_states_at or now)
            self._pending_states = {}
        except store.StoreUnavailableError as exc:
            log.warning(
                "store unavailable, %d decision(s) and %d state(s) kept for the next tick: %s",
                len(self._pending_decisions),
                len(self._pending_states),
                exc,
            )
        return len(self._pending_decisions) + len(self._pending_states)

    def _tick_one(
        self, workload: config.Workload, now: dt.datetime, leader: bool
    ) -> tuple[WorkloadTick, list[store.DecisionRecord], step.PolicyState | None]:
        live = self._live[workload.name]
        readings = self._read_targets(workload)
        source_up = True
        observed: float | None = None
        try:
            arrivals = self._sources[workload.name].latest(now)
        except errors.SourceUnavailableError as exc:
            log.warning("workload=%s source unavailable, holding: %s", workload.name, exc)
            source_up = False
            arrivals = None
        interval_s = self._sources[workload.name].interval_s
        if arrivals is not None:
            observed = _load(
                workload.spec, live.request or workload.spec.request, arrivals, interval_s
            )
        floor = live.floors.at(now)
        lead = live.lead or _fallback_lead(workload.spec)

        new_state: step.PolicyState | None = None
        evidence: dict[str, object] = {"forecast_floor": floor, "observed_demand": observed}
        # no value from a source that answered: hold the last targets like an outage; before
        # any state there is nothing to hold, and the first state starts from what the cluster
        # runs (or the plan), so the step cannot scale anything in either
        missing = observed is None or not math.isfinite(observed)
        behind = live.stepped_at is not None and now < live.stepped_at
        if behind:
            log.warning(
                "workload=%s clock %s is behind the last tick %s, holding",
                workload.name,
                now.isoformat(),
                live.stepped_at.isoformat() if live.stepped_at else None,
            )
        if not source_up or ((missing or behind) and live.state is not None):
            # hold: no step, the last targets stay (nothing is scaled in on missing data)
            reason = (
                SOURCE_UNAVAILABLE if not source_up else CLOCK_BEHIND if behind else DEMAND_MISSING
            )
            decided = self._held(workload, live, readings, reason)
        else:
            state = live.state if live.state is not None else self._first_state(live, now, readings)
            ready = _ready(workload, readings, state.targets)
            result = tick.step_on_floors(
                _running(workload, live),
                live.floors,
                now,
                observed,
                ready,
                state,
                # before any plan (no history yet): no reserved base, reactive on the spec's
                # capacity, like a plain HPA
                live.reserved or 0,
                lead.seconds,
                live.capacity_per_replica,
                None if live.caps is None else live.caps.at(now),
            )
            evidence = dict(result.evidence._asdict())
            live.stepped_at = now
            if result.state is not live.state:
                new_state = result.state
            live.state = result.state
            decided = [
                (target, d.target, d.reason.value)
                for target, d in zip(workload.targets, result.decisions, strict=True)
            ]
        decisions = tuple(
            self._act(target, replicas, reason, readings.get(target.capacity_type), leader)
            for target, replicas, reason in decided
            if replicas >= 0  # held with nothing known: there is no target to state
        )
        changed = self._changes(workload, live, decisions, now, evidence)
        p50, p90 = self._forecast_now(workload, live, now)
        log.info(
            "workload=%s floor=%s demand=%s targets=%s reasons=%s outcomes=%s",
            workload.name,
            floor,
            None if observed is None else round(observed, 3),
            ",".join(f"{d.target.capacity_type.value}:{d.replicas}" for d in decisions),
            ",".join(sorted({d.reason for d in decisions})),
            ",".join(sorted({d.outcome.value for d in decisions})),
        )
        return (
            WorkloadTick(
                workload=workload.name,
                decisions=decisions,
                floor=floor,
                forecast_p50=p50,
                forecast_p90=p90,
                observed_demand=observed,
                lead_time_s=lead.seconds,
                lead_time_source=lead.source.value,
                refit_at=live.refit_at,
                source_up=source_up,
                capacity_per_replica=live.capacity_per_replica,
                point=_point_in_force(workload, live),
                point_chosen=live.choice is not None,
                level_factor=live.factor,
                replica_cap=None if live.caps is None else live.caps.at(now),
            ),
            changed,
            new_state,
        )

    def _read_targets(self, workload: config.Workload) -> dict[spec.CapacityType, Reading]:
        readings: dict[spec.CapacityType, Reading] = {}
        if self._writer is None:
            return readings
        for target in workload.targets:
            if target.kind is config.TargetKind.METRIC:
                continue
            try:
                readings[target.capacity_type] = self._writer.read(target)
            except errors.PrescaleError as exc:
                log.warning("workload=%s target=%s unreadable: %s", workload.name, target.ref, exc)
        return readings

    def _first_state(
        self, live: _Live, now: dt.datetime, readings: Mapping[spec.CapacityType, Reading]
    ) -> step.PolicyState:
        """State before the first tick ever: what the cluster runs when every floor was read,
        else the plan's targets at now (as the simulator starts its replay)."""
        floors = [r.floor for r in readings.values()]
        if readings and all(f is not None for f in floors):
            current = step.ReplicaCounts(
                *(
                    (readings[t].floor or 0) if t in readings else 0
                    for t in (
                        spec.CapacityType.RESERVED,
                        spec.CapacityType.SPOT,
                        spec.CapacityType.ON_DEMAND,
                    )
                )
            )
            return step.PolicyState.initial(current)
        planned = live.planned
        if planned is None or planned.empty:
            return step.PolicyState.initial()
        minute = pd.Timestamp(now).floor("min")
        position = planned.index.get_loc(minute) if minute in planned.index else 0
        row = planned.iloc[int(position)]  # type: ignore[arg-type]
        return step.PolicyState.initial(
            step.ReplicaCounts(int(row["reserved"]), int(row["spot"]), int(row["on_demand"]))
        )

    def _held(
        self,
        workload: config.Workload,
        live: _Live,
        readings: Mapping[spec.CapacityType, Reading],
        reason: str,
    ) -> list[tuple[config.Target, int, str]]:
        """The last targets (stored state, else what the cluster holds), unchanged."""
        held = []
        for target in workload.targets:
            if live.state is not None:
                replicas = live.state.targets.of(target.capacity_type)
            else:
                reading = readings.get(target.capacity_type)
                replicas = reading.floor if reading and reading.floor is not None else -1
            held.append((target, replicas, reason))
        return held

    def _act(
        self,
        target: config.Target,
        replicas: int,
        reason: str,
        reading: Reading | None,
        leader: bool,
    ) -> TargetDecision:
        ready = None if reading is None else reading.ready
        if reason in HOLD_REASONS:
            return TargetDecision(target, replicas, reason, Outcome.HELD, ready)
        if target.kind is config.TargetKind.METRIC:
            return TargetDecision(target, replicas, reason, Outcome.EXPORTED, ready)
        if self.settings.mode is config.Mode.ADVISORY or self._writer is None:
            return TargetDecision(target, replicas, reason, Outcome.ADVISED, ready)
        if not leader:
            return TargetDecision(target, replicas, reason, Outcome.STANDBY, ready)
        if reading is not None and reading.max_replicas is not None:
            replicas = min(replicas, reading.max_replicas)  # an HPA refuses min above max
        if reading is not None and reading.floor == replicas:
            return TargetDecision(target, replicas, reason, Outcome.UNCHANGED, ready)
        dry_run = self.settings.dry_run
        try:
            self._writer.write(target, replicas, dry_run=dry_run)
        except errors.ActuationError as exc:
            log.warning("target=%s write of %d failed: %s", target.ref, replicas, exc)
            return TargetDecision(target, replicas, reason, Outcome.FAILED, ready)
        return TargetDecision(
            target, replicas, reason, Outcome.DRY_RUN if dry_run else Outcome.APPLIED, ready
        )

    def _changes(
        self,
        workload: config.Workload,
        live: _Live,
        decisions: tuple[TargetDecision, ...],
        now: dt.datetime,
        evidence: Mapping[str, object],
    ) -> list[store.DecisionRecord]:
        """Decisions that differ from the last stored one of their target (a tick repeating the
        previous decision exactly adds nothing to the record)."""
        records = []
        for d in decisions:
            key = (d.replicas, d.reason, d.outcome)
            if live.last.get(d.target.capacity_type) == key:
                continue
            live.last[d.target.capacity_type] = key
            records.append(
                store.DecisionRecord(
                    workload=workload.name,
                    capacity_type=d.target.capacity_type.value,
                    target_replicas=d.replicas,
                    reason=d.reason,
                    evidence_json=json.dumps(_finite(evidence), allow_nan=False),
                    decided_at=now,
                    outcome=d.outcome.value,
                    target_ref=d.target.ref,
                    ready_replicas=d.ready,
                )
            )
        return records

    def _forecast_now(
        self, workload: config.Workload, live: _Live, now: dt.datetime
    ) -> tuple[float | None, float | None]:
        frame = live.frame
        if frame is None or frame.empty or live.request is None:
            return None, None
        position = int(frame.index.searchsorted(pd.Timestamp(now), side="right")) - 1
        if position < 0:
            return None, None
        row = frame.iloc[position]
        interval_s = self._sources[workload.name].interval_s
        return (
            _load(workload.spec, live.request, float(row["p50"]), interval_s),
            _load(workload.spec, live.request, float(row["p90"]), interval_s),
        )

    # ----- refits ----------------------------------------------------------------------

    def _refit_due(self, workload: config.Workload, now: dt.datetime) -> bool:
        """Due for this workload, or for any workload of its pool (they refit together)."""
        pool = _pool_of(workload)
        if pool is None:
            return self._refit_due_alone(workload, now)
        return any(
            self._refit_due_alone(w, now) for w in self.settings.workloads if _pool_of(w) == pool
        )

    def _refit_due_alone(self, workload: config.Workload, now: dt.datetime) -> bool:
        live = self._live[workload.name]
        if live.refit_at is None or live.reserved is None or live.replan:
            return True
        return (now - live.refit_at).total_seconds() >= self.settings.schedule.refit_s

    def _level_due(self, workload: config.Workload, now: dt.datetime) -> bool:
        """An hourly level update between refits, when the chosen point corrects the level
        (the simulator's prescale policy does it every LEVEL_EVERY_S of its replay)."""
        live = self._live[workload.name]
        if live.choice is None or not live.choice.point.level_correction:
            return False
        if live.latest_forecast is None or live.level_at is None:
            return False
        return (now - live.level_at).total_seconds() >= predictive.LEVEL_EVERY_S

    def refit(self, now: dt.datetime) -> None:
        """Refit every workload (the hourly job); a source outage keeps the plan in force."""
        pools: set[str] = set()
        for workload in self.settings.workloads:
            pool = _pool_of(workload)
            if pool is not None and pool in pools:
                continue
            self._refit_stored(workload, now)
            if pool is not None:
                pools.add(pool)

    def _refit_stored(self, workload: config.Workload, now: dt.datetime) -> None:
        """A refit whose store may not answer: a plan made before the store failed is used from
        memory at once (stored by the next refit); if the store could not even be read, the
        plan in force stays. Either way the tick runs."""
        try:
            self._refit_one(workload, now)
        except store.StoreUnavailableError as exc:
            log.warning("workload=%s refit not stored: %s", workload.name, exc)

    def reselect(self, now: dt.datetime) -> None:
        """Choose every workload's operating point and forget its model, so that the next
        refit runs the backtest and plans at the new point (the daily job; the service
        chooses outside its lock with `choose_point`, then calls `use_choice`)."""
        for workload in self.settings.workloads:
            self.use_choice(workload.name, self.choose_point(workload.name, now), now)

    def choices_due(self, now: dt.datetime) -> bool:
        """Whether a workload has no operating point chosen within the re-selection interval
        (at a start: choose at once rather than a day later)."""
        due_s = self.settings.schedule.reselect_s
        return any(
            live.chosen_at is None or (now - live.chosen_at).total_seconds() >= due_s
            for live in self._live.values()
        )

    def choose_point(self, name: str, now: dt.datetime) -> results.Choice | None:
        """The operating point `prescale simulate` would choose for workload `name` on the
        history it reads now: `operating_point.choose` on `lineup.operating_point_inputs`,
        with this daemon's lead time and refit interval. Tens of seconds a workload; reads
        the source and the store but no memory of the tick, so it may run beside ticks. None
        when the history cannot be read."""
        workload = next(w for w in self.settings.workloads if w.name == name)
        since = now - dt.timedelta(seconds=self.settings.schedule.history_s)
        try:
            history = self._sources[name].history(since, now)
        except errors.SourceUnavailableError as exc:
            log.warning("workload=%s operating point not chosen, source unavailable: %s", name, exc)
            return None
        if history.values.notna().sum() == 0:
            log.warning("workload=%s operating point not chosen: no history before %s", name, now)
            return None
        history = _from_first_value(history)
        started = self._monotonic()
        choice = operating_point.choose(
            lineup.operating_point_inputs(
                workload.spec,
                replay.minute_trace(history),
                lead_time_s=self._lead_time(workload, now).seconds,
                mix_mode=results.MixMode.PLANNER,
                refit_every_s=self.settings.schedule.refit_s,
                resolution_s=lineup.forecast_resolution_s(history),
                seed=CHOICE_SEED,
            )
        )
        log.info(
            "workload=%s operating point %s (met=%s, %.1f s): %s",
            name,
            choice.point.describe(),
            choice.met,
            self._monotonic() - started,
            choice.reason,
        )
        return choice

    def use_choice(self, name: str, choice: results.Choice | None, now: dt.datetime) -> None:
        """Run `choice` from the next tick on (a re-plan at it) and store it; None (no history)
        keeps the point in force. The model is re-selected at that refit either way."""
        live = self._live[name]
        live.selected_at = None
        if choice is None:
            return
        live.replan = live.replan or live.choice is None or live.choice.point != choice.point
        live.choice, live.chosen_at = choice, now
        try:
            self._db.save_choice(store.ChoiceRecord(name, now, choice))
        except store.StoreUnavailableError as exc:
            # in force from memory; the next re-selection stores its own
            log.warning("workload=%s operating point not stored: %s", name, exc)

    def choice_view(
        self, name: str
    ) -> tuple[results.Choice | None, dt.datetime | None, operating.OperatingPoint, float]:
        """The stored choice (None before one), when it was made, the point in force and the
        level factor, for /api/v1/plan."""
        workload = next(w for w in self.settings.workloads if w.name == name)
        live = self._live[name]
        return live.choice, live.chosen_at, _point_in_force(workload, live), live.factor

    def _refit_one(self, workload: config.Workload, now: dt.datetime) -> None:
        """Refit one workload, or with its pool when it shares a GPU budget."""
        pool = _pool_of(workload)
        if pool is not None:
            self._refit_pool(pool, now)
            return
        fitted = self._fit(workload, now)
        if fitted is None:
            return
        planned = plan.build_plan(
            _running(workload, self._live[workload.name]),
            fitted.at_point,
            lead_time_s=fitted.lead.seconds,
            request=fitted.request,
        )
        self._install(workload, fitted, planned, None, now)

    def _refit_pool(self, pool: str, now: dt.datetime) -> None:
        """Refit every workload of a pool at once and plan them within its GPU budget as
        `prescale plan` does (`budget.plan_pool`: the same forecast grid, a cap per workload
        and minute); a member whose history cannot be read keeps the whole pool on the plans
        and caps in force, which already fit the budget."""
        members = [w for w in self.settings.workloads if _pool_of(w) == pool]
        leads = [self._lead_time(w, now) for w in members]
        first = any(self._live[w.name].reserved is None for w in members)
        s = self.settings.schedule
        horizon_s = (
            predictive.WEEK_S
            if first
            else s.refit_s + max(lead.seconds for lead in leads) + predictive.HORIZON_MARGIN_S
        )
        fitted = [self._fit(w, now, horizon_s=horizon_s) for w in members]
        ready = [f for f in fitted if f is not None]
        if len(ready) < len(members):
            log.warning("pool=%s refit skipped: a member's history is unreadable", pool)
            return
        try:
            pooled = budget.plan_pool(
                pool,
                members[0].spec.pool_gpu_budget or 0,
                [_running(w, self._live[w.name]) for w in members],
                [f.at_point for f in ready],
                lead_times_s=[f.lead.seconds for f in ready],
                requests=[f.request for f in ready],
            )
        except errors.InputError as exc:
            log.error("pool=%s refit skipped: %s", pool, exc)
            return
        for w, f, planned, caps in zip(members, ready, pooled.plans, pooled.caps, strict=True):
            self._install(w, f, planned, caps, now)
        for short in pooled.shortfalls:
            log.info(
                "pool=%s workload=%s budget cuts %d minutes, worst %s: %d of %d wanted",
                pool,
                short.workload,
                short.minutes,
                short.worst_at.isoformat(),
                short.worst_granted,
                short.worst_wanted,
            )

    def _fit(
        self, workload: config.Workload, now: dt.datetime, *, horizon_s: int | None = None
    ) -> _Fitted | None:
        """History, model, lead time, forecast and level factor of one refit, before its plan;
        None when the source has no history to give."""
        live = self._live[workload.name]
        s = self.settings.schedule
        since = now - dt.timedelta(seconds=s.history_s)
        try:
            history = self._sources[workload.name].history(since, now)
        except errors.SourceUnavailableError as exc:
            log.warning("workload=%s refit skipped, source unavailable: %s", workload.name, exc)
            return None
        if history.values.notna().sum() == 0:
            log.warning("workload=%s refit skipped: no history before %s", workload.name, now)
            return None
        history = _from_first_value(history)
        if (
            live.selection is None
            or live.selected_at is None
            or ((now - live.selected_at).total_seconds() >= s.reselect_s)
        ):
            live.selection = forecast.select(history.values)
            live.selected_at = now
        lead = self._lead_time(workload, now)
        if horizon_s is None:
            # the simulator's horizons: a week for the first plan (the reserved base is decided
            # on it), then past the next refit by the lead time plus a margin
            horizon_s = (
                predictive.WEEK_S
                if live.reserved is None
                else s.refit_s + lead.seconds + predictive.HORIZON_MARGIN_S
            )
        request = demand.measured_request(workload.spec.request, history)
        made = forecast.forecast(history.values, horizon_s=horizon_s, selection=live.selection)
        point = operating.DEFAULT if live.choice is None else live.choice.point
        factor = live.factor
        if point.level_correction and live.expected is not None:
            # the simulator's order: the factor from the forecasts in force so far, then the
            # new forecast becomes the expectation
            factor = self._next_factor(live, history, now)
        return _Fitted(
            history=history,
            made=made,
            at_point=predictive.at_point(_running(workload, live), made, point, factor),
            lead=lead,
            request=request,
            factor=factor,
        )

    def _install(
        self,
        workload: config.Workload,
        fitted: _Fitted,
        planned: plan.Plan,
        caps: npt.NDArray[np.int64] | None,
        now: dt.datetime,
    ) -> None:
        """Put a refit's plan in force (its floors within the pool's caps, if any), store it
        and score the forecasts made so far."""
        live = self._live[workload.name]
        made = fitted.made
        live.factor = fitted.factor
        if live.observed_from is None:
            live.observed_from = now
        live.expected = _expected_after(live.expected, made.frame, made.resolution_s, now)
        live.level_at = now
        live.replan = False
        if live.reserved is None:
            live.reserved = planned.reserved
        live.capacity_per_replica = planned.capacity_per_replica
        live.request = fitted.request
        live.lead = fitted.lead
        start_s = tick.plan_start_s(planned)
        floors = tuple(int(v) for v in planned.targets["floor"].to_numpy())
        if caps is not None:
            live.caps = tick.overlay(
                live.caps or tick.Floors.empty(),
                start_s,
                tuple(int(v) for v in caps),
                keep_from_s=now.timestamp(),
            )
        live.floors = tick.overlay(
            live.floors,
            start_s,
            _within_caps(start_s, floors, live.caps),
            keep_from_s=now.timestamp(),
        )
        live.planned = planned.targets
        live.frame = made.frame
        live.latest_forecast, live.latest_plan = made, planned
        live.refit_at = now
        self._store_refit(workload, live, made, now)
        self._score_forecasts(workload, fitted.history, now)

    def _next_factor(self, live: _Live, history: series.Trace, now: dt.datetime) -> float:
        """The level factor at `now`: observed arrivals per minute over the correction's window
        (since this daemon first planned) against the model's P50 in force at those minutes."""
        start = pd.Timestamp(now) - pd.Timedelta(seconds=LEVEL_CORRECTION.window_s)
        if live.observed_from is not None:
            start = max(start, pd.Timestamp(live.observed_from))
        index = pd.date_range(start, pd.Timestamp(now), freq="min", inclusive="left")
        observed = history.values.reindex(index).to_numpy(dtype=float)
        expected = (
            np.full(len(index), np.nan)
            if live.expected is None
            else live.expected.reindex(index).to_numpy(dtype=float)
        )
        return level.factor(observed, expected, live.factor, LEVEL_CORRECTION)

    def _correct_level_stored(self, workload: config.Workload, now: dt.datetime) -> None:
        """Between refits: update the level factor and, when it moved, re-plan the latest
        forecast's floor with it (the simulator's `_correct_level`), and store that plan."""
        live = self._live[workload.name]
        made = live.latest_forecast
        if made is None or live.choice is None:
            return
        since = now - dt.timedelta(seconds=LEVEL_CORRECTION.window_s)
        try:
            history = self._sources[workload.name].history(since, now)
        except errors.SourceUnavailableError as exc:
            log.warning(
                "workload=%s level not corrected, source unavailable: %s", workload.name, exc
            )
            return
        live.level_at = now
        factor = self._next_factor(live, history, now)
        if factor == live.factor:
            return
        live.factor = factor
        lead = live.lead or _fallback_lead(workload.spec)
        floors = predictive.level_floors(
            _running(workload, live),
            made,
            live.choice.point,
            factor=factor,
            lead_time_s=lead.seconds,
            request=live.request or workload.spec.request,
        )
        start_s = pd.Timestamp(made.frame.index[0]).timestamp()
        live.floors = tick.overlay(
            live.floors, start_s, _within_caps(start_s, tuple(int(v) for v in floors), live.caps)
        )
        try:
            self._save_plan(workload, live, None, now)
        except store.StoreUnavailableError as exc:
            log.warning("workload=%s level-corrected plan not stored: %s", workload.name, exc)

    def _lead_time(self, workload: config.Workload, now: dt.datetime) -> lead_time.LeadTime:
        s = self.settings.schedule
        window = dt.timedelta(seconds=s.cold_start_window_s)
        observed = [
            lead_time.ColdStart(at, seconds)
            for at, seconds in self._db.cold_start_observations(workload.name, now - window)
        ]
        return lead_time.learn(
            workload.spec, observed, now=now, window=window, min_count=s.cold_start_min_count
        )

    def _store_refit(
        self, workload: config.Workload, live: _Live, made: forecast.Forecast, now: dt.datetime
    ) -> None:
        frame = made.frame
        kept = frame.iloc[: max(1, STORED_FORECAST_S // made.resolution_s)]
        forecast_id = self._db.save_forecast(
            store.ForecastRecord(
                workload=workload.name,
                made_at=now,
                model=made.model.value,
                resolution_s=made.resolution_s,
                start_at=pd.Timestamp(kept.index[0]).to_pydatetime(),
                columns=tuple(
                    (name, tuple(float(v) for v in kept[name].to_numpy()))
                    for name in ("p50", "p90")
                ),
            )
        )
        self._save_plan(workload, live, forecast_id, now)

    def _save_plan(
        self, workload: config.Workload, live: _Live, forecast_id: int | None, now: dt.datetime
    ) -> None:
        lead = live.lead or _fallback_lead(workload.spec)
        self._db.save_plan(
            store.PlanRecord(
                workload=workload.name,
                made_at=now,
                start_at=dt.datetime.fromtimestamp(live.floors.start_s, dt.UTC),
                floors=live.floors.values,
                reserved=live.reserved or 0,
                capacity_per_replica=live.capacity_per_replica or 0.0,
                lead_time_s=lead.seconds,
                lead_time_source=lead.source.value,
                forecast_id=forecast_id,
                level_factor=live.factor,
                caps=None
                if live.caps is None
                else _within_caps(
                    live.floors.start_s, (2**31 - 1,) * len(live.floors.values), live.caps
                ),
            )
        )

    def _score_forecasts(
        self, workload: config.Workload, history: series.Trace, now: dt.datetime
    ) -> None:
        """Score the stored forecasts against what happened since, per horizon after each
        forecast was made: MAE of P50 and the share of buckets at or below P90."""
        since = now - dt.timedelta(seconds=max(ERROR_HORIZONS_S) + self.settings.schedule.refit_s)
        made = self._db.forecasts(workload.name, since)
        scores = forecast_errors(workload.name, made, history.values, now)
        self._db.record_forecast_errors(scores)

    # ----- cold starts and retention ---------------------------------------------------

    def learn_cold_starts(self, now: dt.datetime) -> int:
        """Read the targets' Pods for cold starts and store the new ones; how many were new."""
        if self._cold is None:
            return 0
        since = now - dt.timedelta(seconds=self.settings.schedule.cold_start_window_s)
        new = 0
        for workload in self.settings.workloads:
            observed: list[store.ColdStartRecord] = []
            for target in workload.targets:
                if target.kind is config.TargetKind.METRIC:
                    continue
                try:
                    observed.extend(self._cold.cold_starts(target, since))
                except errors.PrescaleError as exc:
                    log.warning("target=%s cold starts unreadable: %s", target.ref, exc)
            new += self._db.record_cold_starts(workload.name, observed)
        return new

    def prune(self, now: dt.datetime) -> store.Pruned:
        r = self.settings.retention
        return self._db.prune(
            now,
            decisions_s=r.decisions_s,
            forecasts_s=r.forecasts_s,
            cold_starts_s=r.cold_starts_s,
            forecast_errors_s=r.forecast_errors_s,
            shadow_s=self.settings.schedule.shadow_window_s,
        )

    def release(self) -> None:
        self._leadership.release()

    def renew_lease_now(self) -> bool:
        """One acquire-or-renew attempt (the service's lease job; the Leadership reads its own
        clock)."""
        return self._leadership.tick()

    def report_inputs(self, now: dt.datetime) -> list[content.WorkloadInputs]:
        """The capacity report's inputs for every workload refitted since this start: its last
        forecast and plan, and the history shown before them (re-read from the source)."""
        inputs = []
        for workload in self.settings.workloads:
            live = self._live[workload.name]
            if live.latest_forecast is None or live.latest_plan is None:
                continue
            since = now - dt.timedelta(seconds=content.HISTORY_SHOWN_S)
            try:
                history = self._sources[workload.name].history(since, now)
            except errors.SourceUnavailableError:
                continue
            inputs.append(
                content.WorkloadInputs(
                    workload=workload.spec,
                    history=history.values,
                    column=history.column,
                    forecast=live.latest_forecast,
                    plan=live.latest_plan,
                    lead_time=live.lead or _fallback_lead(workload.spec),
                    budget_note=None,
                    simulation=None,
                    request=live.request or workload.spec.request,
                )
            )
        return inputs

    def plan_view(self, workload: str) -> tuple[Floors, int | None]:
        """The floors in force and the reserved base, for /api/v1/plan."""
        live = self._live[workload]
        return live.floors, live.reserved


def forecast_errors(
    workload: str,
    made: Sequence[store.ForecastRecord],
    observed: pd.Series,
    now: dt.datetime,
) -> list[store.ForecastError]:
    """Per horizon h in ERROR_HORIZONS_S: over every stored forecast's buckets that lie within
    h of when it was made (and after the previous horizon) and are complete by `now`, the MAE of
    P50 against the observed bucket mean and the share at or below P90."""
    lower = 0
    scores = []
    for horizon_s in ERROR_HORIZONS_S:
        errors_abs: list[float] = []
        covered = 0
        for record in made:
            means = series.bucket_mean(observed, 60, record.resolution_s)
            index = pd.date_range(
                record.start_at, periods=len(record.column("p50")), freq=f"{record.resolution_s}s"
            )
            p50 = pd.Series(record.column("p50"), index=index)
            p90 = pd.Series(record.column("p90"), index=index)
            lead = (index - pd.Timestamp(record.made_at)).total_seconds()
            end = index + pd.Timedelta(seconds=record.resolution_s)
            chosen = (lead >= lower) & (lead < horizon_s) & (end <= pd.Timestamp(now))
            for at in index[chosen]:
                actual = means.get(at)
                if actual is None or math.isnan(actual) or math.isnan(p50[at]):
                    continue
                errors_abs.append(abs(float(actual) - float(p50[at])))
                covered += int(actual <= p90[at])
        if errors_abs:
            scores.append(
                store.ForecastError(
                    workload=workload,
                    scored_at=now,
                    horizon_s=horizon_s,
                    count=len(errors_abs),
                    mae=float(np.mean(errors_abs)),
                    p90_coverage=covered / len(errors_abs),
                )
            )
        lower = horizon_s
    return scores


def _load(
    workload: spec.WorkloadSpec, request: spec.RequestShape, value: float, interval_s: int
) -> float:
    """One value of the source as load in the spec's unit: arrivals through Little's law (the
    simulator's conversion), a gauge taken as load (`demand.history_load`)."""
    return float(
        demand.history_load(
            np.array([value]), interval_s=interval_s, workload=workload, request=request
        )[0]
    )


def _ready(
    workload: config.Workload,
    readings: Mapping[spec.CapacityType, Reading],
    targets: step.ReplicaCounts,
) -> step.ReplicaCounts:
    """Ready replicas per type as read; a type not read (metric target, no cluster) counts as
    running its last target, so no spot fallback is ordered on a guess."""

    def of(capacity_type: spec.CapacityType) -> int:
        reading = readings.get(capacity_type)
        if reading is None or reading.ready is None:
            return targets.of(capacity_type)
        return reading.ready

    return step.ReplicaCounts(
        of(spec.CapacityType.RESERVED), of(spec.CapacityType.SPOT), of(spec.CapacityType.ON_DEMAND)
    )


def _from_first_value(history: series.Trace) -> series.Trace:
    """The history from its first value on: a range query over a window longer than the
    metric has existed answers NaN for the time before, which is not a gap to fit around."""
    first = history.values.first_valid_index()
    if first is None or first == history.values.index[0]:
        return history

    def cut(values: pd.Series) -> pd.Series:
        return values.loc[first:]

    return dataclasses.replace(
        history,
        values=cut(history.values),
        prompt_tokens=None if history.prompt_tokens is None else cut(history.prompt_tokens),
        completion_tokens=None
        if history.completion_tokens is None
        else cut(history.completion_tokens),
    )


def _pool_of(workload: config.Workload) -> str | None:
    """The pool whose GPU budget the workload shares; None when it has no budget."""
    s = workload.spec
    return s.pool if s.pool is not None and s.pool_gpu_budget is not None else None


def _within_caps(
    start_s: float, floors: tuple[int, ...], caps: tick.Floors | None
) -> tuple[int, ...]:
    """Floors from `start_s` on, none above the pool's cap in force at its minute."""
    if caps is None:
        return floors
    capped = []
    for i, floor in enumerate(floors):
        cap = caps.at(dt.datetime.fromtimestamp(start_s + i * tick.MINUTE_S, dt.UTC))
        capped.append(floor if cap is None or floor < 0 else min(floor, cap))
    return tuple(capped)


def _running(workload: config.Workload, live: _Live) -> spec.WorkloadSpec:
    """The spec as the daemon steps and plans it: with the chosen point's hold, as the
    simulator's prescale runs it (`predictive.runs_as`); as written before any choice."""
    if live.choice is None:
        return workload.spec
    return predictive.runs_as(workload.spec, results.MixMode.PLANNER, live.choice.point)


def _point_in_force(workload: config.Workload, live: _Live) -> operating.OperatingPoint:
    """The chosen point, else the spec's: its quantile's band, no correction, its hold."""
    if live.choice is not None:
        return live.choice.point
    s = workload.spec
    return operating.OperatingPoint(
        operating.BAND_SCALE_OF[s.provisioning_quantile], False, s.scale_in_hold
    )


def _expected_after(
    expected: pd.Series | None,
    frame: pd.DataFrame,
    resolution_s: int,
    now: dt.datetime | None = None,
) -> pd.Series:
    """The model's P50 per minute with a new forecast in force from its first bucket on (the
    simulator's `_remember_expected`); minutes older than the level window before `now` go."""
    per = resolution_s // replay.MINUTE_S
    start = pd.Timestamp(frame.index[0])
    new = pd.Series(
        np.repeat(frame["p50"].to_numpy(dtype=float), per),
        index=pd.date_range(start, periods=len(frame) * per, freq="min"),
    )
    if expected is None:
        return new
    kept = expected[expected.index < start]
    if now is not None:
        kept = kept[
            kept.index >= pd.Timestamp(now) - pd.Timedelta(seconds=2 * LEVEL_CORRECTION.window_s)
        ]
    joined: pd.Series = pd.concat([kept, new])
    return joined


def _finite(evidence: Mapping[str, object]) -> dict[str, object]:
    """Evidence as JSON-able values (a NaN demand is no observation)."""
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in evidence.items()
    }


def _fallback_lead(workload: spec.WorkloadSpec) -> lead_time.LeadTime:
    return lead_time.LeadTime(
        workload.lead_time_s, lead_time.LeadTimeSource.SPEC_FALLBACK, 0, workload.lead_time_s
    )
