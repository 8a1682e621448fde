"""The one duration grammar: Prometheus's units, combinable, plus decimals and bare seconds."""

from __future__ import annotations

import pytest

from kernel import duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("90s", 90.0, id="seconds"),
        pytest.param("10m", 600.0, id="minutes"),
        pytest.param("1h30m", 5400.0, id="combined"),
        pytest.param("1.5h", 5400.0, id="decimal"),
        pytest.param("1w", 604800.0, id="week"),
        pytest.param("1y", 365 * 86400.0, id="year-is-365-days"),
        pytest.param("1w2d3h4m5s", 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5.0, id="all-units"),
        pytest.param("250ms", 0.25, id="milliseconds"),
        pytest.param("1m500ms", 60.5, id="minutes-then-ms"),
        pytest.param("120", 120.0, id="bare-string-is-seconds"),
        pytest.param(120, 120.0, id="bare-number-is-seconds"),
        pytest.param(" 7d ", 604800.0, id="surrounding-space"),
    ],
)
def test_parses(value: object, seconds: float) -> None:
    assert duration.parse_s(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("30m1h", id="units-out-of-order"),
        pytest.param("1h1h", id="unit-repeated"),
        pytest.param("ten minutes", id="words"),
        pytest.param("-5m", id="negative"),
        pytest.param("5 m", id="space-inside"),
        pytest.param("", id="empty"),
        pytest.param("m", id="unit-without-number"),
        pytest.param(True, id="boolean"),
        pytest.param(float("inf"), id="infinite"),
        pytest.param(None, id="none"),
    ],
)
def test_refuses(value: object) -> None:
    assert duration.parse_s(value) is None


def test_whole_seconds_refuses_fractions_instead_of_rounding() -> None:
    """0.5s used to be 0 in one parser and 1 in the other: now it is neither."""
    assert duration.whole_seconds("0.5s") is None
    assert duration.whole_seconds("1.5h") == 5400
    assert duration.whole_seconds("1500ms") is None
    assert duration.whole_seconds("2000ms") == 2


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (90, "1m30s"), (5400, "1h30m"), (604800, "1w"), (86401, "1d1s")],
)
def test_text_round_trips(seconds: int, text: str) -> None:
    assert duration.text(seconds) == text
    assert duration.parse_s(text) == seconds
