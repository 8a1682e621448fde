"""Pure: the point-forecast models, each a function of past bucket values and a step count.

Every model takes `y` (bucket values in time order, NaN = no data, ending right before the
first forecast step), the number of `steps` to forecast and the `season` (buckets per day and
per week), and returns a float array of `steps` values. Models know nothing of timestamps: the
caller keeps `y` aligned so that position n is the first forecast step.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from forecaster import blas

# The multi-week profile takes the median of up to this many past weeks: enough to outvote one
# odd week (a holiday, an outage), few enough to follow a changing pattern.
PROFILE_WEEKS = 4
# The daily profile (short history) takes the median of up to this many past days.
PROFILE_DAYS = 7
# The profile is scaled by the ratio of the last day's level to the profile's at the same
# times, bounded so that one odd day cannot halve or double next week.
LEVEL_RATIO_BOUNDS = (0.5, 2.0)
# Fourier regression: daily harmonics up to 12 (shape down to two-hour features), weekly up to 6
# (harmonic 7 of the week is the first daily one). Chosen as a small, common default; the
# backtest decides whether the model is used at all.
FOURIER_DAILY_ORDER = 12
FOURIER_WEEKLY_ORDER = 6
# The regression fits the last 4 weeks with weights halving every week, so drift is followed.
FOURIER_WINDOW_WEEKS = 4
FOURIER_HALF_LIFE_WEEKS = 1.0
# MSTL is fitted on hourly means: at 5-min it takes minutes per series (DESIGN.md notes more than
# 7 min at 1-min), at hourly well under a second.
MSTL_STEP_S = 3600
# One inner STL pass per outer MSTL iteration instead of statsmodels' default: about 4x faster
# on 4 weeks of hourly means (0.12 s against 0.53 s measured here), which keeps a refit of the
# ensemble under a second; MSTL's own outer iterations (2) still refine the seasons.
MSTL_INNER_ITER = 1
# MSTL is fitted on at most the last 20 weeks. Its seasonal smoothers span 11 days and 15 weeks
# (statsmodels' default windows, 7 + 4 i cycles), so older data barely moves the last week's
# components, while the fit's time grows with the history: on the corpus' traces of 25-225
# weeks the week-ahead forecast from 20 weeks differs from the whole history's by 0.01-1.7 %
# of its mean absolute value, and takes 0.28 s instead of up to 3 s (225 weeks of hourly means).
MSTL_WEEKS = 20
# Holt-Winters is fitted on at most this many weeks (older data carries little of next week).
HOLT_WINTERS_WEEKS = 4
# The most history any model reads: a forecast's refit needs no more (forecast.py).
FIT_WEEKS = max(MSTL_WEEKS, PROFILE_WEEKS, FOURIER_WINDOW_WEEKS, HOLT_WINTERS_WEEKS)
# Fourier designs kept for reuse: a selection uses six (three folds' history and future), a
# forecast two; each is at most 4 weeks at 5 min by 37 columns (2.4 MB).
DESIGN_CACHE_SIZE = 16


@dataclass(frozen=True)
class Season:
    """Seasonal periods in model buckets."""

    day: int
    week: int
    resolution_s: int


def season_for(resolution_s: int) -> Season:
    return Season(
        day=max(1, 86400 // resolution_s),
        week=max(1, 7 * 86400 // resolution_s),
        resolution_s=resolution_s,
    )


def fill_gaps(y: np.ndarray, period: int) -> np.ndarray:
    """Fill NaN from one period earlier (then later), then by interpolation, then the mean."""
    out = y.astype(float).copy()
    if not np.isnan(out).any():
        return out
    if period < out.size:
        _fill_from_neighbour_periods(out, period)
    missing = np.isnan(out)
    if missing.any() and (~missing).any():
        positions = np.arange(out.size)
        out[missing] = np.interp(positions[missing], positions[~missing], out[~missing])
    return np.asarray(np.nan_to_num(out, nan=0.0), dtype=float)


def _fill_from_neighbour_periods(out: np.ndarray, period: int) -> None:
    """In place: each NaN from the same phase one period earlier, scanning forwards (so a fill
    carries on into later periods), then what is left from one period later, scanning
    backwards. Done a period at a time: the values a period reads are never written while it
    is filled, so this is the element-by-element scan, without a Python step per element."""
    n = out.size
    for start in range(period, n, period):
        block = out[start : start + period]
        source = out[start - period : start - period + block.size]
        gaps = np.isnan(block)
        block[gaps] = source[gaps]
    # backwards: position i (i < n - period) reads i + period
    for stop in range(n - period, 0, -period):
        start = max(0, stop - period)
        block = out[start:stop]
        source = out[start + period : stop + period]
        gaps = np.isnan(block)
        block[gaps] = source[gaps]


def seasonal_naive(y: np.ndarray, steps: int, period: int) -> np.ndarray:
    """Repeat the last `period` values (gaps filled from earlier periods)."""
    if y.size < period:
        return recent_level(y, steps, period)
    filled = fill_gaps(y, period)
    last = filled[-period:]
    return np.resize(last, steps).astype(float)


def recent_level(y: np.ndarray, steps: int, period: int) -> np.ndarray:
    """A flat line at the mean of the last `period // 24` known values (an hour when `period`
    is a day)."""
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return np.zeros(steps)
    recent = finite[-max(1, min(finite.size, period // 24 or 1)) :]
    return np.full(steps, float(np.mean(recent)))


def seasonal_profile(y: np.ndarray, steps: int, period: int, periods_back: int) -> np.ndarray:
    """Median of the last `periods_back` periods at the same phase, scaled to the recent level.

    The scale is the sum of the last `period // 7` values (a day for the weekly profile, about
    3.4 hours for the daily one) over the profile's sum at the same phases, within
    LEVEL_RATIO_BOUNDS. Phases with no data in any period are filled from `period // 7` earlier.
    """
    k = min(periods_back, y.size // period)
    if k < 1:
        return recent_level(y, steps, period)
    stack = y[y.size - k * period :].reshape(k, period)
    # the median of the phases that have data: no all-NaN slice, so no warning to silence
    # (`warnings.catch_warnings` is not thread-safe, and the daemon forecasts in threads)
    seen = np.isfinite(stack).any(axis=0)
    profile = np.full(period, np.nan)
    if seen.any():
        profile[seen] = np.nanmedian(stack[:, seen], axis=0)
    profile = fill_gaps(profile, max(1, period // 7) if period > 7 else period)
    recent_span = min(period, max(1, period // 7))
    recent = y[-recent_span:]
    reference = profile[-recent_span:]
    ok = np.isfinite(recent)
    ratio = 1.0
    if ok.any() and np.sum(reference[ok]) > 0:
        ratio = float(np.sum(recent[ok]) / np.sum(reference[ok]))
        ratio = float(np.clip(ratio, *LEVEL_RATIO_BOUNDS))
    return np.asarray(np.resize(profile * ratio, steps), dtype=float)


def weekly_profile(y: np.ndarray, steps: int, season: Season) -> np.ndarray:
    return seasonal_profile(y, steps, season.week, PROFILE_WEEKS)


def daily_profile(y: np.ndarray, steps: int, season: Season) -> np.ndarray:
    return seasonal_profile(y, steps, season.day, PROFILE_DAYS)


def fourier_design(positions: np.ndarray, season: Season, weekly: bool) -> np.ndarray:
    harmonics = _harmonics(season, weekly)
    design = np.empty((positions.size, 1 + 2 * len(harmonics)))
    design[:, 0] = 1.0
    for column, (k, period) in enumerate(harmonics):
        angle = 2.0 * np.pi * k * positions / period
        design[:, 1 + 2 * column] = np.sin(angle)
        design[:, 2 + 2 * column] = np.cos(angle)
    return design


def _harmonics(season: Season, weekly: bool) -> tuple[tuple[int, int], ...]:
    """(order k, period) of each sine/cosine pair of the design, daily first."""
    pairs: list[tuple[int, int]] = []
    for order, period, use in (
        (FOURIER_DAILY_ORDER, season.day, True),
        (FOURIER_WEEKLY_ORDER, season.week, weekly),
    ):
        if use:
            # A harmonic needs at least 2 buckets per cycle to be identifiable.
            pairs.extend((k, period) for k in range(1, min(order, period // 2) + 1))
    return tuple(pairs)


@functools.lru_cache(maxsize=DESIGN_CACHE_SIZE)
def _design_of_range(first: int, count: int, season: Season, weekly: bool) -> np.ndarray:
    """The design at positions first .. first + count - 1, kept read-only for reuse.

    A backtest fits the same fold positions three times (bucket means, peaks, the spike-clipped
    fit) and every series of the same length has the same positions, while computing the
    sines and cosines was a third of a selection's time (cProfile, bench/forecast.py --fleet).
    """
    design = fourier_design(np.arange(first, first + count, dtype=float), season, weekly)
    design.flags.writeable = False
    return design


def fourier(y: np.ndarray, steps: int, season: Season, *, weekly: bool = True) -> np.ndarray:
    """Weighted least squares on daily (and weekly) harmonics over the last few weeks, fitted
    on the square root of the counts and squared back.

    Arrival counts have a variance near their mean (Poisson), so the square root evens the
    noise between night and peak; and a sum of harmonics fitted on the raw scale undershoots a
    deep nightly trough (it forecast below zero at night on the NASA trace while the data
    never went below about 10 req/min), where squaring back can never go below zero. On the
    backtests of the shared traces this lowered the Fourier MAE on NASA (ratio to naive 0.84
    -> 0.78 on the final-week history) and changed ServeGen by about 1 %.
    """
    window = min(y.size, FOURIER_WINDOW_WEEKS * season.week)
    with np.errstate(invalid="ignore"):
        recent = np.sqrt(np.maximum(y[y.size - window :], 0.0))
    positions = np.arange(y.size - window, y.size, dtype=float)
    ok = np.isfinite(recent)
    weekly = weekly and y.size >= season.week
    design = _design_of_range(y.size - window, window, season, weekly)
    if ok.sum() <= design.shape[1]:
        return recent_level(y, steps, season.day)
    age = (y.size - 1 - positions) / season.week
    weights = np.sqrt(0.5 ** (age / FOURIER_HALF_LIFE_WEEKS))
    weighted = design[ok] * weights[ok, None]
    target = recent[ok] * weights[ok]
    with blas.one_thread():
        try:
            # Normal equations: the design is small (at most 37 columns) and well conditioned
            # (orthogonal harmonics), and this is several times cheaper than an SVD.
            coef = np.linalg.solve(weighted.T @ weighted, weighted.T @ target)
        except np.linalg.LinAlgError:
            coef, *_ = np.linalg.lstsq(weighted, target, rcond=None)
    future = _design_of_range(y.size, steps, season, weekly)
    return np.asarray(np.maximum(future @ coef, 0.0) ** 2, dtype=float)


def holt_winters(
    y: np.ndarray, steps: int, season: Season, *, period: int | None = None
) -> np.ndarray:
    """Additive Holt-Winters (no trend) with a weekly season, fitted by statsmodels."""
    # statsmodels is imported where it fits (here and in mstl), not with the module: it takes
    # about a second, which every command (`--help`, `check-config`) would otherwise pay.
    from statsmodels.tools import sm_exceptions  # noqa: PLC0415 - see the comment above
    from statsmodels.tsa import holtwinters  # noqa: PLC0415 - see the comment above

    period = period or season.week
    window = min(y.size, HOLT_WINTERS_WEEKS * season.week)
    if window < 2 * period:
        return seasonal_naive(y, steps, min(period, season.day))
    filled = fill_gaps(y[y.size - window :], period)
    model = holtwinters.ExponentialSmoothing(
        filled,
        trend=None,
        seasonal="add",
        seasonal_periods=period,
        initialization_method="heuristic",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm_exceptions.ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        # No brute-force grid for the starting values: on 108 four-week fits of the 17
        # traces of bench/corpus.py it changed the held-out week's MAE by -5 % to +0.6 %
        # (median 0) and the fit's SSE by at most +2.9 %, for 3.8x less time.
        fitted = model.fit(optimized=True, use_brute=False)
    # The additive no-trend forecast is the last level plus the last season's states, read
    # here from the fit: `fitted.forecast` would re-run the whole recursion in Python first
    # (equal to the last digit; a second pass as long as the fit's own).
    level = np.asarray(fitted.level, dtype=float)
    seasonal = np.asarray(fitted.season, dtype=float)
    return np.asarray(level[-1] + seasonal[seasonal.size - period + np.arange(steps) % period])


def mstl(y: np.ndarray, steps: int, season: Season) -> np.ndarray:
    """MSTL (daily + weekly seasons) on hourly means; trend held at its last day's mean."""
    from statsmodels.tsa import seasonal as sm_seasonal  # noqa: PLC0415 - see holt_winters

    factor = max(1, MSTL_STEP_S // season.resolution_s)
    y = y[max(0, y.size - MSTL_WEEKS * season.week) :]
    usable = y.size - y.size % factor
    if usable == 0:
        return recent_level(y, steps, season.day)
    # Hourly buckets are aligned to the end of the history, so the last hour is complete.
    blocks = y[y.size - usable :].reshape(-1, factor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hourly = np.nanmean(blocks, axis=1)
    day = max(2, season.day // factor)
    week = max(2, season.week // factor)
    # statsmodels keeps only periods shorter than half the series.
    periods = tuple(sorted({p for p in (day, week) if hourly.size > 2 * p}))
    if not periods:
        return seasonal_naive(y, steps, season.day)
    filled = fill_gaps(hourly, periods[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # statsmodels' MSTL fails on a single period; STL is its one-season special case.
        if len(periods) == 1:
            result = sm_seasonal.STL(filled, period=periods[0]).fit(inner_iter=MSTL_INNER_ITER)
        else:
            result = sm_seasonal.MSTL(
                filled, periods=periods, stl_kwargs={"inner_iter": MSTL_INNER_ITER}
            ).fit()
    hourly_steps = -(-steps // factor) + 1
    trend = float(np.mean(result.trend[-day:]))
    out = np.full(hourly_steps, trend)
    seasonal = np.asarray(result.seasonal).reshape(filled.size, -1)
    for column, period in enumerate(periods):
        last = seasonal[-period:, column]
        out += np.resize(last, hourly_steps)
    # Back to model buckets: hour h covers buckets [h*factor, (h+1)*factor); interpolate
    # between hour centres so the forecast has no steps at each hour.
    centres = np.arange(hourly_steps) * factor + (factor - 1) / 2.0
    return np.asarray(np.interp(np.arange(steps, dtype=float), centres, out), dtype=float)


ModelFunction = Callable[[np.ndarray, int, Season], np.ndarray]
