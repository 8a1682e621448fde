"""Weekly seasonal-naive with 8-13 days of history (backtest rule 6).

Histories between one and two weeks are in the daily regime; weekly seasonal-naive is scored
there only on the latest folds that have a week of history before them, and wins when it beats
the daily choice on those folds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecaster import backtest, forecast, models
from forecaster.candidates import ModelName, Regime

# A Friday: ten days from here end at the end of a Sunday.
FRIDAY = pd.Timestamp("2024-01-05T00:00:00Z")
WEEKDAY_LEVEL = 120.0
WEEKEND_LEVEL = 15.0


def _per_minute(days: int, *, weekly: bool, seed: int = 3) -> pd.Series:
    """Poisson requests per minute with a daily shape; with `weekly`, quiet weekends."""
    index = pd.date_range(FRIDAY, periods=days * 1440, freq="1min")
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    shape = 1.0 + 0.3 * np.sin(2 * np.pi * (hour - 8) / 24)
    weekend = index.day_of_week.to_numpy() >= 5
    level = np.where(weekend & weekly, WEEKEND_LEVEL, WEEKDAY_LEVEL) * shape
    rng = np.random.default_rng(seed)
    return pd.Series(rng.poisson(level).astype(float), index=index)


def _score(selection: forecast.Selection, model: ModelName) -> forecast.CandidateScore | None:
    return next((c for c in selection.candidates if c.model is model), None)


def test_ten_days_ending_on_a_quiet_sunday_forecast_the_weekdays_at_the_weekday_level() -> None:
    history = _per_minute(10, weekly=True)
    assert history.index[-1].day_name() == "Sunday"
    result = forecast.forecast(history)
    selection = result.selection
    assert selection.regime is Regime.DAILY
    assert result.model is ModelName.SEASONAL_NAIVE_WEEKLY
    assert selection.choice is backtest.Choice.WEEKLY_ON_LATEST_FOLDS
    weekly = _score(selection, ModelName.SEASONAL_NAIVE_WEEKLY)
    assert weekly is not None
    # Origins at days 7, 8 and 9 of the ten have a week before them; days 4-6 do not.
    assert weekly.status is backtest.Status.LATEST_FOLDS
    assert (weekly.folds, selection.folds) == (3, 6)
    frame = result.frame
    days = pd.DatetimeIndex(frame.index).day_of_week
    weekdays = frame["p50"][days < 5]
    assert len(weekdays) == 5 * 288
    # Per input interval (a minute): the mean of the weekday shape is WEEKDAY_LEVEL.
    assert weekdays.mean() == pytest.approx(WEEKDAY_LEVEL, rel=0.05)
    assert frame["p50"][days >= 5].mean() == pytest.approx(WEEKEND_LEVEL, rel=0.1)
    # The band comes from the folds weekly naive was forecast on: Poisson-sized at the
    # weekday level, not the weekday-weekend gap the daily models missed by.
    band = (frame["p90"] - frame["p50"])[days < 5].mean()
    assert 0 < band < 0.2 * WEEKDAY_LEVEL
    assert selection.coverage_p90 is not None and selection.coverage_p90 > 0.8


def test_ten_days_without_a_weekly_pattern_keep_a_daily_model() -> None:
    selection = forecast.select(_per_minute(10, weekly=False))
    assert selection.regime is Regime.DAILY
    assert selection.model is not ModelName.SEASONAL_NAIVE_WEEKLY
    weekly = _score(selection, ModelName.SEASONAL_NAIVE_WEEKLY)
    chosen = _score(selection, selection.model)
    # Weekly naive was scored (on the latest 3 folds) and lost: a copy of one noisy week is
    # no better than a copy of one noisy day, and the choice averages several days.
    assert weekly is not None and chosen is not None
    assert weekly.status is backtest.Status.LATEST_FOLDS and weekly.folds == 3
    assert math.isfinite(weekly.mae) and weekly.mae > chosen.mae


def _hourly(days: int) -> np.ndarray:
    hours = np.arange(days * 24)
    weekend = ((hours // 24) % 7) >= 5
    return np.where(weekend, 10.0, 100.0) + 5.0 * np.sin(2 * np.pi * hours / 24)


@pytest.mark.parametrize(("days", "weekly_folds"), [(2, 0), (7, 0), (8, 1), (10, 3), (13, 6)])
def test_weekly_naive_is_scored_only_on_folds_with_a_week_before_them(
    days: int, weekly_folds: int
) -> None:
    season = models.season_for(3600)
    y = _hourly(days)
    result = backtest.run(y, Regime.DAILY, season)
    late = backtest.weekly_folds(result, Regime.DAILY)
    assert len(late) == weekly_folds
    assert all(f.origin >= season.week for f in late)
    assert late == result.folds[len(result.folds) - weekly_folds :]
    scored = [s for s in result.scores if s.model is ModelName.SEASONAL_NAIVE_WEEKLY]
    if weekly_folds == 0:
        assert scored == []
        assert backtest.choose(result, Regime.DAILY) is not ModelName.SEASONAL_NAIVE_WEEKLY
        return
    (score,) = scored
    assert (score.status, score.folds) == (backtest.Status.LATEST_FOLDS, weekly_folds)
    # Refits cover the same folds as the scored forecasts (what calibration pairs them with).
    refits = backtest.refit(ModelName.SEASONAL_NAIVE_WEEKLY, y, result, season, Regime.DAILY)
    assert len(refits) == weekly_folds
    for point, again in zip(result.forecasts[ModelName.SEASONAL_NAIVE_WEEKLY], refits, strict=True):
        np.testing.assert_array_equal(point, again)
    # The weekend is copied from a week before, so weekly naive is exact here and chosen.
    assert score.mae == pytest.approx(0.0)
    assert backtest.choose(result, Regime.DAILY) is ModelName.SEASONAL_NAIVE_WEEKLY
