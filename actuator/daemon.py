"""Shell: the daemon's tick: read demand and the targets, refit on schedule, step, write, record.

One tick, for every workload, with `now` read once by the caller:

1. read the ready replicas (and current floor) of each target, and the demand of the last
   minute from the workload's source; a source outage holds: the last targets stay, nothing is
   stepped, and the decision is recorded with the reason `source_unavailable` (or
   `demand_missing` when the source answers with no value, e.g. NaN): a missing reading never
   scales anything in;
2. refit when due (or when no plan is in force; `refits.py`): history up to now from the
   source, the model chosen by the last selection (re-selected daily), the lead time learned
   from observed cold starts, the forecast at the workload's operating point (chosen daily by
   replaying its history, as `prescale simulate` chooses it), then the plan, alone or with
   its pool within the pool's GPU budget (as `prescale plan`); the plan and its forecast are
   stored; between refits the level correction, when the point has it;
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
import pandas as pd

from actuator import config, refits, store
from kernel import errors
from planner import demand, lead_time, operating, spec, step, tick
from report import content
from simulator import operating_point, results

log = logging.getLogger(__name__)

# The class's `tick` method hides the module inside its body.
Floors = tick.Floors
# Where the demand comes from: defined with the refits that read its history.
DemandSource = refits.DemandSource

# The reason recorded when a tick could not read its source and kept the last targets.
SOURCE_UNAVAILABLE = refits.SOURCE_UNAVAILABLE
# The reason recorded when the source answered with no value for the last minute (no series, or
# NaN): as little known as in an outage, so the last targets stay the same way.
DEMAND_MISSING = "demand_missing"
# The reason recorded when the clock reads earlier than a tick already stepped (NTP stepped it
# back, a VM was restored): the policy's windows would read as if time ran backwards, so the
# last targets stay until the clock passes that tick again.
CLOCK_BEHIND = "clock_behind"
HOLD_REASONS = frozenset({SOURCE_UNAVAILABLE, DEMAND_MISSING, CLOCK_BEHIND})
# Why a refit was not made (see refits.py): stored as a skipped refit, counted on /metrics.
HISTORY_PARTIAL = refits.HISTORY_PARTIAL
HISTORY_MISSING = refits.HISTORY_MISSING


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


class TargetWriter(Protocol):
    def read(self, target: config.Target) -> Reading: ...

    def write(self, target: config.Target, replicas: int, *, dry_run: bool, reason: str) -> None:
        """Set the target's floor (absolute) for `reason` (the step's, said in the Event a
        change records); ActuationError when the write fails."""
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

    def problem(self) -> str | None:
        """Why this replica cannot lead whatever the others do (RBAC refuses it the Lease),
        with the fix; None when nothing is known to be wrong."""
        ...


class SoleReplica:
    """Leadership when election is off: the only replica always leads."""

    def tick(self) -> bool:
        return True

    def is_leader(self) -> bool:
        return True

    def release(self) -> None:
        return None

    def problem(self) -> str | None:
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
    # the factor the latest forecast widened its band's spread above P50 by (forecaster/
    # widening.py); None before this replica's first refit
    band_widened_by: float | None = None
    replica_cap: int | None = None  # the pool budget's cap on this workload now; None: none
    refit_skipped: str | None = None  # why this tick's due refit was not made


@dataclass(frozen=True)
class TickReport:
    at: dt.datetime
    workloads: tuple[WorkloadTick, ...]
    duration_s: float
    leader: bool
    # decisions and states decided but not yet in the store (it did not answer): written, in
    # order, by the first tick that reaches it again
    store_pending: int = 0


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
        self._live: dict[str, refits.Live] = {}
        self._refits = refits.Refits(settings, db, sources, self._live, monotonic)
        self._live.update({w.name: self._restore(w) for w in settings.workloads})
        self.last_report: TickReport | None = None
        # what the store has not taken yet (see `_persist`)
        self._pending_decisions: list[store.DecisionRecord] = []
        self._pending_states: dict[str, str] = {}
        self._pending_states_at: dt.datetime | None = None

    # ----- restart ---------------------------------------------------------------------

    def _restore(self, workload: config.Workload) -> refits.Live:
        """State and the latest plan from the store: a restart steps on where it left off."""
        live = refits.Live()
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
            self._refits.restore_expected(workload, live, record.made_at)
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

    # ----- the tick --------------------------------------------------------------------

    def run_once(self, now: dt.datetime) -> TickReport:
        """Refit what is due (or correct the level between refits), then tick: what one
        scheduled minute does, in that order (the simulator's order: a refit at minute m uses
        history before m, then m is stepped)."""
        pools: set[str] = set()  # refitted this minute: a pool refits once, all members at once
        for workload in self.settings.workloads:
            pool = refits.pool_of(workload)
            if pool is not None and pool in pools:
                continue
            if self._refits.refit_due(workload, now):
                self._refits.refit_stored(workload, now)
                if pool is not None:
                    pools.add(pool)
            elif self._refits.level_due(workload, now):
                self._refits.correct_level_stored(workload, now)
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
        lead = live.lead or refits.fallback_lead(workload.spec)

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
                refits.running(workload, live),
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
        skipped, live.skipped_now = live.skipped_now, None
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
                point=refits.point_in_force(workload, live),
                point_chosen=live.choice is not None,
                level_factor=live.factor,
                band_widened_by=None
                if live.latest_forecast is None
                else live.latest_forecast.band_widened_by,
                replica_cap=None if live.caps is None else live.caps.at(now),
                refit_skipped=skipped,
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
        self, live: refits.Live, now: dt.datetime, readings: Mapping[spec.CapacityType, Reading]
    ) -> step.PolicyState:
        """State before the first tick ever: what the cluster runs when every floor was read,
        else the plan's targets at now (as the simulator starts its replay)."""
        floors = [r.floor for r in readings.values()]
        if readings and all(f is not None for f in floors):
            current = spec.ByType.build(lambda t: (readings[t].floor or 0) if t in readings else 0)
            return step.PolicyState.initial(current)
        planned = live.planned
        if planned is None or planned.empty:
            return step.PolicyState.initial()
        minute = pd.Timestamp(now).floor("min")
        position = planned.index.get_loc(minute) if minute in planned.index else 0
        row = planned.iloc[int(position)]  # type: ignore[arg-type]
        return step.PolicyState.initial(spec.ByType.build(lambda t: int(row[t.value])))

    def _held(
        self,
        workload: config.Workload,
        live: refits.Live,
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
        if reading is not None and reading.max_replicas is not None:
            # An HPA refuses min above max: what the leader writes, a standby or an advisory
            # daemon says (and exports) too.
            replicas = min(replicas, reading.max_replicas)
        if self.settings.mode is config.Mode.ADVISORY or self._writer is None:
            return TargetDecision(target, replicas, reason, Outcome.ADVISED, ready)
        if not leader:
            return TargetDecision(target, replicas, reason, Outcome.STANDBY, ready)
        if reading is not None and reading.floor == replicas:
            return TargetDecision(target, replicas, reason, Outcome.UNCHANGED, ready)
        dry_run = self.settings.dry_run
        try:
            self._writer.write(target, replicas, dry_run=dry_run, reason=reason)
        except errors.ActuationError as exc:
            log.warning("target=%s write of %d failed: %s", target.ref, replicas, exc)
            return TargetDecision(target, replicas, reason, Outcome.FAILED, ready)
        return TargetDecision(
            target, replicas, reason, Outcome.DRY_RUN if dry_run else Outcome.APPLIED, ready
        )

    def _changes(
        self,
        workload: config.Workload,
        live: refits.Live,
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
        self, workload: config.Workload, live: refits.Live, now: dt.datetime
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

    def refit(self, now: dt.datetime) -> None:
        """Refit every workload (the hourly job); a source outage keeps the plan in force."""
        pools: set[str] = set()
        for workload in self.settings.workloads:
            pool = refits.pool_of(workload)
            if pool is not None and pool in pools:
                continue
            self._refits.refit_stored(workload, now)
            if pool is not None:
                pools.add(pool)

    def rechoose(self, now: dt.datetime) -> None:
        """Choose every workload's operating point and forget its model, so that the next
        refit runs the backtest and plans at the new point (the weekly job; the service
        chooses outside its lock with `choose_point`, then calls `use_choice`)."""
        for workload in self.settings.workloads:
            self.use_choice(workload.name, self.choose_point(workload.name, now), now)

    def choice_due(self, name: str, now: dt.datetime) -> bool:
        """Whether `name` has no operating point chosen within `schedule.rechoose`, or within
        `schedule.reselect` while its windows were shorter than they get (a young workload's
        choice is re-made daily as its history grows); a spec stating its quantile has none to
        choose."""
        workload = next(w for w in self.settings.workloads if w.name == name)
        if workload.spec.quantile_override:
            return False
        live, s = self._live[name], self.settings.schedule
        if live.chosen_at is None or live.choice is None:
            return True
        every_s = s.rechoose_s
        if not operating_point.evidence_whole(live.choice):
            every_s = min(every_s, s.reselect_s)
        return (now - live.chosen_at).total_seconds() >= every_s

    def choices_due(self, now: dt.datetime) -> bool:
        """Whether any workload's choice is due (at a start: choose at once rather than at the
        job's first interval)."""
        return any(self.choice_due(w.name, now) for w in self.settings.workloads)

    def choose_point(self, name: str, now: dt.datetime) -> results.Choice | None:
        """The operating point the simulator would choose for `name` now (`Refits.choose_point`:
        tens of seconds, no memory of the tick touched, so the service runs it unlocked)."""
        return self._refits.choose_point(name, now)

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
        return live.choice, live.chosen_at, refits.point_in_force(workload, live), live.factor

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

    def lease_problem(self) -> str | None:
        """Why this replica can never write as things stand (the Lease is forbidden to it), or
        None: for /readyz and `prescale run --once`."""
        return self._leadership.problem()

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
                    lead_time=live.lead or refits.fallback_lead(workload.spec),
                    budget_note=None,
                    simulation=None,
                    request=live.request or workload.spec.request,
                    choice=live.choice,  # the point the daemon plans at, if it chose one
                )
            )
        return inputs

    def plan_view(self, workload: str) -> tuple[Floors, int | None]:
        """The floors in force and the reserved base, for /api/v1/plan."""
        live = self._live[workload]
        return live.floors, live.reserved


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
    targets: spec.ByType[int],
) -> spec.ByType[int]:
    """Ready replicas per type as read; a type not read (metric target, no cluster) counts as
    running its last target, so no spot fallback is ordered on a guess."""

    def of(capacity_type: spec.CapacityType) -> int:
        reading = readings.get(capacity_type)
        if reading is None or reading.ready is None:
            return targets.of(capacity_type)
        return reading.ready

    return spec.ByType.build(of)


def _finite(evidence: Mapping[str, object]) -> dict[str, object]:
    """Evidence as JSON-able values (a NaN demand is no observation)."""
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in evidence.items()
    }
