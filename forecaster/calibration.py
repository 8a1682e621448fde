"""Pure: quantiles from backtest residuals, and the coverage they reach on unseen folds.

Errors of traffic forecasts grow with the traffic, but not in proportion to it: arrival counts
have a variance near their mean (Poisson), so a bucket at the daily peak misses by more
requests than one at night, by about the square root of the level. Residuals are therefore
taken on the square-root scale, `z = sqrt(actual) - sqrt(forecast)`, and the quantiles are
squared back around the forecast, `p90 = (sqrt(forecast) + z90)^2`. Two scales were measured
and rejected (bench/forecast.py traces plus a synthetic Poisson series with a deep nightly
trough): relative to the point forecast, `(actual - forecast) / forecast`, blew up where the
forecast is near zero at night and, applied at the next peak, made P90 three to six times P50
on the NASA trace; relative to the forecast's daily mean it stayed proportionate overall but
left the peak hours under-covered (P90 covered 71 % of the synthetic series' busiest quarter
against 93 % on the square-root scale).

The quantiles of `z` can be taken per lead-time band of `band_steps`; forecast.py pools the
whole horizon into one band (its comment says why). With several bands the band quantiles are
made non-decreasing by isotonic regression (pool adjacent violators, weighted by residual
count): a band wider than a later one is averaged with it rather than copied forward, so one
bad day of one fold does not set the width of every later day. P50 is the point forecast
itself, the number the backtest scored; the residual median is kept only to show bias.

Coverage is measured honestly: each fold's actuals are checked against quantiles calibrated on
the other folds only (leave one fold out). With a single fold its two halves play that role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# z-scores of the normal distribution for P90 and P99 (Poisson floor for the level fallback).
Z90_NORMAL = 1.2816
Z99_NORMAL = 2.3263
# A lead-time band needs this many residuals for its own quantiles (a P99 from fewer rests on
# one or two points); thinner bands reuse the band before.
MIN_BAND_RESIDUALS = 100


@dataclass(frozen=True)
class Calibration:
    """Square-root residual quantiles of one model on one series (bucket mean or peak).

    One entry per lead-time band of `band_steps` buckets (band 0 = the first day ahead);
    steps past the last band use the last band.
    """

    band_steps: int
    z50: tuple[float, ...]
    z90: tuple[float, ...]
    z99: tuple[float, ...]
    residuals: int  # how many residuals the quantiles came from (0 = no backtest)
    rms: float = 0.0  # root mean square of those residuals: the spread the folds saw
    # How far the band follows recent residuals out of that spread (0: none, with no
    # backtest; forecaster/widening.py): P90 and P99 above the median widen by that factor.
    widening: float = 0.0


NO_CALIBRATION = Calibration(1, (0.0,), (0.0,), (0.0,), 0)


@dataclass(frozen=True)
class Quantiles:
    p50: np.ndarray
    p90: np.ndarray
    p99: np.ndarray


def _root(values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(np.sqrt(np.maximum(values, 0.0)), dtype=float)


def residuals(point: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Residuals sqrt(actual) - sqrt(point) per step (negatives as 0); NaN where unknown."""
    return np.asarray(_root(actual) - _root(point), dtype=float)


def non_decreasing(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [weighted mean, weight, length]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([float(value), float(weight), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m1, w1, n1), (m2, w2, n2) = blocks[-2], blocks[-1]
            total = w1 + w2
            blocks[-2:] = [[(m1 * w1 + m2 * w2) / total if total > 0 else m2, total, n1 + n2]]
    return np.concatenate([np.full(int(n), m) for m, _, n in blocks]) if blocks else values


def fit(
    points: Sequence[np.ndarray], actuals: Sequence[np.ndarray], band_steps: int = 1
) -> Calibration:
    """Quantiles of the square-root residuals of several backtest folds, per lead-time band.

    Each band's P50/P90/P99 comes from its own residuals (a band with fewer than
    MIN_BAND_RESIDUALS reuses the band before); then each quantile is made non-decreasing over
    the bands by isotonic regression weighted by the bands' residual counts.
    """
    band_steps = max(1, band_steps)
    by_band: dict[int, list[np.ndarray]] = {}
    for point, actual in zip(points, actuals, strict=True):
        z = residuals(point, actual)
        bands = np.arange(z.size) // band_steps
        for band in np.unique(bands):
            values = z[bands == band]
            by_band.setdefault(int(band), []).append(values[np.isfinite(values)])
    pooled = {b: np.concatenate(v) for b, v in by_band.items()}
    if not pooled or sum(v.size for v in pooled.values()) == 0:
        return NO_CALIBRATION
    everything = np.concatenate(list(pooled.values()))
    rows: list[np.ndarray] = []
    counts: list[float] = []
    previous = np.quantile(everything, [0.5, 0.9, 0.99])
    for band in range(max(pooled) + 1):
        values = pooled.get(band, np.zeros(0))
        if values.size >= MIN_BAND_RESIDUALS:
            previous = np.quantile(values, [0.5, 0.9, 0.99])
        rows.append(previous)
        counts.append(float(values.size))
    table = np.array(rows)
    weights = np.array(counts)
    z50, z90, z99 = (non_decreasing(table[:, column], weights) for column in range(3))
    z99 = np.maximum(z99, z90)
    return Calibration(
        band_steps,
        tuple(float(v) for v in z50),
        tuple(float(v) for v in z90),
        tuple(float(v) for v in z99),
        int(everything.size),
        float(np.sqrt(np.mean(everything**2))),
    )


def apply(point: np.ndarray, calibration: Calibration, widen_by: float = 1.0) -> Quantiles:
    """P50/P90/P99 around a point forecast; never negative and always p50 <= p90 <= p99.

    `widen_by` (>= 1, forecaster/widening.py) multiplies the P90 and P99 spread above the
    residual median."""
    root = _root(point)
    bands = np.minimum(np.arange(point.size) // calibration.band_steps, len(calibration.z50) - 1)
    z90 = np.asarray(calibration.z90)[bands]
    z99 = np.asarray(calibration.z99)[bands]
    if widen_by != 1.0:
        z50 = np.asarray(calibration.z50)[bands]
        z90 = z50 + widen_by * np.maximum(z90 - z50, 0.0)
        z99 = z50 + widen_by * np.maximum(z99 - z50, 0.0)
    # P50 is the point forecast the backtest scored (z50 is kept for reporting bias only).
    p50 = np.maximum(point, 0.0)
    p90 = np.maximum(np.maximum(root + z90, 0.0) ** 2, p50)
    p99 = np.maximum(np.maximum(root + z99, 0.0) ** 2, p90)
    return Quantiles(p50, p90, p99)


def poisson_spread(point: np.ndarray) -> Quantiles:
    """Quantiles for counts with no backtest: Poisson noise around the level, normal approx."""
    level = np.maximum(point, 0.0)
    root = np.sqrt(level)
    return Quantiles(level, level + Z90_NORMAL * root, level + Z99_NORMAL * root)


def coverage(
    points: Sequence[np.ndarray], actuals: Sequence[np.ndarray], band_steps: int = 1
) -> tuple[float, float]:
    """Share of actuals at or below P90 and P99, each fold judged by the others' calibration."""
    if len(points) == 1:
        half = points[0].size // 2
        points = [points[0][:half], points[0][half:]]
        actuals = [actuals[0][:half], actuals[0][half:]]
    hits90 = hits99 = total = 0
    for i, (point, actual) in enumerate(zip(points, actuals, strict=True)):
        others = [j for j in range(len(points)) if j != i]
        calibration = fit([points[j] for j in others], [actuals[j] for j in others], band_steps)
        quantiles = apply(point, calibration)
        ok = np.isfinite(actual)
        hits90 += int(np.sum(actual[ok] <= quantiles.p90[ok]))
        hits99 += int(np.sum(actual[ok] <= quantiles.p99[ok]))
        total += int(ok.sum())
    if total == 0:
        return float("nan"), float("nan")
    return hits90 / total, hits99 / total
