"""build_plan: the per-minute plan, and its parity with stepping plan_step minute by minute."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import planner_builders as build
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuator import workloads
from actuator.commands import inputs
from forecaster import forecast as forecasting
from kernel import errors
from planner import plan, spec, step

ALL_TYPES = ["reserved", "spot", "on_demand"]


def _step_through(
    workload: Any, built: plan.Plan, caps: list[int] | None = None
) -> list[spec.ByType[int]]:
    """plan_step every minute with the plan's floor, no observed demand, all targets ready."""
    state = step.PolicyState.initial()
    out = []
    for i, floor in enumerate(built.targets["floor"].tolist()):
        inputs = build.inputs(
            i,
            floor=floor,
            reserved=built.reserved,
            ready=state.targets,
            lead_time_s=built.lead_time_s,
            cap=None if caps is None else caps[i],
        )
        result = step.plan_step(workload, inputs, state)
        out.append(result.targets)
        state = result.state
    return out


def _columns(counts: list[spec.ByType[int]]) -> dict[str, list[int]]:
    return {
        "reserved": [c.reserved for c in counts],
        "spot": [c.spot for c in counts],
        "on_demand": [c.on_demand for c in counts],
        "total": [c.total for c in counts],
    }


def test_targets_frame_shape() -> None:
    """Two 15-minute buckets of 300 and 900 req/min at D = 4.5 s, 10 per replica:
    300/60 * 4.5 = 22.5 concurrent -> 3 replicas; 900/60 * 4.5 = 67.5 -> 7."""
    workload = build.workload()
    built = plan.build_plan(
        workload, build.forecast([300.0, 900.0], resolution_s=900), lead_time_s=600
    )
    targets = built.targets
    assert list(targets.columns) == list(plan.TARGET_COLUMNS)
    index = pd.DatetimeIndex(targets.index)
    assert len(targets) == 30 and index.freq == pd.Timedelta(minutes=1)
    assert str(index.tz) == "UTC"
    assert all(dtype == np.int64 for dtype in targets.dtypes)
    # each bucket's need is held over its 15 minutes
    assert targets["needed"].tolist() == [3] * 15 + [7] * 15
    # the floor looks 10 minutes ahead: minute 5 already sees minute 15's 7
    assert targets["floor"].tolist() == [3] * 5 + [7] * 25


def test_lead_time_shifts_the_scale_out_and_the_hold_delays_the_scale_in() -> None:
    """Need 1 then 5 for minutes 20..24 then 1; lead 10 min, cooldown 5 min, so the hold is
    max(5, 10) = 10 min. Scale-out at minute 10 (= 20 - 10); the floor drops at 25, the hold
    keeps 5 through 34."""
    workload = build.workload()
    peaks = [10.0 * 60 / 4.5] * 20 + [50.0 * 60 / 4.5] * 5 + [10.0 * 60 / 4.5] * 15
    built = build.plan_of(workload, peaks)
    total = built.targets["total"].tolist()
    assert total == [1] * 10 + [5] * 25 + [1] * 5


def test_a_cooldown_longer_than_the_lead_time_holds_longer() -> None:
    """The same need with a 15 min cooldown: the hold is max(15, 10) = 15 min, 5 through 39."""
    workload = build.workload(cooldown="15m")
    peaks = [10.0 * 60 / 4.5] * 20 + [50.0 * 60 / 4.5] * 5 + [10.0 * 60 / 4.5] * 20
    built = build.plan_of(workload, peaks)
    total = built.targets["total"].tolist()
    assert total == [1] * 10 + [5] * 30 + [1] * 5


def test_parity_with_plan_step_on_a_mixed_plan() -> None:
    """A day of a sine-shaped need with every feature on: identical per-minute targets."""
    workload = build.workload(
        capacity_types=ALL_TYPES, warm_standby=1, scale_in_step=1, cooldown="7m"
    )
    minutes = np.arange(24 * 60)
    peaks = 600 + 500 * np.sin(minutes / 1440 * 2 * np.pi)
    built = plan.build_plan(
        workload, build.forecast(peaks[::5].tolist(), resolution_s=300), lead_time_s=900
    )
    stepped = _columns(_step_through(workload, built))
    for column, values in stepped.items():
        assert built.targets[column].tolist() == values, column
    assert built.reserved > 0 and built.targets["spot"].max() > 0


@settings(max_examples=40, deadline=None)
@given(
    peaks=st.lists(st.floats(0, 3000), min_size=1, max_size=40),
    overrides=st.fixed_dictionaries(
        {
            "min_replicas": st.integers(0, 3),
            "warm_standby": st.integers(0, 2),
            "scale_in_step": st.integers(1, 4),
            "cooldown": st.sampled_from(["0s", "90s", "5m"]),
            "lead_time": st.sampled_from(["0s", "2m", "10m"]),
            "spot_share": st.sampled_from([0.0, 0.5, 1.0]),
            "spot_interruption_rate_per_hour": st.sampled_from([0.0, 0.05, 3.0]),
        }
    ),
    caps=st.one_of(st.none(), st.lists(st.integers(0, 25), min_size=40, max_size=40)),
)
def test_parity_property(
    peaks: list[float], overrides: dict[str, Any], caps: list[int] | None
) -> None:
    workload = build.workload(capacity_types=ALL_TYPES, **overrides)
    cap_array = None if caps is None else np.array(caps[: len(peaks)], dtype=np.int64)
    built = plan.build_plan(
        workload,
        build.forecast(peaks, resolution_s=60),
        lead_time_s=workload.lead_time_s,
        replica_cap=cap_array,
    )
    stepped = _columns(_step_through(workload, built, caps))
    for column, values in stepped.items():
        assert built.targets[column].tolist() == values, column


@settings(max_examples=40, deadline=None)
@given(
    peaks=st.lists(st.floats(0, 3000), min_size=1, max_size=30),
    lead_min=st.integers(0, 15),
    resolution_s=st.sampled_from([60, 300]),
)
def test_floor_covers_the_need_over_the_lead_time(
    peaks: list[float], lead_min: int, resolution_s: int
) -> None:
    """floor[t] >= needed[u] for every u in [t, t + lead]; total >= floor below max_replicas."""
    workload = build.workload(max_replicas=10_000)
    built = plan.build_plan(
        workload, build.forecast(peaks, resolution_s=resolution_s), lead_time_s=lead_min * 60
    )
    needed = built.targets["needed"].to_numpy()
    floor = built.targets["floor"].to_numpy()
    for t in range(needed.size):
        assert floor[t] >= needed[t : t + lead_min + 1].max()
    assert (built.targets["total"].to_numpy() >= floor).all()


def test_quantile_column_is_chosen_by_the_spec() -> None:
    """peak_p99 = 2x peak_p50 -> twice the replicas at p99."""
    forecast = build.forecast([600.0 * 10 / 4.5])
    forecast.frame["peak_p99"] = forecast.frame["peak_p50"] * 2
    p50 = plan.build_plan(build.workload(provisioning_quantile="p50"), forecast, lead_time_s=0)
    p99 = plan.build_plan(build.workload(provisioning_quantile="p99"), forecast, lead_time_s=0)
    assert (p50.targets["needed"].iloc[0], p99.targets["needed"].iloc[0]) == (10, 20)


def test_cost_summary_counts_requests_from_the_mean_forecast() -> None:
    """Two 5-minute buckets of 100 req/min p50: 2 * 100 * 5 = 1000 requests."""
    built = plan.build_plan(build.workload(), build.forecast([100.0, 100.0]), lead_time_s=0)
    assert built.cost.requests == pytest.approx(1000)


def test_odd_resolution_is_an_input_error() -> None:
    with pytest.raises(errors.InputError, match=r"resolution_s \(90\) is not a whole number"):
        plan.build_plan(build.workload(), build.forecast([1.0], resolution_s=90), lead_time_s=0)


def test_missing_quantile_column_is_an_input_error() -> None:
    full = build.forecast([1.0])
    forecast = build.ForecastFrame(full.frame.drop(columns=["peak_p90"]), 300, 60)
    with pytest.raises(errors.InputError, match="forecast column peak_p90 is missing"):
        plan.build_plan(build.workload(), forecast, lead_time_s=0)


def test_unknown_forecast_buckets_are_an_input_error() -> None:
    with pytest.raises(errors.InputError, match="peak_p90 has 1 missing or infinite values of 2"):
        plan.build_plan(build.workload(), build.forecast([1.0, float("nan")]), lead_time_s=0)


def test_empty_forecast_and_negative_lead_time_are_reported_together() -> None:
    with pytest.raises(errors.InputError) as caught:
        plan.build_plan(build.workload(), build.forecast([]), lead_time_s=-1)
    assert len(caught.value.problems) == 2


def test_parity_on_a_real_forecast_of_a_trace_excerpt() -> None:
    """The bundled NASA trace's last 4 days, forecast by the real forecaster for one day, planned
    with the example workload: stepping plan_step reproduces every per-minute target."""
    raw = pd.read_csv(inputs.example_path(inputs.EXAMPLE_TRACE), parse_dates=["timestamp"])
    tail = raw.tail(4 * 1440)
    history = pd.Series(
        tail["requests"].to_numpy(dtype=float),
        index=pd.DatetimeIndex(tail["timestamp"], freq="min"),
    )
    made = forecasting.forecast(history, horizon_s=86400)
    (workload,) = workloads.load(inputs.example_path(inputs.EXAMPLE_WORKLOAD))
    built = plan.build_plan(workload, made, lead_time_s=workload.lead_time_s)
    stepped = _columns(_step_through(workload, built))
    for column, values in stepped.items():
        assert built.targets[column].tolist() == values, column
    assert built.targets["total"].max() > built.targets["total"].min()  # it does scale
