"""Dropout masking (collection gaps recorded as zeros) and spike clipping."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from forecaster_builders import minute_demand

from forecaster import outliers


def test_zero_run_in_busy_traffic_is_masked() -> None:
    """30 zero minutes at a level of 50/min: P = e^(-50*30), far below 1e-9, so masked."""
    values = minute_demand(24, level=50.0)
    values.iloc[600:630] = 0.0
    cleaned = outliers.clean(values, 60)
    assert cleaned.dropouts_masked == 30
    assert cleaned.values.iloc[600:630].isna().all()
    assert cleaned.values.iloc[:600].notna().all()


def test_zero_minute_in_quiet_traffic_is_kept() -> None:
    """One zero minute at 3/min: P(0) = e^-3 = 0.05, an ordinary quiet minute."""
    values = minute_demand(24, level=3.0, seed=1)
    values.iloc[100] = 0.0
    cleaned = outliers.clean(values, 60)
    assert cleaned.values.iloc[100] == 0.0
    assert cleaned.dropouts_masked == 0


def test_near_empty_window_after_a_gap_is_masked_too() -> None:
    """A window with 1 % of the level right after a zero run is a partial collection."""
    values = minute_demand(24, level=1000.0, seed=2)
    values.iloc[300:310] = 0.0
    values.iloc[310] = 10.0
    mask = outliers.dropout_mask(values, 60)
    assert mask[300:311].all()
    assert not mask[311:].any()


def test_existing_nan_stays_nan_and_is_not_counted() -> None:
    values = minute_demand(6, level=20.0)
    values.iloc[10:20] = np.nan
    cleaned = outliers.clean(values, 60)
    assert cleaned.values.iloc[10:20].isna().all()
    assert cleaned.dropouts_masked == 0


def test_spike_is_clipped_to_its_larger_neighbour_only_when_asked() -> None:
    values = minute_demand(24, level=50.0, seed=3)
    values.iloc[700] = 5000.0
    kept = outliers.clean(values, 60)
    clipped = outliers.clean(values, 60, clip_spikes=True)
    assert kept.values.iloc[700] == 5000.0
    assert clipped.spikes_clipped == 1
    assert clipped.values.iloc[700] == max(values.iloc[699], values.iloc[701])


def test_clean_keeps_the_index() -> None:
    values = minute_demand(2)
    assert outliers.clean(values, 60).values.index.equals(values.index)
    assert isinstance(outliers.clean(values, 60).values, pd.Series)


def test_row_medians_are_numpys_nanmedian_to_the_last_digit() -> None:
    """Rows of 10 with a third of the values missing, one row all missing (NaN)."""
    rows = np.random.default_rng(3).normal(size=(400, 10))
    rows[np.random.default_rng(4).random(rows.shape) < 0.3] = np.nan
    rows[7] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN row's
        expected = np.nanmedian(rows, axis=1)
    assert np.array_equal(outliers.row_medians(rows), expected, equal_nan=True)


def test_centred_median_where_is_pandas_centred_rolling_median() -> None:
    """Odd and even windows (pandas centres an even one a step later), gaps and a long
    missing run; positions not asked for are NaN; past SPARSE_MEDIAN_COST the running median
    is taken and gives the same numbers."""
    values = np.random.default_rng(5).poisson(3.0, 3000).astype(float)
    values[np.random.default_rng(6).random(values.size) < 0.2] = np.nan
    values[500:700] = np.nan
    asked = np.random.default_rng(7).random(values.size) < 0.05
    for window in (3, 4, 59, 60):
        expected = pd.Series(values).rolling(window, center=True, min_periods=1).median()
        everywhere = outliers.centred_median_where(values, window, np.ones(values.size, bool))
        assert np.array_equal(everywhere, expected.to_numpy(), equal_nan=True)
        some = outliers.centred_median_where(values, window, asked)
        assert np.array_equal(some[asked], expected.to_numpy()[asked], equal_nan=True)
        assert np.isnan(some[~asked]).all()


def test_a_short_dip_in_the_busiest_hour_is_judged_against_that_hour() -> None:
    """A day at 2/min with one hour at 400/min; 5 minutes of 10/min inside that hour are
    above 5 % of the day's median (0.1) but below 5 % of the hour's (20), and a Poisson
    process at 400/min gives 50 requests in 5 minutes with probability far below 1e-9:
    masked. The same 5 minutes in a quiet hour are kept."""
    values = minute_demand(24, level=2.0)
    values.iloc[600:660] = 400.0
    values.iloc[620:625] = 10.0
    values.iloc[100:105] = 10.0
    mask = outliers.dropout_mask(values, 60)
    assert mask[620:625].all()
    assert not mask[:600].any()
