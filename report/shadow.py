"""Shell: the shadow score's part of a workload's section (HTML and Markdown): what the live
daemon's plan would have served and cost over its rolling window, against what ran.

The figures come in as data (`model.ShadowScore`, filled by the daemon from its store); this
module only words and formats them. The JSON report carries them as `workloads.N.shadow`.
"""

from __future__ import annotations

from report import elements, model, units
from report.units import Fmt

HOUR_S = 3600

EXPLAIN = (
    "Each minute the daemon scores its decided targets and the replicas that were actually "
    "ready against the observed demand (served when replicas x capacity per replica cover it) "
    "and prices both at the spec's $/GPU-hour: the evidence to read before switching from "
    "advisory to actuate."
)


def _window(score: model.ShadowScore) -> str:
    hours = score.window_s / HOUR_S
    return f"{hours / 24:g} days" if hours % 24 == 0 else f"{hours:g} hours"


def html(score: model.ShadowScore, path: str) -> str:
    """The section's HTML; every figure carries its JSON path."""
    if score.minutes == 0:
        return (
            f"<h3>Shadow score</h3><p>No minute scored yet over the last {_window(score)} "
            "(demand or the ready replicas of a capacity type were not known).</p>"
        )
    rows = "".join(
        f"<tr><td>{label}</td>"
        + elements.number(served, Fmt.served_pct, f"{path}.{key}_served_pct", "td")
        + elements.number(usd, Fmt.usd, f"{path}.{key}_usd", "td")
        + "</tr>"
        for label, key, served, usd in (
            ("prescale's plan", "plan", score.plan_served_pct, score.plan_usd),
            ("what ran", "actual", score.actual_served_pct, score.actual_usd),
        )
    )
    return (
        "<h3>Shadow score</h3><p>"
        + elements.number(score.minutes, Fmt.integer, f"{path}.minutes")
        + f" minutes scored over the last {_window(score)}. {EXPLAIN}</p>"
        '<table class="shadow"><thead><tr><th>Run</th><th class="num">Minutes served</th>'
        f'<th class="num">Cost</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def markdown(score: model.ShadowScore) -> list[str]:
    """The section's Markdown lines."""
    head = ["", f"### Shadow score (last {_window(score)})", ""]
    if score.minutes == 0:
        return [*head, "No minute scored yet (demand or the ready replicas were not known)."]
    return [
        *head,
        f"{score.minutes:,} minutes scored. {EXPLAIN}",
        "",
        "| Run | Minutes served | Cost |",
        "|---|---:|---:|",
        f"| prescale's plan | {units.render(score.plan_served_pct, Fmt.served_pct)} | "
        f"{units.render(score.plan_usd, Fmt.usd)} |",
        f"| what ran | {units.render(score.actual_served_pct, Fmt.served_pct)} | "
        f"{units.render(score.actual_usd, Fmt.usd)} |",
    ]
