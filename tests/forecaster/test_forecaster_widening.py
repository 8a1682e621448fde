"""widening: the band widens after a holiday and stays about as calibrated on a calm series,
with real model fits on synthetic series."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from forecaster_builders import START

from forecaster import calibration, widening
from forecaster import forecast as fc

DAY_H = 24


def _diurnal(index: pd.DatetimeIndex) -> np.ndarray:
    hour = index.hour.to_numpy()
    return 1.0 + 0.4 * np.sin(2 * np.pi * (hour - 6) / 24)


def _turbulent(weeks: int, seed: int, *, holiday_at_end: bool) -> pd.Series:
    """Hourly Poisson counts, 300 x diurnal. At the origins of two of the three weekly backtest
    folds a holiday stretch starts a day before the origin and lasts three days, each day at its
    own random level (x1.2 .. x2): its first day tells that the next ones are off too.
    `holiday_at_end` ends the history one day into such a stretch (x1.8)."""
    hours = weeks * 168
    index = pd.date_range(START, periods=hours, freq="1h")
    rng = np.random.default_rng(seed)
    level = np.ones(hours)
    for origin in (hours - 2 * 168, hours - 3 * 168):
        for day in range(-1, 2):
            start = origin + DAY_H * day
            level[start : start + DAY_H] = rng.uniform(1.2, 2.0)
    if holiday_at_end:
        level[-DAY_H:] = 1.8
    return pd.Series(rng.poisson(300.0 * _diurnal(index) * level).astype(float), index=index)


def _without_widening(selection: fc.Selection) -> fc.Selection:
    return dataclasses.replace(
        selection,
        calibration_mean=widening.chosen(selection.calibration_mean, 0.0),
        calibration_peak=widening.chosen(selection.calibration_peak, 0.0),
    )


def _spread(frame: pd.DataFrame) -> float:
    return float((frame["p90"] - frame["p50"]).mean())


def test_a_holiday_at_the_end_of_the_history_widens_the_band() -> None:
    """Holidays whose first day precedes uncertain days: a history ending one day into a holiday
    gets a band at least 1.3x as wide as the same model and calibration give without the
    widening; the same history with a calm last day gets (nearly) the calibrated band. Each
    forecast states the factor it widened by."""
    history = _turbulent(6, seed=6, holiday_at_end=True)
    selection = fc.select(history)
    assert selection.calibration_mean.widening in widening.STRENGTHS
    assert selection.calibration_peak.widening == selection.calibration_mean.widening
    made = fc.forecast(history, horizon_s=86400, selection=selection)
    widened = made.frame
    unwidened = fc.forecast(history, horizon_s=86400, selection=_without_widening(selection))
    plain = unwidened.frame
    assert (widened["p50"] == plain["p50"]).all()
    assert _spread(widened) > 1.3 * _spread(plain)
    assert made.band_widened_by > 1.3
    assert unwidened.band_widened_by == 1.0
    calm = history.copy()
    calm.iloc[-DAY_H:] = _turbulent(6, seed=6, holiday_at_end=False).iloc[-DAY_H:]
    calm_made = fc.forecast(calm, horizon_s=86400, selection=selection)
    calm_plain = fc.forecast(calm, horizon_s=86400, selection=_without_widening(selection)).frame
    assert _spread(calm_made.frame) < 1.2 * _spread(calm_plain)
    assert 1.0 <= calm_made.band_widened_by < made.band_widened_by


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_calm_series_keeps_about_its_calibrated_band(seed: int) -> None:
    """Poisson noise around one daily profile: no day is out of the calibrated range by more
    than noise, so the forecast's band stays within 1.15x of the calibration's own."""
    index = pd.date_range(START, periods=6 * 168, freq="1h")
    rng = np.random.default_rng(seed)
    history = pd.Series(rng.poisson(300.0 * _diurnal(index)).astype(float), index=index)
    selection = fc.select(history)
    widened = fc.forecast(history, horizon_s=86400, selection=selection).frame
    plain = fc.forecast(history, horizon_s=86400, selection=_without_widening(selection)).frame
    assert _spread(plain) <= _spread(widened) < 1.15 * _spread(plain)


def test_widening_scales_the_spread_above_the_median_only() -> None:
    cal = calibration.Calibration(1, (0.5,), (2.5,), (4.5,), 500, rms=1.5)
    point = np.array([100.0, 400.0])
    plain = calibration.apply(point, cal)
    wide = calibration.apply(point, cal, 2.0)
    assert np.array_equal(wide.p50, plain.p50)
    # sqrt scale: p90 = (sqrt(p) + z50 + 2 x (z90 - z50))^2 = (10 + 0.5 + 4)^2 for p = 100
    assert wide.p90[0] == pytest.approx(14.5**2)
    assert wide.p99[0] == pytest.approx((10 + 0.5 + 8.0) ** 2)


@pytest.mark.parametrize(
    ("ratio", "strength", "expected"),
    [
        (3.0, 0.5, 2.0),
        (0.5, 1.0, 1.0),
        (9.0, 1.0, widening.WIDEN_MAX),
        (3.0, 0.0, 1.0),
        (math.nan, 1.0, 1.0),
    ],
    ids=["damped", "never-narrower", "bounded", "refused", "unmeasured"],
)
def test_widening_factor_is_damped_and_bounded(
    ratio: float, strength: float, expected: float
) -> None:
    assert widening.factor(ratio, strength) == pytest.approx(expected)


def test_a_one_fold_history_still_reports_its_coverage() -> None:
    """Two days of 5-min counts leave one backtest fold: no other fold can judge it with the
    widening, so its two halves judge each other (calibration.coverage) and the coverage is
    a number, not missing."""
    index = pd.date_range(START, periods=2 * 288, freq="5min")
    rng = np.random.default_rng(1)
    history = pd.Series(rng.poisson(300.0 * _diurnal(index)).astype(float), index=index)
    selection = fc.select(history)
    assert selection.folds == 1
    assert selection.coverage_p90 is not None and 0.5 < selection.coverage_p90 <= 1.0
