"""The shadow score's section: HTML, Markdown and JSON all show the daemon's figures."""

from __future__ import annotations

import json

import numbers_in_page
import report_builders as build

from report import html, jsondoc, markdown, model, units

# 600 minutes over a week: the plan served 99.5 % (597), what ran 97 % (582); $1,234 vs $1,500
SCORE = model.ShadowScore(
    window_s=7 * 86400,
    minutes=600,
    plan_served_pct=99.5,
    actual_served_pct=97.0,
    plan_usd=1234.0,
    actual_usd=1500.0,
)


def _report(score: model.ShadowScore) -> model.Report:
    return build.report(build.workload(shadow=score))


def test_the_html_shows_every_shadow_figure_as_the_json_has_it() -> None:
    report = _report(SCORE)
    page = html.render(report)
    document = jsondoc.to_document(report)
    shown = {p: t for p, _, t in numbers_in_page.numbers(page) if ".shadow." in p}
    assert shown == {
        "workloads.0.shadow.minutes": "600",
        "workloads.0.shadow.plan_served_pct": "99.50 %",
        "workloads.0.shadow.actual_served_pct": "97.00 %",
        "workloads.0.shadow.plan_usd": "$1,234",
        "workloads.0.shadow.actual_usd": "$1,500",
    }
    for path, fmt, text in numbers_in_page.numbers(page):
        if ".shadow." in path:
            value = jsondoc.resolve(document, path)
            assert isinstance(value, int | float)
            assert text == units.render(value, units.Fmt(fmt))
    assert "<h3>Shadow score</h3>" in page and "over the last 7 days" in page


def test_markdown_and_json_show_the_score() -> None:
    report = _report(SCORE)
    text = markdown.render(report)
    assert "### Shadow score (last 7 days)" in text
    assert "| prescale's plan | 99.50 % | $1,234 |" in text
    assert "| what ran | 97.00 % | $1,500 |" in text
    shadow = json.loads(jsondoc.dumps(report))["workloads"][0]["shadow"]
    assert shadow == {
        "window_s": 604800,
        "minutes": 600,
        "plan_served_pct": 99.5,
        "actual_served_pct": 97.0,
        "plan_usd": 1234.0,
        "actual_usd": 1500.0,
    }


def test_no_minute_scored_yet_is_said_and_no_score_no_section() -> None:
    empty = model.ShadowScore(3 * 3600, 0, None, None, 0.0, 0.0)
    assert "No minute scored yet over the last 3 hours" in html.render(_report(empty))
    assert "No minute scored yet" in markdown.render(_report(empty))
    plain = build.report(build.workload())
    assert "Shadow score" not in html.render(plain)
    assert "Shadow score" not in markdown.render(plain)
    assert json.loads(jsondoc.dumps(plain))["workloads"][0]["shadow"] is None
