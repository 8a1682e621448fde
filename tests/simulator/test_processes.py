"""The minute grid, the cold-start distribution and the spot interruption process."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import simulator_builders as b

from forecaster import series
from kernel import errors
from simulator import cold_start, replay, spot


def trace(values: list[float], interval_s: int, start: str = "2026-01-05") -> series.Trace:
    index = pd.date_range(start, periods=len(values), freq=f"{interval_s}s", tz="UTC")
    return series.Trace(
        values=pd.Series(values, index=index, dtype=float),
        interval_s=interval_s,
        column="requests",
        prompt_tokens=pd.Series([v * 100 for v in values], index=index, dtype=float),
        completion_tokens=None,
    )


def test_a_ten_minute_trace_holds_each_interval_rate_per_minute() -> None:
    """600 requests in a 10-minute interval are 60 in each of its minutes."""
    minutes = replay.minute_trace(trace([600.0, 1200.0], 600))
    assert minutes.interval_s == 60
    assert minutes.values.tolist() == [60.0] * 10 + [120.0] * 10
    assert minutes.prompt_tokens is not None
    assert minutes.prompt_tokens.tolist() == [6000.0] * 10 + [12000.0] * 10
    assert pd.DatetimeIndex(minutes.values.index).freq == pd.Timedelta(minutes=1)


def test_an_hourly_gap_stays_a_gap_for_its_sixty_minutes() -> None:
    minutes = replay.minute_trace(trace([60.0, math.nan], 3600))
    assert minutes.values.iloc[:60].tolist() == [1.0] * 60
    assert minutes.values.iloc[60:].isna().all()


def test_a_per_second_trace_is_summed_per_minute() -> None:
    """120 seconds of 1, 2, 1, 2, ...: 90 per minute; a minute with no data at all is NaN."""
    values = [1.0, 2.0] * 60 + [math.nan] * 60
    minutes = replay.minute_trace(trace(values, 1))
    assert minutes.values.iloc[:2].tolist() == [90.0, 90.0]
    assert math.isnan(minutes.values.iloc[2])


def test_an_interval_that_does_not_fit_minutes_is_refused() -> None:
    with pytest.raises(errors.InputError, match="neither divides nor is a multiple of 60 s"):
        replay.minute_trace(trace([1.0, 2.0], 90))


def test_the_replay_is_the_last_period_and_the_warm_up_everything_before() -> None:
    split = replay.split(b.minute_trace([1.0] * 100), replay_s=30 * 60)
    assert (len(split.warmup.values), split.minutes) == (70, 30)
    assert split.start == b.MONDAY + pd.Timedelta(minutes=70)


@pytest.mark.parametrize(
    ("values", "replay_s", "message"),
    [
        pytest.param([1.0] * 10, 600, "leaves no warm-up", id="replay-covers-everything"),
        pytest.param([1.0] * 10, 30, "at least one minute", id="replay-under-a-minute"),
        pytest.param([math.nan] * 5 + [1.0] * 5, 300, "holds no data", id="warm-up-all-gaps"),
    ],
)
def test_a_split_that_cannot_replay_says_why(
    values: list[float], replay_s: int, message: str
) -> None:
    with pytest.raises(errors.InputError, match=message):
        replay.split(b.minute_trace(values), replay_s)


def test_a_fixed_cold_start_rounds_up_to_whole_minutes() -> None:
    rng = np.random.default_rng(0)
    assert cold_start.ColdStartDistribution.fixed(600).draw_minutes(rng, 3).tolist() == [10, 10, 10]
    assert cold_start.ColdStartDistribution.fixed(61).draw_minutes(rng, 1).tolist() == [2]
    assert cold_start.minutes_of(0) == 0


def test_a_lognormal_cold_start_has_the_given_median_and_p90() -> None:
    """sigma = ln(900 / 600) / 1.2816 = 0.3164; draws in seconds have median ~600, P90 ~900."""
    cold = cold_start.ColdStartDistribution.lognormal(600, 900)
    assert cold.sigma == pytest.approx(math.log(1.5) / 1.2815515655)
    assert cold.quantile_s(0.9) == pytest.approx(900)
    minutes = cold.draw_minutes(np.random.default_rng(1), 20000)
    assert np.median(minutes) == 10
    assert np.percentile(minutes, 90) == pytest.approx(15, abs=1)


@pytest.mark.parametrize(
    ("median_s", "p90_s", "message"),
    [
        pytest.param(600, 300, "must be >= the median", id="p90-below-median"),
        pytest.param(0, 300, "must be > 0", id="zero-median"),
    ],
)
def test_a_bad_lognormal_cold_start_is_refused(median_s: float, p90_s: float, message: str) -> None:
    with pytest.raises(errors.InputError, match=message):
        cold_start.ColdStartDistribution.lognormal(median_s, p90_s)


def test_lead_time_streams_repeat_with_the_seed() -> None:
    cold = cold_start.ColdStartDistribution.lognormal(300, 600)
    first = cold_start.LeadTimeStream(cold, 42)
    again = cold_start.LeadTimeStream(cold, 42)
    draws = [first.next_minutes() for _ in range(5000)]
    assert draws == [again.next_minutes() for _ in range(5000)]


@pytest.mark.parametrize(
    ("alive", "uniform", "lost"),
    [
        # survival per minute 0.9 (p = 0.1): P(0) of 3 = 0.729, P(1) = 0.243, P(2) = 0.027
        pytest.param(3, 0.5, 0, id="below-p0-loses-none"),
        pytest.param(3, 0.75, 1, id="between-p0-and-p0+p1-loses-one"),
        pytest.param(3, 0.98, 2, id="above-p0+p1-loses-two"),
        pytest.param(3, 0.99999, 3, id="far-tail-loses-all"),
        pytest.param(0, 0.99, 0, id="nothing-to-lose"),
    ],
)
def test_interruptions_follow_the_binomial_inverse_cdf(
    alive: int, uniform: float, lost: int
) -> None:
    assert spot.interrupted_count(alive, 0.9, uniform) == lost


def test_the_interruption_rate_matches_the_hourly_rate() -> None:
    """10 replicas at 3 per replica-hour lose 10 x 3 / 60 = 0.5 per minute on average."""
    survival = spot.survival_per_minute(3.0)
    uniforms = np.random.default_rng(2).random(20000)
    counts = [spot.interrupted_count(10, survival, u) for u in uniforms]
    assert np.mean(counts) == pytest.approx(10 * (1 - math.exp(-3 / 60)), rel=0.05)


def test_a_negative_rate_is_refused() -> None:
    with pytest.raises(errors.InputError, match="spot_interruption_rate_per_hour"):
        spot.survival_per_minute(-1.0)


def test_a_collection_dropout_is_replayed_as_a_gap() -> None:
    """A day at about 600 requests/min with ten exact-zero minutes near its end: no Poisson
    process at 600/min gives ten zeros in a row, so they become gaps (and are counted)."""
    values = np.random.default_rng(4).poisson(600.0, 1440).astype(float)
    values[1400:1410] = 0.0
    split = replay.split(b.minute_trace(values.tolist()), replay_s=60 * 60)
    replayed = split.replayed.values
    assert split.dropout_minutes == 10
    assert replayed.iloc[20:30].isna().all()
    assert replayed.iloc[:20].notna().all()
    kept = replay.split(b.minute_trace(values.tolist()), 60 * 60, mask_dropouts=False)
    assert kept.dropout_minutes == 0
    assert (kept.replayed.values.iloc[20:30] == 0.0).all()


def test_until_replays_a_period_that_is_not_the_last() -> None:
    split = replay.split(
        replay.until(b.minute_trace([1.0] * 100), b.MONDAY + pd.Timedelta(minutes=60)), 600
    )
    assert split.start == b.MONDAY + pd.Timedelta(minutes=50)
    assert split.minutes == 10
    with pytest.raises(errors.InputError, match="before the trace starts"):
        replay.until(b.minute_trace([1.0] * 10), b.MONDAY - pd.Timedelta(days=1))
