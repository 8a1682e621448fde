"""Pure: quantiles from backtest residuals, and the coverage they reach on unseen folds.

Errors of traffic forecasts grow with the traffic: a 5-min bucket at the daily peak misses by
more requests than one at night. Residuals are therefore taken relative to the forecast,
`z = (actual - forecast) / max(forecast, floor)`, and the P50/P90/P99 of `z` are stored per
lead-time band (one day each: errors grow as level drift adds up, so a later band is never
narrower than an earlier one). The floor (a share of the forecast's mean) keeps near-zero
forecasts from producing huge `z`. P50 is the point forecast itself, the number the backtest
scored; the residual median is kept only to show bias.

Coverage is measured honestly: each fold's actuals are checked against quantiles calibrated on
the other folds only (leave one fold out). With a single fold its two halves play that role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Forecasts below 10 % of their own mean are scaled as if they were at 10 %: the relative error
# of a near-empty bucket says little about the next one.
FLOOR_FRACTION = 0.1
# z-scores of the normal distribution for P90 and P99 (Poisson floor for the level fallback).
Z90_NORMAL = 1.2816
Z99_NORMAL = 2.3263
# A lead-time band needs this many residuals for its own quantiles (a P99 from fewer rests on
# one or two points); thinner bands reuse the band before.
MIN_BAND_RESIDUALS = 100


@dataclass(frozen=True)
class Calibration:
    """Relative residual quantiles of one model on one series (bucket mean or peak).

    One entry per lead-time band of `band_steps` buckets (band 0 = the first day ahead);
    steps past the last band use the last band.
    """

    band_steps: int
    z50: tuple[float, ...]
    z90: tuple[float, ...]
    z99: tuple[float, ...]
    residuals: int  # how many residuals the quantiles came from (0 = no backtest)


NO_CALIBRATION = Calibration(1, (0.0,), (0.0,), (0.0,), 0)


@dataclass(frozen=True)
class Quantiles:
    p50: np.ndarray
    p90: np.ndarray
    p99: np.ndarray


def _scale(point: np.ndarray) -> np.ndarray:
    finite = point[np.isfinite(point)]
    mean = float(np.mean(np.abs(finite))) if finite.size else 0.0
    floor = max(FLOOR_FRACTION * mean, 1e-9)
    return np.asarray(np.maximum(point, floor), dtype=float)


def relative_residuals(point: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Residuals (actual - point) / scale per step; NaN where the actual is unknown."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.subtract(actual, point) / _scale(point), dtype=float)


def fit(
    points: Sequence[np.ndarray], actuals: Sequence[np.ndarray], band_steps: int = 1
) -> Calibration:
    """Quantiles of the relative residuals of several backtest folds, per lead-time band.

    Errors grow with lead time (level drift adds up), so a band's P90/P99 is never below the
    previous band's. A band with fewer than MIN_BAND_RESIDUALS residuals reuses the previous.
    """
    band_steps = max(1, band_steps)
    by_band: dict[int, list[np.ndarray]] = {}
    for point, actual in zip(points, actuals, strict=True):
        z = relative_residuals(point, actual)
        bands = np.arange(z.size) // band_steps
        for band in np.unique(bands):
            values = z[bands == band]
            by_band.setdefault(int(band), []).append(values[np.isfinite(values)])
    pooled = {b: np.concatenate(v) for b, v in by_band.items()}
    if not pooled or sum(v.size for v in pooled.values()) == 0:
        return NO_CALIBRATION
    everything = np.concatenate(list(pooled.values()))
    z50: list[float] = []
    z90: list[float] = []
    z99: list[float] = []
    previous = np.quantile(everything, [0.5, 0.9, 0.99])
    for band in range(max(pooled) + 1):
        values = pooled.get(band, np.zeros(0))
        current = (
            np.quantile(values, [0.5, 0.9, 0.99]) if values.size >= MIN_BAND_RESIDUALS else previous
        )
        if z90:
            current = np.array([current[0], max(current[1], z90[-1]), max(current[2], z99[-1])])
        z50.append(float(current[0]))
        z90.append(float(current[1]))
        z99.append(float(current[2]))
        previous = current
    return Calibration(band_steps, tuple(z50), tuple(z90), tuple(z99), int(everything.size))


def apply(point: np.ndarray, calibration: Calibration) -> Quantiles:
    """P50/P90/P99 around a point forecast; never negative and always p50 <= p90 <= p99."""
    scale = _scale(point)
    bands = np.minimum(np.arange(point.size) // calibration.band_steps, len(calibration.z50) - 1)
    z90 = np.asarray(calibration.z90)[bands]
    z99 = np.asarray(calibration.z99)[bands]
    # P50 is the point forecast the backtest scored (z50 is kept for reporting bias only).
    p50 = np.maximum(point, 0.0)
    p90 = np.maximum(point + z90 * scale, p50)
    p99 = np.maximum(point + z99 * scale, p90)
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
