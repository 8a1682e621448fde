"""One what-if run end to end: the scenario built from a trace, options and policy names."""

from __future__ import annotations

import pandas as pd
import pytest
import simulator_builders as b

from forecaster import errors, series
from planner import cold_start, demand, lineup, replay, simulate


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
        simulate.PolicyName.ORACLE,
        simulate.PolicyName.STATIC,
    )
    with pytest.raises(errors.InputError, match=r"unknown names \['hpa', 'peak'\]"):
        lineup.names(["hpa", "oracle", "peak"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(lineup.Options(policies=()), "is empty", id="no-policies"),
        pytest.param(
            lineup.Options(policies=(simulate.PolicyName.CRON, simulate.PolicyName.CRON)),
            "names a policy twice",
            id="twice",
        ),
        pytest.param(lineup.Options(refit_every_s=10), "at least 60 s", id="refit-too-often"),
    ],
)
def test_bad_options_are_refused(options: lineup.Options, message: str) -> None:
    with pytest.raises(errors.InputError, match=message):
        lineup.run(b.workload(), b.minute_trace([1.0] * 100), options)
