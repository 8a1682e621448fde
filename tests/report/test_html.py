"""report.html: self-contained, and every number on the page is the JSON's, formatted."""

from __future__ import annotations

import dataclasses
import math
import re

import numbers_in_page
import pytest
import report_builders as build

from forecaster import forecast
from report import html, jsondoc, markdown, model, plots, units


@pytest.fixture(scope="module")
def full_report() -> model.Report:
    second = build.workload(
        name="vision-vit",
        kind="vision",
        gpu="L4",
        budget_note="pool shared holds 6 GPUs; cut from 9 to 6 replicas",
    )
    return build.report(build.workload(simulation=build.simulation()), second)


def test_every_number_is_the_json_value(full_report: model.Report) -> None:
    page = html.render(full_report)
    document = jsondoc.to_document(full_report)
    found = numbers_in_page.numbers(page)
    assert len(found) > 80
    for path, fmt, text in found:
        value = jsondoc.resolve(document, path)
        assert value is None or isinstance(value, int | float), path
        assert text == units.render(value, units.Fmt(fmt)), path


def test_headline_numbers_are_on_the_page(full_report: model.Report) -> None:
    page = html.render(full_report)
    paths = {p: t for p, _, t in numbers_in_page.numbers(page)}
    assert paths["fleet.usd_per_week"] == "$1,886"
    assert paths["fleet.savings_vs_on_demand_pct"] == "36.3 %"
    assert paths["workloads.0.reservation.reserved_replicas"] == "3"
    assert paths["workloads.0.simulation.policies.1.served_minutes_pct"] == "97.10 %"


def test_page_is_self_contained(full_report: model.Report) -> None:
    page = html.render(full_report)
    assert "<script" not in page
    assert "<link" not in page
    assert "@import" not in page and "url(" not in page
    # The only URL allowed is the SVG namespace, which browsers never fetch.
    urls = set(re.findall(r"https?://[^\"' )]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}


def test_three_plots_per_workload_and_one_table_each(full_report: model.Report) -> None:
    page = html.render(full_report)
    for kind in ("forecast", "replicas", "duration"):
        assert page.count(f'class="plot plot-{kind}"') == 2
    assert page.count('<table class="cost">') == 2
    assert page.count('<table class="simulation">') == 1  # only the first simulated
    assert 'class="plot plot-frontier"' not in page  # no operating point was chosen


def test_capacity_colours_match_between_css_and_plots(full_report: model.Report) -> None:
    page = html.render(full_report)
    for kind, colour in plots.COLOURS.items():
        assert f"--{kind.value}:{colour}" in page
        assert f'class="area area-{kind.value}" fill="{colour}"' in page


def test_budget_and_caveats_in_fleet_summary(full_report: model.Report) -> None:
    report = build.report(
        *full_report.workloads,
        caveats=(model.Caveat(model.CaveatKind.short_history, "x", "x: only 3.0 days"),),
    )
    page = html.render(report)
    assert "held back by their pool's GPU budget: <strong>vision-vit</strong>" in page
    assert "x: only 3.0 days" in page


def test_reservation_explains_when_reserved_is_not_allowed() -> None:
    r = build.reservation(
        allowed=False,
        reserved_replicas=0,
        reserved_gpus=0,
        duration_curve=(model.DurationPoint(1, 1.0, False),),
    )
    page = html.render(build.report(build.workload(reservation=r)))
    assert "capacity_types exclude reserved, so nothing is reserved" in page
    text = markdown.render(build.report(build.workload(reservation=r)))
    assert "- Reserve: nothing (capacity_types exclude reserved)" in text


def test_a_candidate_not_eligible_shows_why_instead_of_n_a() -> None:
    """A candidate the backtest did not score (NaN MAE) reads "not eligible: short history"
    in the HTML and Markdown accuracy tables, and report.json carries its status."""
    short = model.Candidate(
        "mstl", math.nan, math.nan, False, forecast.CandidateStatus.SHORT_HISTORY
    )
    a = build.accuracy()
    report = build.report(
        build.workload(accuracy=dataclasses.replace(a, candidates=(*a.candidates, short)))
    )
    page = html.render(report)
    assert '<td>mstl</td><td colspan="2">not eligible: short history</td>' in page
    assert "accuracy.candidates.3" not in page  # no n/a figures for it
    assert "| mstl | not eligible: short history |  |" in markdown.render(report)
    document = jsondoc.to_document(report)
    assert jsondoc.resolve(document, "workloads.0.accuracy.candidates.3.status") == "short_history"
    assert jsondoc.resolve(document, "workloads.0.accuracy.candidates.2.status") == "eligible"


def test_a_candidate_scored_on_fewer_folds_says_so() -> None:
    """Weekly seasonal-naive with 8-13 days of history was scored on the latest folds only:
    its MAE is shown, and next to it that it is not on the same folds as the others."""
    weekly = model.Candidate(
        "seasonal_naive_weekly", 2.5, math.nan, True, forecast.CandidateStatus.LATEST_FOLDS
    )
    a = build.accuracy()
    report = build.report(
        build.workload(accuracy=dataclasses.replace(a, candidates=(*a.candidates, weekly)))
    )
    note = "scored on fewer folds: the latest, with a week of history before them"
    page = html.render(report)
    assert f"<td>seasonal_naive_weekly (chosen) ({note})</td>" in page
    assert 'data-path="workloads.0.accuracy.candidates.3.mae"' in page
    assert f"| seasonal_naive_weekly (chosen) ({note}) | 2.50 |" in markdown.render(report)
    document = jsondoc.to_document(report)
    assert jsondoc.resolve(document, "workloads.0.accuracy.candidates.3.status") == "latest_folds"


def test_a_chosen_operating_point_shows_its_frontier_plot() -> None:
    simulated = build.workload(simulation=build.simulation(build.chosen_point()))
    report = build.report(simulated, build.workload(name="vision-vit", kind="vision"))
    page = html.render(report)
    assert page.count('class="plot plot-frontier"') == 1
    assert "Operating point for the SLO" in page and "<b>band 0.50</b>" in page
    document = jsondoc.to_document(report)
    found = {path: text for path, _, text in numbers_in_page.numbers(page)}
    point = "workloads.0.simulation.operating_point"
    assert found[f"{point}.frontier.1.pooled_served_pct"] == "99.82 %"
    assert found[f"{point}.slo_served_minutes_pct"] == "99.50 %"
    for path, fmt, text in numbers_in_page.numbers(page):
        assert text == units.render(jsondoc.resolve(document, path), units.Fmt(fmt)), path
    rows = jsondoc.resolve(document, f"{point}.frontier")
    assert isinstance(rows, list) and len(rows) == 4
    assert rows[1] == {
        "point": "band 0.50",
        "pooled_served_pct": 99.82,
        "gpu_hours": 1302.5,
        "efficient": True,
        "chosen": True,
    }


def test_a_point_not_chosen_for_want_of_history_is_a_sentence_not_a_plot() -> None:
    """Next week's plan at the spec's quantile because no validation window fits: the report
    says why, in words, with no empty frontier drawn (HTML and Markdown)."""
    unchosen = dataclasses.replace(
        build.chosen_point(),
        chosen="quantile, no level correction, hold lead_time",
        met=False,
        reason="too little history for a validation window (needs 2 days): the spec's quantile",
        windows=0,
        frontier=(),
        replayed_on="the history",
    )
    report = build.report(build.workload(plan_point=unchosen))
    page = html.render(report)
    assert "plot-frontier" not in page
    assert "Not chosen for the SLO of" in page and "too little history" in page
    text = markdown.render(report)
    assert "minutes served: not chosen, too little history for a validation window" in text
    assert "| Operating point |" not in text


def test_prescales_misses_are_said_in_runs_only_when_it_missed() -> None:
    """The sentence under the replay's table: its numbers are the JSON's, the cold start named;
    a replay where prescale served every minute has no such sentence (the columns stay)."""
    sim = build.simulation()
    page = html.render(build.report(build.workload(simulation=sim)))
    found = {path: text for path, _, text in numbers_in_page.numbers(page)}
    row = "workloads.0.simulation.policies.0"
    assert found[f"{row}.unserved_minutes"] == "20"
    assert found[f"{row}.longest_unserved_minutes"] == "10"
    assert "unserved minutes came in" in page and "(cold start fixed 600 s)" in page
    served_all = dataclasses.replace(
        sim.policies[0], unserved_minutes=0, unserved_runs=0, longest_unserved_minutes=0
    )
    clean = dataclasses.replace(sim, policies=(served_all, *sim.policies[1:]))
    page = html.render(build.report(build.workload(simulation=clean)))
    assert "unserved minutes came in" not in page and "Longest run (min)" in page
    text = markdown.render(build.report(build.workload(simulation=clean)))
    assert "unserved minutes came in" not in text and "Longest run (min)" in text


def test_the_band_widening_is_said_with_its_strength_or_none() -> None:
    calm = html.render(build.report(build.workload()))
    assert 'data-path="workloads.0.accuracy.band_widening"' in calm
    assert "chosen on the folds by P90 pinball loss" in calm
    assert "This forecast is not widened" in calm
    assert "accuracy.band_widened_by" not in calm
    widened = html.render(
        build.report(build.workload(accuracy=build.accuracy(band_widened_by=2.23)))
    )
    assert (
        "This forecast's spread above P50 is widened x<span "
        'data-path="workloads.0.accuracy.band_widened_by" data-format="decimal2">2.23</span>'
    ) in widened
    refused = html.render(build.report(build.workload(accuracy=build.accuracy(band_widening=0.0))))
    assert "none (no backtest calibration)" in refused
    assert "accuracy.band_widening" not in refused
