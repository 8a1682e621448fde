"""Shell: the daemon's refits: history from each workload's source, the model, the lead time,
the forecast at the workload's operating point, the plan (alone, or with its pool within the
pool's GPU budget as `prescale plan` plans it), stored; the level correction between refits;
the operating point's choice at re-selection.

`Refits` works on the daemon's per-workload memory (`Live`), which the tick reads: the floors
in force, the pool's caps, the request shape, the lead time, the chosen point and the level
factor. What a restart needs of it is in the store (`daemon.Daemon` restores it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from actuator import config, store
from forecaster import forecast, level, series
from kernel import errors
from planner import budget, demand, lead_time, operating, plan, spec, step, tick
from simulator import lineup, operating_point, predictive, replay, results

log = logging.getLogger(__name__)

# Forecast error is scored at these horizons after the refit (1 h, 6 h, 1 d): the floor looks a
# lead time ahead (minutes to an hour), the hold and the day's shape need the longer ones.
ERROR_HORIZONS_S = (3600, 6 * 3600, 86400)
# A stored forecast keeps only the next day: enough to score every horizon above.
STORED_FORECAST_S = 86400
# The reason recorded when a source could not be read (a tick holds on it; a refit is skipped).
SOURCE_UNAVAILABLE = "source_unavailable"
# Why a refit was not made besides an outage (the plan in force stays; stored as a skipped
# refit, counted on /metrics): the source answered for part of the range only, or with no
# history at all (no series yet, every value missing).
HISTORY_PARTIAL = "history_partial"
HISTORY_MISSING = "history_missing"
# The level correction the simulator's prescale policy applies between refits (its defaults),
# so a chosen point with level correction runs here as it was replayed.
LEVEL_CORRECTION = level.LevelCorrection()
# The operating point's replays draw spot interruptions from this seed: a fixed one, so two
# re-selections on the same history choose the same point.
CHOICE_SEED = 0


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


@dataclass
class Live:
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
    # the last decision per type: (replicas, reason, daemon.Outcome)
    last: dict[spec.CapacityType, tuple[int, str, str]] = dataclasses.field(default_factory=dict)
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
    skipped_now: str | None = None  # the reason of a refit skipped since the last tick
    skipping: str | None = None  # the reason of the skips since the last refit made


@dataclass(frozen=True)
class Fitted:
    """One workload's refit before its plan is made (alone, or with its pool)."""

    history: series.Trace
    made: forecast.Forecast  # the model's forecast
    at_point: forecast.Forecast  # the same at the operating point (band, level factor)
    lead: lead_time.LeadTime
    request: spec.RequestShape
    factor: float  # the level factor it was planned with


class Refits:
    """The refit jobs over the daemon's memory (see the module docstring)."""

    def __init__(
        self,
        settings: config.Config,
        db: store.Store,
        sources: Mapping[str, DemandSource],
        live: dict[str, Live],
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.settings = settings
        self._db = db
        self._sources = sources
        self._live = live
        self._monotonic = monotonic

    def restore_expected(self, workload: config.Workload, live: Live, made_at: dt.datetime) -> None:
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

    def refit_due(self, workload: config.Workload, now: dt.datetime) -> bool:
        """Due for this workload, or for any workload of its pool (they refit together)."""
        pool = pool_of(workload)
        if pool is None:
            return self._refit_due_alone(workload, now)
        return any(
            self._refit_due_alone(w, now) for w in self.settings.workloads if pool_of(w) == pool
        )

    def _refit_due_alone(self, workload: config.Workload, now: dt.datetime) -> bool:
        live = self._live[workload.name]
        if live.refit_at is None or live.reserved is None or live.replan:
            return True
        return (now - live.refit_at).total_seconds() >= self.settings.schedule.refit_s

    def level_due(self, workload: config.Workload, now: dt.datetime) -> bool:
        """An hourly level update between refits, when the chosen point corrects the level
        (the simulator's prescale policy does it every LEVEL_EVERY_S of its replay)."""
        live = self._live[workload.name]
        if live.choice is None or not live.choice.point.level_correction:
            return False
        if live.latest_forecast is None or live.level_at is None:
            return False
        return (now - live.level_at).total_seconds() >= predictive.LEVEL_EVERY_S

    def refit_stored(self, workload: config.Workload, now: dt.datetime) -> None:
        """A refit whose store may not answer: a plan made before the store failed is used from
        memory at once (stored by the next refit); if the store could not even be read, the
        plan in force stays. Either way the tick runs."""
        try:
            self._refit_one(workload, now)
        except store.StoreUnavailableError as exc:
            log.warning("workload=%s refit not stored: %s", workload.name, exc)

    def choose_point(self, name: str, now: dt.datetime) -> results.Choice | None:
        """The operating point `prescale simulate` would choose for workload `name` on the
        history it reads now: `operating_point.choose` on `lineup.operating_point_inputs`,
        with this daemon's lead time and refit interval. Tens of seconds a workload; reads
        the source and the store but no memory of the tick, so it may run beside ticks. None
        when the history cannot be read, or when the spec states its provisioning quantile
        (an expert override: planned as it stands, `point_in_force`)."""
        workload = next(w for w in self.settings.workloads if w.name == name)
        if workload.spec.quantile_override:
            return None
        since = now - dt.timedelta(seconds=self.settings.schedule.history_s)
        try:
            history = self._sources[name].history(since, now)
        except errors.SourceUnavailableError as exc:
            log.warning("workload=%s operating point not chosen, source unavailable: %s", name, exc)
            return None
        if history.values.notna().sum() == 0:
            log.warning("workload=%s operating point not chosen: no history before %s", name, now)
            return None
        history = from_first_value(history)
        started = self._monotonic()
        choice = operating_point.choose(
            lineup.operating_point_inputs(
                workload.spec,
                replay.minute_trace(history),
                lead_time_s=self.learned_lead(workload, now).seconds,
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

    def _refit_one(self, workload: config.Workload, now: dt.datetime) -> None:
        """Refit one workload, or with its pool when it shares a GPU budget."""
        pool = pool_of(workload)
        if pool is not None:
            self._refit_pool(pool, now)
            return
        fitted = self._fit(workload, now)
        if fitted is None:
            return
        planned = plan.build_plan(
            running(workload, self._live[workload.name]),
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
        members = [w for w in self.settings.workloads if pool_of(w) == pool]
        leads = [self.learned_lead(w, now) for w in members]
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
                [running(w, self._live[w.name]) for w in members],
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

    def _skip(self, workload: config.Workload, now: dt.datetime, reason: str, detail: str) -> None:
        """The plan in force stays. The first skip of a run with one reason is stored (a long
        outage retried every tick adds one row, not one a minute); each is counted."""
        log.warning(
            "workload=%s refit skipped (%s), the plan in force stays: %s",
            workload.name,
            reason,
            detail,
        )
        live = self._live[workload.name]
        live.skipped_now = reason
        if live.skipping != reason:
            self._db.record_skipped_refit(store.SkippedRefit(workload.name, now, reason, detail))
            live.skipping = reason

    def _fit(
        self, workload: config.Workload, now: dt.datetime, *, horizon_s: int | None = None
    ) -> Fitted | None:
        """History, model, lead time, forecast and level factor of one refit, before its plan;
        None when the source has no history to give."""
        live = self._live[workload.name]
        s = self.settings.schedule
        since = now - dt.timedelta(seconds=s.history_s)
        try:
            history = self._sources[workload.name].history(since, now)
        except errors.PartialHistoryError as exc:
            self._skip(workload, now, HISTORY_PARTIAL, str(exc))
            return None
        except errors.SourceUnavailableError as exc:
            self._skip(workload, now, SOURCE_UNAVAILABLE, str(exc))
            return None
        except errors.InputError as exc:
            # the query matches no series (yet): this workload waits, the others still tick
            self._skip(workload, now, HISTORY_MISSING, str(exc))
            return None
        if history.values.notna().sum() == 0:
            self._skip(workload, now, HISTORY_MISSING, f"no history before {now}")
            return None
        live.skipping = None
        history = from_first_value(history)
        if (
            live.selection is None
            or live.selected_at is None
            or ((now - live.selected_at).total_seconds() >= s.reselect_s)
        ):
            live.selection = forecast.select(history.values)
            live.selected_at = now
        lead = self.learned_lead(workload, now)
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
        return Fitted(
            history=history,
            made=made,
            at_point=predictive.at_point(running(workload, live), made, point, factor),
            lead=lead,
            request=request,
            factor=factor,
        )

    def _install(
        self,
        workload: config.Workload,
        fitted: Fitted,
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
                fill_from_s=now.timestamp(),
            )
        # the minutes of the bucket under way (before the plan's first) take its first floor
        # where no earlier plan covers them, as at a start
        live.floors = tick.overlay(
            live.floors,
            start_s,
            _within_caps(start_s, floors, live.caps),
            keep_from_s=now.timestamp(),
            fill_from_s=now.timestamp(),
        )
        live.planned = planned.targets
        live.frame = made.frame
        live.latest_forecast, live.latest_plan = made, planned
        live.refit_at = now
        self._store_refit(workload, live, made, now)
        self._score_forecasts(workload, fitted.history, now)

    def _next_factor(self, live: Live, history: series.Trace, now: dt.datetime) -> float:
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

    def correct_level_stored(self, workload: config.Workload, now: dt.datetime) -> None:
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
        lead = live.lead or fallback_lead(workload.spec)
        floors = predictive.level_floors(
            running(workload, live),
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

    def learned_lead(self, workload: config.Workload, now: dt.datetime) -> lead_time.LeadTime:
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
        self, workload: config.Workload, live: Live, made: forecast.Forecast, now: dt.datetime
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
        self, workload: config.Workload, live: Live, forecast_id: int | None, now: dt.datetime
    ) -> None:
        lead = live.lead or fallback_lead(workload.spec)
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


def from_first_value(history: series.Trace) -> series.Trace:
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


def pool_of(workload: config.Workload) -> str | None:
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


def running(workload: config.Workload, live: Live) -> spec.WorkloadSpec:
    """The spec as the daemon steps and plans it: with the chosen point's hold, as the
    simulator's prescale runs it (`predictive.runs_as`); as written before any choice."""
    if live.choice is None:
        return workload.spec
    return predictive.runs_as(workload.spec, results.MixMode.PLANNER, live.choice.point)


def point_in_force(workload: config.Workload, live: Live) -> operating.OperatingPoint:
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


def fallback_lead(workload: spec.WorkloadSpec) -> lead_time.LeadTime:
    return lead_time.LeadTime(
        workload.lead_time_s, lead_time.LeadTimeSource.SPEC_FALLBACK, 0, workload.lead_time_s
    )
