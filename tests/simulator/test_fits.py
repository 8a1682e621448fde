"""The forecasts one process has made, made once: the same object for the same arrivals, the
same figures as the uncached calls, and never a forecast of another selection."""

from __future__ import annotations

import arrivals
import pandas as pd

from forecaster import forecast
from simulator import fits


def test_the_same_arrivals_give_the_same_choice_and_refit_as_uncached() -> None:
    history = arrivals.daily_wave()
    chosen = fits.select(history)
    assert fits.select(history.copy()) is chosen  # equal content, another Series: one choice
    direct = forecast.select(history)
    assert (chosen.model, chosen.regime, chosen.resolution_s) == (
        direct.model,
        direct.regime,
        direct.resolution_s,
    )
    made = fits.refit(history, horizon_s=6 * 3600, selection=chosen)
    assert fits.refit(history.copy(), horizon_s=6 * 3600, selection=chosen) is made
    uncached = forecast.forecast(history, horizon_s=6 * 3600, selection=chosen)
    pd.testing.assert_frame_equal(made.frame, uncached.frame)


def test_other_arrivals_horizons_or_selections_are_not_taken_for_them() -> None:
    history = arrivals.daily_wave()
    chosen = fits.select(history)
    made = fits.refit(history, horizon_s=6 * 3600, selection=chosen)
    moved = history.copy()
    moved.iloc[-1] += 1.0  # one minute differs
    assert fits.refit(moved, horizon_s=6 * 3600, selection=chosen) is not made
    assert fits.refit(history, horizon_s=7 * 3600, selection=chosen) is not made
    # the same values every 5 minutes are other arrivals
    coarse = pd.Series(
        history.to_numpy(), index=pd.date_range(history.index[0], periods=len(history), freq="5min")
    )
    assert fits.digest(coarse) != fits.digest(history)
    other = forecast.select(history)  # an equal choice, another object: refit with it
    assert fits.refit(history, horizon_s=6 * 3600, selection=other) is not made


def test_the_memory_is_bounded_least_recently_used_first() -> None:
    kept: fits._Recent[int, int] = fits._Recent()
    for i in range(fits.MAX_ENTRIES + 10):
        kept.remember(i, i)
        kept.recall(0)  # the first stays in use
    assert len(kept) == fits.MAX_ENTRIES
    assert kept.recall(0) == 0 and kept.recall(1) is None
