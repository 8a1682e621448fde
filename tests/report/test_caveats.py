"""Which warnings the fleet summary shows for a workload: a decision table over the rules."""

from __future__ import annotations

from typing import Any

import pytest
import report_builders as build

from planner import lead_time
from report import caveats, model

K = model.CaveatKind
LEARNED = lead_time.LeadTimeSource.LEARNED


def _kinds(w: model.WorkloadReport) -> set[model.CaveatKind]:
    return {c.kind for c in caveats.for_workload(w)}


def _measured(**overrides: Any) -> model.WorkloadReport:
    """The builder's workload with a learned lead time: its default, configured one raises
    the lead-time caveat."""
    learned = model.LeadTimeView(600.0, LEARNED, "P90 of 40 cold starts")
    return build.workload(lead_time=learned, **overrides)


@pytest.mark.parametrize(
    ("workload", "expected"),
    [
        pytest.param(_measured(), set(), id="healthy-workload-no-caveat"),
        pytest.param(build.workload(), {K.lead_time_fallback}, id="configured-lead-time"),
        pytest.param(
            _measured(forecast=build.forecast_view(history_days=10.0)),
            {K.short_history},
            id="10-days-is-short-history",
        ),
        pytest.param(
            _measured(accuracy=build.accuracy(chosen_ratio_to_naive=0.95)),
            {K.low_accuracy},
            id="ratio-0.95-above-0.9-is-low-accuracy",
        ),
        pytest.param(
            _measured(accuracy=build.accuracy(chosen_ratio_to_naive=0.9)),
            set(),
            id="ratio-0.9-exactly-is-fine",
        ),
        pytest.param(
            _measured(accuracy=build.accuracy(coverage_p90=0.80)),
            {K.coverage_off},
            id="p90-covers-80pct-too-narrow",
        ),
        pytest.param(
            _measured(accuracy=build.accuracy(coverage_p90=0.97)),
            {K.coverage_off},
            id="p90-covers-97pct-too-wide",
        ),
        pytest.param(
            _measured(accuracy=build.accuracy(coverage_p99=0.95)),
            {K.coverage_off},
            id="p99-covers-95pct",
        ),
        pytest.param(
            _measured(accuracy=build.accuracy(coverage_p90=None, coverage_p99=None)),
            {K.no_backtest},
            id="no-backtest",
        ),
        pytest.param(
            _measured(target_utilization=0.99),
            {K.spec_range},
            id="utilisation-0.99-no-headroom",
        ),
        pytest.param(
            build.workload(lead_time=model.LeadTimeView(7200.0, LEARNED, "")),
            {K.spec_range},
            id="lead-time-2h-suspicious",
        ),
        pytest.param(
            _measured(reservation=build.reservation(price_reserved_per_gpu_hour=4.0)),
            {K.spec_range},
            id="reserved-not-cheaper",
        ),
        pytest.param(
            _measured(peak_needed=80),
            {K.spec_range},
            id="peak-need-80-above-max-64",
        ),
        pytest.param(
            _measured(budget_note="pool gpu-a holds 8 GPUs; cut from 9 to 8"),
            {K.budget_binding},
            id="budget-binds",
        ),
    ],
)
def test_caveat_rules(workload: model.WorkloadReport, expected: set[model.CaveatKind]) -> None:
    assert _kinds(workload) == expected


@pytest.mark.parametrize(
    ("days", "text"),
    [(10.0, "only 10.0 days of history"), (58 / 1440, "only 58 min of history")],
    ids=["days", "an-hour-in-minutes"],
)
def test_short_history_in_readable_units(days: float, text: str) -> None:
    w = build.workload(forecast=build.forecast_view(history_days=days))
    (short,) = [c for c in caveats.for_workload(w) if c.kind is K.short_history]
    assert text in short.message


def test_short_history_says_when_the_week_was_copied() -> None:
    """With 8-13 days weekly seasonal-naive can be chosen: the caveat must not say the weekly
    cycle is unknown, but that it is one week's copy checked on few folds."""
    short = build.forecast_view(history_days=10.0)
    copied = build.accuracy(model="seasonal_naive_weekly", reason="insufficient_history_daily")
    (caveat,) = [
        c
        for c in caveats.for_workload(build.workload(forecast=short, accuracy=copied))
        if c.kind is K.short_history
    ]
    assert "the weekly cycle is copied from the one week before" in caveat.message
    assert "cannot be learned" not in caveat.message
    (daily,) = [
        c for c in caveats.for_workload(build.workload(forecast=short)) if c.kind is K.short_history
    ]
    assert "the weekly cycle cannot be learned, the forecast uses holt_winters" in daily.message


def test_caveat_message_names_workload_value_and_fix() -> None:
    w = _measured(forecast=build.forecast_view(history_days=10.0))
    (caveat,) = caveats.for_workload(w)
    assert caveat.workload == "chat-llama-8b"
    assert "10.0 days" in caveat.message
    assert "supply at least two weeks of history before buying them" in caveat.message


def test_fleet_says_each_shared_caveat_once() -> None:
    """Two workloads forecast from one column with 10 days of history and configured lead
    times: one short-history caveat naming both, one lead-time caveat listing both."""
    short = build.forecast_view(history_days=10.0)
    a = build.workload(forecast=short)
    b = build.workload(name="vision-vit", forecast=short)
    fleet = caveats.for_fleet([a, b])
    assert [c.kind for c in fleet] == [K.short_history, K.lead_time_fallback]
    assert fleet[0].message.startswith("chat-llama-8b, vision-vit (requests): only 10.0 days")
    assert "(chat-llama-8b 10 min, vision-vit 10 min)" in fleet[1].message
    assert all(c.workload is None for c in fleet)
