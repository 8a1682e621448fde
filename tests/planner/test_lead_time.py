"""Learned lead time: nearest-rank P90 of recent cold starts, else the spec's fallback."""

from __future__ import annotations

from datetime import timedelta

import planner_builders as build
import pytest

from kernel import errors
from planner import lead_time

NOW = build.minute(7 * 24 * 60)


def _starts(seconds: list[float], age: timedelta = timedelta(hours=1)) -> list[lead_time.ColdStart]:
    return [lead_time.ColdStart(ready_at=NOW - age, seconds=s) for s in seconds]


def test_p90_of_ten_is_the_ninth_smallest() -> None:
    """[300, 320, ..., 480]: rank ceil(0.9 * 10) = 9 -> 460 s."""
    learned = lead_time.learn(build.workload(), _starts([300 + 20 * i for i in range(10)]), now=NOW)
    assert learned == lead_time.LeadTime(460, lead_time.LeadTimeSource.LEARNED, 10, 600)


@pytest.mark.parametrize(
    ("observations", "source", "seconds"),
    [
        pytest.param(_starts([100.0] * 4), "spec_fallback", 600, id="four-is-too-few"),
        pytest.param(_starts([100.0] * 5), "learned", 100, id="five-is-enough"),
        pytest.param(
            _starts([100.0] * 9, age=timedelta(days=8)), "spec_fallback", 600, id="too-old"
        ),
        pytest.param(_starts([90.2] * 5), "learned", 91, id="rounded-up-to-whole-seconds"),
        pytest.param(_starts([float("nan")] * 9), "spec_fallback", 600, id="nan-ignored"),
    ],
)
def test_fallback_until_enough_recent_observations(
    observations: list[lead_time.ColdStart], source: str, seconds: int
) -> None:
    learned = lead_time.learn(build.workload(), observations, now=NOW)
    assert (learned.source.value, learned.seconds) == (source, seconds)


def test_bad_arguments_are_input_errors() -> None:
    with pytest.raises(errors.InputError) as caught:
        lead_time.learn(build.workload(), [], now=NOW.replace(tzinfo=None), min_count=0)
    assert len(caught.value.problems) == 2
