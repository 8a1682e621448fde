"""The per-tick decision: a decision table with the arithmetic, and its invariants."""

from __future__ import annotations

import dataclasses
from typing import Any

import planner_builders as build
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import spec, step

R = step.Reason
ALL_TYPES = ["reserved", "spot", "on_demand"]


@pytest.mark.parametrize(
    ("overrides", "history", "tick", "total", "reason"),
    [
        # floor 5 at 10 per replica: 5, the forecast's floor
        pytest.param({}, [], {"floor": 5}, 5, R.FORECAST_FLOOR, id="forecast-floor"),
        # observed 62 concurrent / (10 * 1.0) = 6.2 -> 7 > floor 3: react at once
        pytest.param({}, [], {"floor": 3, "observed": 62.0}, 7, R.REACTIVE, id="reactive-above"),
        # observed 25 -> 3 < floor 5: the floor stands
        pytest.param(
            {}, [], {"floor": 5, "observed": 25.0}, 5, R.FORECAST_FLOOR, id="floor-covers"
        ),
        # no forecast yet: observed 41 -> 5
        pytest.param({}, [], {"observed": 41.0}, 5, R.REACTIVE, id="reactive-without-forecast"),
        pytest.param({}, [], {"floor": 0}, 1, R.MIN_REPLICAS, id="min-replicas"),
        pytest.param({}, [], {"floor": 30}, 20, R.MAX_REPLICAS, id="max-replicas"),
        # the pool's share (6) is below both the want (10) and max_replicas (20)
        pytest.param({}, [], {"floor": 10, "cap": 6}, 6, R.BUDGET, id="budget-share"),
        # 8 wanted at minute 0; minute 3 is inside the 300 s window, so 8 holds
        pytest.param({}, [8, 8, 8], {"floor": 2}, 8, R.COOLDOWN_HOLD, id="cooldown-holds"),
        # the hold is max(300 s cooldown, 600 s lead time) = 600 s: at minute 6 the window
        # [-4, 6] still saw 8 at minute 0
        pytest.param({}, [8] + [2] * 5, {"floor": 2}, 8, R.COOLDOWN_HOLD, id="lead-time-holds"),
        # minute 11: the window [1, 11] saw 8 last at minute 0: released to 2
        pytest.param({}, [8] + [2] * 10, {"floor": 2}, 2, R.FORECAST_FLOOR, id="hold-over"),
        # a lead time within the cooldown leaves the cooldown: minute 6 with L = 120 s is out
        # of max(300, 120) = 300 s
        pytest.param(
            {},
            [8] + [2] * 5,
            {"floor": 2, "lead_time_s": 120},
            2,
            R.FORECAST_FLOOR,
            id="cooldown-over",
        ),
        # a cooldown longer than the lead time wins: 900 s, so minute 11 still holds 8
        pytest.param(
            {"cooldown": "15m"}, [8] + [2] * 10, {"floor": 2}, 8, R.COOLDOWN_HOLD, id="cooldown"
        ),
        # step 2: 8 -> 6 at the first tick out of the window
        pytest.param(
            {"scale_in_step": 2}, [8] + [2] * 10, {"floor": 2}, 6, R.SCALE_IN_STEP, id="step-limit"
        ),
        # nothing to go on: keep the last base (4)
        pytest.param({}, [4], {}, 4, R.NO_SIGNAL, id="no-signal-holds"),
        # need 0 with 2 warm standby and min 0: the standby alone
        pytest.param(
            {"warm_standby": 2, "min_replicas": 0}, [], {"floor": 0}, 2, R.WARM_STANDBY, id="warm"
        ),
        # need 3 + 2 standby = 5
        pytest.param({"warm_standby": 2}, [], {"floor": 3}, 5, R.FORECAST_FLOOR, id="floor+warm"),
    ],
)
def test_decision_table(
    overrides: dict[str, Any], history: list[int], tick: dict[str, Any], total: int, reason: R
) -> None:
    workload = build.workload(**overrides)
    state = step.PolicyState.initial()
    for i, floor in enumerate(history):
        state = step.plan_step(workload, build.inputs(i, floor=floor), state).state
    result = step.plan_step(workload, build.inputs(len(history), **tick), state)
    (decision,) = result.decisions  # on_demand only
    assert (result.total, decision.target, decision.reason) == (total, total, reason)


def test_mix_decisions_carry_their_own_reasons_and_evidence() -> None:
    """Base 10, reserved 4: rest 6 -> spot floor(3) + 1 spare, on-demand 3; total 11."""
    workload = build.workload(capacity_types=ALL_TYPES)
    result = step.plan_step(
        workload, build.inputs(0, floor=10, reserved=4), step.PolicyState.initial()
    )
    by_type = {d.capacity_type.value: (d.target, d.reason) for d in result.decisions}
    assert by_type == {
        "reserved": (4, R.RESERVED_BASE),
        "spot": (4, R.FORECAST_FLOOR),
        "on_demand": (3, R.FORECAST_FLOOR),
    }
    evidence = result.decisions[0].evidence
    assert (evidence.base, evidence.spot_extra, evidence.spot_fallback) == (10, 1, 0)
    assert result.total == 11


def test_spot_fallback_covers_interrupted_spot_with_on_demand() -> None:
    """Spot target 4 held for 11 minutes (>= the 600 s lead time) but only 2 ready: 2 replicas
    of on-demand cover the gap, on top of the 3 planned; spot stays 4 so it is re-ordered."""
    workload = build.workload(capacity_types=ALL_TYPES)
    state = step.PolicyState.initial()
    for i in range(11):
        state = step.plan_step(
            workload, build.inputs(i, floor=10, reserved=4, ready=state.targets), state
        ).state
    ready = spec.ByType(reserved=4, spot=2, on_demand=3)
    result = step.plan_step(workload, build.inputs(11, floor=10, reserved=4, ready=ready), state)
    assert result.targets == spec.ByType(reserved=4, spot=4, on_demand=5)
    on_demand = next(d for d in result.decisions if d.capacity_type.value == "on_demand")
    assert (on_demand.reason, on_demand.evidence.spot_fallback) == (R.SPOT_FALLBACK, 2)


def test_spot_still_starting_is_not_a_fallback() -> None:
    """Spot went 0 -> 4 a minute ago: not ready yet is the cold start, not an interruption."""
    workload = build.workload(capacity_types=ALL_TYPES)
    state = step.plan_step(
        workload, build.inputs(0, floor=4, reserved=4), step.PolicyState.initial()
    )
    state = step.plan_step(workload, build.inputs(1, floor=10, reserved=4), state.state)
    result = step.plan_step(workload, build.inputs(2, floor=10, reserved=4), state.state)
    assert result.decisions[0].evidence.spot_fallback == 0


def test_state_window_stays_short() -> None:
    """A day of alternating wants keeps only the change points of the last hold window:
    600 s (the lead time), so at most one per minute t-9 .. t plus the one in force at t-10."""
    results = build.run_floors(build.workload(), [i % 3 for i in range(1440)])
    assert len(results[-1].state.wants) <= 11


def test_a_reactive_scale_out_is_held_through_its_cold_start() -> None:
    """Observed 45 at minute 0 wants 5 (floor 1), then 5 a minute: 1 wanted. Lead 600 s,
    cooldown 300 s: the hold is 600 s, so the 5 stays through minute 10 (the window [0, 10]
    still sees minute 0) and goes at minute 11; a 300 s hold would have released it at minute
    6, before the replicas ordered at minute 0 were even ready."""
    workload = build.workload()
    state = step.PolicyState.initial()
    totals = []
    for i in range(12):
        demand = 45.0 if i == 0 else 5.0
        result = step.plan_step(workload, build.inputs(i, floor=1, observed=demand), state)
        state = result.state
        totals.append(result.total)
    assert totals == [5] * 11 + [1]


floors = st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=1, max_size=60)
observed = st.lists(st.one_of(st.none(), st.floats(0, 500)), min_size=60, max_size=60)


@settings(max_examples=60, deadline=None)
@given(
    floors=floors,
    observed=observed,
    low=st.integers(0, 5),
    span=st.integers(0, 20),
    caps=st.lists(st.one_of(st.none(), st.integers(0, 30)), min_size=60, max_size=60),
    reserved=st.integers(0, 6),
    step_limit=st.integers(1, 5),
)
def test_targets_stay_within_bounds_and_budget(
    *,
    floors: list[int | None],
    observed: list[float | None],
    low: int,
    span: int,
    caps: list[int | None],
    reserved: int,
    step_limit: int,
) -> None:
    workload = build.workload(
        min_replicas=low,
        max_replicas=low + span + 1,
        scale_in_step=step_limit,
        capacity_types=ALL_TYPES,
    )
    state = step.PolicyState.initial()
    for i, floor in enumerate(floors):
        inputs = build.inputs(
            i,
            floor=floor,
            observed=observed[i],
            reserved=reserved,
            ready=state.targets,
            cap=caps[i],
        )
        result = step.plan_step(workload, inputs, state)
        share = caps[i]
        cap = workload.max_replicas if share is None else min(share, workload.max_replicas)
        assert min(workload.min_replicas, cap) <= result.total <= cap
        assert all(d.target >= 0 for d in result.decisions)
        state = result.state


@settings(max_examples=60, deadline=None)
@given(
    floors=floors,
    observed=observed,
    cooldown_min=st.integers(0, 10),
    reserved=st.integers(0, 6),
)
def test_no_scale_in_within_the_cooldown_of_a_scale_out(
    floors: list[int | None], observed: list[float | None], cooldown_min: int, reserved: int
) -> None:
    """After the total rises at minute s, it stays >= that level through s + cooldown."""
    workload = build.workload(cooldown=f"{cooldown_min}m", capacity_types=ALL_TYPES)
    state = step.PolicyState.initial()
    totals: list[int] = []
    for i, floor in enumerate(floors):
        inputs = build.inputs(
            i, floor=floor, observed=observed[i], reserved=reserved, ready=state.targets
        )
        result = step.plan_step(workload, inputs, state)
        totals.append(result.total)
        state = result.state
    for s in range(1, len(totals)):
        if totals[s] > totals[s - 1]:
            window = totals[s : s + cooldown_min + 1]
            assert min(window) >= totals[s], (s, totals)


def test_capacity_from_the_plan_overrides_the_spec() -> None:
    """Observed 62 at 20 per replica (the plan's measured value) is 4, not 7 at the spec's 10."""
    inputs = dataclasses.replace(build.inputs(0, observed=62.0), capacity_per_replica=20.0)
    result = step.plan_step(build.workload(), inputs, step.PolicyState.initial())
    assert result.total == 4


def test_initial_state_from_a_running_fleet() -> None:
    """A fresh start beside 2 reserved + 3 spot + 3 on-demand already ready: floor 8 keeps them
    (no spot fallback: what runs was not just ordered); floor 2 holds the 8 for one hold window
    (max(300 s cooldown, 600 s lead time) = 600 s) like any scale-in, then releases them."""
    workload = build.workload(capacity_types=ALL_TYPES)
    running = spec.ByType(reserved=2, spot=3, on_demand=3)
    state = step.PolicyState.initial(running)
    kept = step.plan_step(workload, build.inputs(0, floor=8, reserved=2, ready=running), state)
    assert kept.evidence.spot_fallback == 0
    assert kept.targets == spec.ByType(2, 4, 3)  # spot 3 + 1 spare
    lower = step.plan_step(workload, build.inputs(0, floor=2, reserved=2, ready=running), state)
    assert (lower.evidence.base, lower.total, lower.reason) == (8, 9, step.Reason.COOLDOWN_HOLD)
    still = step.plan_step(
        workload, build.inputs(9, floor=2, reserved=2, ready=running), lower.state
    )
    assert still.total == 9
    later = step.plan_step(workload, build.inputs(10, floor=2, reserved=2), lower.state)
    assert later.total == 2
