"""Pure: rolling-origin backtest of the candidate models on one bucket series.

Folds end at the end of the history and step back one fold length at a time: with a weekly
regime the last three weeks are three one-week folds, each forecast from everything before it.
Each candidate is scored on the folds where it has its minimum history; its ratio to the
baseline is taken on those same folds, so a model that skipped the hardest (earliest, shortest
history) fold gains nothing from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forecaster import candidates, models
from forecaster.candidates import ModelName, Regime

# At least 3 folds when history allows (the rule); in the daily regime folds are one
# day, and more of them are cheap and steady the calibration.
WEEKLY_FOLDS = 3
DAILY_FOLDS = 6


@dataclass(frozen=True)
class Fold:
    origin: int  # index into the series of the first forecast bucket
    steps: int  # forecast length (residuals for calibration)
    scored_steps: int  # the leading steps the MAE is taken on


@dataclass(frozen=True)
class Score:
    model: ModelName
    mae: float  # mean over the folds this model ran on
    baseline_mae: float  # the baseline's mean MAE over the same folds
    folds: int

    @property
    def ratio(self) -> float:
        if self.folds == 0 or not self.baseline_mae > 0:
            return math.nan
        return self.mae / self.baseline_mae


@dataclass(frozen=True)
class Result:
    folds: tuple[Fold, ...]
    scores: tuple[Score, ...]
    # Per model, per fold: the point forecast (None where the model could not run).
    forecasts: dict[ModelName, tuple[np.ndarray | None, ...]]
    members: tuple[ModelName, ...]  # ensemble members, best first


def plan_folds(n: int, regime: Regime, season: models.Season) -> tuple[Fold, ...]:
    if regime is Regime.LEVEL:
        return ()
    length = season.week if regime is Regime.WEEKLY else season.day
    wanted = WEEKLY_FOLDS if regime is Regime.WEEKLY else DAILY_FOLDS
    # Every fold keeps at least one fold length of history before it.
    count = min(wanted, n // length - 1)
    if regime is Regime.WEEKLY:
        return tuple(Fold(n - i * length, length, length) for i in range(count, 0, -1))
    # Daily folds run to the end of the history, so errors several days ahead are measured
    # too: the forecast horizon is a week even when the history is short.
    if count < 1 and n > length:
        # Between one and two days: one partial-day fold after the first full day.
        return (Fold(length, n - length, n - length),)
    # The MAE is taken on the first day of each fold, so every fold weighs the same.
    return tuple(Fold(n - i * length, i * length, length) for i in range(count, 0, -1))


def mae(point: np.ndarray, actual: np.ndarray) -> float:
    ok = np.isfinite(actual) & np.isfinite(point)
    return float(np.mean(np.abs(actual[ok] - point[ok]))) if ok.any() else math.nan


def fold_forecasts(  # noqa: PLR0917 - the fold plan travels with the model it tests
    model: ModelName,
    y: np.ndarray,
    folds: tuple[Fold, ...],
    season: models.Season,
    regime: Regime,
    members: tuple[ModelName, ...] = (),
) -> tuple[np.ndarray | None, ...]:
    """Forecast each fold from the history before it; None where history is too short."""
    need = max(
        [candidates.min_history(m, regime, season) for m in (*members, model)],
        default=1,
    )
    out: list[np.ndarray | None] = []
    for fold in folds:
        if fold.origin < need:
            out.append(None)
            continue
        out.append(candidates.predict(model, y[: fold.origin], fold.steps, season, regime, members))
    return tuple(out)


def _score(
    model: ModelName,
    forecasts: tuple[np.ndarray | None, ...],
    baseline: tuple[np.ndarray | None, ...],
    y: np.ndarray,
    folds: tuple[Fold, ...],
) -> Score:
    own: list[float] = []
    base: list[float] = []
    for fold, point, reference in zip(folds, forecasts, baseline, strict=True):
        if point is None or reference is None:
            continue
        actual = y[fold.origin : fold.origin + fold.scored_steps]
        own.append(mae(point[: fold.scored_steps], actual))
        base.append(mae(reference[: fold.scored_steps], actual))
    if not own:
        return Score(model, math.nan, math.nan, 0)
    return Score(model, float(np.nanmean(own)), float(np.nanmean(base)), len(own))


def run(y: np.ndarray, regime: Regime, season: models.Season) -> Result:
    """Backtest every candidate of the regime, then an ensemble of the best few."""
    folds = plan_folds(y.size, regime, season)
    baseline_model = candidates.BASELINE[regime]
    forecasts = {
        model: fold_forecasts(model, y, folds, season, regime)
        for model in candidates.CANDIDATES[regime]
    }
    baseline = forecasts[baseline_model]
    scores = [_score(m, f, baseline, y, folds) for m, f in forecasts.items()]
    # Only models that ran on at least all but one fold may join the ensemble or be chosen.
    enough = max(1, len(folds) - 1)
    ranked = sorted(
        (s for s in scores if s.folds >= enough and math.isfinite(s.ratio)),
        key=lambda s: s.ratio,
    )
    members = tuple(s.model for s in ranked if s.model is not baseline_model)[
        : candidates.ENSEMBLE_SIZE
    ]
    if len(members) >= 2:
        # The ensemble's fold forecasts are the mean of its members' (no refit needed).
        ensemble = tuple(
            None
            if any(forecasts[m][i] is None for m in members)
            else np.mean([np.asarray(forecasts[m][i]) for m in members], axis=0)
            for i in range(len(folds))
        )
        forecasts[ModelName.ENSEMBLE] = ensemble
        scores.append(_score(ModelName.ENSEMBLE, ensemble, baseline, y, folds))
    return Result(folds, tuple(scores), forecasts, members)


def choose(result: Result, regime: Regime) -> ModelName:
    """Lowest ratio to the baseline among models that ran on enough folds; never worse."""
    baseline_model = candidates.BASELINE[regime]
    enough = max(1, len(result.folds) - 1)
    best = baseline_model
    best_ratio = 1.0
    for score in result.scores:
        if score.folds >= enough and math.isfinite(score.ratio) and score.ratio < best_ratio:
            best, best_ratio = score.model, score.ratio
    return best


def actuals(y: np.ndarray, folds: tuple[Fold, ...]) -> tuple[np.ndarray, ...]:
    return tuple(y[f.origin : f.origin + f.steps] for f in folds)
