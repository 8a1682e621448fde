"""One what-if run end to end: the scenario built from a trace, options and policy names."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import simulator_builders as b

from forecaster import series
from kernel import errors
from planner import demand
from simulator import cold_start, lineup, replay, results


def token_trace() -> series.Trace:
    """Ten minutes of 60 requests, 1000 prompt + 200 completion tokens each; minute 9 idle."""
    index = pd.date_range(b.MONDAY, periods=10, freq="min", tz="UTC")
    requests = pd.Series([60.0] * 9 + [0.0], index=index)
    return series.Trace(
        values=requests,
        interval_s=60,
        column="requests",
        prompt_tokens=requests * 1000.0,
        completion_tokens=requests * 200.0,
    )


def test_the_scenario_measures_tokens_per_request_and_load_from_the_warm_up() -> None:
    """The warm-up (minutes 0-4) measures 1000 + 200 tokens per request; concurrency at
    ttft 0.5 s and itl 0.02 s: D = 0.5 + 200 x 0.02 = 4.5 s, so 1 req/s is 4.5 concurrent.
    The idle minute 9 has no tokens of its own and takes the measured mean, 1200 (kept as an
    idle minute: at 60 requests a minute the dropout rule would call it a collection gap)."""
    workload = b.workload(
        kind="llm",
        unit="concurrency",
        request={"prompt_tokens": 10, "completion_tokens": 10, "ttft_s": 0.5, "itl_s": 0.02},
    )
    split = replay.split(token_trace(), 5 * 60, mask_dropouts=False)
    request = demand.measured_request(workload.request, split.warmup)
    world = lineup.scenario(workload, split, cold_start.ColdStartDistribution.fixed(60), 0, request)
    assert (request.prompt_tokens, request.completion_tokens) == (1000.0, 200.0)
    assert world.tokens_per_request.tolist() == [1200.0] * 5
    assert world.demand.tolist() == pytest.approx([4.5] * 4 + [0.0])
    assert world.demand_before == pytest.approx(4.5)


def test_policy_names_are_read_case_insensitively_and_unknown_ones_listed() -> None:
    assert lineup.names(["Oracle", " static"]) == (
        results.PolicyName.ORACLE,
        results.PolicyName.STATIC,
    )
    with pytest.raises(errors.InputError, match=r"unknown names \['hpa', 'peak'\]"):
        lineup.names(["hpa", "oracle", "peak"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(lineup.Options(policies=()), "is empty", id="no-policies"),
        pytest.param(
            lineup.Options(policies=(results.PolicyName.CRON, results.PolicyName.CRON)),
            "names a policy twice",
            id="twice",
        ),
        pytest.param(lineup.Options(refit_every_s=10), "at least 60 s", id="refit-too-often"),
    ],
)
def test_bad_options_are_refused(options: lineup.Options, message: str) -> None:
    with pytest.raises(errors.InputError, match=message):
        lineup.run(b.workload(), b.minute_trace([1.0] * 100), options)


def step_trace() -> series.Trace:
    """Two hours of 60 requests a minute (1 req/s), then 5 minutes at 60 and 5 at 180."""
    return b.minute_trace([60.0] * 120 + [60.0] * 5 + [180.0] * 5)


STATIC_ONLY = lineup.Options(
    replay_s=10 * 60,
    policies=(results.PolicyName.STATIC,),
    mix=results.MixMode.ON_DEMAND,
    cold_start=cold_start.ColdStartDistribution.fixed(180),
)


def test_the_fleet_sums_gpu_hours_and_serves_a_minute_only_when_every_workload_is_served() -> None:
    """Static holds the warm-up's peak need: 1 req/s, so 1 replica for both workloads.
    small (1 req/s per replica) misses the 3 req/s of minutes 5-9 by 2 each: 10 of its 20
    req/s-minutes unserved (50 %); large (3 per replica) serves them all (0 %).
    Fleet: minutes 0-4 served by both, 5 of 10 = 50 %; unserved requests 5 x 180 x 2/3 = 600
    of 2 x (5 x 60 + 5 x 180) = 2400 = 25 %, the mean of 50 % and 0 %;
    GPU-hours 10/60 + 10/60 = 1/3."""
    small = b.workload(name="small", capacity_per_replica=1)
    large = b.workload(name="large", capacity_per_replica=3)
    replays = [lineup.run(w, step_trace(), STATIC_ONLY) for w in (small, large)]
    assert [r.policies[0].unserved_demand_pct for r in replays] == pytest.approx([50.0, 0.0])
    (fleet,) = lineup.fleet(replays)
    assert fleet.policy is results.PolicyName.STATIC
    assert (fleet.served_minutes, fleet.minutes_with_data) == (5, 10)
    assert fleet.served_minutes_pct == pytest.approx(50.0)
    assert (fleet.unserved_requests, fleet.requests) == pytest.approx((600.0, 2400.0))
    assert fleet.unserved_demand_pct == pytest.approx(25.0)
    assert fleet.gpu_hours == pytest.approx(1 / 3)
    assert fleet.gpu_hours == sum(r.policies[0].gpu_hours for r in replays)
    assert fleet.cost_by_type.on_demand == pytest.approx(
        sum(r.policies[0].cost_usd for r in replays)
    )


def test_the_fleet_refuses_results_replayed_over_other_minutes() -> None:
    shorter = dataclasses.replace(STATIC_ONLY, replay_s=5 * 60)
    results = [
        lineup.run(b.workload(name="a"), step_trace(), STATIC_ONLY),
        lineup.run(b.workload(name="b"), step_trace(), shorter),
    ]
    with pytest.raises(errors.InputError, match=r"workloads \['b'\] were replayed over other"):
        lineup.fleet(results)


def test_no_model_is_chosen_when_prescale_is_not_replayed() -> None:
    assert lineup.prescale_selection(step_trace(), STATIC_ONLY) is None


def test_a_stated_quantile_replays_prescale_at_it_as_it_stands() -> None:
    """A spec stating provisioning_quantile (the expert override) chooses no operating point:
    the line-up equals the one with the chooser switched off, policy by policy, and a spec
    without the key chooses one on the same warm-up."""
    day = [100.0 + 80.0 * (m // 60 in range(9, 18)) for m in range(1440)]
    trace = b.minute_trace(day * 4)
    options = lineup.Options(replay_s=86400, mix=results.MixMode.ON_DEMAND, seed=2)
    stated = b.workload(provisioning_quantile="p90")
    assert stated.quantile_override
    overridden = lineup.run(stated, trace, options)
    off = lineup.run(
        b.workload(), trace, dataclasses.replace(options, choose_operating_point=False)
    )
    assert overridden.operating_point is None
    assert [(p.policy, p.served_minutes, p.gpu_hours) for p in overridden.policies] == [
        (p.policy, p.served_minutes, p.gpu_hours) for p in off.policies
    ]
    assert lineup.run(b.workload(), trace, options).operating_point is not None
