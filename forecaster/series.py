"""Pure: demand series on a regular UTC grid, and resampling to model buckets.

A `Trace` is what the shell hands the core after reading a CSV file or a Prometheus range:
arrivals per input interval on a tz-aware UTC index with an explicit frequency, NaN where the
source has no data. `regularise` builds that grid from raw (possibly unsorted, duplicated)
points; `bucket_mean` and `bucket_peak` resample it to the model resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from kernel import errors

# A bucket's mean is only trusted when at least this share of its input intervals has data;
# otherwise a bucket cut by a logging gap would look like a dip in demand.
MIN_BUCKET_COVERAGE = 0.5
# The most grid points a series may span: 8 weeks at one second is 4.8M. Two rows a century
# apart at 1 s would otherwise build a 3-billion-point grid (minutes of work, then out of
# memory) before anything could say the range is wrong.
MAX_GRID_POINTS = 10_000_000


@dataclass(frozen=True)
class Trace:
    """Arrivals per input interval, as loaded from a trace or Prometheus."""

    values: pd.Series  # float, UTC DatetimeIndex with freq == interval; NaN = no data
    interval_s: int  # 1, 60, 600, 3600 ...
    column: str  # which column `values` came from ("requests")
    prompt_tokens: pd.Series | None  # per-interval sums, same index, or None
    completion_tokens: pd.Series | None


@dataclass(frozen=True)
class Regularised:
    """A series on its regular grid plus what regularising changed (for the caller to report)."""

    values: pd.Series
    duplicates_dropped: int  # rows whose timestamp appeared again later (the later row wins)
    reordered: bool  # the input was not in time order
    gaps_filled: int  # grid points with no row at all, now NaN


def freq_of(interval_s: int) -> pd.Timedelta:
    return pd.Timedelta(seconds=interval_s)


def on_grid(values: pd.Series, interval_s: int) -> pd.Series:
    """The same values with the index's freq set to the interval (missing points become NaN)."""
    out: pd.Series = values.asfreq(f"{interval_s}s")
    return out


def regularise(points: pd.Series, interval_s: int) -> Regularised:
    """Put raw points on a regular UTC grid of `interval_s` seconds.

    Out-of-order points are sorted. For a duplicated timestamp the last row wins: a re-scraped
    or re-exported interval replaces the earlier count rather than adding to it. Missing grid
    points become NaN (a gap is "no data", never zero). Points off the grid are an input error.
    """
    if interval_s <= 0:
        raise errors.InputError(
            f"interval_s ({interval_s}) must be a positive number of seconds; pass e.g. 60"
        )
    index = pd.DatetimeIndex(points.index)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    series = pd.Series(points.to_numpy(dtype=float), index=index, dtype=float)
    infinite = series.index[np.isinf(series.to_numpy())]
    if len(infinite) > 0:
        raise errors.InputError(
            f"value at {infinite[0].isoformat()} (inf) is not a finite number "
            f"({len(infinite)} such values); demand per interval must be finite: fix the source "
            "or leave the interval empty (no data)"
        )
    negative = series.index[series.to_numpy() < 0]
    if len(negative) > 0:
        raise errors.InputError(
            f"value at {negative[0].isoformat()} ({series[negative[0]]:g}) is negative "
            f"({len(negative)} such values); demand per interval must be >= 0: fix the source "
            "(a counter's rate or a gauge never goes below zero)"
        )
    reordered = not series.index.is_monotonic_increasing
    duplicated = series.index.duplicated(keep="last")
    series = series[~duplicated].sort_index()
    if series.empty:
        empty = pd.Series([], index=pd.DatetimeIndex([], tz="UTC"), dtype=float)
        return Regularised(on_grid(empty, interval_s), int(duplicated.sum()), False, 0)
    step = freq_of(interval_s)
    points_spanned = (series.index[-1] - series.index[0]) // step + 1
    if points_spanned > MAX_GRID_POINTS:
        raise errors.InputError(
            f"time range ({series.index[0].isoformat()} to {series.index[-1].isoformat()}) "
            f"spans {points_spanned:,} intervals of {interval_s} s, more than "
            f"{MAX_GRID_POINTS:,}; check the timestamps for a stray year, or resample to a "
            "coarser interval"
        )
    # integer nanoseconds: the same test as Timedelta arithmetic, a tenth of its time
    stamps = pd.DatetimeIndex(series.index).as_unit("ns").asi8
    off_grid = series.index[(stamps - stamps[0]) % step.value != 0]
    if len(off_grid) > 0:
        raise errors.InputError(
            f"timestamp {off_grid[0].isoformat()} is not on the {interval_s} s grid that starts "
            f"at {series.index[0].isoformat()}; the series mixes resolutions or offsets. "
            "Resample the source to one interval before loading"
        )
    regular = on_grid(series, interval_s)
    return Regularised(
        values=regular,
        duplicates_dropped=int(duplicated.sum()),
        reordered=reordered,
        gaps_filled=len(regular) - len(series),
    )


def interval_of(series: pd.Series, default_s: int = 60) -> int:
    """The input interval in seconds: the index's freq, else the most common step."""
    index = pd.DatetimeIndex(series.index)
    if index.freq is not None:
        try:
            return int(pd.Timedelta(index.freq.nanos, unit="ns").total_seconds())
        except ValueError:
            pass  # a calendar frequency (month, business day): measure the steps instead
    if len(index) < 2:
        return default_s
    steps = np.diff(index.as_unit("ns").asi8) // 1_000_000_000
    steps = steps[steps > 0]
    if steps.size == 0:
        return default_s
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])


def _buckets(values: pd.Series, resolution_s: int) -> Any:
    # origin="epoch" puts bucket edges on multiples of the resolution since 1970, so 5-min,
    # 15-min and hourly buckets start on the wall-clock boundaries a reader expects (and
    # agree with Timestamp.floor, which also counts from the epoch).
    return values.resample(f"{resolution_s}s", origin="epoch", label="left", closed="left")


def bucket_mean(values: pd.Series, interval_s: int, resolution_s: int) -> pd.Series:
    """Mean per input interval within each model bucket; NaN where coverage is too thin."""
    return _bucket_statistic(values, interval_s, resolution_s, "mean")


def bucket_peak(values: pd.Series, interval_s: int, resolution_s: int) -> pd.Series:
    """Largest input-interval value within each model bucket (what the planner provisions for)."""
    return _bucket_statistic(values, interval_s, resolution_s, "max")


def _bucket_statistic(
    values: pd.Series, interval_s: int, resolution_s: int, statistic: Literal["mean", "max"]
) -> pd.Series:
    if resolution_s == interval_s:
        return on_grid(values.astype(float), interval_s)
    resampled = _buckets(values, resolution_s)
    result: pd.Series = resampled.mean() if statistic == "mean" else resampled.max()
    present = resampled.count()
    per_bucket = resolution_s // interval_s
    result[present < MIN_BUCKET_COVERAGE * per_bucket] = np.nan
    return on_grid(result.astype(float), resolution_s)


def complete_buckets(
    values: pd.Series, interval_s: int, resolution_s: int
) -> tuple[pd.Series, pd.Series, pd.Timestamp]:
    """Bucket means and peaks without a partial final bucket, and the first forecast timestamp.

    The first forecast timestamp is the bucket boundary right after the last input interval's
    start: when the last bucket is only partly observed it is dropped from fitting and not
    forecast either (it is already under way).
    """
    mean = bucket_mean(values, interval_s, resolution_s)
    peak = bucket_peak(values, interval_s, resolution_s)
    last = pd.Timestamp(values.index[-1])
    step = freq_of(resolution_s)
    last_bucket = last.floor(step)
    bucket_end = last + freq_of(interval_s)
    first_forecast = last_bucket + step
    if bucket_end < last_bucket + step:
        mean = mean[mean.index < last_bucket]
        peak = peak[peak.index < last_bucket]
    return on_grid(mean, resolution_s), on_grid(peak, resolution_s), first_forecast
