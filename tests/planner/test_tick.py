"""The floors a tick steps on: newer plans take over from their first minute, older ones keep
the minutes before it, and a refit's bucket under way takes the new plan's first floor."""

from __future__ import annotations

from datetime import UTC, datetime

from planner import tick

NOON_S = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
MINUTE_S = 60


def _at(floors: tick.Floors, minute: int) -> int | None:
    return floors.at(datetime.fromtimestamp(NOON_S + minute * MINUTE_S, UTC))


def test_a_newer_plan_takes_over_from_its_first_minute() -> None:
    older = tick.overlay(tick.Floors.empty(), NOON_S, (3,) * 10)
    merged = tick.overlay(older, NOON_S + 5 * MINUTE_S, (7,) * 10)
    assert [_at(merged, m) for m in (0, 4, 5, 14, 15)] == [3, 3, 7, 7, None]


def test_at_a_start_the_bucket_under_way_takes_the_first_floor() -> None:
    """A first refit at 12:03 plans from 12:05 (the 12:00 bucket is under way): 12:03 and
    12:04 step on the plan's first floor, not on no floor at all."""
    alone = tick.overlay(tick.Floors.empty(), NOON_S + 5 * MINUTE_S, (6, 8, 9))
    assert [_at(alone, m) for m in (3, 4, 5)] == [None, None, 6]
    filled = tick.overlay(
        tick.Floors.empty(),
        NOON_S + 5 * MINUTE_S,
        (6, 8, 9),
        keep_from_s=NOON_S + 3 * MINUTE_S,
        fill_from_s=NOON_S + 3 * MINUTE_S,
    )
    assert filled.start_s == NOON_S + 3 * MINUTE_S
    assert [_at(filled, m) for m in (2, 3, 4, 5, 6, 7, 8)] == [None, 6, 6, 6, 8, 9, None]


def test_filling_never_replaces_an_older_plans_floor() -> None:
    """A later refit's bucket under way is still covered by the plan before: that one stays."""
    older = tick.overlay(tick.Floors.empty(), NOON_S, (3,) * 4)  # 12:00-12:03
    merged = tick.overlay(older, NOON_S + 5 * MINUTE_S, (7, 7), fill_from_s=NOON_S + 2 * MINUTE_S)
    assert [_at(merged, m) for m in range(8)] == [3, 3, 3, 3, 7, 7, 7, None]


def test_a_fill_from_a_minute_off_the_grid_lines_up_with_the_plan() -> None:
    filled = tick.overlay(
        tick.Floors.empty(), NOON_S + 5 * MINUTE_S, (4,), fill_from_s=NOON_S + 3.5 * MINUTE_S
    )
    assert filled.start_s == NOON_S + 3 * MINUTE_S
    assert filled.values == (4, 4, 4)
