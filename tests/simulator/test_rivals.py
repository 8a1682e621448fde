"""The rival policies: HPA arithmetic as a decision table, static, cron and oracle sizing."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import simulator_builders as b

from planner import spec
from simulator import engine, results, rivals

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def observation(
    demand: float | None, ready: int, ordered: int | None = None, minute: int = 1
) -> engine.Observation:
    return engine.Observation(
        minute=minute,
        now=NOW,
        demand=demand,
        arrivals=None if demand is None else demand * 60,
        ready=spec.ByType(on_demand=ready),
        ordered=spec.ByType(on_demand=ready if ordered is None else ordered),
    )


def hpa(current: int, target_utilization: float = 0.8) -> rivals.Reactive:
    """An HPA settled at `current` replicas (1 req/s per replica)."""
    policy = rivals.reactive(b.sizing(b.workload(target_utilization=target_utilization)))
    policy.initial(observation(current * target_utilization, current, minute=0))
    return policy


@pytest.mark.parametrize(
    ("current", "demand", "ready", "ordered", "desired"),
    [
        # 4 ready at 0.8 want 3.2 req/s: ratio (3.4 / 4 / 1) / 0.8 = 1.0625, within 10 %
        pytest.param(4, 3.4, 4, 4, 4, id="within-tolerance-holds"),
        # ratio 4.0 / 4 / 0.8 = 1.25 > 1.1: ceil(4.0 / 0.8) = 5
        pytest.param(4, 4.0, 4, 4, 5, id="above-tolerance-scales-out"),
        # ratio 2.0 / 4 / 0.8 = 0.625: ceil(2.0 / 0.8) = 3
        pytest.param(4, 2.0, 4, 4, 3, id="below-tolerance-recommends-in"),
        # 4 ready + 2 starting; 4.4 / 0.8 = 5.5 wanted: ratio over all 6 = 0.92 < 1: wait
        pytest.param(6, 4.4, 4, 6, 6, id="starting-replicas-cover-it-wait"),
        # 4 ready + 2 starting; 8 / 0.8 = 10 wanted: ratio over 6 = 1.67: ceil(10) = 10
        pytest.param(6, 8.0, 4, 6, 10, id="starting-replicas-not-enough"),
        pytest.param(4, None, 4, 4, 4, id="no-metric-holds"),
        pytest.param(4, 9.0, 0, 4, 4, id="no-ready-replica-holds"),
    ],
)
def test_hpa_recommendation(
    current: int, demand: float | None, ready: int, ordered: int, desired: int
) -> None:
    policy = hpa(current)
    assert policy.desired(observation(demand, ready, ordered)) == desired


def test_hpa_scales_down_only_to_the_highest_recommendation_of_the_last_five_minutes() -> None:
    """Settled at 10 (8 req/s at 0.8). Demand drops to 2.4 req/s (recommendation 3) at minute
    1: the window still holds the 10 of minute 0 for minutes 1-4; at minute 5 only 3s remain."""
    policy = hpa(10)
    totals = [policy.decide(observation(2.4, 10, minute=t)).total for t in range(1, 7)]
    assert totals == [10, 10, 10, 10, 3, 3]


def test_hpa_scales_up_at_once() -> None:
    policy = hpa(2)
    assert policy.decide(observation(8.0, 2)).total == 10


def test_hpa_stays_within_min_and_max() -> None:
    policy = rivals.reactive(b.sizing(b.workload(min_replicas=2, max_replicas=6)))
    policy.initial(observation(0.0, 2, minute=0))
    assert policy.decide(observation(100.0, 2)).total == 6
    for minute in range(2, 10):
        last = policy.decide(observation(0.0, 6, minute=minute)).total
    assert last == 2


def warmup_load(per_hour: dict[int, float], days: int = 7) -> pd.Series:
    """Load by hour of day (req/s), 1 elsewhere, for `days` days from Monday 00:00."""
    index = pd.date_range(b.MONDAY, periods=days * 1440, freq="min", tz="UTC")
    values = np.array([per_hour.get(stamp.hour, 1.0) for stamp in index])
    return pd.Series(values, index=index)


def test_static_runs_the_warm_up_peak_need() -> None:
    """Peak 6.5 req/s at 1 req/s per replica and utilisation 1: 7 replicas, every minute."""
    policy = rivals.static(b.sizing(), warmup_load({9: 6.5}), minutes=30)
    assert policy.totals.tolist() == [7] * 30


def test_cron_takes_each_hour_of_the_week_maximum() -> None:
    """Mondays 9h need 3 in the warm-up, other days' 9h need 5: Monday's 9h slot is 3."""
    load = warmup_load({9: 5.0})
    index = pd.DatetimeIndex(load.index)
    mondays_9h = (index.day_of_week == 0) & (index.hour == 9)
    load[mondays_9h] = 3.0
    schedule = rivals.cron_schedule(b.sizing(), load)
    assert schedule[9] == 3  # Monday 9h
    assert schedule[24 + 9] == 5  # Tuesday 9h
    assert schedule[10] == 1


def test_cron_fills_unseen_hours_from_the_same_hour_of_other_days() -> None:
    """Two warm-up days (Mon, Tue): Wednesday's 9h takes the 9h maximum of Mon and Tue."""
    load = warmup_load({9: 4.0}, days=2)
    schedule = rivals.cron_schedule(b.sizing(), load)
    assert schedule[2 * 24 + 9] == 4
    assert schedule[6 * 24 + 23] == 1


def test_cron_switches_on_one_lead_time_before_the_hour() -> None:
    """Schedule 5 at 9h: with a 3-minute lead time the target is 5 from 08:57."""
    load = warmup_load({9: 5.0})
    start = b.MONDAY + pd.Timedelta(days=7, hours=8, minutes=55)
    stamps = pd.date_range(start, periods=10, freq="min", tz="UTC")
    policy = rivals.cron(b.sizing(), load, stamps)
    assert policy.totals.tolist() == [1, 1, 5, 5, 5, 5, 5, 5, 5, 5]


def test_oracle_holds_the_need_over_the_next_lead_time() -> None:
    """Need [1, 1, 1, 1, 4, 1, 1, 1] with a 3-minute lead time: max over [t, t + 3]."""
    demand = np.array([1, 1, 1, 1, 4, 1, 1, 1], dtype=float)
    policy = rivals.oracle(b.sizing(), demand)
    assert policy.totals.tolist() == [1, 4, 4, 4, 4, 1, 1, 1]


def test_the_planner_mix_splits_a_total_into_reserved_spot_and_on_demand() -> None:
    """Total 10 with 4 reserved and spot share 0.5: rest 6, 3 on spot plus ceil(3 x 0.05/h x
    600 s / 3600) = ceil(0.025) = 1 spare for interruptions, 3 on demand (mix.split)."""
    chosen = b.workload(capacity_types=["reserved", "spot", "on_demand"], spot_share=0.5)
    splitter = rivals.Splitter(
        b.sizing(chosen, lead_time_s=600, mix=results.MixMode.PLANNER, reserved=4)
    )
    parts = splitter.split(10)
    assert parts == spec.ByType(reserved=4, spot=4, on_demand=3)
    assert splitter.reserved_commitment == 4


def test_all_on_demand_ignores_the_reserved_base() -> None:
    splitter = rivals.Splitter(b.sizing(reserved=4))
    assert splitter.split(10) == spec.ByType(on_demand=10)
    assert splitter.reserved_commitment == 0


def test_last_week_floors_on_the_need_a_week_before_looked_ahead_one_lead_time() -> None:
    # A week of warm-up at 2 req/s with one 6 req/s minute 100 minutes into it: the replay's
    # minute 97 (the lead time is 3 minutes) orders 6 replicas for minute 100 on the floor
    # alone (no demand observed), minute 96 does not.
    week = rivals.WEEK_MINUTES
    warmup = np.full(week, 2.0)
    warmup[100] = 6.0
    policy = rivals.last_week(b.sizing(lead_time_s=180), warmup, np.full(200, np.nan))
    policy.initial(observation(None, 2, minute=0))
    targets = {m: policy.decide(observation(None, 2, minute=m)).total for m in range(1, 105)}
    assert (targets[96], targets[97], targets[100]) == (2, 6, 6)


def test_last_week_adds_the_reactive_need_above_its_floor() -> None:
    policy = rivals.last_week(b.sizing(), np.full(rivals.WEEK_MINUTES, 2.0), np.full(10, 5.0))
    policy.initial(observation(2.0, 2, minute=0))
    assert policy.decide(observation(5.0, 2, minute=1)).total == 5


def test_last_week_without_a_week_of_warm_up_is_reactive_only() -> None:
    policy = rivals.last_week(b.sizing(), np.full(60, 9.0), np.full(10, 1.0))
    policy.initial(observation(1.0, 1, minute=0))
    assert policy.decide(observation(1.0, 1, minute=1)).total == 1
