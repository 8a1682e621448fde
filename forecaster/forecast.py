"""Pure: choose a model per series by backtest, and forecast quantiles of demand from it.

`select` runs the rolling-origin backtest on a history and returns a `Selection`: the chosen
model, why, every candidate's score and the residual calibration for quantiles. `forecast`
refits only the selected model on a (possibly newer) history and applies that calibration; the
simulator calls it every few hours of a replay, so it does no backtest when given a selection.

Every eligible candidate is scored on the same backtest folds and the lowest MAE is chosen,
never worse than the seasonal-naive baseline (backtest.py states the rule); `Selection.choice`
says which way it went, and a candidate that was not eligible carries its status instead of a
score on fewer folds.

Both work on bucket means (what is served on average) and bucket peaks (the largest input
interval in each bucket: what the planner provisions for), in the input's own unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from forecaster import backtest, calibration, candidates, models, outliers, series, widening
from kernel import errors

ModelName = candidates.ModelName
CandidateStatus = backtest.Status
Choice = backtest.Choice

# Inputs finer than 5 minutes are modelled at 5 minutes: fine enough for a planner with 1-min
# steps to follow the diurnal shape, coarse enough for statsmodels (DESIGN.md).
DEFAULT_RESOLUTION_S = 300
# The level fallback averages the last hour of data.
LEVEL_WINDOW_S = 3600
WEEK_S = 7 * 86400
# A refit on a chosen model prepares only the history's last FIT_WEEKS + 1 weeks: no model
# reads further back, and the extra week holds the widening's check of the last day and the
# outlier cleaning's day-wide windows clear of the cut. Preparing a year of minutes costs more
# than the fit (a replay's refits on a year-long per-minute trace spent a third of their time
# cleaning it); the ceiling is taken over the same weeks on either path.
FIT_HISTORY_S = (models.FIT_WEEKS + 1) * WEEK_S
FRAME_COLUMNS = ("p50", "p90", "p99", "peak_p50", "peak_p90", "peak_p99")


class ForecastReason(StrEnum):
    BACKTEST_SELECTED = "backtest_selected"
    INSUFFICIENT_HISTORY_DAILY = "insufficient_history_daily"
    INSUFFICIENT_HISTORY_LEVEL = "insufficient_history_level"


_REASONS = {
    candidates.Regime.WEEKLY: ForecastReason.BACKTEST_SELECTED,
    candidates.Regime.DAILY: ForecastReason.INSUFFICIENT_HISTORY_DAILY,
    candidates.Regime.LEVEL: ForecastReason.INSUFFICIENT_HISTORY_LEVEL,
}


@dataclass(frozen=True)
class CandidateScore:
    model: ModelName
    mae: float  # mean over the common folds, in the input unit per input interval
    ratio_to_naive: float  # mae / weekly seasonal-naive mae (nan when naive is unavailable)
    folds: int = 0  # backtest folds it was scored on (0 = not eligible; fewer: LATEST_FOLDS)
    status: CandidateStatus = CandidateStatus.ELIGIBLE
    runnable_folds: int = 0  # planned folds it had the history for


@dataclass(frozen=True)
class Selection:
    """A backtest's verdict for one series, reusable for cheap refits."""

    model: ModelName
    reason: ForecastReason
    regime: candidates.Regime
    resolution_s: int
    input_interval_s: int
    members: tuple[ModelName, ...]  # the ensemble's models (empty for single models)
    candidates: tuple[CandidateScore, ...]
    folds: int  # common backtest folds every eligible candidate was scored on (0 = none)
    calibration_mean: calibration.Calibration
    calibration_peak: calibration.Calibration
    coverage_p90: float | None  # leave-one-fold-out, fraction 0..1; None without a backtest
    coverage_p99: float | None
    clip_spikes: bool = False  # fit on spike-clipped input (chosen when the backtest MAE drops)
    clipped_mae: float | None = None  # the chosen model's MAE on the same folds, clipped fit
    planned_folds: int = 0  # folds the plan had before the common set was taken
    choice: Choice = Choice.NO_BACKTEST


@dataclass(frozen=True)
class Forecast:
    model: ModelName
    reason: ForecastReason
    resolution_s: int
    input_interval_s: int
    frame: pd.DataFrame  # see FRAME_COLUMNS; UTC index at resolution_s, after the history
    candidates: tuple[CandidateScore, ...]
    coverage_p90: float | None
    coverage_p99: float | None
    selection: Selection
    # the history the model was fitted on: its span (first observed bucket to the end of the
    # last complete one) and its observed input intervals (dropouts masked)
    history_s: float
    history_points: int
    # what the P90/P99 spread above the median was multiplied by in this forecast, from the
    # last day's residuals (forecaster/widening.py; 1: not widened)
    band_widened_by: float = 1.0


@dataclass(frozen=True)
class _Prepared:
    interval_s: int
    resolution_s: int
    season: models.Season
    cleaned: pd.Series  # input intervals, dropouts masked
    dropouts: outliers.Cleaned  # what cleaning did (spike clipping reuses its dropout mask)
    mean: np.ndarray  # complete buckets, in time order
    peak: np.ndarray
    first_forecast: pd.Timestamp
    offset: int  # buckets between the end of `mean` and first_forecast (a dropped partial one)
    history_s: float


def resolution_for(interval_s: int, resolution_s: int | None) -> int:
    """The model resolution: 5 min by default, never finer than the input, a multiple of it."""
    wanted = DEFAULT_RESOLUTION_S if resolution_s is None else resolution_s
    if wanted <= 0:
        raise errors.InputError(
            f"resolution_s ({wanted}) must be positive; use 300 or 900 (seconds)"
        )
    if wanted <= interval_s:
        return interval_s
    if wanted % interval_s != 0:
        raise errors.InputError(
            f"resolution_s ({wanted}) is not a multiple of the input interval ({interval_s} s); "
            f"choose a multiple such as {interval_s * max(1, round(wanted / interval_s))}"
        )
    return wanted


def _prepare(
    history: pd.Series, resolution_s: int | None, *, clip_spikes: bool = False
) -> _Prepared:
    interval_s, cleaned = _cleaned(history, clip_spikes=clip_spikes)
    return _bucketed(cleaned, interval_s, resolution_s)


def _cleaned(history: pd.Series, *, clip_spikes: bool = False) -> tuple[int, outliers.Cleaned]:
    if not isinstance(history.index, pd.DatetimeIndex):
        raise errors.InputError(
            f"history index is {type(history.index).__name__}; it must be a DatetimeIndex "
            "(UTC interval starts); load the series with actuator.trace or set the index"
        )
    if history.empty or not np.isfinite(history.to_numpy(dtype=float)).any():
        raise errors.InputError(
            f"history has no data ({len(history)} points, none a finite number); a forecast "
            "needs at least one observed interval; check the trace's column and time range"
        )
    interval_s = series.interval_of(history)
    regular = series.regularise(history, interval_s).values
    return interval_s, outliers.clean(regular, interval_s, clip_spikes=clip_spikes)


def _bucketed(
    cleaned_input: outliers.Cleaned, interval_s: int, resolution_s: int | None
) -> _Prepared:
    cleaned = cleaned_input.values
    resolution = resolution_for(interval_s, resolution_s)
    mean, peak, first_forecast = series.complete_buckets(cleaned, interval_s, resolution)
    step = pd.Timedelta(seconds=resolution)
    if len(mean) > 0:
        offset = int((first_forecast - (mean.index[-1] + step)) / step)
        observed = mean.index[np.isfinite(mean.to_numpy())]
        start = observed[0] if len(observed) else mean.index[-1]
        history_s = (mean.index[-1] + step - start).total_seconds()
    else:
        offset, history_s = 0, 0.0
    return _Prepared(
        interval_s=interval_s,
        resolution_s=resolution,
        season=models.season_for(resolution),
        cleaned=cleaned,
        dropouts=cleaned_input,
        mean=mean.to_numpy(dtype=float),
        peak=peak.to_numpy(dtype=float),
        first_forecast=first_forecast,
        offset=offset,
        history_s=history_s,
    )


def _candidate_scores(
    result: backtest.Result, regime: candidates.Regime
) -> tuple[CandidateScore, ...]:
    weekly = regime is candidates.Regime.WEEKLY
    return tuple(
        CandidateScore(
            s.model, s.mae, s.ratio if weekly else math.nan, s.folds, s.status, s.runnable_folds
        )
        for s in result.scores
    )


def _level_selection(prepared: _Prepared) -> Selection:
    return Selection(
        model=ModelName.RECENT_LEVEL,
        reason=ForecastReason.INSUFFICIENT_HISTORY_LEVEL,
        regime=candidates.Regime.LEVEL,
        resolution_s=prepared.resolution_s,
        input_interval_s=prepared.interval_s,
        members=(),
        candidates=(),
        folds=0,
        calibration_mean=calibration.NO_CALIBRATION,
        calibration_peak=calibration.NO_CALIBRATION,
        coverage_p90=None,
        coverage_p99=None,
    )


@dataclass(frozen=True)
class _Clipped:
    """The spike-clipped preparation and the chosen model's fold forecasts fitted on it."""

    prepared: _Prepared
    forecasts: tuple[np.ndarray, ...]  # per common fold
    mae: float  # mean fold MAE against the unclipped actuals


def _selection_for(
    prepared: _Prepared,
    result: backtest.Result,
    regime: candidates.Regime,
    model: ModelName,
    *,
    clipped: _Clipped | None = None,
) -> Selection:
    """The selection of `model`, calibrated on its residuals on the folds it was forecast on
    (the common folds, or the latest of them for weekly seasonal-naive in the daily regime).

    With `clipped`, the folds are fitted on the spike-clipped input and scored against the
    unclipped actuals (clipping is for fitting only).
    """
    season = prepared.season
    members = result.members if model is ModelName.ENSEMBLE else ()
    fit = prepared if clipped is None else clipped.prepared
    folds = backtest.folds_of(result, model)
    mean_fc = list(result.forecasts[model] if clipped is None else clipped.forecasts)
    peak_fc = list(backtest.refit(model, fit.peak, result, season, regime))
    mean_actual = list(backtest.actuals(prepared.mean, folds))
    peak_actual = list(backtest.actuals(prepared.peak, folds))
    # One band for the horizon: per-day bands rest on one day of each of 3 folds, and the last
    # band is always the history's last days (a surge there read as "errors grow by day 7").
    # Leave-one-fold-out P90 coverage was as close or closer to 90 % pooled on 4 of 5 histories
    # (bench/forecast.py's four and the bundled trace: 0.887 pooled, 0.857 per day).
    # Bands by lead from extra origins near the end of the history (hours near the origin,
    # days further out) were measured too, and cost more than they saved where it matters,
    # in the replayed decisions: bench/corpus.py with the operating-point chooser and the band
    # widening, pooled -> by lead, GPU-hours / oracle median 1.44 -> 1.63, traces served
    # >= 99.5 % 14 -> 13 of 17. The chooser's band scale already sets the width the floor
    # needs at the distance it looks ahead.
    band = max(f.steps for f in folds)
    run_as = widening.Model(model, members, season, regime)
    judged = widening.choose(
        run_as, widening.Folds(mean_fc, mean_actual, [f.origin for f in folds], fit.mean), band
    )
    # Leave-one-fold-out coverage with the widening; one fold cannot judge another, so its
    # two halves judge each other without it (calibration.coverage).
    coverage_p90, coverage_p99 = (
        (judged.coverage_p90, judged.coverage_p99)
        if math.isfinite(judged.coverage_p90)
        else calibration.coverage(mean_fc, mean_actual, band)
    )
    return Selection(
        model=model,
        reason=_REASONS[regime],
        regime=regime,
        resolution_s=prepared.resolution_s,
        input_interval_s=prepared.interval_s,
        members=members,
        candidates=_candidate_scores(result, regime),
        folds=len(result.folds),
        calibration_mean=widening.chosen(
            calibration.fit(mean_fc, mean_actual, band), judged.strength
        ),
        calibration_peak=widening.chosen(
            calibration.fit(peak_fc, peak_actual, band), judged.strength
        ),
        coverage_p90=None if math.isnan(coverage_p90) else coverage_p90,
        coverage_p99=None if math.isnan(coverage_p99) else coverage_p99,
        clip_spikes=clipped is not None,
        clipped_mae=None if clipped is None else clipped.mae,
        planned_folds=result.planned,
        choice=backtest.choice_of(model, regime),
    )


def _clipping_helps(
    prepared: _Prepared,
    result: backtest.Result,
    regime: candidates.Regime,
    model: ModelName,
) -> _Clipped | None:
    """The spike-clipped fit of `model` when it lowers the MAE on the same folds."""
    clipped = _bucketed(
        outliers.clipped(prepared.dropouts, prepared.interval_s),
        prepared.interval_s,
        prepared.resolution_s,
    )
    if clipped.mean.size != prepared.mean.size or np.array_equal(
        clipped.mean, prepared.mean, equal_nan=True
    ):
        return None
    refit = backtest.refit(model, clipped.mean, result, prepared.season, regime)
    folds = backtest.folds_of(result, model)
    plain_mae = [
        backtest.fold_mae(p, prepared.mean, f)
        for p, f in zip(result.forecasts[model], folds, strict=True)
    ]
    clipped_mae = [
        backtest.fold_mae(p, prepared.mean, f) for p, f in zip(refit, folds, strict=True)
    ]
    if plain_mae and np.nanmean(clipped_mae) < np.nanmean(plain_mae):
        return _Clipped(clipped, refit, float(np.nanmean(clipped_mae)))
    return None


def _backtest(
    history: pd.Series, resolution_s: int | None
) -> tuple[_Prepared, candidates.Regime, backtest.Result | None]:
    prepared = _prepare(history, resolution_s)
    regime = candidates.regime_for(prepared.history_s)
    if regime is candidates.Regime.LEVEL or prepared.mean.size == 0:
        return prepared, candidates.Regime.LEVEL, None
    result = backtest.run(prepared.mean, regime, prepared.season)
    if not result.folds:
        return prepared, candidates.Regime.LEVEL, None
    return prepared, regime, result


@dataclass(frozen=True)
class _Selected:
    selection: Selection
    backtested: tuple[_Prepared, candidates.Regime, backtest.Result] | None  # None: level
    fit: _Prepared  # the history as the selection fits it (spike-clipped when it says so)


def _select(history: pd.Series, resolution_s: int | None) -> _Selected:
    """The chosen selection, the backtest behind it, and the preparation to refit on."""
    prepared, regime, result = _backtest(history, resolution_s)
    if result is None:
        return _Selected(_level_selection(prepared), None, prepared)
    chosen = backtest.choose(result, regime)
    clipped = _clipping_helps(prepared, result, regime, chosen)
    selection = _selection_for(prepared, result, regime, chosen, clipped=clipped)
    fit = prepared if clipped is None else clipped.prepared
    return _Selected(selection, (prepared, regime, result), fit)


def select(history: pd.Series, *, resolution_s: int | None = None) -> Selection:
    """Backtest the candidates on `history` and return the chosen model and its calibration."""
    return _select(history, resolution_s).selection


def select_each(history: pd.Series, *, resolution_s: int | None = None) -> tuple[Selection, ...]:
    """One selection per eligible candidate, the chosen one first.

    For comparing models (bench/forecast.py): each carries its own calibration and coverage.
    """
    selected = _select(history, resolution_s)
    chosen, backtested = selected.selection, selected.backtested
    if backtested is None:
        return (chosen,)
    prepared, regime, result = backtested
    others = [s.model for s in result.scores if s.folds > 0 and s.model is not chosen.model]
    return (chosen, *(_selection_for(prepared, result, regime, m) for m in others))


def _level_quantiles(
    prepared: _Prepared, steps: int
) -> tuple[calibration.Quantiles, calibration.Quantiles]:
    values = prepared.cleaned.dropna()
    recent = values[values.index > values.index[-1] - pd.Timedelta(seconds=LEVEL_WINDOW_S)]
    level = float(recent.mean())
    # The peak of a bucket of k intervals is at least the level; the largest recent interval
    # is the evidence we have for how far above it goes.
    peak = float(recent.max()) if prepared.resolution_s > prepared.interval_s else level
    mean_q = calibration.poisson_spread(np.full(steps, level))
    peak_q = calibration.poisson_spread(np.full(steps, peak))
    return mean_q, peak_q


def _ceiling(history: np.ndarray, p50: np.ndarray, resolution_s: int) -> np.ndarray:
    """How high the upper quantiles may reach in each bucket: the highest value of the history
    (after outlier cleaning; the caller passes the last FIT_HISTORY_S of it), grown as the
    history grew, or the median forecast where that is higher.

    A band calibrated on pooled residuals is symmetric in time: in a quiet hour it reaches up
    to levels the service only sees at its peak, and over a week those minutes cost more than
    a fleet held at the history's peak (a static fleet). Above anything the history has seen,
    an upper quantile is extrapolation. Growth is not cut: the ceiling grows by the ratio of
    the last week's highest value to the week before's (a model without a trend, such as
    weekly seasonal-naive, carries none in its median), the median is never cut, and the
    reactive step covers a new peak beyond both.
    """
    finite = np.isfinite(history)
    if not finite.any():
        return np.full_like(p50, math.inf)
    top = float(history[finite].max())
    week = WEEK_S // resolution_s
    if history.size >= 2 * week:
        last, before = history[-week:], history[-2 * week : -week]
        # a week before with no traffic (a service launched last week) gives no growth to
        # scale by: its highest value is last week's, already in `top`
        if np.isfinite(last).any() and np.isfinite(before).any() and np.nanmax(before) > 0:
            growth = float(np.nanmax(last)) / float(np.nanmax(before))
            if growth > 1.0:
                top *= growth
    ceiling: np.ndarray = np.maximum(p50, top)
    return ceiling


def forecast(
    history: pd.Series,
    *,
    horizon_s: int = 7 * 86400,
    resolution_s: int | None = None,
    selection: Selection | None = None,
) -> Forecast:
    """Quantile forecast of the bucket mean and peak for `horizon_s` after the history.

    Without `selection` the backtest runs first (`select`); with one, only its model is refit
    on `history` and its calibration applied, at the selection's resolution (`resolution_s`
    is then ignored).
    """
    if horizon_s <= 0:
        raise errors.InputError(
            f"horizon_s ({horizon_s}) must be positive; use e.g. 604800 for 7 days"
        )
    if selection is None:
        # the backtest has prepared this history already: refit on its preparation
        selected = _select(history, resolution_s)
        selection, prepared = selected.selection, selected.fit
    else:
        recent = history[history.index >= history.index[-1] - pd.Timedelta(seconds=FIT_HISTORY_S)]
        prepared = _prepare(recent, selection.resolution_s, clip_spikes=selection.clip_spikes)
    steps = max(1, math.ceil(horizon_s / prepared.resolution_s))
    widen_by = 1.0
    if selection.regime is candidates.Regime.LEVEL or prepared.mean.size == 0:
        mean_q, peak_q = _level_quantiles(prepared, steps)
    else:
        mean_point, peak_point = (
            candidates.predict(
                selection.model,
                y,
                steps + prepared.offset,
                prepared.season,
                selection.regime,
                selection.members,
            )[prepared.offset :]
            for y in (prepared.mean, prepared.peak)
        )
        # The last day's residuals out of the calibrated range widen the band (widening.py).
        widen_by = widening.widen_by(
            widening.Model(selection.model, selection.members, prepared.season, selection.regime),
            prepared.mean,
            selection.calibration_mean,
        )
        mean_q = calibration.apply(mean_point, selection.calibration_mean, widen_by)
        peak_q = calibration.apply(peak_point, selection.calibration_peak, widen_by)
    index = pd.date_range(
        prepared.first_forecast, periods=steps, freq=pd.Timedelta(seconds=prepared.resolution_s)
    )
    index.name = "timestamp"
    kept = max(1, FIT_HISTORY_S // prepared.resolution_s)
    mean_ceiling = _ceiling(prepared.mean[-kept:], mean_q.p50, prepared.resolution_s)
    p90 = np.minimum(mean_q.p90, mean_ceiling)
    p99 = np.minimum(mean_q.p99, mean_ceiling)
    # A bucket's peak is never below its mean.
    peak_p50 = np.maximum(peak_q.p50, mean_q.p50)
    peak_ceiling = _ceiling(prepared.peak[-kept:], peak_p50, prepared.resolution_s)
    frame = pd.DataFrame(
        {
            "p50": mean_q.p50,
            "p90": p90,
            "p99": p99,
            "peak_p50": peak_p50,
            "peak_p90": np.maximum(np.minimum(peak_q.p90, peak_ceiling), p90),
            "peak_p99": np.maximum(np.minimum(peak_q.p99, peak_ceiling), p99),
        },
        index=index,
    )
    return Forecast(
        model=selection.model,
        reason=selection.reason,
        resolution_s=prepared.resolution_s,
        input_interval_s=prepared.interval_s,
        frame=frame,
        candidates=selection.candidates,
        coverage_p90=selection.coverage_p90,
        coverage_p99=selection.coverage_p99,
        selection=selection,
        band_widened_by=widen_by,
        history_s=prepared.history_s,
        history_points=int(np.isfinite(prepared.cleaned.to_numpy(dtype=float)).sum()),
    )
