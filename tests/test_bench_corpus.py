"""bench/corpus.py's week measures, which its "why" lines rest on: a minute is unannounced only
when neither the hour before its order nor the same time a week before needed as much."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import corpus  # bench/ holds scripts, not a package: imported from its path

WEEK = corpus.WEEK_MINUTES
LEAD = 10


def _flat(level: float) -> np.ndarray:
    return np.full(WEEK, level)


def test_a_spike_nothing_showed_is_unannounced_and_the_level_is_the_mean_ratio() -> None:
    week = _flat(2.0)
    week[5000:5003] = 5.0
    share, level = corpus.week_measures(_flat(2.0), week, LEAD)
    assert share == pytest.approx(100.0 * 3 / WEEK)
    assert level == pytest.approx(week.mean() / 2.0)


def test_a_spike_last_week_had_at_the_same_time_is_announced() -> None:
    before, week = _flat(2.0), _flat(2.0)
    before[5000 - LEAD : 5003 + LEAD] = 5.0  # within one cold start of the same minutes
    week[5000:5003] = 5.0
    assert corpus.week_measures(before, week, LEAD)[0] == 0.0
    before[:] = 2.0
    before[5000 - 3 * LEAD : 5000 - 2 * LEAD] = 5.0  # earlier than one cold start: not
    assert corpus.week_measures(before, week, LEAD)[0] == pytest.approx(100.0 * 3 / WEEK)


def test_a_spike_within_the_hour_before_the_order_announces_the_next() -> None:
    week = _flat(2.0)
    week[4960:4965] = 5.0  # 40 minutes before the second spike, 30 before its order
    week[5000:5003] = 5.0
    share, _ = corpus.week_measures(_flat(2.0), week, LEAD)
    assert share == pytest.approx(100.0 * 5 / WEEK)  # the first is unannounced, not the second
    late = _flat(2.0)
    late[4995:4998] = 5.0  # 5 minutes before: after the order, so it announces nothing
    late[5000:5003] = 5.0
    assert corpus.week_measures(_flat(2.0), late, LEAD)[0] == pytest.approx(100.0 * 6 / WEEK)


def test_gaps_are_left_out_and_a_missing_week_before_leaves_the_level_unknown() -> None:
    week = _flat(2.0)
    week[:100] = np.nan
    week[5000] = 5.0
    share, level = corpus.week_measures(np.full(WEEK, np.nan), week, LEAD)
    # the gap, and the first cold start after it (nothing known before their orders), are out
    assert share == pytest.approx(100.0 / (WEEK - 100 - LEAD))
    assert np.isnan(level)
