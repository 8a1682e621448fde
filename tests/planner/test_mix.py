"""Capacity-type mix: reserved by break-even on the duration curve; spot share and spares."""

from __future__ import annotations

import numpy as np
import planner_builders as build
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import mix, spec

ALL_TYPES = ["reserved", "spot", "on_demand"]


@pytest.mark.parametrize(
    ("planned", "reserved"),
    [
        # break-even 2.20 / 3.67 = 0.599: >=1 in 10/10, >=2 in 8/10, >=3 in 3/10 -> reserve 2
        pytest.param([1, 1, 2, 2, 2, 2, 2, 3, 3, 4], 2, id="duration-curve-reserves-2"),
        # >=2 in exactly 6/10 = 0.6 > 0.599 still pays
        pytest.param([1, 1, 1, 1, 2, 2, 2, 2, 2, 2], 2, id="six-tenths-just-pays"),
        # >=2 in 5/10 < 0.599
        pytest.param([1, 1, 1, 1, 1, 2, 2, 2, 2, 2], 1, id="half-the-time-does-not-pay"),
        pytest.param([0] * 10, 0, id="nothing-planned-nothing-reserved"),
    ],
)
def test_reserved_base(planned: list[int], reserved: int) -> None:
    workload = build.workload(capacity_types=ALL_TYPES)
    assert mix.reserved_base(workload, np.array(planned, dtype=np.int64)) == reserved


def test_no_reserved_without_the_capacity_type() -> None:
    workload = build.workload(capacity_types=["spot", "on_demand"])
    assert mix.reserved_base(workload, np.full(10, 5, dtype=np.int64)) == 0


@pytest.mark.parametrize(
    ("base", "reserved", "cap", "expected"),
    [
        # rest 6, spot floor(3.0) = 3, spare ceil(3 * 0.05 * 600/3600 = 0.025) = 1, od 3
        pytest.param(10, 4, 20, (4, 4, 1, 3), id="rest-6-half-spot-plus-1-spare"),
        # rest 5, spot floor(2.5) = 2, spare 1, od 3
        pytest.param(9, 4, 20, (4, 3, 1, 3), id="odd-rest-rounds-spot-down"),
        # base 10 at cap 10: no room for the spare
        pytest.param(10, 4, 10, (4, 3, 0, 3), id="no-spare-at-the-cap"),
        # base below the reserved: the reserved still run (they are paid anyway)
        pytest.param(2, 4, 20, (4, 0, 0, 0), id="reserved-run-below-the-need"),
        # a budget cap below the reserved base wins
        pytest.param(2, 4, 3, (3, 0, 0, 0), id="cap-below-reserved"),
    ],
)
def test_split(base: int, reserved: int, cap: int, expected: tuple[int, int, int, int]) -> None:
    """`expected`: reserved, spot (with its spare), the spare, on-demand."""
    workload = build.workload(capacity_types=ALL_TYPES)
    assert mix.split_counts(workload, base, reserved, 600, cap) == expected
    counts = spec.ByType(expected[0], expected[1], expected[3])
    assert mix.split(workload, base, reserved, 600, cap) == counts
    series = mix.split_series(
        workload, np.array([base]), reserved, 600, np.array([cap], dtype=np.int64)
    )
    assert (series.reserved[0], series.spot[0], series.on_demand[0]) == (
        counts.reserved,
        counts.spot,
        counts.on_demand,
    )


def test_expected_interruptions() -> None:
    """8 spot * 0.05 / h * (600 / 3600) h = 0.0667."""
    assert mix.expected_interruptions(8, 0.05, 600) == pytest.approx(8 * 0.05 / 6)


@settings(max_examples=200, deadline=None)
@given(
    base=st.integers(0, 50),
    reserved=st.integers(0, 50),
    cap=st.integers(0, 60),
    share=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    rate=st.sampled_from([0.0, 0.05, 2.0]),
)
def test_split_stays_within_the_cap_and_covers_the_base(
    base: int, reserved: int, cap: int, share: float, rate: float
) -> None:
    workload = build.workload(
        capacity_types=ALL_TYPES, spot_share=share, spot_interruption_rate_per_hour=rate
    )
    result = mix.split(workload, min(base, cap), reserved, 600, cap)
    assert min(base, cap) <= result.total <= cap
    assert result.reserved == min(reserved, cap)
    spare = mix.split_counts(workload, min(base, cap), reserved, 600, cap)[2]
    assert min(result.spot, result.on_demand, spare) >= 0
