"""The forecaster's shortcuts for speed give the results of the plain computation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from forecaster_builders import hourly_demand

from forecaster import candidates, forecast, models, outliers


def _scan_fill(y: np.ndarray, period: int) -> np.ndarray:
    """fill_gaps' neighbour-period step as the element-by-element scan it replaces."""
    out = y.astype(float).copy()
    for i in range(period, out.size):
        if np.isnan(out[i]):
            out[i] = out[i - period]
    for i in range(out.size - period - 1, -1, -1):
        if np.isnan(out[i]):
            out[i] = out[i + period]
    return out


@pytest.mark.parametrize("seed", range(6))
def test_fill_from_neighbour_periods_is_the_element_scan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    period = int(rng.integers(2, 30))
    y = rng.normal(size=int(rng.integers(period + 1, 12 * period)))
    # long gaps too, so a fill has to carry over several periods
    y[rng.random(y.size) < 0.4] = np.nan
    y[: period * 2] = np.nan if seed % 2 else y[: period * 2]
    got = y.copy()
    models._fill_from_neighbour_periods(got, period)
    np.testing.assert_array_equal(got, _scan_fill(y, period))


def test_clipped_after_clean_is_clean_with_clipping() -> None:
    values = hourly_demand(3, seed=4).copy()
    values.iloc[[30, 200, 333]] *= 40.0  # isolated spikes
    values.iloc[100:106] = 0.0  # a dropout
    both = outliers.clean(values, 3600, clip_spikes=True)
    stepwise = outliers.clipped(outliers.clean(values, 3600), 3600)
    assert both.spikes_clipped == stepwise.spikes_clipped > 0
    assert both.dropouts_masked == stepwise.dropouts_masked
    pd.testing.assert_series_equal(both.values, stepwise.values)


def test_forecast_without_selection_is_select_then_forecast() -> None:
    history = hourly_demand(5, seed=2)
    history.iloc[[50, 400]] *= 30.0
    at_once = forecast.forecast(history, horizon_s=3 * 86400)
    selection = forecast.select(history)
    assert at_once.selection == selection
    then = forecast.forecast(history, horizon_s=3 * 86400, selection=selection)
    pd.testing.assert_frame_equal(at_once.frame, then.frame)


def _whole(selection: forecast.Selection, model: forecast.ModelName) -> forecast.Selection:
    return dataclasses.replace(selection, model=model, members=())


def _five_minutes(hourly: pd.Series) -> pd.Series:
    """The hourly demand held for each 5-min bucket of its hour (a Fourier fit at 5 min has
    no two-bucket harmonic)."""
    index = pd.date_range(hourly.index[0], periods=12 * len(hourly), freq="5min")
    return pd.Series(np.repeat(hourly.to_numpy() / 12.0, 12), index=index)


@pytest.mark.parametrize(
    ("model", "resolution_s"),
    [
        (forecast.ModelName.FOURIER, 300),
        (forecast.ModelName.WEEKLY_PROFILE, 3600),
        (forecast.ModelName.SEASONAL_NAIVE_WEEKLY, 3600),
        (forecast.ModelName.HOLT_WINTERS, 3600),
    ],
)
def test_a_refit_on_a_long_history_reads_its_end_only_and_forecasts_the_same(
    model: forecast.ModelName, resolution_s: int
) -> None:
    history = hourly_demand(12, seed=1)
    history.index.freq = "1h"
    if resolution_s == 300:
        history = _five_minutes(history)
    week = 7 * 86400 // resolution_s
    selection = _whole(forecast.select(history.iloc[: 5 * week]), model)
    assert selection.resolution_s == resolution_s
    trimmed = forecast.fit_history(history, selection)
    need = candidates.fit_buckets(model, models.season_for(resolution_s))
    assert need is not None
    need_s = need * resolution_s
    span_s = (trimmed.index[-1] - trimmed.index[0]).total_seconds() + 3600
    assert len(trimmed) < len(history)
    assert need_s + forecast.FIT_MARGIN_S <= span_s < need_s + forecast.FIT_MARGIN_S + 7 * 86400
    step = pd.Timedelta(seconds=resolution_s)
    assert (history.index[-1] + step - trimmed.index[0]) % pd.Timedelta(days=7) == pd.Timedelta(0)
    made = forecast.forecast(history, horizon_s=7 * 86400, selection=selection).frame
    full = forecast.forecast(
        pd.Series(history.to_numpy(), index=pd.DatetimeIndex(history.index.to_list())),
        horizon_s=7 * 86400,
        selection=selection,
    ).frame  # off a regular grid (no freq): never trimmed
    np.testing.assert_allclose(made.to_numpy(), full.to_numpy(), rtol=1e-9, atol=1e-9)


def test_mstl_an_ensemble_with_it_and_an_hourly_fourier_read_the_whole_history() -> None:
    history = hourly_demand(10, seed=3)
    history.index.freq = "1h"
    selection = forecast.select(history.iloc[: 5 * 168])
    assert models.fourier_has_nyquist(models.season_for(3600))
    assert not models.fourier_has_nyquist(models.season_for(300))
    for chosen in (
        _whole(selection, forecast.ModelName.MSTL),
        _whole(selection, forecast.ModelName.FOURIER),
        dataclasses.replace(
            selection,
            model=forecast.ModelName.ENSEMBLE,
            members=(forecast.ModelName.FOURIER, forecast.ModelName.MSTL),
        ),
    ):
        assert forecast.fit_history(history, chosen) is history
