"""The operating-point chooser: walk-forward windows, the cheapest point meeting the SLO, and
the frontier it saw."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import simulator_builders as b

from planner import operating, spec
from simulator import operating_point, results

DAY_MINUTES = 1440


def _inputs(per_minute: np.ndarray, slo_pct: float = 99.5) -> operating_point.Inputs:
    workload = b.workload(slo={"served_minutes": slo_pct}, max_replicas=100)
    return operating_point.Inputs(
        workload=workload,
        history=b.minute_trace(per_minute),
        lead_time_s=180,
        mix=results.MixMode.ON_DEMAND,
        refit_every_s=6 * 3600,
        resolution_s=3600,
        request=workload.request,
        reserved=0,
    )


def _daily(days: float, noise: float = 0.0) -> np.ndarray:
    """A daily cycle of 2 .. 10 req/s (arrivals 60x), with seeded multiplicative noise."""
    minutes = np.arange(int(days * DAY_MINUTES))
    rate = 6.0 + 4.0 * np.sin(2 * np.pi * minutes / DAY_MINUTES)
    rng = np.random.default_rng(0)
    return 60.0 * rate * rng.lognormal(0.0, noise, minutes.size)


def test_windows_take_at_most_two_weeks_and_leave_half_the_history_before_them() -> None:
    assert operating_point.windows(b.minute_trace(np.ones(DAY_MINUTES))) == ()
    three_days = operating_point.windows(b.minute_trace(np.ones(3 * DAY_MINUTES)))
    assert three_days == ((2160, 4320),)  # 1.5 days of history, then 1.5 days replayed
    six_weeks = operating_point.windows(b.minute_trace(np.ones(42 * DAY_MINUTES)))
    assert six_weeks == ((28 * DAY_MINUTES, 35 * DAY_MINUTES), (35 * DAY_MINUTES, 42 * DAY_MINUTES))


def test_too_little_history_keeps_the_spec_quantile() -> None:
    choice = operating_point.choose(_inputs(_daily(1.5)))
    assert choice.point == operating.DEFAULT and not choice.met and choice.frontier == ()


def test_the_choice_is_the_cheapest_point_that_meets_the_slo_over_its_windows() -> None:
    choice = operating_point.choose(_inputs(_daily(3, noise=0.05)))
    wanted = 99.5
    meeting = [f for f in choice.frontier if f.pooled_served_pct >= wanted]
    assert choice.met and meeting
    chosen = next(f for f in choice.frontier if f.point == choice.point)
    assert chosen.gpu_hours == min(f.gpu_hours for f in meeting)
    assert 0 < len(choice.frontier) <= len(operating_point.GRID)
    # the frontier rows are cheapest first and each serves more than every cheaper one
    rows = operating_point.frontier_rows(choice)
    assert [r[2] for r in rows] == sorted(r[2] for r in rows)
    assert any(r[3] for r in rows)


def test_an_slo_no_point_meets_picks_the_point_serving_most() -> None:
    # every minute served is not reachable on a noisy series with a 3-minute cold start
    choice = operating_point.choose(_inputs(_daily(3, noise=0.6), slo_pct=100.0))
    assert not choice.met
    chosen = next(f for f in choice.frontier if f.point == choice.point)
    assert chosen.pooled_served_pct == max(f.pooled_served_pct for f in choice.frontier)


def test_the_served_share_is_pooled_over_the_windows() -> None:
    point = operating.OperatingPoint(0.5, False, operating.HoldRule.COOLDOWN)
    frontier = results.Frontier(point, (99.2, 99.9), 10.0)
    # one window under 99.5 and the other above: the two weeks together serve 99.55 %
    assert frontier.pooled_served_pct == pytest.approx(99.55)
    assert math.isnan(results.Frontier(point, (), 0.0).pooled_served_pct)  # no window


def test_the_spec_slo_is_what_the_choice_is_for() -> None:
    choice = operating_point.choose(_inputs(_daily(3, noise=0.05), slo_pct=99.0))
    assert choice.slo == spec.Slo(served_minutes_pct=99.0)


def test_a_window_after_ten_days_ending_on_a_quiet_sunday_is_forecast_by_weekday() -> None:
    """17 days from a Friday: the one window is the last week (Monday to Sunday) and its model
    is chosen on the 10 days before it, which end on a quiet Sunday. Weekly seasonal-naive is
    chosen there (backtest rule 6), so the floor follows the weekdays and the cheapest band
    meets the SLO; with daily models only, the weekdays were planned at the Sunday level and
    no point of the grid served 99.5 % (99.04 % at the widest band)."""
    days = 17
    friday = b.MONDAY + pd.Timedelta(days=4)
    minutes = np.arange(days * DAY_MINUTES)
    stamps = pd.date_range(friday, periods=minutes.size, freq="min", tz="UTC")
    weekend = stamps.day_of_week.to_numpy() >= 5
    rate = np.where(weekend, 1.0, 10.0) * (1.0 + 0.3 * np.sin(2 * np.pi * minutes / DAY_MINUTES))
    per_minute = 60.0 * rate * np.random.default_rng(0).lognormal(0.0, 0.05, minutes.size)
    inputs = dataclasses.replace(
        _inputs(per_minute), history=b.minute_trace(per_minute, start=friday)
    )
    ((start, _),) = operating_point.windows(inputs.history)
    before = inputs.history.values.index[start - 1]
    assert (start // DAY_MINUTES, before.day_name()) == (10, "Sunday")
    choice = operating_point.choose(inputs)
    assert choice.met
    chosen = next(f for f in choice.frontier if f.point == choice.point)
    assert chosen.pooled_served_pct >= 99.5
    assert choice.point.band_scale == 0.0
