"""bench/corpus.py's week measures, which its "why" lines rest on (a minute is unannounced only
when neither the hour before its order nor the same time a week before needed as much), and the
cut that makes an earlier week the held-out one (--weeks)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecaster import series

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import corpus  # bench/ holds scripts, not a package: imported from its path

WEEK = corpus.WEEK_MINUTES
LEAD = 10


def _flat(level: float) -> np.ndarray:
    return np.full(WEEK, level)


def test_a_spike_nothing_showed_is_unannounced_and_the_level_is_the_mean_ratio() -> None:
    week = _flat(2.0)
    week[5000:5003] = 5.0
    share, level = corpus.week_measures(_flat(2.0), week, LEAD)
    assert share == pytest.approx(100.0 * 3 / WEEK)
    assert level == pytest.approx(week.mean() / 2.0)


def test_a_spike_last_week_had_at_the_same_time_is_announced() -> None:
    before, week = _flat(2.0), _flat(2.0)
    before[5000 - LEAD : 5003 + LEAD] = 5.0  # within one cold start of the same minutes
    week[5000:5003] = 5.0
    assert corpus.week_measures(before, week, LEAD)[0] == 0.0
    before[:] = 2.0
    before[5000 - 3 * LEAD : 5000 - 2 * LEAD] = 5.0  # earlier than one cold start: not
    assert corpus.week_measures(before, week, LEAD)[0] == pytest.approx(100.0 * 3 / WEEK)


def test_a_spike_within_the_hour_before_the_order_announces_the_next() -> None:
    week = _flat(2.0)
    week[4960:4965] = 5.0  # 40 minutes before the second spike, 30 before its order
    week[5000:5003] = 5.0
    share, _ = corpus.week_measures(_flat(2.0), week, LEAD)
    assert share == pytest.approx(100.0 * 5 / WEEK)  # the first is unannounced, not the second
    late = _flat(2.0)
    late[4995:4998] = 5.0  # 5 minutes before: after the order, so it announces nothing
    late[5000:5003] = 5.0
    assert corpus.week_measures(_flat(2.0), late, LEAD)[0] == pytest.approx(100.0 * 6 / WEEK)


def test_gaps_are_left_out_and_a_missing_week_before_leaves_the_level_unknown() -> None:
    week = _flat(2.0)
    week[:100] = np.nan
    week[5000] = 5.0
    share, level = corpus.week_measures(np.full(WEEK, np.nan), week, LEAD)
    # the gap, and the first cold start after it (nothing known before their orders), are out
    assert share == pytest.approx(100.0 / (WEEK - 100 - LEAD))
    assert np.isnan(level)


def _hourly_trace(days: int) -> series.Trace:
    index = pd.date_range("2026-01-05", periods=days * 24, freq="3600s", tz="UTC")
    values = pd.Series(np.arange(index.size, dtype=float), index=index)
    return series.Trace(values, 3600, "requests", None, None)


def test_an_earlier_week_is_the_trace_cut_that_many_weeks_before_its_end() -> None:
    trace = _hourly_trace(days=42)
    last = corpus._cap_history(trace, history_weeks=2)
    earlier = corpus._cap_history(trace, history_weeks=2, weeks_back=2)
    assert last is not None and earlier is not None
    # three weeks each (two of history, the replayed one), ending 0 and 2 weeks before the end
    assert len(last.values) == len(earlier.values) == 21 * 24
    assert last.values.iloc[-1] == 42 * 24 - 1
    assert earlier.values.iloc[-1] == 28 * 24 - 1
    assert pd.DatetimeIndex(earlier.values.index).freq == pd.Timedelta(hours=1)


def test_the_forecasts_hindsight_is_the_candidate_nearest_the_held_out_week() -> None:
    """On a noisy weekly pattern a model that averages weeks beats copying the last one (the
    baseline, 1.0 by definition), so the best candidate's ratio is below 1; without
    --hindsight nothing is computed."""
    index = pd.date_range("2026-01-05", periods=28 * 24, freq="3600s", tz="UTC")
    hours = np.arange(index.size)
    rate = 200 + 150 * np.sin(2 * np.pi * hours / 24) + 60 * (index.day_of_week < 5)
    noisy = np.random.default_rng(7).poisson(rate).astype(float)
    trace = series.Trace(pd.Series(noisy, index=index), 3600, "requests", None, None)
    *_, best = corpus._forecast_part(trace, 3600, hindsight=True)
    assert best is not None
    model, ratio = best
    assert model in {str(m) for m in corpus.candidates.CANDIDATES[corpus.candidates.Regime.WEEKLY]}
    assert ratio < 0.95
    assert corpus._forecast_part(trace, 3600)[-1] is None


def test_a_cut_leaving_less_than_two_weeks_is_left_out() -> None:
    trace = _hourly_trace(days=21)
    assert corpus._cap_history(trace, history_weeks=8, weeks_back=1) is not None  # 14 days
    assert corpus._cap_history(trace, history_weeks=8, weeks_back=2) is None  # 7 days


def test_the_excess_over_the_oracle_is_split_between_level_band_and_step() -> None:
    oracle = np.array([2, 2, 4, 4, 3])
    median_floors = np.array([2, 2, 2, 5, 4])
    floors = np.array([3, 2, 2, 5, 6])
    billed = np.array([4, 2, 3, 5, 6])
    split = corpus.excess(billed, oracle, floors, median_floors)
    # minute 0: 2 above, 1 asked for by the band (the P50 floor asked for none), 1 by the step;
    # minute 2: 1 below; minute 3: 1 by the level; minute 4: 3 above, 1 by the level, 2 by the
    # band
    assert split == corpus.Excess(level=2 / 15, band=3 / 15, step=1 / 15, below=1 / 15)
    assert split.floor == pytest.approx(5 / 15)
    assert 1 + split.floor + split.step - split.below == pytest.approx(billed.sum() / oracle.sum())


def test_unserved_minutes_are_counted_as_runs_a_gap_ending_one() -> None:
    nan = np.nan
    served = np.array([0, 0, 1, 1, 0, 0, 0, 0, nan, 0, 1, 0], dtype=float)
    # runs: minutes 0-1, 4-7 (ended by the gap), 9, 11 (at the end)
    assert corpus.misses(served) == corpus.Misses(runs=4, median_minutes=1.5, longest_minutes=4)
    assert corpus.misses(np.array([1.0, nan, 1.0])) == corpus.Misses(0, 0.0, 0)


def test_a_weeks_mean_fleet_is_its_gpu_hours_over_the_weeks_hours() -> None:
    # 336 GPU-hours over a week of 168 hours: two replicas of one GPU on average
    assert corpus.mean_replicas(corpus.PolicyFigures(99.9, 336.0, 1.2)) == pytest.approx(2.0)
