"""The replay engine's rules, each on a scenario small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simulator_builders as b

from planner import spec
from simulator import cold_start, results


def test_ordered_replicas_are_billed_from_the_order_and_serve_after_the_lead_time() -> None:
    """2 running; at minute 5 the target becomes 4, so 2 are ordered at 5 and ready at 5 + 3 = 8.

    Billed: 2 x 5 minutes + 4 x 7 minutes = 38 GPU-minutes = 0.6333 GPU-hours.
    """
    policy = b.Fixed(b.on_demand([2] * 5 + [4] * 7))
    result = b.run_one(policy, b.scenario([1.0] * 12))
    series = result.timeseries
    assert series["ready_on_demand"].tolist() == [2] * 8 + [4] * 4
    assert series["billed_on_demand"].tolist() == [2] * 5 + [4] * 7
    assert result.gpu_hours == pytest.approx(38 / 60)
    assert result.cost_by_type.on_demand == pytest.approx(38 / 60 * 0.97)  # L4 on demand
    assert result.replicas_ordered == 2
    assert (result.scale_events, result.scale_out_events, result.scale_in_events) == (1, 1, 0)


def test_scale_in_is_immediate_and_cancels_starting_replicas_first() -> None:
    """Minute 2 orders 3 (ready at 5); minute 3 drops to 3: two of the starting ones go, the
    ready two stay; minute 6 drops to 1 and releases a ready one at once."""
    policy = b.Fixed(b.on_demand([2, 2, 5, 3, 3, 3, 1, 1]))
    series = b.run_one(policy, b.scenario([1.0] * 8)).timeseries
    assert series["billed_on_demand"].tolist() == [2, 2, 5, 3, 3, 3, 1, 1]
    assert series["ready_on_demand"].tolist() == [2, 2, 2, 2, 2, 3, 1, 1]


def test_a_minute_is_served_when_ready_capacity_covers_its_demand() -> None:
    """2 replicas of 1 req/s: demand 2.0 is served, 2.5 is not (0.5 unserved), 1.0 is."""
    policy = b.Fixed(b.on_demand([2, 2, 2]))
    result = b.run_one(policy, b.scenario([2.0, 2.5, 1.0]))
    assert result.timeseries["served"].tolist() == [1.0, 0.0, 1.0]
    assert b.unserved_minutes(result) == [1]
    assert result.served_minutes_pct == pytest.approx(200 / 3)
    assert result.unserved_demand == pytest.approx(0.5)
    assert result.unserved_demand_pct == pytest.approx(100 * 0.5 / 5.5)


def test_unserved_minutes_are_counted_in_runs_that_a_gap_ends() -> None:
    """2 replicas of 1 req/s: minutes 1-2 unserved, 4 unserved then a gap, 6 unserved: three
    runs, the longest two minutes."""
    policy = b.Fixed(b.on_demand([2] * 7))
    result = b.run_one(policy, b.scenario([1.0, 3.0, 3.0, 1.0, 3.0, math.nan, 3.0]))
    assert result.timeseries["served"].tolist()[:5] == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert (result.unserved_runs, result.longest_unserved_minutes) == (3, 2)
    served = b.run_one(b.Fixed(b.on_demand([2, 2])), b.scenario([1.0, 2.0]))
    assert (served.unserved_runs, served.longest_unserved_minutes) == (0, 0)


def test_no_demand_at_all_leaves_nothing_unserved() -> None:
    """Zero load every minute with zero replicas: every minute is served (0 >= 0) and 0 % of
    the (zero) demand is unserved, not 100 %."""
    result = b.run_one(b.Fixed(b.on_demand([0, 0, 0])), b.scenario([0.0, 0.0, 0.0]))
    assert result.served_minutes_pct == pytest.approx(100.0)
    assert result.unserved_demand_pct == 0.0


def test_gap_minutes_count_neither_as_served_nor_unserved_but_are_billed() -> None:
    """Minute 1 has no data: 2 minutes with data, both served; 3 minutes billed; the policy
    observes None at minute 2 (it sees minute 1)."""
    policy = b.Fixed(b.on_demand([1, 1, 1]))
    result = b.run_one(policy, b.scenario([1.0, math.nan, 1.0]))
    assert result.minutes_with_data == 2
    assert result.served_minutes_pct == 100.0
    assert math.isnan(result.timeseries["served"].iloc[1])
    assert result.gpu_hours == pytest.approx(3 / 60)
    assert [o.demand for o in policy.seen] == [1.0, 1.0, None]


def test_a_policy_sees_the_previous_minute_never_the_current_one() -> None:
    policy = b.Fixed(b.on_demand([1] * 4))
    b.run_one(policy, b.scenario([1.0, 2.0, 3.0, 4.0], load_before=0.5))
    assert [o.demand for o in policy.seen] == [0.5, 1.0, 2.0, 3.0]
    assert [o.arrivals for o in policy.seen] == [30.0, 60.0, 120.0, 180.0]
    assert [o.minute for o in policy.seen] == [0, 1, 2, 3]


def test_a_zero_lead_time_serves_the_minute_of_the_order() -> None:
    policy = b.Fixed(b.on_demand([1, 3, 3]))
    result = b.run_one(policy, b.scenario([1.0, 3.0, 3.0], lead_time_s=0))
    assert result.timeseries["ready_on_demand"].tolist() == [1, 3, 3]
    assert result.served_minutes_pct == 100.0


def test_a_90_second_cold_start_misses_two_whole_minutes() -> None:
    """Ready 90 s after an order at minute 0 means serving from minute 2 (no partial minutes)."""
    policy = b.Fixed(b.on_demand([1, 2, 2, 2]))
    result = b.run_one(policy, b.scenario([1.0] * 4, lead_time_s=90))
    assert result.timeseries["ready_on_demand"].tolist() == [1, 1, 1, 2]


def test_reserved_capacity_is_billed_at_the_commitment_even_when_idle() -> None:
    """Commitment 3, target 1 reserved: 3 reserved replicas billed every minute (L4 reserved
    $0.58/GPU-h): 3 x 10 min = 0.5 GPU-hours, $0.29."""
    policy = b.Fixed([spec.ByType(reserved=1)] * 10, commitment=3)
    result = b.run_one(policy, b.scenario([1.0] * 10))
    assert result.gpu_hours_by_type.reserved == pytest.approx(0.5)
    assert result.cost_by_type.reserved == pytest.approx(0.5 * 0.58)
    assert result.reserved_commitment == 3


def test_unserved_demand_is_priced_as_api_overflow() -> None:
    """Demand 4 req/s on 2 replicas for one minute: half of its 240 requests overflow, at 1000
    tokens each: 120000 tokens at $2 per 1M = $0.24."""
    chosen = b.workload(api_overflow_price_per_1m_tokens=2.0)
    policy = b.Fixed(b.on_demand([2, 2]))
    result = b.run_one(policy, b.scenario([2.0, 4.0], workload_spec=chosen))
    assert result.api_overflow_usd == pytest.approx(0.24)


def test_overflow_is_none_when_the_spec_does_not_price_it() -> None:
    result = b.run_one(b.Fixed(b.on_demand([1])), b.scenario([5.0]))
    assert result.api_overflow_usd is None


def spot_world(seed: int) -> results.PolicyResult:
    chosen = b.workload(capacity_types=["spot", "on_demand"], spot_interruption_rate_per_hour=6.0)
    policy = b.Fixed([spec.ByType(spot=10)] * 120)
    world = b.scenario([5.0] * 120, workload_spec=chosen, seed=seed)
    return b.run_one(policy, world)


def test_spot_replicas_are_interrupted_and_replaced_with_a_new_cold_start() -> None:
    """10 spot replicas at 6 interruptions per replica-hour lose about 10 x 6 x 2 h = 120 over
    two hours (Poisson, seed fixed); each is re-ordered (the target holds) and pays 3 minutes
    of cold start again, so fewer than 10 are ready in some minutes."""
    result = spot_world(seed=7)
    assert 80 <= result.spot_interruptions <= 160
    assert result.replicas_ordered == pytest.approx(result.spot_interruptions, abs=10)
    ready = result.timeseries["ready_spot"]
    assert ready.min() < 10
    assert result.timeseries["billed_spot"].max() == 10


def test_spot_interruptions_depend_only_on_the_seed() -> None:
    first = spot_world(seed=7)
    again = spot_world(seed=7)
    other = spot_world(seed=8)
    assert first.timeseries.equals(again.timeseries)
    assert not first.timeseries.equals(other.timeseries)


def test_lognormal_lead_times_are_drawn_per_order_and_repeat_with_the_seed() -> None:
    """Ordering 1 replica per minute for 200 minutes under a lognormal cold start (median
    3 min, P90 6 min): the ready count lags the billed count by a varying number."""
    cold = cold_start.ColdStartDistribution.lognormal(180, 360)
    targets = b.on_demand(list(range(1, 201)))
    world = b.scenario([1.0] * 200, cold=cold, seed=3)
    first = b.run_one(b.Fixed(targets), world).timeseries
    again = b.run_one(b.Fixed(targets), world).timeseries
    lag = first["billed_on_demand"] - first["ready_on_demand"]
    assert first.equals(again)
    assert lag.nunique() > 2
    assert 2 <= np.median(lag.iloc[20:]) <= 5
