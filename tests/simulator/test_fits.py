"""The forecasts one process has made, made once: the same object for the same arrivals, the
same figures as the uncached calls, and never a forecast of another selection."""

from __future__ import annotations

import dataclasses

import arrivals
import pandas as pd
import simulator_builders as b

from forecaster import forecast, series
from simulator import fits, predictive, results


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
    made = _refit(history, 6 * 3600, chosen)
    assert _refit(history.copy(), 6 * 3600, chosen) is made
    uncached = forecast.forecast(history, horizon_s=6 * 3600, selection=chosen)
    pd.testing.assert_frame_equal(made.frame, uncached.frame)


def test_other_arrivals_horizons_or_selections_are_not_taken_for_them() -> None:
    history = arrivals.daily_wave()
    chosen = fits.select(history)
    made = _refit(history, 6 * 3600, chosen)
    moved = history.copy()
    moved.iloc[-1] += 1.0  # one minute differs
    assert _refit(moved, 6 * 3600, chosen) is not made
    assert _refit(history, 7 * 3600, chosen) is not made
    # the same values every 5 minutes are other arrivals
    coarse = pd.Series(
        history.to_numpy(), index=pd.date_range(history.index[0], periods=len(history), freq="5min")
    )
    assert fits.digest(coarse) != fits.digest(history)
    other = forecast.select(history)  # an equal choice, another object: refit with it
    assert _refit(history, 6 * 3600, other) is not made


def test_replays_of_two_workloads_on_one_warm_up_share_their_refits() -> None:
    """The key a replay derives (the warm-up's digest, then each minute it observes) is the
    arrivals' alone: a workload of another size finds the same refit; another warm-up does
    not."""
    warmup = series.Trace(
        values=arrivals.daily_wave(),
        interval_s=60,
        column="requests",
        prompt_tokens=None,
        completion_tokens=None,
    )
    small, big = b.workload(capacity_per_replica=4), b.workload(capacity_per_replica=40)
    one, two = (
        predictive.Prescale(w, warmup, lead_time_s=600, mix=results.MixMode.ON_DEMAND)
        for w in (small, big)
    )
    assert two.refits[0].forecast is one.refits[0].forecast
    values = warmup.values.copy()
    values.iloc[-1] += 1.0
    other = predictive.Prescale(
        small,
        dataclasses.replace(warmup, values=values),
        lead_time_s=600,
        mix=results.MixMode.ON_DEMAND,
        selection=one.selection,  # the same model: only the arrivals differ
    )
    assert other.refits[0].forecast is not one.refits[0].forecast


def _refit(history: pd.Series, horizon_s: int, selection: forecast.Selection) -> forecast.Forecast:
    return fits.refit(
        fits.digest(history), lambda: history, horizon_s=horizon_s, selection=selection
    )


def test_the_memory_is_bounded_least_recently_used_first() -> None:
    kept: fits._Recent[int, int] = fits._Recent()
    for i in range(fits.MAX_ENTRIES + 10):
        kept.remember(i, i)
        kept.recall(0)  # the first stays in use
    assert len(kept) == fits.MAX_ENTRIES
    assert kept.recall(0) == 0 and kept.recall(1) is None
