"""The level correction's arithmetic and the band point on the square-root scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster import level

CORRECTION = level.LevelCorrection(window_s=3600, damping=0.5, low=0.5, high=2.0)


def test_the_factor_moves_half_way_to_the_trailing_ratio() -> None:
    # 120 observed where 100 was forecast: ratio 1.2; from 1.0 half way is 1.1
    observed = np.full(10, 12.0)
    forecast = np.full(10, 10.0)
    assert level.factor(observed, forecast, 1.0, CORRECTION) == pytest.approx(1.1)


def test_the_factor_is_bounded() -> None:
    observed = np.full(10, 100.0)
    assert level.factor(observed, np.full(10, 1.0), 1.9, CORRECTION) == 2.0
    assert level.factor(np.zeros(10), np.full(10, 1.0), 0.6, CORRECTION) == 0.5


def test_a_window_mostly_in_a_gap_keeps_the_previous_factor() -> None:
    observed = np.array([np.nan] * 6 + [30.0] * 4)
    assert level.factor(observed, np.full(10, 10.0), 1.3, CORRECTION) == 1.3


def test_no_forecast_volume_gives_no_ratio() -> None:
    assert level.ratio(np.ones(4), np.zeros(4)) is None


def _frame() -> pd.DataFrame:
    index = pd.date_range("2026-01-05", periods=1, freq="5min", tz="UTC")
    return pd.DataFrame(
        {
            "p50": [100.0],
            "p90": [144.0],
            "p99": [196.0],
            "peak_p50": [100.0],
            "peak_p90": [144.0],
            "peak_p99": [196.0],
        },
        index=index,
    )


@pytest.mark.parametrize(
    ("scale", "point"),
    [
        pytest.param(0.0, 100.0, id="p50"),
        pytest.param(0.5, 121.0, id="half-way-on-roots-10-and-12"),
        pytest.param(1.0, 144.0, id="p90"),
        pytest.param(1.5, 169.0, id="half-way-to-p99-roots-12-and-14"),
        pytest.param(2.0, 196.0, id="p99"),
    ],
)
def test_the_band_point_interpolates_roots(scale: float, point: float) -> None:
    assert level.band_point(_frame(), scale).iloc[0] == pytest.approx(point)


def test_scaling_multiplies_every_quantile() -> None:
    scaled = level.scaled(_frame(), 0.5)
    assert scaled.iloc[0].tolist() == [50.0, 72.0, 98.0, 50.0, 72.0, 98.0]
