"""The inline SVG plots: axis ticks, gaps, stacking and the break-even colouring."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
import report_builders as build

from report import model, plots


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (9.0, [0, 2, 4, 6, 8, 10]),
        (250.0, [0, 50, 100, 150, 200, 250]),
        (0.8, [0, 0.2, 0.4, 0.6000000000000001, 0.8]),
        (0.0, [0, 1]),
        (math.nan, [0, 1]),
    ],
    ids=["9-steps-of-2", "250-steps-of-50", "0.8-steps-of-0.2", "zero", "nan"],
)
def test_nice_ticks(top: float, ticks: list[float]) -> None:
    assert plots.nice_ticks(top) == ticks


def test_history_gap_splits_the_line() -> None:
    """12 hourly values with hours 4-5 missing draw two history polylines, not one."""
    history = build.series([10, 12, 14, 13, math.nan, math.nan, 9, 8, 7, 9, 10, 11])
    view = build.forecast_view(history=history)
    svg = plots.forecast_chart(view, "t")
    assert svg.count('class="history"') == 2


def test_stacked_areas_reach_the_total() -> None:
    """Reserved 2 + spot 1 + on-demand 3 = 6 replicas at the peak; the top layer reaches y(6)."""
    view = model.ReplicaView(
        needed=build.series([2, 6, 3]),
        reserved=build.series([2, 2, 2]),
        spot=build.series([0, 1, 0]),
        on_demand=build.series([0, 3, 1]),
    )
    svg = plots.replica_chart(view, "t")
    assert 'data-peak-total="6"' in svg
    (on_demand,) = re.findall(r'class="area area-on_demand"[^>]*points="([^"]+)"', svg)
    top_y = min(float(p.split(",")[1]) for p in on_demand.split())
    # ticks 0..6 step 1 (nice_ticks(6) = 0,2,4,6): y(6) is the top of the plot area
    assert top_y == pytest.approx(plots.MARGIN_TOP, abs=0.05)


def test_duration_bars_coloured_by_break_even() -> None:
    svg = plots.duration_chart(build.reservation(), "t")
    assert svg.count('class="bar bar-reserve"') == 3  # 1.0, 1.0, 0.8 > 0.599
    assert svg.count('class="bar"') == 5
    assert "break-even 59.9 %" in svg


def test_three_weeks_label_every_other_midnight() -> None:
    """21 days of history and forecast: 22 midnights (both ends) are too many labels, so every
    2nd is drawn: days 0, 2, ..., 20 = 11 labels."""
    history = build.series([1.0] * (14 * 24), start=build.START - timedelta(days=14))
    svg = plots.forecast_chart(build.forecast_view(history=history), "t")
    assert svg.count('class="xtick"') == 11
    assert "Mon 01 Jan" in svg and "Wed 03 Jan" in svg and "Tue 02 Jan" not in svg


@pytest.mark.parametrize(
    ("value", "label"),
    [(0.25, "0.25"), (2500, "2,500"), (25_000, "25k"), (5_000_000, "5M"), (2_500_000, "2.5M")],
    ids=["fraction", "thousands", "tens-of-thousands", "millions", "half-millions"],
)
def test_tick_labels(value: float, label: str) -> None:
    assert plots.tick_label(value) == label


def test_frontier_marks_the_chosen_point_and_joins_the_efficient_ones() -> None:
    view = build.chosen_point()
    svg = plots.frontier_chart(view, "t")
    assert svg.count("<circle ") == 4
    assert svg.count('class="point efficient chosen"') == 1
    assert svg.count('class="point"') == 1  # the dominated one, not on the line
    (line,) = re.findall(r'class="frontier"[^>]*points="([^"]+)"', svg)
    xs = [float(p.split(",")[0]) for p in line.split()]
    assert len(xs) == 3 and xs == sorted(xs)  # cheapest first, left to right
    assert 'data-chosen="band 0.50"' in svg and "SLO 99.5 %" in svg
    # more GPU-hours to the right, more served higher up (SVG y grows downwards)
    (chosen,) = re.findall(r'class="point efficient chosen" cx="([\d.]+)" cy="([\d.]+)"', svg)
    (cheapest,) = re.findall(r'class="point efficient" cx="([\d.]+)" cy="([\d.]+)"', svg)[:1]
    assert float(chosen[0]) > float(cheapest[0]) and float(chosen[1]) < float(cheapest[1])


def test_frontier_axes_cover_the_points_and_the_slo() -> None:
    view = build.chosen_point()
    svg = plots.frontier_chart(view, "t")
    for cx, cy in re.findall(r'<circle [^>]*cx="([\d.]+)" cy="([\d.]+)"', svg):
        assert plots.MARGIN_LEFT <= float(cx) <= plots.WIDTH - plots.MARGIN_RIGHT
        assert plots.MARGIN_TOP <= float(cy) <= plots.HEIGHT - plots.MARGIN_BOTTOM
    assert plots._span_ticks(99.1, 99.97) == pytest.approx([99.0, 99.2, 99.4, 99.6, 99.8, 100.0])
