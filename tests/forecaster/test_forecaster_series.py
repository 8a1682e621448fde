"""Regular grid, duplicates, out-of-order rows, gaps and bucket resampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecaster_builders import START

from forecaster import series
from kernel import errors


def _points(minutes: list[int], values: list[float]) -> pd.Series:
    index = pd.DatetimeIndex([START + pd.Timedelta(minutes=m) for m in minutes])
    return pd.Series(values, index=index, dtype=float)


def test_regularise_sorts_out_of_order_rows() -> None:
    result = series.regularise(_points([2, 0, 1], [30.0, 10.0, 20.0]), 60)
    assert result.values.tolist() == [10.0, 20.0, 30.0]
    assert result.reordered
    assert result.values.index.freq == pd.Timedelta(minutes=1)


def test_regularise_keeps_the_later_row_of_a_duplicate() -> None:
    """Rows 0, 1, 1 again: the second minute-1 row (99) replaces the first (20)."""
    result = series.regularise(_points([0, 1, 1], [10.0, 20.0, 99.0]), 60)
    assert result.values.tolist() == [10.0, 99.0]
    assert result.duplicates_dropped == 1


def test_regularise_fills_missing_minutes_with_nan_not_zero() -> None:
    result = series.regularise(_points([0, 3], [10.0, 40.0]), 60)
    assert result.gaps_filled == 2
    assert np.isnan(result.values.iloc[1]) and np.isnan(result.values.iloc[2])


def test_regularise_rejects_points_off_the_grid() -> None:
    points = _points([0, 1], [1.0, 2.0])
    points.index = points.index + pd.to_timedelta([0, 30], unit="s")
    with pytest.raises(errors.InputError, match="not on the 60 s grid"):
        series.regularise(points, 60)


def test_bucket_mean_and_peak_of_five_minutes() -> None:
    """Minutes 1..10 in two 5-min buckets: means 3 and 8, peaks 5 and 10."""
    values = series.regularise(_points(list(range(10)), [float(v) for v in range(1, 11)]), 60)
    assert series.bucket_mean(values.values, 60, 300).tolist() == [3.0, 8.0]
    assert series.bucket_peak(values.values, 60, 300).tolist() == [5.0, 10.0]


def test_bucket_with_mostly_missing_minutes_is_nan() -> None:
    """Minutes 0, 1 and 9 observed: 2 of 5 and 1 of 5 (< 50 %), so both buckets are unknown
    rather than a dip; with minutes 0-2 observed (3 of 5) the first bucket is known."""
    sparse = series.regularise(_points([0, 1, 9], [5.0, 5.0, 5.0]), 60).values
    assert series.bucket_mean(sparse, 60, 300).isna().all()
    assert series.bucket_peak(sparse, 60, 300).isna().all()
    enough = series.regularise(_points([0, 1, 2, 9], [5.0, 5.0, 5.0, 5.0]), 60).values
    assert series.bucket_mean(enough, 60, 300).iloc[0] == 5.0


def test_partial_final_bucket_is_dropped_and_forecast_starts_at_next_boundary() -> None:
    """History 00:00..00:07 (last minute 00:07): bucket 00:05 is partial, so fitting stops at
    00:05 and the forecast starts at 00:10."""
    values = series.regularise(_points(list(range(8)), [1.0] * 8), 60).values
    mean, peak, first = series.complete_buckets(values, 60, 300)
    assert list(mean.index) == [START]
    assert len(peak) == 1
    assert first == START + pd.Timedelta(minutes=10)


def test_complete_final_bucket_is_kept() -> None:
    values = series.regularise(_points(list(range(10)), [1.0] * 10), 60).values
    mean, _, first = series.complete_buckets(values, 60, 300)
    assert len(mean) == 2
    assert first == START + pd.Timedelta(minutes=10)


@pytest.mark.parametrize(
    ("freq", "expected_s"),
    [("1min", 60), ("10min", 600), ("1h", 3600)],
    ids=["min", "10min", "hour"],
)
def test_interval_of_reads_the_index_frequency(freq: str, expected_s: int) -> None:
    index = pd.date_range(START, periods=4, freq=freq)
    assert series.interval_of(pd.Series(1.0, index=index)) == expected_s
