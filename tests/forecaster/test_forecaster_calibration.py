"""calibration: residuals scaled by the forecast's level, bands without one bad day copied on."""

from __future__ import annotations

import numpy as np
import pytest

from forecaster import calibration

DAY = 24  # hourly buckets


def _trough_day(days: int) -> np.ndarray:
    """A diurnal forecast 50 + 50 sin(...): 100 at the peak, exactly 0 at the nightly trough."""
    hours = np.arange(days * DAY)
    return 50.0 + 50.0 * np.sin(2 * np.pi * (hours - 6) / DAY)


def test_deep_nightly_trough_keeps_the_band_proportionate() -> None:
    """Misses of sd 3 requests at every hour (night as day). z = miss / level (level 50):
    z90 ~ 1.28 * 3 / 50 = 0.077, so P90 at the next peak ~ 100 + 0.077 * 50 = 104 (under 112).
    Dividing by the point forecast instead made night z ~ 3 / 5 and P90 at the peak ~150."""
    rng = np.random.default_rng(7)
    point = _trough_day(7)
    actual = point + rng.normal(0.0, 3.0, size=point.size)
    cal = calibration.fit([point], [actual], band_steps=DAY)
    q = calibration.apply(_trough_day(7), cal)
    peaks = np.arange(7) * DAY + 12
    assert (q.p90[peaks] <= 112.0).all()
    assert (q.p90[peaks] >= 100.0).all()


def test_level_is_the_day_mean_centred_on_the_step() -> None:
    """A day of 0 and 100 alternating: every full-day window averages 50."""
    point = np.tile([0.0, 100.0], 24)
    assert calibration.level(point, 24) == pytest.approx(np.full(48, 50.0))


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
    """Day 2 misses by 0..99 % of the level, the other six days by 0..9.9 %: z90 per band is
    0.891 on day 2 and 0.0891 elsewhere. Pooled with the five later days, day 7's z90 is
    (0.891 + 5 * 0.0891) / 6 = 0.223, not 0.891 as a running maximum gave."""
    point = np.full(7 * 100, 100.0)
    small = np.arange(100.0) / 10
    actual = point + np.r_[small, small * 10, np.tile(small, 5)]
    cal = calibration.fit([point], [actual], band_steps=100)
    assert cal.z90[0] == pytest.approx(0.0891)
    assert cal.z90[6] == pytest.approx((0.891 + 5 * 0.0891) / 6)
    assert list(cal.z90) == sorted(cal.z90)
