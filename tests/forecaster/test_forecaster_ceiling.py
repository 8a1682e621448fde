"""The upper quantiles reach no higher than the history has been, unless the median does."""

from __future__ import annotations

import forecaster_builders as builders
import numpy as np
import pandas as pd

from forecaster import forecast as fc
from forecaster import models


def _history_max(history: pd.Series) -> float:
    return float(np.nanmax(history.to_numpy(dtype=float)))


def test_a_noisy_series_band_stops_at_the_highest_hour_seen() -> None:
    # Bounded noise (x 0.6 to 1.4): a forecast's error compounds two draws, so the calibrated
    # P99 of a peak hour reaches far above anything the history can hold.
    flat = builders.hourly_demand(3, noise=0.0)
    rng = np.random.default_rng(4)
    history = flat * rng.uniform(0.6, 1.4, size=len(flat))
    made = fc.forecast(history, horizon_s=7 * 86400)
    frame = made.frame
    top = _history_max(history)
    for column in ("p90", "p99", "peak_p90", "peak_p99"):
        ceiling = np.maximum(frame["p50"].to_numpy(), top) * (1 + 1e-12)
        assert (frame[column].to_numpy() <= ceiling).all(), column
    # the cap binds somewhere (else this test shows nothing) and the band is still a band
    assert frame["p99"].max() >= top * (1 - 1e-9)
    assert (frame["p90"] >= frame["p50"]).all()
    assert (frame["peak_p90"] >= frame["p90"]).all()


def test_growth_the_median_carries_is_not_cut() -> None:
    # A steady ramp: the last week's highest hour is above the week before's, so the band may
    # reach above the history's highest hour by that ratio, and never below the median.
    history = builders.hourly_demand(4, noise=0.02, seed=1)
    ramp = np.linspace(1.0, 2.0, len(history))
    grown = pd.Series(history.to_numpy() * ramp, index=history.index)
    made = fc.forecast(grown, horizon_s=7 * 86400)
    frame = made.frame
    top = _history_max(grown)
    week = grown.to_numpy()
    growth = week[-168:].max() / week[-336:-168].max()
    assert growth > 1.05
    assert frame["p99"].max() > top
    assert (
        frame["p99"].to_numpy() <= np.maximum(frame["p50"].to_numpy(), top * growth) + 1e-9
    ).all()
    assert (frame["p90"] >= frame["p50"]).all()
    assert (frame["p99"] >= frame["p90"]).all()


def test_a_refit_reads_only_the_weeks_its_models_do() -> None:
    """A refit on a chosen model depends on the last FIT_HISTORY_S of its history only: a
    traffic level three times higher long before (older than any model reads) neither holds
    its band up through the ceiling nor changes its median."""
    weeks = models.FIT_WEEKS + 4
    history = builders.hourly_demand(weeks, noise=0.3, seed=5)
    old = history.index < history.index[-1] - pd.Timedelta(seconds=fc.FIT_HISTORY_S)
    assert old.sum() >= 2 * 168
    busier = history.where(~old, history * 3.0)
    selection = fc.select(history)
    recent = fc.forecast(history[~old], selection=selection).frame
    for full in (history, busier):
        assert fc.forecast(full, selection=selection).frame.equals(recent)
    assert recent["p99"].max() < _history_max(busier)
