"""The report model built from a real forecast and real plans: every figure is the planner's.

The history is three days of a seeded daily wave at 1-minute resolution, so the forecaster runs
its daily regime (one-day backtest folds) in about a second.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import arrivals
import pandas as pd
import pytest

from actuator import workloads
from forecaster import forecast as fc
from planner import lead_time, plan, spec
from report import content, model


def _workload(**overrides: Any) -> spec.WorkloadSpec:
    data: dict[str, Any] = {
        "name": "chat",
        "kind": "llm",
        "unit": "concurrency",
        "gpu": "A100-80GB",
        "gpus_per_replica": 1,
        "capacity_per_replica": 4,
        "target_utilization": 0.8,
        "min_replicas": 1,
        "max_replicas": 40,
        "lead_time": "10m",
        "request": {"prompt_tokens": 500, "completion_tokens": 300, "ttft_s": 0.5, "itl_s": 0.03},
        "capacity_types": ["reserved", "spot", "on_demand"],
    }
    data.update(overrides)
    (parsed,) = workloads.parse_workloads(data)
    return parsed


@pytest.fixture(scope="module")
def history() -> pd.Series:
    return arrivals.daily_wave()


@pytest.fixture(scope="module")
def forecast(history: pd.Series) -> fc.Forecast:
    return fc.forecast(history, horizon_s=86400)


def _inputs(
    history: pd.Series, forecast: fc.Forecast, workload: spec.WorkloadSpec
) -> content.WorkloadInputs:
    lt = lead_time.learn(workload, [], now=history.index[-1].to_pydatetime())
    return content.WorkloadInputs(
        workload=workload,
        history=history,
        column="requests",
        forecast=forecast,
        plan=plan.build_plan(workload, forecast, lead_time_s=lt.seconds),
        lead_time=lt,
        budget_note=None,
        simulation=None,
        request=workload.request,
    )


def test_costs_are_the_planners_scaled_to_a_week(history: pd.Series, forecast: fc.Forecast) -> None:
    """A 24 h plan: per-week figures are the horizon's x 168 / 24 = x 7."""
    inputs = _inputs(history, forecast, _workload())
    section = content.workload_report(inputs)
    summary = inputs.plan.cost
    assert section.cost.horizon_hours == pytest.approx(24.0)
    assert section.cost.total_usd_per_week == pytest.approx(summary.dollars_per_week)
    assert section.cost.total_usd_per_week == pytest.approx(summary.dollars * 7)
    assert section.cost.all_on_demand_usd_per_week == pytest.approx(
        summary.all_on_demand_dollars * 7
    )
    assert [line.cost_usd for line in section.cost.lines] == [t.dollars for t in summary.by_type]
    assert [line.capacity_type.value for line in section.cost.lines] == [
        "reserved",
        "spot",
        "on_demand",
    ]
    saved = (summary.all_on_demand_dollars - summary.dollars) / summary.all_on_demand_dollars
    assert section.cost.savings_vs_on_demand_pct == pytest.approx(saved * 100)


def test_duration_curve_reserves_what_the_planner_reserves(
    history: pd.Series, forecast: fc.Forecast
) -> None:
    inputs = _inputs(history, forecast, _workload())
    r = content.workload_report(inputs).reservation
    assert inputs.plan.reserved > 0
    assert sum(p.reserve for p in r.duration_curve) == inputs.plan.reserved == r.reserved_replicas
    assert r.break_even_fraction == pytest.approx(2.20 / 3.67)
    fractions = [p.share_of_time for p in r.duration_curve]
    assert fractions == sorted(fractions, reverse=True)  # a duration curve never rises
    for p in r.duration_curve:
        assert p.reserve == (p.share_of_time > r.break_even_fraction)


def test_no_reservation_without_reserved_capacity(
    history: pd.Series, forecast: fc.Forecast
) -> None:
    inputs = _inputs(history, forecast, _workload(capacity_types=["spot", "on_demand"]))
    r = content.workload_report(inputs).reservation
    assert inputs.plan.reserved == 0
    assert not any(p.reserve for p in r.duration_curve)


def test_replica_plot_steps_show_real_totals(history: pd.Series, forecast: fc.Forecast) -> None:
    """Each 10-minute step is the busiest minute's row, so the stack sums to a planned total."""
    inputs = _inputs(history, forecast, _workload())
    view = content.workload_report(inputs).replicas
    targets = inputs.plan.targets
    assert len(view.needed.values) == len(targets) // 10
    for i in range(len(view.needed.values)):
        window = targets.iloc[i * 10 : (i + 1) * 10]
        stacked = view.reserved.values[i] + view.spot.values[i] + view.on_demand.values[i]
        assert stacked == window["total"].max()
        assert view.needed.values[i] == window["needed"].max()


def test_history_days_are_the_fits_not_the_shown_window(
    history: pd.Series, forecast: fc.Forecast
) -> None:
    """The daemon passes only the history it shows; the report still says what the model was
    fitted on (three days here, where the last day alone is passed)."""
    shown = history[history.index >= history.index[-1] - pd.Timedelta(days=1)]
    view = content.workload_report(_inputs(shown, forecast, _workload())).forecast
    assert view.history_days == pytest.approx(3.0)
    assert view.history_points == len(history)


def test_forecast_view_and_accuracy(history: pd.Series, forecast: fc.Forecast) -> None:
    section = content.workload_report(_inputs(history, forecast, _workload()))
    view = section.forecast
    assert view.unit_label == "requests per minute"
    assert view.history_days == pytest.approx(3.0)
    assert view.p50.start == forecast.frame.index[0].to_pydatetime()
    assert view.history.end <= view.p50.start
    assert len(view.p50.values) == 24 * 4  # a day at the 15-minute plot step
    assert section.accuracy.model == forecast.model.value
    assert [c.model for c in section.accuracy.candidates] == [
        c.model.value for c in forecast.candidates
    ]
    assert [c.status for c in section.accuracy.candidates] == [
        c.status for c in forecast.candidates
    ]
    assert sum(c.chosen for c in section.accuracy.candidates) == 1
    assert section.lead_time.source == "spec_fallback" and section.lead_time.seconds == 600


def test_fleet_peak_is_the_peak_of_the_sum(history: pd.Series, forecast: fc.Forecast) -> None:
    """Two workloads on A100s, one with 2 GPUs per replica: GPUs at peak is max over minutes
    of (total_a x 1 + total_b x 2), at most the sum of their separate peaks."""
    a = _inputs(history, forecast, _workload())
    b = _inputs(history, forecast, _workload(name="big", gpus_per_replica=2, min_replicas=2))
    report = content.report(
        [a, b], trace_name="t.csv", workload_file="w.yaml", generated_at=datetime.now(UTC)
    )
    (a100,) = report.fleet.gpu_types
    summed = a.plan.targets["total"] + 2 * b.plan.targets["total"]
    assert a100.gpus_at_peak == summed.max()
    assert a100.gpus_at_peak <= sum(w.peak_gpus for w in report.workloads)
    assert report.fleet.usd_per_week == pytest.approx(
        a.plan.cost.dollars_per_week + b.plan.cost.dollars_per_week
    )
    assert report.fleet.savings_vs_on_demand_usd_per_week == pytest.approx(
        report.fleet.all_on_demand_usd_per_week - report.fleet.usd_per_week
    )
    assert report.schema_version == model.SCHEMA_VERSION
    assert report.horizon_hours == pytest.approx(24.0)
    # three days of history: one warning for the forecast both workloads share
    short = [c for c in report.fleet.caveats if c.kind is model.CaveatKind.short_history]
    assert len(short) == 1
    assert short[0].message.startswith("chat, big (requests): only 3.0 days of history")
    assert not math.isnan(report.fleet.savings_vs_static_pct)


def test_unit_costs_by_type_add_up(history: pd.Series, forecast: fc.Forecast) -> None:
    """Each type's $ / 1M requests is its dollars over the same requests, so they sum to the
    plan's unit cost."""
    cost = content.workload_report(_inputs(history, forecast, _workload())).cost
    by_type = [line.usd_per_million_requests for line in cost.lines]
    assert all(v is not None for v in by_type)
    assert sum(v for v in by_type if v is not None) == pytest.approx(cost.usd_per_million_requests)
    tokens = [line.usd_per_million_tokens for line in cost.lines]
    assert sum(v for v in tokens if v is not None) == pytest.approx(cost.usd_per_million_tokens)
