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
    history and are scored over all of it (the planner uses every day of the horizon)."""
    folds = backtest.plan_folds(hours, regime, HOURLY)
    assert [(f.origin, f.steps) for f in folds] == expected
    assert all(f.scored_steps == f.steps for f in folds)


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


def _weekly_shape(hours: int, seed: int = 0, noise: float = 0.05) -> np.ndarray:
    """Requests per hour: 100 + 30 sin(day), weekends 20 higher, lognormal noise."""
    t = np.arange(hours, dtype=float)
    shape = 100 + 30 * np.sin(2 * np.pi * t / 24) + 20 * (t % 168 >= 120)
    return shape * np.random.default_rng(seed).lognormal(0.0, noise, size=hours)


SLOW = {ModelName.HOLT_WINTERS, ModelName.MSTL}


@pytest.mark.parametrize(
    ("hours", "regime", "common", "not_eligible"),
    [
        (4 * 168, Regime.WEEKLY, 3, SLOW),
        (5 * 168, Regime.WEEKLY, 3, set()),
        (7 * 24, Regime.DAILY, 5, set()),
        (4 * 24, Regime.DAILY, 3, SLOW),
    ],
    ids=[
        "4 weeks: HW/MSTL have 2 of 3 weekly folds -> not eligible, 3 common",
        "5 weeks: all eligible on 3 weekly folds",
        "7 days: HW/MSTL have 5 of 6 daily folds -> eligible, 5 common",
        "4 days: HW/MSTL have 2 of 3 daily folds -> not eligible, 3 common",
    ],
)
def test_every_eligible_candidate_is_scored_on_the_same_folds(
    hours: int, regime: Regime, common: int, not_eligible: set[ModelName]
) -> None:
    """Holt-Winters and MSTL need 2 seasons before a fold, the others 1 (daily naive 1 day).
    A model is eligible with at least min(3, planned) folds; the common folds are the latest
    ones the most demanding eligible model can run on. Before, each model was scored on the
    folds it could run on (HW 2, the others 3) and the MAEs did not compare."""
    result = backtest.run(_weekly_shape(hours), regime, HOURLY)
    assert len(result.folds) == common
    scored = [s for s in result.scores if s.folds > 0]
    assert {s.folds for s in scored} == {common}
    singles = [s for s in result.scores if s.model is not ModelName.ENSEMBLE]
    assert {s.model for s in singles if s.folds == 0} == not_eligible
    assert all(math.isnan(s.mae) for s in result.scores if s.folds == 0)
    assert all(len(result.forecasts[s.model]) == common for s in scored)


@pytest.mark.parametrize(
    ("hours", "regime", "status"),
    [
        (4 * 168, Regime.WEEKLY, backtest.Status.SHORT_HISTORY),
        (5 * 168, Regime.WEEKLY, backtest.Status.ELIGIBLE),
    ],
    ids=["4 weeks: HW short of history", "5 weeks: HW eligible"],
)
def test_status_says_why_a_candidate_is_not_scored(
    hours: int, regime: Regime, status: backtest.Status
) -> None:
    result = backtest.run(_weekly_shape(hours), regime, HOURLY)
    by_model = {s.model: s for s in result.scores}
    assert by_model[ModelName.HOLT_WINTERS].status is status
    assert by_model[ModelName.HOLT_WINTERS].runnable_folds == hours // 168 - 2


def test_one_fold_is_too_few_to_score_the_ensemble_honestly() -> None:
    """2.5 weeks: one weekly fold; nested member choice needs another fold to choose on."""
    result = backtest.run(_weekly_shape(int(2.5 * 168)), Regime.WEEKLY, HOURLY)
    by_model = {s.model: s for s in result.scores}
    assert len(result.folds) == 1
    assert by_model[ModelName.ENSEMBLE].status is backtest.Status.NO_ENSEMBLE
    assert ModelName.ENSEMBLE not in result.forecasts
    assert result.members == ()


def test_ensemble_members_are_never_chosen_on_the_fold_they_are_scored_on() -> None:
    """Replace the last week's actuals by the forecast of the best model left out of the ensemble
    plus the best member's miss: that model's MAE on the last fold drops and it joins the
    members chosen on all folds, yet the ensemble's forecast of the last fold (whose members
    come from the other folds, and whose inputs precede the last week) does not move. Before,
    members were the best on all folds, so the last week's actuals chose the forecast they
    were scored against.
    (20 % noise keeps the models' MAEs close enough for one fold to reorder them.)"""
    y = _weekly_shape(5 * 168, seed=0, noise=0.2)
    before = backtest.run(y, Regime.WEEKLY, HOURLY)
    outsider = min(
        (
            s
            for s in before.scores
            if s.folds == len(before.folds)
            and s.model
            not in (*before.members, ModelName.ENSEMBLE, ModelName.SEASONAL_NAIVE_WEEKLY)
        ),
        key=lambda s: s.mae,
    ).model
    last = before.folds[-1]
    tampered = y.copy()
    # The outsider's forecast plus the best member's miss: the last week stays as noisy as it
    # was (so members still beat the baseline there) and the outsider's error on it drops.
    best = before.members[0]
    miss = y[last.origin :] - before.forecasts[best][-1]
    tampered[last.origin :] = before.forecasts[outsider][-1] + miss
    after = backtest.run(tampered, Regime.WEEKLY, HOURLY)
    assert outsider in after.members
    np.testing.assert_allclose(
        after.forecasts[ModelName.ENSEMBLE][-1], before.forecasts[ModelName.ENSEMBLE][-1]
    )


def test_each_folds_ensemble_is_the_mean_of_members_chosen_on_the_other_folds() -> None:
    """Members of fold i = the 3 best non-baseline models by mean MAE over folds j != i."""
    y = _weekly_shape(5 * 168, seed=0, noise=0.2)
    result = backtest.run(y, Regime.WEEKLY, HOURLY)
    singles = [
        m
        for m in result.forecasts
        if m not in {ModelName.ENSEMBLE, ModelName.SEASONAL_NAIVE_WEEKLY}
    ]
    for i, members in enumerate(result.fold_members):
        others = [j for j in range(len(result.folds)) if j != i]
        errors = {
            m: np.mean(
                [backtest.fold_mae(result.forecasts[m][j], y, result.folds[j]) for j in others]
            )
            for m in singles
        }
        assert members == tuple(sorted(singles, key=lambda m: errors[m])[:3])
        expected = np.mean([result.forecasts[m][i] for m in members], axis=0)
        np.testing.assert_allclose(result.forecasts[ModelName.ENSEMBLE][i], expected)


def test_choice_is_the_lowest_mae_on_the_common_folds() -> None:
    """Equal fold sets: the lowest MAE wins, even when another model was better on a subset."""
    plan = tuple(backtest.Fold(i * 10, 10, 10) for i in range(1, 4))
    scores = (
        backtest.Score(ModelName.SEASONAL_NAIVE_WEEKLY, 10.0, 10.0, 3),
        backtest.Score(ModelName.FOURIER, 9.5, 10.0, 3),
        backtest.Score(ModelName.ENSEMBLE, 9.8, 10.0, 3),
        backtest.Score(ModelName.MSTL, math.nan, 10.0, 0, backtest.Status.SHORT_HISTORY, 2),
    )
    result = backtest.Result(plan, scores, {}, ())
    assert backtest.choose(result, Regime.WEEKLY) is ModelName.FOURIER


def test_ensemble_members_beat_the_baseline_on_the_folds_that_pick_them() -> None:
    """A series that repeats its week exactly (plus 1 % noise): weekly seasonal-naive is
    nearly perfect, so a member must have a lower MAE than it on the picking folds, and models
    that smooth the week (MAE above naive's) are left out rather than averaged in."""
    y = _weekly_shape(5 * 168, seed=3, noise=0.01)
    y[168:] = np.tile(y[:168], 4)
    result = backtest.run(y, Regime.WEEKLY, HOURLY)
    folds = result.folds

    def mean_mae(model: ModelName, picked: list[int]) -> float:
        return float(
            np.mean([backtest.fold_mae(result.forecasts[model][j], y, folds[j]) for j in picked])
        )

    everything = list(range(len(folds)))
    picks = [(result.members, everything)] + [
        (members, [j for j in everything if j != i])
        for i, members in enumerate(result.fold_members)
    ]
    for members, picked in picks:
        bar = mean_mae(ModelName.SEASONAL_NAIVE_WEEKLY, picked)
        assert all(mean_mae(m, picked) < bar for m in members)
