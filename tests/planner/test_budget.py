"""Pool GPU budgets: the allocation rule, and pooled plans that never exceed the pool."""

from __future__ import annotations

import numpy as np
import planner_builders as build
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel import errors
from planner import budget


def _ints(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


@pytest.mark.parametrize(
    ("wanted", "mins", "gpus", "budget_gpus", "caps"),
    [
        # 10 GPUs, mins 1 + 1: 8 free; extra wants 7 and 3 -> 1 + floor(8*7/10) = 6,
        # 1 + floor(8*3/10) = 3; the 1 GPU left goes to the larger unmet want (2 > 1)
        pytest.param([[8], [4]], [1, 1], [1, 1], 10, [[7], [3]], id="proportional-when-short"),
        # wants 3 + 4 = 7 of 10: each gets its want plus floor(3 slack / 2) = 1
        pytest.param([[3], [4]], [1, 1], [1, 1], 10, [[4], [5]], id="slack-shared-when-not"),
        # 2-GPU replicas: 12 GPUs, mins 1*1 + 1*2 = 3, 9 free; extra 5*1 = 5 and 4*2 = 8 GPUs:
        # floor(9*5/13) = 3 -> 4; floor(9*8/13) = 5 GPUs -> 2 replicas -> 3; that holds 4 + 6 = 10
        # GPUs. Unmet wants tie at 2 replicas each; the first in order takes the 2 GPUs left -> 6
        pytest.param([[6], [5]], [1, 1], [1, 2], 12, [[6], [3]], id="gpus-per-replica"),
        # one workload at its minimum takes nothing from the other
        pytest.param([[1], [20]], [1, 1], [1, 1], 8, [[1], [7]], id="idle-neighbour"),
    ],
)
def test_allocate(
    wanted: list[list[int]],
    mins: list[int],
    gpus: list[int],
    budget_gpus: int,
    caps: list[list[int]],
) -> None:
    result = budget.allocate(
        _ints(wanted),
        min_replicas=np.array(mins, dtype=np.int64),
        gpus_per_replica=np.array(gpus, dtype=np.int64),
        gpu_budget=budget_gpus,
    )
    assert result.tolist() == caps
    assert (result * np.array(gpus)[:, None]).sum(axis=0).max() <= budget_gpus


def test_allocate_refuses_a_budget_below_the_minimums() -> None:
    with pytest.raises(errors.InputError, match=r"gpu budget \(3\) is below the 4 GPUs"):
        budget.allocate(
            _ints([[2], [2]]),
            min_replicas=np.array([2, 2], dtype=np.int64),
            gpus_per_replica=np.array([1, 1], dtype=np.int64),
            gpu_budget=3,
        )


def test_unbound_pool_keeps_the_free_plans() -> None:
    a, b = build.workload(name="a"), build.workload(name="b")
    forecast = build.forecast([100.0] * 4)
    pooled = budget.plan_pool("p", 100, [a, b], [forecast, forecast], lead_times_s=[600, 600])
    assert (pooled.binding_minutes, pooled.shortfalls) == (0, ())


def test_short_pool_says_who_got_less() -> None:
    """Need 900 req/min * 4.5 s / 60 = 67.5 concurrent -> 7 replicas each; 8 GPUs for 14
    wanted: 6 free above the minimums, each gets 1 + floor(6 * 6/12) = 4."""
    a, b = build.workload(name="a"), build.workload(name="b")
    forecast = build.forecast([900.0] * 4)
    pooled = budget.plan_pool("p", 8, [a, b], [forecast, forecast], lead_times_s=[600, 600])
    assert pooled.binding_minutes == 20
    assert [p.targets["total"].max() for p in pooled.plans] == [4, 4]
    short = {s.workload: s for s in pooled.shortfalls}
    assert (short["a"].worst_wanted, short["a"].worst_granted, short["a"].minutes) == (7, 4, 20)
    assert "pool p has 8 GPUs, shared with b" in short["a"].explanation


@settings(max_examples=30, deadline=None)
@given(
    peaks=st.lists(st.lists(st.floats(0, 2000), min_size=6, max_size=6), min_size=1, max_size=3),
    gpus=st.lists(st.integers(1, 2), min_size=3, max_size=3),
    budget_gpus=st.integers(6, 40),
)
def test_pooled_plans_never_exceed_the_budget(
    peaks: list[list[float]], gpus: list[int], budget_gpus: int
) -> None:
    workloads = [
        build.workload(
            name=f"w{i}",
            gpus_per_replica=gpus[i],
            capacity_types=["reserved", "spot", "on_demand"],
            warm_standby=i % 2,
        )
        for i in range(len(peaks))
    ]
    forecasts = [build.forecast(p) for p in peaks]
    pooled = budget.plan_pool(
        "p", budget_gpus, workloads, forecasts, lead_times_s=[600] * len(peaks)
    )
    used = np.zeros(len(pooled.plans[0].targets), dtype=np.int64)
    for p, w in zip(pooled.plans, workloads, strict=True):
        used += p.targets["total"].to_numpy(dtype=np.int64) * w.gpus_per_replica
    assert used.max() <= budget_gpus
    for p, w in zip(pooled.plans, workloads, strict=True):
        assert p.targets["total"].min() >= w.min_replicas
