"""Pure: rolling-origin backtest of the candidate models on one bucket series.

Folds end at the end of the history and step back one fold length at a time: with a weekly
regime the last three weeks are three one-week folds, each forecast from everything before it.

Every candidate is compared on the same folds. The rule:

1. The plan: up to WEEKLY_FOLDS one-week folds (weekly regime) or DAILY_FOLDS one-day folds
   (daily regime), as many as the history allows with one fold length of history before the
   first (`plan_folds`).
2. A model can run on a fold when the history before the fold's origin is at least its minimum
   (`candidates.min_history`). Origins grow with time, so those are always the latest folds.
3. A model is eligible when it can run on at least min(MIN_FOLDS, planned) folds: "at least 3
   folds when history allows" holds for every eligible model. The others are listed as
   `Status.SHORT_HISTORY`, not run and not scored (e.g. Holt-Winters and MSTL need two weeks
   before the first of three weekly folds, so five weeks of history).
4. The common folds are the latest folds every eligible model can run on: as many as the most
   demanding eligible model allows, never fewer than that minimum. Every eligible model, the
   baseline and the ensemble are scored on exactly these folds, so their MAEs compare directly.
5. The choice is the lowest mean MAE over the common folds; a model that is not strictly below
   the regime's seasonal-naive baseline loses to the baseline.
6. Daily regime with 8-13 days: weekly seasonal-naive (a copy of the same weekday) needs a week
   before a fold's origin, so it can run only on the latest common folds (`weekly_folds`).
   Requiring it on every common fold would cut the common set to one or two folds for every
   model, so it is scored on those latest folds alone (`Status.LATEST_FOLDS`), and it replaces
   the daily choice when its MAE there is strictly below the daily choice's MAE on the same
   folds (`Choice.WEEKLY_ON_LATEST_FOLDS`): a history ending on a quiet Sunday is then not
   forecast at the Sunday level all week. With 7 days or less no fold has a week before it
   and it is not scored; with 14 days or more the weekly regime scores it on every fold.

The ensemble (mean of the ENSEMBLE_SIZE best non-baseline models, each strictly below the
baseline's MAE on the folds that pick it) is scored by nesting: on each
common fold its members are the best on the *other* common folds (leave one fold out, as the
coverage in calibration.py), so no fold both picks the members and scores them. Members picked
on later folds may be used for an earlier one; what never happens is a fold judging the choice
it helped make. It needs 2 common folds and 2 eligible members, else it is listed as
`Status.NO_ENSEMBLE`. The members used for the forecast itself are the best on all folds.

Combining instead of choosing was measured on the 45 held-out weeks of `bench/corpus.py
--weeks 3` (held-out MAE / weekly seasonal-naive's; median, weeks below 1, worst), against the
choice by this rule (0.745, 37, 1.61): always the mean of the three best 0.785, 39, 1.61; the
mean of every eligible candidate 0.824, 37, 1.80; their median 0.778, 40, 1.57; weighted by
1 / MAE 0.814, 39, 1.66 (by 1 / MAE^2 0.813, 39, 1.56). The median of every candidate as one
more candidate of this rule (chosen on 10 of the 45): 0.746, 38, 1.57, for a refit of every
model at every refit. None is in: the combinations are worse on the median week, and the
median as a candidate moves one week.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from forecaster import candidates, models
from forecaster.candidates import ModelName, Regime

# At least 3 folds when history allows (the rule); in the daily regime folds are one
# day, and more of them are cheap and steady the calibration.
WEEKLY_FOLDS = 3
DAILY_FOLDS = 6
# Every eligible model runs on at least this many folds (fewer only when fewer are planned).
MIN_FOLDS = 3


class Status(StrEnum):
    ELIGIBLE = "eligible"  # scored on every common fold
    SHORT_HISTORY = "short_history"  # has the history for too few of the planned folds
    NO_ENSEMBLE = "no_ensemble"  # fewer than 2 common folds or 2 eligible members to nest it
    LATEST_FOLDS = "latest_folds"  # scored on the latest common folds only (rule 6)


class Choice(StrEnum):
    """Why the selected model is the one chosen."""

    LOWEST_MAE = "lowest_mae"  # strictly the lowest MAE on the common folds, below the baseline
    BASELINE_NOT_BEATEN = "baseline_not_beaten"  # no eligible model had a lower MAE (ties too)
    NO_BACKTEST = "no_backtest"  # too little history for a fold: the recent level
    # Weekly seasonal-naive beat the daily choice on the latest folds it could run on (rule 6).
    WEEKLY_ON_LATEST_FOLDS = "weekly_on_latest_folds"


@dataclass(frozen=True)
class Fold:
    origin: int  # index into the series of the first forecast bucket
    steps: int  # forecast length (residuals for calibration)
    scored_steps: int  # the leading steps the MAE is taken on


@dataclass(frozen=True)
class Score:
    model: ModelName
    mae: float  # mean over the folds it was scored on (NaN when not eligible)
    baseline_mae: float  # the baseline's mean MAE over the same folds
    folds: int  # folds it was scored on: the common ones, the latest of them (0 = not scored)
    status: Status = Status.ELIGIBLE
    runnable_folds: int = 0  # planned folds it had the history for

    @property
    def ratio(self) -> float:
        if self.folds == 0 or not self.baseline_mae > 0:
            return math.nan
        return self.mae / self.baseline_mae


@dataclass(frozen=True)
class Result:
    folds: tuple[Fold, ...]  # the common folds every eligible model was scored on
    scores: tuple[Score, ...]
    # Per eligible model, per common fold: the point forecast.
    forecasts: dict[ModelName, tuple[np.ndarray, ...]]
    members: tuple[ModelName, ...]  # ensemble members for the forecast (best on all folds)
    # Per common fold: the members that fold's ensemble forecast used (best on the other folds).
    fold_members: tuple[tuple[ModelName, ...], ...] = field(default=())
    planned: int = 0  # folds in the plan, before the common set was taken
    # Per model scored: its MAE on each fold of `forecasts[model]` (the latest folds).
    fold_maes: dict[ModelName, tuple[float, ...]] = field(default_factory=dict)


def folds_of(result: Result, model: ModelName) -> tuple[Fold, ...]:
    """The folds `model` was forecast on: all common folds, or the latest of them (rule 6)."""
    count = len(result.forecasts.get(model, result.folds))
    return result.folds[len(result.folds) - count :]


def weekly_folds(result: Result, regime: Regime) -> tuple[Fold, ...]:
    """Daily regime: the latest common folds weekly seasonal-naive was scored on (rule 6)."""
    if regime is not Regime.DAILY or ModelName.SEASONAL_NAIVE_WEEKLY not in result.forecasts:
        return ()
    return folds_of(result, ModelName.SEASONAL_NAIVE_WEEKLY)


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
    # Each fold is scored over all of it: the planner uses every day of a week's forecast, so
    # a model that is good on day 1 and drifts by day 5 must not win on its first day alone.
    return tuple(Fold(n - i * length, i * length, i * length) for i in range(count, 0, -1))


def runnable_folds(
    model: ModelName, plan: tuple[Fold, ...], regime: Regime, season: models.Season
) -> int:
    """How many of the planned folds (always the latest ones) have the model's history."""
    need = candidates.min_history(model, regime, season)
    return sum(1 for fold in plan if fold.origin >= need)


def mae(point: np.ndarray, actual: np.ndarray) -> float:
    ok = np.isfinite(actual) & np.isfinite(point)
    return float(np.mean(np.abs(actual[ok] - point[ok]))) if ok.any() else math.nan


def fold_mae(point: np.ndarray, y: np.ndarray, fold: Fold) -> float:
    """MAE of a fold forecast on the fold's scored steps."""
    actual = y[fold.origin : fold.origin + fold.scored_steps]
    return mae(point[: fold.scored_steps], actual)


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def refit(
    model: ModelName,
    y: np.ndarray,
    result: Result,
    season: models.Season,
    regime: Regime,
) -> tuple[np.ndarray, ...]:
    """The model's forecast of each fold it was scored on (`folds_of`), fitted on `y` (another
    series of the same length: the bucket peaks, or the spike-clipped input). The ensemble uses
    each fold's own nested members, as when it was scored."""
    if model is ModelName.ENSEMBLE:
        return tuple(
            candidates.predict(model, y[: f.origin], f.steps, season, regime, members)
            for f, members in zip(result.folds, result.fold_members, strict=True)
        )
    return tuple(
        candidates.predict(model, y[: f.origin], f.steps, season, regime)
        for f in folds_of(result, model)
    )


def _best(
    errors: dict[ModelName, list[float]], folds: list[int], baseline: ModelName
) -> tuple[ModelName, ...]:
    """The ENSEMBLE_SIZE non-baseline models with the lowest mean MAE on the given folds, each
    strictly below the baseline's MAE on those folds (a member worse than the baseline would
    pull the mean towards a forecast the choice rule itself rejects)."""
    bar = _mean([errors[baseline][i] for i in folds]) if baseline in errors else math.inf
    means = {m: _mean([e[i] for i in folds]) for m, e in errors.items() if m is not baseline}
    order = list(means)
    ranked = sorted(
        (m for m in order if math.isfinite(means[m]) and not means[m] >= bar),
        key=lambda m: (means[m], order.index(m)),
    )
    return tuple(ranked[: candidates.ENSEMBLE_SIZE])


def run(y: np.ndarray, regime: Regime, season: models.Season) -> Result:
    """Backtest every eligible candidate of the regime on the common folds, then the ensemble."""
    plan = plan_folds(y.size, regime, season)
    baseline_model = candidates.BASELINE[regime]
    singles = candidates.CANDIDATES[regime]
    runnable = {m: runnable_folds(m, plan, regime, season) for m in singles}
    required = min(MIN_FOLDS, len(plan))
    eligible = [m for m in singles if plan and runnable[m] >= required]
    common = min((runnable[m] for m in eligible), default=0)
    folds = plan[len(plan) - common :]
    forecasts = {
        m: tuple(candidates.predict(m, y[: f.origin], f.steps, season, regime) for f in folds)
        for m in eligible
    }
    errors = {
        m: [fold_mae(p, y, f) for p, f in zip(points, folds, strict=True)]
        for m, points in forecasts.items()
    }
    base = _mean(errors.get(baseline_model, []))
    scores = [
        Score(m, _mean(errors[m]), base, len(folds), Status.ELIGIBLE, runnable[m])
        if m in errors
        else Score(m, math.nan, base, 0, Status.SHORT_HISTORY, runnable[m])
        for m in singles
    ]
    everything = list(range(len(folds)))
    members = _best(errors, everything, baseline_model)
    fold_members = tuple(
        _best(errors, [j for j in everything if j != i], baseline_model) for i in everything
    )
    if len(folds) >= 2 and len(members) >= 2 and all(len(m) >= 2 for m in fold_members):
        # A fold's ensemble forecast is the mean of its members' (no refit needed).
        ensemble = tuple(
            np.mean([forecasts[m][i] for m in fold_members[i]], axis=0) for i in everything
        )
        forecasts[ModelName.ENSEMBLE] = ensemble
        errors[ModelName.ENSEMBLE] = [
            fold_mae(p, y, f) for p, f in zip(ensemble, folds, strict=True)
        ]
        own = _mean(errors[ModelName.ENSEMBLE])
        scores.append(Score(ModelName.ENSEMBLE, own, base, len(folds), Status.ELIGIBLE, len(folds)))
    else:
        members, fold_members = (), ()
        scores.append(Score(ModelName.ENSEMBLE, math.nan, base, 0, Status.NO_ENSEMBLE, 0))
    if regime is Regime.DAILY:
        model = ModelName.SEASONAL_NAIVE_WEEKLY
        need = candidates.min_history(model, regime, season)
        late = tuple(f for f in folds if f.origin >= need)
        if late:
            points = tuple(
                candidates.predict(model, y[: f.origin], f.steps, season, regime) for f in late
            )
            forecasts[model] = points
            errors[model] = [fold_mae(p, y, f) for p, f in zip(points, late, strict=True)]
            # The daily baseline on the same folds, so the ratio compares like with like.
            late_base = _mean(errors.get(baseline_model, [])[len(folds) - len(late) :])
            scores.append(
                Score(
                    model,
                    _mean(errors[model]),
                    late_base,
                    len(late),
                    Status.LATEST_FOLDS,
                    len(late),
                )
            )
    return Result(
        folds,
        tuple(scores),
        forecasts,
        members,
        fold_members,
        len(plan),
        {m: tuple(e) for m, e in errors.items()},
    )


def choose(result: Result, regime: Regime) -> ModelName:
    """Lowest MAE among the models scored on every common fold; never worse than the baseline
    (ties go to the baseline)."""
    baseline_model = candidates.BASELINE[regime]
    scored = [
        s
        for s in result.scores
        if s.status is Status.ELIGIBLE and s.folds == len(result.folds) and math.isfinite(s.mae)
    ]
    baseline = next((s for s in scored if s.model is baseline_model), None)
    if baseline is None or not scored:
        return baseline_model
    best = min(scored, key=lambda s: s.mae)
    daily = best.model if best.mae < baseline.mae else baseline_model
    late = weekly_folds(result, regime)
    if not late:
        return daily
    # Rule 6: weekly seasonal-naive against the daily choice on the folds it was scored on.
    weekly = _mean(list(result.fold_maes[ModelName.SEASONAL_NAIVE_WEEKLY]))
    rival = _mean(list(result.fold_maes[daily][len(result.folds) - len(late) :]))
    return ModelName.SEASONAL_NAIVE_WEEKLY if weekly < rival else daily


def choice_of(model: ModelName, regime: Regime) -> Choice:
    """How `choose` arrived at `model`."""
    if model is ModelName.SEASONAL_NAIVE_WEEKLY and regime is Regime.DAILY:
        return Choice.WEEKLY_ON_LATEST_FOLDS
    if model is candidates.BASELINE[regime]:
        return Choice.BASELINE_NOT_BEATEN
    return Choice.LOWEST_MAE


def actuals(y: np.ndarray, folds: tuple[Fold, ...]) -> tuple[np.ndarray, ...]:
    return tuple(y[f.origin : f.origin + f.steps] for f in folds)
