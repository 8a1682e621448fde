"""A history's unit decides whether Little's law applies: arrivals yes, gauges never again."""

from __future__ import annotations

import dataclasses

import numpy as np
import planner_builders as build
import pytest

from kernel import errors
from planner import demand, spec

# D = 0.5 + 200 * 0.02 = 4.5 s; tokens per sequence = 500 + 200 / 2 = 600.
DURATION_S = 4.5
TOKENS_PER_SEQUENCE = 600.0


def _with(unit: str, history: spec.HistoryUnit, **overrides: object) -> spec.WorkloadSpec:
    return dataclasses.replace(build.workload(unit=unit, **overrides), history_unit=history)


def _load(workload: spec.WorkloadSpec, values: list[float]) -> np.ndarray:
    return demand.history_load(
        np.array(values), interval_s=60, workload=workload, request=workload.request
    )


@pytest.mark.parametrize(
    ("unit", "history", "values", "expected"),
    [
        # 120 arrivals per 60 s = 2 req/s; x 4.5 s = 9 concurrent.
        ("concurrency", spec.HistoryUnit.ARRIVALS, [120.0], [9.0]),
        # 40 running + waiting is 40 concurrent: no second Little's law.
        ("concurrency", spec.HistoryUnit.CONCURRENCY, [40.0, np.nan], [40.0, np.nan]),
        # 40 concurrent -> 40 / 4.5 req/s -> x 4.5 s x 600 tokens = 24,000 KV tokens.
        ("kv_tokens", spec.HistoryUnit.CONCURRENCY, [40.0], [24_000.0]),
        ("kv_tokens", spec.HistoryUnit.KV_TOKENS, [5_000.0], [5_000.0]),
        ("tokens_per_s", spec.HistoryUnit.TOKENS_PER_S, [900.0], [900.0]),
        # 900 tokens/s at 200 per request = 4.5 req/s = 20.25 concurrent.
        ("concurrency", spec.HistoryUnit.TOKENS_PER_S, [900.0], [20.25]),
    ],
    ids=[
        "arrivals-littles-law",
        "concurrency-gauge-as-is",
        "concurrency-to-kv",
        "kv-gauge-as-is",
        "tokens-rate-as-is",
        "tokens-rate-to-concurrency",
    ],
)
def test_history_load(
    unit: str, history: spec.HistoryUnit, values: list[float], expected: list[float]
) -> None:
    got = _load(_with(unit, history), values)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_kv_usage_times_kv_capacity_per_replica() -> None:
    """Three replicas at 50 % KV usage sum to 1.5 replicas' worth: x 10,000 tokens each."""
    workload = _with("kv_tokens", spec.HistoryUnit.KV_USAGE, capacity_per_replica=10_000)
    np.testing.assert_allclose(_load(workload, [1.5]), [15_000.0])
    assert "10000 kv_tokens per replica" in demand.describe(workload, workload.request, 60)


def test_kv_usage_for_another_unit_is_an_input_error() -> None:
    with pytest.raises(errors.InputError, match="set unit: kv_tokens"):
        _load(_with("concurrency", spec.HistoryUnit.KV_USAGE), [1.0])


def test_describe_says_how_the_unit_was_reached() -> None:
    arrivals = _with("concurrency", spec.HistoryUnit.ARRIVALS)
    gauge = _with("concurrency", spec.HistoryUnit.CONCURRENCY)
    assert "Little's law (1 request/s = 4.5 concurrency)" in demand.describe(
        arrivals, arrivals.request, 60
    )
    assert "no Little's law" in demand.describe(gauge, gauge.request, 60)


def test_history_unit_is_not_a_yaml_key() -> None:
    with pytest.raises(errors.InputError, match="history_unit"):
        build.workload(history_unit="concurrency")


def test_a_gauge_forecast_plans_replicas_on_the_gauge() -> None:
    """95 concurrent from a gauge at 10 per replica, 100 % target: ceil(95 / 10) = 10 replicas;
    read as arrivals the same 95 would be 95 / 60 * 4.5 = 7.1 concurrent, so 1 replica."""
    gauge = _with("concurrency", spec.HistoryUnit.CONCURRENCY, lead_time="0s")
    arrivals = _with("concurrency", spec.HistoryUnit.ARRIVALS, lead_time="0s")
    assert build.plan_of(gauge, [95.0] * 3).targets["needed"].tolist() == [10, 10, 10]
    assert build.plan_of(arrivals, [95.0] * 3).targets["needed"].tolist() == [1, 1, 1]
    assert build.plan_of(gauge, [95.0] * 3).cost.dollars_per_1m_requests is None
