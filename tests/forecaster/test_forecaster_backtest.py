"""Fold plans, regimes and the never-worse-than-naive choice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecaster import backtest, candidates, models
from forecaster.candidates import ModelName, Regime

HOURLY = models.season_for(3600)
DAY = 86400


@pytest.mark.parametrize(
    ("history_s", "regime"),
    [
        (14 * DAY, Regime.WEEKLY),
        (14 * DAY - 3600, Regime.DAILY),
        (DAY, Regime.DAILY),
        (DAY - 60, Regime.LEVEL),
        (0, Regime.LEVEL),
    ],
    ids=["2 weeks", "2 weeks - 1 h", "1 day", "1 day - 1 min", "nothing"],
)
def test_regime_by_history_length(history_s: float, regime: Regime) -> None:
    assert candidates.regime_for(history_s) is regime


@pytest.mark.parametrize(
    ("hours", "regime", "expected"),
    [
        (5 * 168, Regime.WEEKLY, [(2 * 168, 168), (3 * 168, 168), (4 * 168, 168)]),
        (4 * 168, Regime.WEEKLY, [(168, 168), (2 * 168, 168), (3 * 168, 168)]),
        (int(2.5 * 168), Regime.WEEKLY, [(int(2.5 * 168) - 168, 168)]),
        (3 * 24, Regime.DAILY, [(24, 48), (48, 24)]),
        (10 * 24, Regime.DAILY, [(24 * k, 24 * (10 - k)) for k in range(4, 10)]),
        (30, Regime.DAILY, [(24, 6)]),
    ],
    ids=[
        "5 weeks: last 3 weeks",
        "4 weeks: 3 folds, first fits 1 week",
        "2.5 weeks: 1 fold",
        "3 days: 2 daily folds to the end",
        "10 days: 6 daily folds",
        "30 hours: one partial-day fold",
    ],
)
def test_fold_plan(hours: int, regime: Regime, expected: list[tuple[int, int]]) -> None:
    """(origin, steps): weekly folds are one week each; daily folds run to the end of the
    history so several days ahead are measured, but are scored on their first day."""
    folds = backtest.plan_folds(hours, regime, HOURLY)
    assert [(f.origin, f.steps) for f in folds] == expected
    assert all(
        f.scored_steps == min(f.steps, 168 if regime is Regime.WEEKLY else 24) for f in folds
    )


def _result(ratios: dict[ModelName, float], folds: int = 3) -> backtest.Result:
    plan = tuple(backtest.Fold(i * 10, 10, 10) for i in range(1, folds + 1))
    scores = tuple(backtest.Score(m, 10.0 * r, 10.0, folds) for m, r in ratios.items())
    return backtest.Result(plan, scores, {}, ())


@pytest.mark.parametrize(
    ("ratios", "chosen"),
    [
        (
            {ModelName.SEASONAL_NAIVE_WEEKLY: 1.0, ModelName.FOURIER: 0.8, ModelName.MSTL: 0.9},
            ModelName.FOURIER,
        ),
        (
            {ModelName.SEASONAL_NAIVE_WEEKLY: 1.0, ModelName.FOURIER: 1.2, ModelName.MSTL: 1.01},
            ModelName.SEASONAL_NAIVE_WEEKLY,
        ),
        (
            {ModelName.SEASONAL_NAIVE_WEEKLY: 1.0, ModelName.FOURIER: math.nan},
            ModelName.SEASONAL_NAIVE_WEEKLY,
        ),
    ],
    ids=["best ratio wins", "all worse -> naive", "unscored -> naive"],
)
def test_choose_never_worse_than_naive(ratios: dict[ModelName, float], chosen: ModelName) -> None:
    assert backtest.choose(_result(ratios), Regime.WEEKLY) is chosen


def test_model_that_skipped_too_many_folds_cannot_be_chosen() -> None:
    """3 folds: a model must have run on at least 2 of them."""
    plan = tuple(backtest.Fold(i * 10, 10, 10) for i in range(1, 4))
    scores = (
        backtest.Score(ModelName.SEASONAL_NAIVE_WEEKLY, 10.0, 10.0, 3),
        backtest.Score(ModelName.HOLT_WINTERS, 1.0, 10.0, 1),
    )
    result = backtest.Result(plan, scores, {}, ())
    assert backtest.choose(result, Regime.WEEKLY) is ModelName.SEASONAL_NAIVE_WEEKLY


def test_run_scores_every_candidate_against_the_same_folds() -> None:
    """A clean weekly sine: every candidate gets a finite MAE and the naive ratio is 1."""
    hours = np.arange(4 * 168, dtype=float)
    y = 100 + 30 * np.sin(2 * np.pi * hours / 24) + 20 * (hours % 168 >= 120)
    result = backtest.run(y, Regime.WEEKLY, HOURLY)
    by_model = {s.model: s for s in result.scores}
    assert by_model[ModelName.SEASONAL_NAIVE_WEEKLY].ratio == 1.0
    assert set(candidates.CANDIDATES[Regime.WEEKLY]) <= set(by_model)
    assert all(math.isfinite(s.mae) for s in result.scores if s.folds > 0)
    # Holt-Winters and MSTL need two weeks, so they have the history for only 2 of the 3
    # folds: not eligible at 4 weeks, listed unscored rather than scored on fewer folds.
    assert by_model[ModelName.HOLT_WINTERS].runnable_folds == 2
    assert by_model[ModelName.HOLT_WINTERS].folds == 0
    assert by_model[ModelName.HOLT_WINTERS].status is backtest.Status.SHORT_HISTORY
    assert {s.folds for s in result.scores if s.status is backtest.Status.ELIGIBLE} == {3}
