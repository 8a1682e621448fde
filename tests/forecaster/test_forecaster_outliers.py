"""Dropout masking (collection gaps recorded as zeros) and spike clipping."""

from __future__ import annotations

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
