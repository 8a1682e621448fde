"""Pure: the named candidate models, which history each needs, and how to run one by name.

The history regime decides which seasons can be learned: two weeks or more allow weekly models;
one day to two weeks daily ones, plus weekly seasonal-naive from 8 days, scored on the latest
folds with a week of history before them (backtest.py, rule 6); less than a day only a recent
level.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from forecaster import models


class ModelName(StrEnum):
    SEASONAL_NAIVE_WEEKLY = "seasonal_naive_weekly"
    SEASONAL_NAIVE_DAILY = "seasonal_naive_daily"
    WEEKLY_PROFILE = "weekly_profile"
    HOLT_WINTERS = "holt_winters"
    MSTL = "mstl"
    FOURIER = "fourier"
    ENSEMBLE = "ensemble"
    RECENT_LEVEL = "recent_level"
    DAILY_PROFILE = "daily_profile"


class Regime(StrEnum):
    WEEKLY = "weekly"  # >= 2 weeks of history: weekly seasons, one-week backtest folds
    DAILY = "daily"  # 1 day .. 2 weeks: daily seasons only, one-day folds
    LEVEL = "level"  # < 1 day: the recent level, no backtest


# Two weeks of history before the weekly models are trusted (one season to copy, one to check).
WEEKLY_MIN_HISTORY_S = 14 * 86400
DAILY_MIN_HISTORY_S = 86400

# The ensemble averages this many of the best single models (by backtest MAE).
ENSEMBLE_SIZE = 3

CANDIDATES: dict[Regime, tuple[ModelName, ...]] = {
    Regime.WEEKLY: (
        ModelName.SEASONAL_NAIVE_WEEKLY,
        ModelName.SEASONAL_NAIVE_DAILY,
        ModelName.WEEKLY_PROFILE,
        ModelName.HOLT_WINTERS,
        ModelName.MSTL,
        ModelName.FOURIER,
    ),
    Regime.DAILY: (
        ModelName.SEASONAL_NAIVE_DAILY,
        ModelName.DAILY_PROFILE,
        ModelName.HOLT_WINTERS,
        ModelName.MSTL,
        ModelName.FOURIER,
    ),
    Regime.LEVEL: (ModelName.RECENT_LEVEL,),
}

# The model every other is compared with in each regime; selection never picks worse.
BASELINE: dict[Regime, ModelName] = {
    Regime.WEEKLY: ModelName.SEASONAL_NAIVE_WEEKLY,
    Regime.DAILY: ModelName.SEASONAL_NAIVE_DAILY,
    Regime.LEVEL: ModelName.RECENT_LEVEL,
}


def regime_for(history_s: float) -> Regime:
    if history_s >= WEEKLY_MIN_HISTORY_S:
        return Regime.WEEKLY
    if history_s >= DAILY_MIN_HISTORY_S:
        return Regime.DAILY
    return Regime.LEVEL


def min_history(model: ModelName, regime: Regime, season: models.Season) -> int:
    """Buckets of history a model needs before it is itself (not a fallback)."""
    period = season.week if regime is Regime.WEEKLY else season.day
    if model in (ModelName.HOLT_WINTERS, ModelName.MSTL):
        return 2 * period
    if model is ModelName.RECENT_LEVEL:
        return 1
    if model is ModelName.SEASONAL_NAIVE_DAILY:
        return season.day
    if model is ModelName.SEASONAL_NAIVE_WEEKLY:
        return season.week
    return period


def predict(  # noqa: PLR0917 - mirrors the model functions' (y, steps, season) order
    model: ModelName,
    y: np.ndarray,
    steps: int,
    season: models.Season,
    regime: Regime,
    members: Sequence[ModelName] = (),
) -> np.ndarray:
    """Point forecast of `steps` buckets after `y` by the named model."""
    weekly = regime is Regime.WEEKLY
    if model is ModelName.SEASONAL_NAIVE_WEEKLY:
        return models.seasonal_naive(y, steps, season.week)
    if model is ModelName.SEASONAL_NAIVE_DAILY:
        return models.seasonal_naive(y, steps, season.day)
    if model is ModelName.WEEKLY_PROFILE:
        return models.weekly_profile(y, steps, season)
    if model is ModelName.DAILY_PROFILE:
        return models.daily_profile(y, steps, season)
    if model is ModelName.HOLT_WINTERS:
        return models.holt_winters(y, steps, season, period=season.week if weekly else season.day)
    if model is ModelName.MSTL:
        return models.mstl(y, steps, season if weekly else _daily_only(season))
    if model is ModelName.FOURIER:
        return models.fourier(y, steps, season, weekly=weekly)
    if model is ModelName.ENSEMBLE:
        parts = [predict(m, y, steps, season, regime) for m in members]
        return np.mean(parts, axis=0) if parts else models.recent_level(y, steps, season.day)
    return models.recent_level(y, steps, season.day)


def _daily_only(season: models.Season) -> models.Season:
    # With less than two weeks MSTL must not try a weekly season: pretend the week is a day.
    return models.Season(day=season.day, week=season.day, resolution_s=season.resolution_s)
