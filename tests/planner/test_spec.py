"""Workload spec validation: defaults resolved once; every problem named with value, rule, fix."""

from __future__ import annotations

from typing import Any

import planner_builders as build
import pytest

from actuator import workloads
from kernel import errors
from planner import spec


def test_issue_example_parses_with_defaults_resolved() -> None:
    """The issue's example: lead_time 10m -> 600 s, request duration 0.5 + 200 * 0.02 = 4.5 s."""
    parsed = build.workload(capacity_types=["reserved", "spot", "on_demand"])
    assert parsed.lead_time_s == 600
    assert parsed.request.duration_s == pytest.approx(4.5)
    assert parsed.provisioning_quantile is spec.ProvisioningQuantile.P90
    assert parsed.cooldown_s == 300
    assert parsed.scale_in_step == parsed.max_replicas  # no step limit unless asked
    assert parsed.spot_share == 0.5
    assert parsed.prices.on_demand_per_gpu_hour == 3.67
    assert parsed.prices.reserved_per_gpu_hour == 2.20
    assert parsed.prices.spot_per_gpu_hour == pytest.approx(3.67 * 0.35)
    assert parsed.gpu_memory_gib == 80.0
    assert parsed.pool is None and parsed.pool_gpu_budget is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("10m", 600, id="minutes"),
        pytest.param("90s", 90, id="seconds"),
        pytest.param("1.5h", 5400, id="fractional-hours"),
        pytest.param(120, 120, id="bare-number-is-seconds"),
        pytest.param("45", 45, id="bare-string-is-seconds"),
    ],
)
def test_durations(value: object, seconds: int) -> None:
    assert build.workload(lead_time=value).lead_time_s == seconds


def test_overrides_and_model_preset() -> None:
    parsed = build.workload(
        capacity_per_replica=None,
        unit="kv_tokens",
        model="llama-3-8b",
        prices={"on_demand": 4.0, "reserved": 2.0, "spot": 1.0},
        cooldown="2m",
        scale_in_step=2,
        warm_standby=1,
        provisioning_quantile="p99",
    )
    assert parsed.model is not None and parsed.model.layers == 32
    assert parsed.model.weight_bytes == pytest.approx(8.03e9 * 2)
    assert parsed.prices.source == "workload spec"
    assert (parsed.cooldown_s, parsed.scale_in_step, parsed.warm_standby) == (120, 2, 1)
    assert parsed.provisioning_quantile is spec.ProvisioningQuantile.P99


def _problems(data: Any) -> tuple[str, ...]:
    with pytest.raises(errors.InputError) as caught:
        workloads.parse_workloads(data)
    return caught.value.problems


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        pytest.param(
            {"min_replicas": 4, "max_replicas": 2},
            [
                "max_replicas (2) is below min_replicas (4) for workload chat",
                "raise max_replicas or lower min_replicas",
            ],
            id="max-below-min",
        ),
        pytest.param(
            {"target_utilization": 1.5},
            ["target_utilization (1.5) must be > 0 and <= 1", "set target_utilization"],
            id="utilization-above-1",
        ),
        pytest.param(
            {"lead_time": "ten minutes"},
            ["lead_time ('ten minutes') is not a duration", "write lead_time like 90s"],
            id="lead-time-not-duration",
        ),
        pytest.param(
            {"unit": "watts"},
            ["unit ('watts') is not one of concurrency|kv_tokens|tokens_per_s|requests_per_s"],
            id="unknown-unit",
        ),
        pytest.param(
            {"gpu": "TPU-v5", "prices": {}},
            ["prices ({}) are incomplete for gpu TPU-v5", "set prices.on_demand"],
            id="unknown-gpu-without-prices",
        ),
        pytest.param(
            {"capacity_per_replica": None, "unit": "tokens_per_s"},
            ["capacity_per_replica (None) is missing for unit tokens_per_s", "or give `model:`"],
            id="capacity-not-derivable",
        ),
        pytest.param(
            {"capacity_types": ["spot"]},
            ["capacity_types (['spot']) has spot without on_demand", "add on_demand"],
            id="spot-without-on-demand",
        ),
        pytest.param(
            {"max_replica": 4},
            ["max_replica (4) is not a known field", "fix its spelling"],
            id="misspelt-field",
        ),
        pytest.param(
            {"model": "gpt-9"},
            ["model ('gpt-9') is not a built-in model (llama-3-8b, llama-3-70b)"],
            id="unknown-model",
        ),
        pytest.param(
            {"request": None},
            [
                "request (None) gives no request duration for unit concurrency",
                "set request.ttft_s and itl_s",
            ],
            id="concurrency-needs-a-duration",
        ),
        pytest.param(
            {"unit": "tokens_per_s", "request": {"duration_s": 3}},
            ["gives no completion_tokens for unit tokens_per_s"],
            id="token-throughput-needs-output-tokens",
        ),
        pytest.param(
            {"min_replicas": 1.5},
            ["min_replicas (1.5) is not a whole number", "set min_replicas to an integer"],
            id="fractional-replicas",
        ),
    ],
)
def test_each_problem_names_field_value_rule_and_fix(
    overrides: dict[str, Any], fragments: list[str]
) -> None:
    message = "\n".join(_problems(build.workload_data(**overrides)))
    for fragment in fragments:
        assert fragment in message


def test_every_problem_is_reported_at_once() -> None:
    """Three bad fields in one workload and a second workload's error: four problems, one raise."""
    data = [
        build.workload_data(min_replicas=4, max_replicas=2, target_utilization=0, unit="x"),
        build.workload_data(name="other", gpus_per_replica=0),
    ]
    problems = _problems(data)
    assert len(problems) == 4
    assert any("workload other" in p for p in problems)


def test_duplicate_names_are_refused() -> None:
    problems = _problems([build.workload_data(), build.workload_data()])
    assert problems == ("name ('chat') is used by two workloads; give each workload its own name",)


def test_pools_give_each_member_its_budget() -> None:
    data = {
        "pools": {"a100": {"gpus": 8}},
        "workloads": [
            build.workload_data(name="a", pool="a100"),
            build.workload_data(name="b", pool="a100", gpus_per_replica=2),
        ],
    }
    a, b = workloads.parse_workloads(data)
    assert (a.pool, a.pool_gpu_budget, b.pool_gpu_budget) == ("a100", 8, 8)


def test_pool_budget_below_the_minimums_is_refused() -> None:
    """min_replicas 3 * 1 GPU + 3 * 2 GPUs = 9 GPUs > 8."""
    data = {
        "pools": {"a100": {"gpus": 8}},
        "workloads": [
            build.workload_data(name="a", pool="a100", min_replicas=3),
            build.workload_data(name="b", pool="a100", min_replicas=3, gpus_per_replica=2),
        ],
    }
    (problem,) = _problems(data)
    assert problem.startswith("pools.a100.gpus (8) is below the 9 GPUs that min_replicas of a, b")


def test_unknown_pool_is_refused() -> None:
    data = {"pools": {"a100": {"gpus": 8}}, "workloads": [build.workload_data(pool="h100")]}
    (problem,) = _problems(data)
    assert "pool ('h100') is not defined under pools (a100)" in problem


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"max_replicas": 0}, id="bad-max-is-not-also-missing"),
        pytest.param({"capacity_per_replica": -5}, id="bad-capacity-is-not-also-missing"),
        pytest.param({"unit": "watts"}, id="bad-unit-once"),
    ],
)
def test_one_bad_value_is_one_problem(overrides: dict[str, Any]) -> None:
    assert len(_problems(build.workload_data(**overrides))) == 1


@pytest.mark.parametrize(
    ("value", "pct"),
    [
        pytest.param("99.5%", 99.5, id="percent-string"),
        pytest.param(99.9, 99.9, id="number-is-a-percentage"),
        pytest.param("100%", 100.0, id="every-minute"),
    ],
)
def test_slo_is_a_share_of_minutes_served(value: object, pct: float) -> None:
    parsed = build.workload(slo={"served_minutes": value})
    assert parsed.slo == spec.Slo(served_minutes_pct=pct)


def test_without_an_slo_the_default_is_99_5_percent_of_minutes() -> None:
    assert build.workload().slo.served_minutes_pct == 99.5


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"served_minutes": "0%"}, id="zero"),
        pytest.param({"served_minutes": "101%"}, id="above-100"),
        pytest.param({"served_minutes": "most"}, id="not-a-number"),
        pytest.param({"served": "99%"}, id="unknown-key"),
        pytest.param("99.5%", id="not-a-mapping"),
    ],
)
def test_a_bad_slo_names_the_field_and_the_fix(value: object) -> None:
    (problem,) = _problems(build.workload_data(slo=value))
    assert "slo" in problem and "served_minutes: 99.5%" in problem


def test_scale_in_hold_is_an_expert_override() -> None:
    assert build.workload().scale_in_hold is spec.HoldRule.LEAD_TIME
    parsed = build.workload(scale_in_hold="cooldown")
    assert parsed.scale_in_hold is spec.HoldRule.COOLDOWN


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {"capacity_per_replica": 10**400},
            "capacity_per_replica (1" + "0" * 400 + ") is not a number for workload chat; "
            "set capacity_per_replica to a number",
            id="int-past-a-float",
        ),
        pytest.param(
            {
                "capacity_per_replica": None,
                "unit": "kv_tokens",
                "model": {"preset": "llama-3-8b", "layer": 40},
            },
            "model.layer (40) is not a known field for workload chat; did you mean layers? fix "
            "its spelling or remove it",
            id="unknown-model-key",
        ),
        pytest.param(
            {"capacity_types": ["cheap", "x", "on_demand"]},
            "capacity_types (['cheap', 'x']) is not one of reserved|spot|on_demand for workload "
            "chat; use those names",
            id="every-bad-capacity-type",
        ),
        pytest.param(
            {"gpu": 5},
            "gpu (5) is not text for workload chat; set gpu, e.g. one of L4, A100-80GB, "
            "H100-80GB, L40S",
            id="gpu-not-text",
        ),
    ],
)
def test_schema_problems_in_full(overrides: dict[str, Any], expected: str) -> None:
    assert _problems(build.workload_data(**overrides)) == (expected,)


def test_a_null_key_is_a_key_not_given() -> None:
    """`gpu_memory_gib: null` takes the catalog's 80 GiB for an A100-80GB, as if not written."""
    assert build.workload(gpu_memory_gib=None, min_replicas=None).gpu_memory_gib == 80.0


def test_keys_across_fields_are_checked_even_when_one_failed() -> None:
    """An unknown unit and max below min: both reported, the second from the model validated
    again without the failed key."""
    problems = _problems(build.workload_data(unit="watts", min_replicas=4, max_replicas=2))
    assert len(problems) == 2
    assert problems[1].startswith("max_replicas (2) is below min_replicas (4)")
