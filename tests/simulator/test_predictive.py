"""The prescale policy under replay: no peeking, refits on schedule, the step's targets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import simulator_builders as b

from forecaster import forecast, level
from planner import operating, plan
from simulator import cold_start, lineup, predictive, replay, results

MINUTES_PER_DAY = 1440
REPLAY_MINUTES = 360
ALTERED_FROM = 180  # replayed minute from which the second world's demand differs


def daily_arrivals(days: int, seed: int = 11) -> np.ndarray:
    """Requests per minute: a daily cycle between 60 and 300 with Poisson noise."""
    minutes = np.arange(days * MINUTES_PER_DAY)
    hour = (minutes % MINUTES_PER_DAY) / 60.0
    rate = 180.0 - 120.0 * np.cos(2 * np.pi * (hour - 2.0) / 24.0)
    return np.random.default_rng(seed).poisson(rate).astype(float)


def replay_prescale(
    arrivals: np.ndarray, selection: forecast.Selection | None = None
) -> tuple[predictive.Prescale, results.PolicyResult]:
    workload = b.workload(target_utilization=0.8)
    split = replay.split(b.minute_trace(arrivals.tolist()), REPLAY_MINUTES * 60)
    world = lineup.scenario(
        workload, split, cold_start.ColdStartDistribution.fixed(180), 0, workload.request
    )
    policy = predictive.Prescale(
        workload,
        split.warmup,
        lead_time_s=180,
        mix=results.MixMode.ON_DEMAND,
        refit_every_s=3600,
        selection=selection,
    )
    result = b.run_one(policy, world)
    return policy, result


Replayed = tuple[predictive.Prescale, results.PolicyResult]


@pytest.fixture(scope="module")
def worlds() -> tuple[Replayed, Replayed]:
    """Three days of warm-up and six replayed hours, twice; from replayed minute 180 on, the
    second world has triple the arrivals."""
    arrivals = daily_arrivals(4)[: 3 * MINUTES_PER_DAY + REPLAY_MINUTES]
    altered = arrivals.copy()
    altered[3 * MINUTES_PER_DAY + ALTERED_FROM :] *= 3.0
    original = replay_prescale(arrivals)
    return original, replay_prescale(altered, selection=original[0].selection)


def test_a_forecast_made_at_t_is_unchanged_when_data_after_t_is_altered(
    worlds: tuple[Replayed, Replayed],
) -> None:
    (policy, _), (altered_policy, _) = worlds
    made = {refit.minute: refit for refit in policy.refits}
    altered = {refit.minute: refit for refit in altered_policy.refits}
    assert sorted(made) == sorted(altered) == list(range(0, REPLAY_MINUTES, 60))
    for minute, refit in made.items():
        same = refit.forecast.frame.equals(altered[minute].forecast.frame)
        # refits up to and including minute 180 saw only minutes before 180
        assert same == (minute <= ALTERED_FROM), minute


def test_decisions_before_the_alteration_are_identical(worlds: tuple[Replayed, Replayed]) -> None:
    """Minute 180's decision sees minute 179 at most; minute 181's sees the tripled 180."""
    (_, result), (_, altered) = worlds
    targets = result.timeseries["target_on_demand"].to_numpy()
    altered_targets = altered.timeseries["target_on_demand"].to_numpy()
    assert np.array_equal(targets[: ALTERED_FROM + 1], altered_targets[: ALTERED_FROM + 1])
    assert altered_targets[ALTERED_FROM + 1] > targets[ALTERED_FROM + 1]


def test_the_history_at_t_ends_the_minute_before_t(worlds: tuple[Replayed, Replayed]) -> None:
    (policy, result), _ = worlds
    history = policy.history_at(100)
    assert history.index[-1] == result.timeseries.index[99]
    assert pd.DatetimeIndex(history.index).freq == pd.Timedelta(minutes=1)
    assert history.iloc[-1] == result.timeseries["arrivals"].iloc[99]


def test_a_refit_reads_the_last_of_the_history_only(worlds: tuple[Replayed, Replayed]) -> None:
    """A refit's history is cut as the forecast cuts it (forecast.FIT_HISTORY_S, kept from
    the last known minute back, both ends in; test_forecaster_ceiling holds the forecast to
    that cut): a day's cut is the 1441 minutes up to the minute before t."""
    (policy, _), _ = worlds
    whole = policy.history_at(100)
    day = policy.history_at(100, within_s=86400)
    assert day.index[-1] == whole.index[-1]
    assert len(day) == MINUTES_PER_DAY + 1
    assert day.equals(whole[-(MINUTES_PER_DAY + 1) :])
    assert pd.DatetimeIndex(day.index).freq == pd.Timedelta(minutes=1)


def test_blind_and_instant_the_replayed_prescale_is_exactly_the_plan() -> None:
    """With no observations (every replayed minute a gap), replicas ready the minute they are
    ordered and no spot interruptions, stepping planner.step.plan_step minute by minute must
    reproduce the first plan's `total` column: the simulator adds nothing of its own to the
    planner's step (build_plan and plan_step agree by the planner's parity rule)."""
    workload = b.workload(
        target_utilization=0.8,
        capacity_types=["reserved", "spot", "on_demand"],
        spot_interruption_rate_per_hour=0.0,
    )
    split = replay.split(b.minute_trace(daily_arrivals(4).tolist()), MINUTES_PER_DAY * 60)
    policy = predictive.Prescale(
        workload,
        split.warmup,
        lead_time_s=300,
        mix=results.MixMode.PLANNER,
        refit_every_s=10 * MINUTES_PER_DAY * 60,
    )
    blind = b.scenario(
        [float("nan")] * MINUTES_PER_DAY, workload_spec=workload, lead_time_s=0, start=split.start
    )
    series = b.run_one(policy, blind).timeseries
    planned = policy.first_plan.targets.reindex(series.index)
    for kind in ("reserved", "spot", "on_demand"):
        assert series[f"target_{kind}"].tolist() == planned[kind].tolist(), kind
    assert planned["total"].nunique() > 2  # the plan does move over the day


def _level_replay(
    point: operating.OperatingPoint, arrivals: np.ndarray, selection: forecast.Selection | None
) -> predictive.Prescale:
    workload = b.workload(target_utilization=0.8)
    split = replay.split(b.minute_trace(arrivals.tolist()), REPLAY_MINUTES * 60)
    world = lineup.scenario(
        workload, split, cold_start.ColdStartDistribution.fixed(180), 0, workload.request
    )
    policy = predictive.Prescale(
        workload,
        split.warmup,
        lead_time_s=180,
        mix=results.MixMode.ON_DEMAND,
        refit_every_s=REPLAY_MINUTES * 60,  # no refit: the correction alone moves the floor
        selection=selection,
        operating_point=point,
    )
    b.run_one(policy, world)
    return policy


def arrivals_start(arrivals: np.ndarray) -> pd.Timestamp:
    return pd.Timestamp(b.minute_trace(arrivals[:1].tolist()).values.index[0])


def test_the_level_correction_raises_the_floor_after_a_lasting_rise_between_refits() -> None:
    """Arrivals double from the first replayed minute on. Without the correction the floor of
    the one forecast stays at the old level; with it, after the hourly updates (half of the
    way each: 1.5, 1.75, ...), the floor at the last replayed hour is well above it, and it is
    exactly the plan's floor of the forecast scaled by the factor in force."""
    arrivals = daily_arrivals(4)[: 3 * MINUTES_PER_DAY + REPLAY_MINUTES]
    arrivals[3 * MINUTES_PER_DAY :] *= 2.0
    plain = _level_replay(operating.DEFAULT, arrivals, None)
    corrected = _level_replay(
        dataclasses.replace(operating.DEFAULT, level_correction=True), arrivals, plain.selection
    )
    late = range(REPLAY_MINUTES - 60, REPLAY_MINUTES)
    plain_floor = [plain.floor_at(m) or 0 for m in late]
    corrected_floor = [corrected.floor_at(m) or 0 for m in late]
    assert sum(corrected_floor) > 1.4 * sum(plain_floor)
    made = corrected.refits[0].forecast
    factor = corrected.level_factor
    scaled = dataclasses.replace(made, frame=level.scaled(made.frame, factor))
    planned = plan.build_plan(b.workload(target_utilization=0.8), scaled, lead_time_s=180)
    floor = planned.targets["floor"]
    start = pd.Timestamp(arrivals_start(arrivals)) + pd.Timedelta(days=3)  # the first replayed
    expected = [int(floor.loc[start + pd.Timedelta(minutes=m)]) for m in late]
    assert corrected_floor == expected and factor > 1.5
