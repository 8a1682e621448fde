"""How the report writes numbers: one decision table per format."""

from __future__ import annotations

import math

import pytest

from report import units
from report.units import Fmt


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        pytest.param(1885.96, Fmt.usd, "$1,886", id="usd-whole-dollars-from-100"),
        pytest.param(42.5, Fmt.usd, "$42.50", id="usd-cents-below-100"),
        pytest.param(3.67, Fmt.usd_rate, "$3.67", id="rate-cents"),
        pytest.param(2558.45, Fmt.usd_rate, "$2,558", id="rate-whole-dollars-from-100"),
        pytest.param(0.0017, Fmt.usd_rate, "$0.0017", id="rate-per-token-3-significant"),
        pytest.param(0.0, Fmt.usd_rate, "$0.00", id="rate-zero"),
        pytest.param(36.27, Fmt.pct, "36.3 %", id="pct"),
        pytest.param(0.915, Fmt.fraction_pct, "91.5 %", id="fraction-as-pct"),
        pytest.param(12345, Fmt.integer, "12,345", id="integer"),
        pytest.param(0.7, Fmt.ratio, "0.70x", id="ratio"),
        pytest.param(806.4, Fmt.gpu_hours, "806 GPU-h", id="gpu-hours-whole-from-100"),
        pytest.param(15.25, Fmt.gpu_hours, "15.2 GPU-h", id="gpu-hours-one-decimal"),
        pytest.param(600, Fmt.minutes, "10 min", id="minutes-whole"),
        pytest.param(90, Fmt.minutes, "1.5 min", id="minutes-fraction"),
        pytest.param(None, Fmt.usd, "n/a", id="none-is-na"),
        pytest.param(math.nan, Fmt.ratio, "n/a", id="nan-is-na"),
    ],
)
def test_render(value: float | None, fmt: Fmt, text: str) -> None:
    assert units.render(value, fmt) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 s"), (5400, "90 min"), (9000, "2.5 h"), (86400, "24 h"), (7 * 86400, "7 days")],
    ids=["seconds", "minutes-below-2h", "hours-fraction", "day-in-hours", "week-in-days"],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert units.duration_text(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(99.4636, "99.46 %", id="a-miss-never-reads-as-the-slo"),
        pytest.param(99.499, "99.49 %", id="cut-not-rounded"),
        pytest.param(99.53, "99.53 %", id="a-stored-decimal-keeps-its-digits"),
        pytest.param(99.5, "99.50 %", id="exact"),
        pytest.param(100.0, "100.00 %", id="all"),
    ],
)
def test_served_minutes_are_cut_not_rounded_up(value: float, text: str) -> None:
    assert units.render(value, Fmt.served_pct) == text


@pytest.mark.parametrize(
    ("hours", "heading"),
    [
        pytest.param(168.0, "Fleet next week", id="a-week"),
        pytest.param(24.0, "Fleet over the next 24 h, per week", id="a-day"),
    ],
)
def test_the_fleet_heading_says_its_figures_are_per_week(hours: float, heading: str) -> None:
    assert units.fleet_heading(hours) == heading
