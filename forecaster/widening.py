"""Pure: the band's widening when the last day's residuals leave the calibrated range.

The band comes from residuals of the backtest's folds: weeks the series has seen. A holiday, a
level shift or a client leaving makes the forecast wrong by more than those weeks ever were,
and a band calibrated on them stays over-confident (a user saw held-out P90 coverage of
0.17-0.39 on holiday weeks of their traffic). At forecast time the selected model is therefore
also run from RECENT_WINDOW_S before the end of the history over that window, and the spread
above the median (P90, P99) is multiplied by `1 + strength x (observed / expected RMS residual
- 1)`, at least 1 (a calm day never narrows the band) and at most WIDEN_MAX.

How far a series widens (`strength`, one of STRENGTHS) is chosen on its own backtest folds:
each fold is forecast with the ratio seen on the day before its origin, judged by a
calibration from the other folds only, and scored by its P90 pinball loss (a proper score: it
rewards coverage and narrowness together); the stronger one wins only when its loss is
strictly lower. With fewer than two folds there is nothing to judge by: the weaker strength.
The widening is not refused by the backtest: a history without a holiday cannot show that
holidays need a wider band, and the ratio itself is the evidence at forecast time (a calm
last day leaves the band as calibrated, a calm series within 1.1x of it).

Measured (before -> after, each against the same forecasts without widening, in one run):
- bench/holidays.py, 18 holiday weeks of 6 corpus traces, P90 coverage over each 6-hourly
  refit's 6 h: median 0.856 -> 0.878, worst 0.589 -> 0.650 (NYC taxi's Thanksgiving week
  0.702 -> 0.795). Letting the backtest refuse the widening as a third option, it refused
  on 14 of the 18 weeks and the median stayed 0.856, the worst 0.589.
- bench/corpus.py with the operating-point chooser: 14 of 17 traces served >= 99.5 % either
  way, GPU-hours / oracle median 1.371 -> 1.436 (the median trace, DC bikeshare's casual
  riders in Christmas week, served 99.19 -> 99.30 % at 1.37 -> 1.44x), ServeGen m-mid 1.32
  -> 1.24x (below the static fleet's 1.26), twitter CVS 3.07 -> 2.31, twitter FB 1.59 ->
  1.70x at 99.23 -> 99.34 %, twitter AAPL 3.18 -> 3.25x, AMZN 2.00 -> 2.07x; held-out-week
  P90 coverage median 0.926 -> 0.932.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from forecaster import calibration, candidates, models
from forecaster.candidates import ModelName, Regime

# A whole day: a holiday's quiet day or a shift shows over every hour of the daily cycle, not
# one phase of it.
RECENT_WINDOW_S = 86400
# Half-way to the observed ratio, or all the way (0 only without a calibration); beyond 3x
# the expected spread the next refit, not a wider band, must catch up.
STRENGTHS = (0.5, 1.0)
WIDEN_MAX = 3.0
P90 = 0.9


@dataclass(frozen=True)
class Model:
    """The selected model as the widening runs it."""

    name: ModelName
    members: tuple[ModelName, ...]  # the ensemble's members (empty otherwise)
    season: models.Season
    regime: Regime


@dataclass(frozen=True)
class Folds:
    """The backtest folds a model was calibrated on: its forecast of each, the actuals, and the
    series it was fitted on (spike-clipped or not) with each fold's origin in it."""

    points: Sequence[np.ndarray]
    actuals: Sequence[np.ndarray]
    origins: Sequence[int]
    fitted: np.ndarray


@dataclass(frozen=True)
class Judged:
    """The chosen strength and the leave-one-fold-out coverage it reached."""

    strength: float
    loss: float  # mean P90 pinball loss over the folds' known steps (inf: not judged)
    coverage_p90: float  # NaN with fewer than two folds
    coverage_p99: float


def recent_ratio(model: Model, y: np.ndarray, cal: calibration.Calibration) -> float:
    """Observed / expected RMS square-root residual of the model's forecast of the last
    RECENT_WINDOW_S of `y`, made from just before it (NaN when the history is too short)."""
    window = max(1, RECENT_WINDOW_S // model.season.resolution_s)
    origin = y.size - window
    if origin < _need(model) or not cal.rms > 0:
        return math.nan
    point = candidates.predict(
        model.name, y[:origin], window, model.season, model.regime, model.members
    )
    z = calibration.residuals(point, y[origin:])
    z = z[np.isfinite(z)]
    if z.size < window // 2:
        return math.nan
    return float(np.sqrt(np.mean(z**2))) / cal.rms


def factor(ratio: float, strength: float) -> float:
    """The spread multiplier for a recent ratio at a strength (module docstring)."""
    if strength <= 0 or not math.isfinite(ratio):
        return 1.0
    return min(max(1.0 + strength * (ratio - 1.0), 1.0), WIDEN_MAX)


def widen_by(model: Model, y: np.ndarray, cal: calibration.Calibration) -> float:
    """The multiplier a forecast from the end of `y` applies (1 without a calibration)."""
    if cal.widening <= 0:
        return 1.0
    return factor(recent_ratio(model, y, cal), cal.widening)


def pinball(actual: np.ndarray, quantile: np.ndarray, q: float = P90) -> float:
    """Mean quantile (pinball) loss of `quantile` as the q-quantile of `actual`."""
    ok = np.isfinite(actual)
    miss = actual[ok] - quantile[ok]
    return float(np.mean(np.maximum(q * miss, (q - 1.0) * miss))) if ok.any() else math.nan


def choose(model: Model, folds: Folds, band_steps: int) -> Judged:
    """The strength with the lowest P90 pinball loss on the folds (module docstring)."""
    count = len(folds.points)
    if count < 2:
        return Judged(STRENGTHS[0], math.inf, math.nan, math.nan)
    others = [
        calibration.fit(
            [p for j, p in enumerate(folds.points) if j != i],
            [a for j, a in enumerate(folds.actuals) if j != i],
            band_steps,
        )
        for i in range(count)
    ]
    ratios = [
        recent_ratio(model, folds.fitted[:origin], cal)
        for origin, cal in zip(folds.origins, others, strict=True)
    ]
    best = _judge(folds, others, ratios, STRENGTHS[0])
    for strength in STRENGTHS[1:]:
        tried = _judge(folds, others, ratios, strength)
        if tried.loss < best.loss:
            best = tried
    return best


def chosen(cal: calibration.Calibration, strength: float) -> calibration.Calibration:
    """`cal` with the widening strength the backtest chose."""
    return replace(cal, widening=strength)


def _judge(
    folds: Folds,
    others: Sequence[calibration.Calibration],
    ratios: Sequence[float],
    strength: float,
) -> Judged:
    """Each fold at the strength, judged by the other folds' calibration."""
    loss = 0.0
    hits90 = hits99 = total = 0
    for point, actual, cal, ratio in zip(folds.points, folds.actuals, others, ratios, strict=True):
        q = calibration.apply(point, cal, factor(ratio, strength))
        ok = np.isfinite(actual)
        known = int(ok.sum())
        if known:
            loss += pinball(actual, q.p90) * known
        hits90 += int(np.sum(actual[ok] <= q.p90[ok]))
        hits99 += int(np.sum(actual[ok] <= q.p99[ok]))
        total += known
    if total == 0:
        return Judged(strength, math.inf, math.nan, math.nan)
    return Judged(strength, loss / total, hits90 / total, hits99 / total)


def _need(model: Model) -> int:
    used = model.members if model.name is ModelName.ENSEMBLE else (model.name,)
    return max(candidates.min_history(m, model.regime, model.season) for m in used) if used else 1
