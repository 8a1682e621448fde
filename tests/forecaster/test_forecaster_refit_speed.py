"""The forecaster's shortcuts for speed give the results of the plain computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecaster_builders import hourly_demand

from forecaster import forecast, models, outliers


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
