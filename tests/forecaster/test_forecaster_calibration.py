"""calibration: residuals on the square-root scale, bands without one bad day copied on."""

from __future__ import annotations

import numpy as np
import pytest

from forecaster import calibration

DAY = 24  # hourly buckets


def _trough_days(days: int) -> np.ndarray:
    """A diurnal forecast 5 + 95 max(0, sin)^3: 100 at the peak (hour 12), 5 for half the day."""
    hours = np.arange(days * DAY)
    return 5.0 + 95.0 * np.clip(np.sin(2 * np.pi * (hours - 6) / DAY), 0.0, None) ** 3


def test_deep_nightly_trough_keeps_the_band_proportionate_at_the_peak() -> None:
    """Poisson arrivals around a forecast with a deep nightly trough. At the peak (100) the
    true P90 is about 100 + 1.28 * sqrt(100) = 113; on the square-root scale z90 ~ 1.28 / 2,
    so P90 ~ (10 + 0.64)^2 = 113 (112 measured). At night (5) the Poisson P90 is 8. Residuals
    relative to the point forecast made the peak's P90 140; relative to the day's mean level,
    105 (too narrow where the planner provisions)."""
    rng = np.random.default_rng(7)
    point = _trough_days(28)
    actual = rng.poisson(point).astype(float)
    cal = calibration.fit([point], [actual], band_steps=7 * DAY)
    q = calibration.apply(_trough_days(7), cal)
    peaks = np.arange(7) * DAY + 12
    assert q.p90[peaks] == pytest.approx(np.full(7, 113.0), abs=4.0)
    night = np.arange(7) * DAY
    assert ((q.p90[night] >= 6.0) & (q.p90[night] <= 10.0)).all()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([1.0, 3.0, 2.0, 4.0], [1.0, 2.5, 2.5, 4.0], id="one-violation-pooled"),
        pytest.param([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], id="already-increasing"),
        pytest.param([4.0, 1.0, 1.0, 1.0], [1.75, 1.75, 1.75, 1.75], id="early-outlier-averaged"),
    ],
)
def test_non_decreasing_pools_adjacent_violators(
    values: list[float], expected: list[float]
) -> None:
    got = calibration.non_decreasing(np.array(values), np.ones(len(values)))
    assert got == pytest.approx(expected)


def test_one_wide_band_is_not_copied_to_every_later_band() -> None:
    """Forecast 100 (root 10). Day 2 misses by root residuals 0..0.99, the other six days by
    0..0.099: z90 per band is 0.891 on day 2 and 0.0891 elsewhere. Pooled with the five later
    days, day 7's z90 is (0.891 + 5 * 0.0891) / 6 = 0.2228, not 0.891 as a running maximum."""
    point = np.full(7 * 100, 100.0)
    small = np.arange(100.0) / 1000
    actual = (10.0 + np.r_[small, small * 10, np.tile(small, 5)]) ** 2
    cal = calibration.fit([point], [actual], band_steps=100)
    assert cal.z90[0] == pytest.approx(0.0891)
    assert cal.z90[6] == pytest.approx((0.891 + 5 * 0.0891) / 6)
    assert list(cal.z90) == sorted(cal.z90)


def test_quantiles_never_go_below_zero_or_below_the_point() -> None:
    """A forecast of 0 with negative residual quantiles: P90 = max((0 + z)^2 with z < 0 -> 0,
    p50) = 0, never negative, and p50 <= p90 <= p99 everywhere."""
    point = np.array([0.0, 4.0, 100.0])
    cal = calibration.Calibration(10, (-1.0,), (-0.5,), (1.0,), 3)
    q = calibration.apply(point, cal)
    assert (q.p50 >= 0).all()
    assert (q.p50 <= q.p90).all() and (q.p90 <= q.p99).all()
    assert q.p99 == pytest.approx([1.0, 9.0, 121.0])


def test_calibration_quantiles_come_from_residuals() -> None:
    """Forecast 100 everywhere (root 10), actuals (10 + k / 100)^2 for k = 0..999 (square-root
    residual k / 100): the pooled P90 is 8.991 and P99 is 9.8901."""
    point = np.full(1000, 100.0)
    actual = (10.0 + np.arange(1000.0) / 100) ** 2
    cal = calibration.fit([point], [actual], band_steps=1000)
    assert cal.z90[0] == pytest.approx(8.991)
    assert cal.z99[0] == pytest.approx(9.8901)
    q = calibration.apply(point, cal)
    assert (q.p50 <= q.p90).all() and (q.p90 <= q.p99).all()


def test_later_lead_bands_are_never_narrower() -> None:
    """Day 2 residuals are smaller than day 1's; the two bands are pooled to one P90."""
    point = np.full(200, 10.0)
    actual = np.r_[10.0 + np.arange(100.0) / 10, np.full(100, 10.0)]
    cal = calibration.fit([point], [actual], band_steps=100)
    assert cal.z90[1] >= cal.z90[0]
