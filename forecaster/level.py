"""Pure: the online level correction of a forecast between refits, and the band's scale.

A refit keeps the level of the history it was fitted on until the next one: when the level
moves (a holiday dip, growth, a client leaving) the forecast stays wrong for hours. The
correction compares what was observed over the last `window_s` with what the forecast in force
said for the same minutes, and scales the forecast ahead by that ratio, damped (a fraction of
the way, so one odd hour does not swing the floor) and bounded (a collection glitch must not
halve or double capacity). Whether a workload uses it at all is decided by replaying its own
history (simulator/operating_point.py), never by a constant tuned to one trace.

The band's scale places the provisioning point on the forecast's own quantiles, on the
square-root scale the calibration works in (calibration.py): 0 is P50, 1 is P90, 2 is P99,
linear between them. It lets the operating point be chosen on a continuous knob instead of
three quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

# The trailing window the correction compares: three hours hold a few buckets even at an
# hourly resolution and follow a level shift within one refit interval.
DEFAULT_WINDOW_S = 3 * 3600
# Move half of the way to the observed ratio per update: an exponential smoother of the ratio
# with weight 1/2 reaches 94 % of a lasting shift after four hourly updates.
DEFAULT_DAMPING = 0.5
# Never scale by more than 2x either way: beyond that the model, not its level, is wrong, and
# the next refit (hours away at most) sees the new level itself.
DEFAULT_LOW = 0.5
DEFAULT_HIGH = 2.0
# A ratio needs this share of the window observed (gaps leave it undecided: no correction).
MIN_OBSERVED_SHARE = 0.5
FRAME_QUANTILES = (("p50", "p90", "p99"), ("peak_p50", "peak_p90", "peak_p99"))


@dataclass(frozen=True)
class LevelCorrection:
    """How the trailing ratio becomes a factor (see the module docstring)."""

    window_s: int = DEFAULT_WINDOW_S
    damping: float = DEFAULT_DAMPING
    low: float = DEFAULT_LOW
    high: float = DEFAULT_HIGH


def ratio(observed: npt.NDArray[np.float64], forecast: npt.NDArray[np.float64]) -> float | None:
    """sum(observed) / sum(forecast) over the points both know; None when fewer than
    MIN_OBSERVED_SHARE of them are known or the forecast sums to nothing."""
    known = np.isfinite(observed) & np.isfinite(forecast)
    if observed.size == 0 or known.mean() < MIN_OBSERVED_SHARE:
        return None
    expected = float(forecast[known].sum())
    if expected <= 0:
        return None
    return float(observed[known].sum()) / expected


def factor(
    observed: npt.NDArray[np.float64],
    forecast: npt.NDArray[np.float64],
    previous: float,
    correction: LevelCorrection,
) -> float:
    """The next factor: `previous` moved `damping` of the way to the trailing ratio, bounded.

    observed 120 where 100 was forecast, previous 1.0, damping 0.5: 1.0 + 0.5 x (1.2 - 1.0)
    = 1.1. No ratio (gaps) keeps `previous`.
    """
    found = ratio(observed, forecast)
    if found is None:
        return previous
    moved = previous + correction.damping * (found - previous)
    return min(max(moved, correction.low), correction.high)


def band_point(frame: pd.DataFrame, band_scale: float, *, peak: bool = True) -> pd.Series:
    """The provisioning point at `band_scale` on the square-root scale (module docstring).

    p50 100, p90 144 (roots 10 and 12): scale 0.5 -> 11^2 = 121; scale 1 -> 144.
    """
    p50, p90, p99 = FRAME_QUANTILES[1 if peak else 0]
    columns = [frame[c].to_numpy(dtype=float) for c in (p50, p90, p99)]
    return pd.Series(band_values(columns[0], columns[1], columns[2], band_scale), index=frame.index)


def band_values(
    p50: npt.NDArray[np.float64],
    p90: npt.NDArray[np.float64],
    p99: npt.NDArray[np.float64],
    band_scale: float,
) -> npt.NDArray[np.float64]:
    """`band_point` on the quantiles' values (the replay's floor path, without a frame)."""
    roots = [np.sqrt(np.maximum(values, 0.0)) for values in (p50, p90, p99)]
    low, high, weight = (
        (roots[0], roots[1], band_scale)
        if band_scale <= 1
        else (
            roots[1],
            roots[2],
            band_scale - 1.0,
        )
    )
    weight = min(max(weight, 0.0), 1.0)
    point: npt.NDArray[np.float64] = (low + weight * (high - low)) ** 2
    return point


def scaled(frame: pd.DataFrame, by: float) -> pd.DataFrame:
    """Every quantile column of a forecast frame multiplied by the level factor `by`."""
    if by == 1.0:
        return frame
    result = frame.copy()
    for columns in FRAME_QUANTILES:
        for column in columns:
            if column in result.columns:
                result[column] = result[column] * by
    return result
