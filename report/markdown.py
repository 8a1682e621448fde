"""Shell: `report.md`, the report's tables and headline numbers as GitHub-flavoured Markdown.

Plots stay in report.html; numbers use the same formats as the HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from planner import spec
from report import model, shadow, units
from report.units import Fmt

LABELS = {
    spec.CapacityType.RESERVED: "reserved",
    spec.CapacityType.SPOT: "spot",
    spec.CapacityType.ON_DEMAND: "on-demand",
}


# Characters that change inline Markdown (emphasis, links, HTML, tables, code, headings):
# escaped with a backslash wherever text from a user (names, GPU, file names) is written.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!])")
_BACKTICKS = re.compile(r"`+")


def text(value: object) -> str:
    """User text as literal inline Markdown: one line, every special character escaped."""
    one_line = " ".join(str(value).split())
    return _SPECIAL.sub(r"\\\1", one_line)


def code(value: object) -> str:
    """User text as a code span, fenced by more backticks than it holds (CommonMark)."""
    one_line = " ".join(str(value).split())
    longest = max((len(m) for m in _BACKTICKS.findall(one_line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{one_line}{pad}{fence}"


def _r(value: float | int | None, fmt: Fmt) -> str:
    return units.render(value, fmt)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def render(report: model.Report) -> str:
    f = report.fleet
    out = [
        "# Capacity report",
        "",
        f"Plan from {report.horizon_start:%Y-%m-%d %H:%M} UTC for "
        f"{units.duration_text(report.horizon_hours * 3600)}; trace {code(report.trace)}, "
        f"workloads {code(report.workload_file)}; schema {report.schema_version}. "
        "Plots: report.html.",
        "",
        f"## {units.fleet_heading(report.horizon_hours)}",
        "",
        f"- Planned cost: **{_r(f.usd_per_week, Fmt.usd)} per week** "
        f"({_r(f.gpu_hours_per_week, Fmt.gpu_hours)})",
        f"- Saved vs all-on-demand: {_r(f.savings_vs_on_demand_usd_per_week, Fmt.usd)} "
        f"({_r(f.savings_vs_on_demand_pct, Fmt.pct)} of "
        f"{_r(f.all_on_demand_usd_per_week, Fmt.usd)})",
        f"- Saved vs static peak: {_r(f.savings_vs_static_usd_per_week, Fmt.usd)} "
        f"({_r(f.savings_vs_static_pct, Fmt.pct)} of {_r(f.static_peak_usd_per_week, Fmt.usd)})",
        "- Budget: "
        + (
            "held back: " + ", ".join(f.budget_bound_workloads)
            if f.budget_bound_workloads
            else "no workload is held back by a GPU budget"
        ),
        "",
        _table(
            [
                "GPU type",
                "GPUs at peak",
                "Reserved GPUs",
                "GPU-hours / week",
                "Planned $ / week",
                "All-on-demand $ / week",
                "Static peak $ / week",
            ],
            [
                [
                    text(g.gpu),
                    _r(g.gpus_at_peak, Fmt.integer),
                    _r(g.reserved_gpus, Fmt.integer),
                    _r(g.gpu_hours_per_week, Fmt.gpu_hours),
                    _r(g.usd_per_week, Fmt.usd),
                    _r(g.all_on_demand_usd_per_week, Fmt.usd),
                    _r(g.static_peak_usd_per_week, Fmt.usd),
                ]
                for g in f.gpu_types
            ],
        ),
        "",
        "### Warnings",
        "",
    ]
    out.extend(f"- **{c.kind.value}**: {text(c.message)}" for c in f.caveats)
    if not f.caveats:
        out.append("None.")
    for w in report.workloads:
        out.extend(["", *_workload(w)])
    return "\n".join(out) + "\n"


def _workload(w: model.WorkloadReport) -> list[str]:
    a, c, r = w.accuracy, w.cost, w.reservation
    out = [
        f"## {text(w.name)}",
        "",
        f"{w.kind}, {w.gpus_per_replica} x {text(w.gpu)} per replica, "
        f"{_r(w.capacity_per_replica, Fmt.decimal1)} {w.unit} per replica at "
        f"{w.target_utilization * 100:.0f} % target utilisation, provisioned for "
        f"{w.provisioned_for}, {w.min_replicas}-{w.max_replicas} replicas.",
        "",
        f"- History: `{w.history.source_unit}` from the source; {w.history.conversion}",
        f"- Peak replicas: {w.peak_planned} planned, {w.peak_needed} needed ({w.peak_gpus} GPUs)",
        (
            "- Reserve: nothing (capacity_types exclude reserved); break-even would be "
            if not r.allowed
            else f"- Reserve: **{r.reserved_replicas} replicas** "
            f"({r.reserved_gpus} x {text(w.gpu)}); "
            "break-even "
        )
        + f"{_r(r.break_even_fraction, Fmt.fraction_pct)} of the time = "
        f"{_r(r.price_reserved_per_gpu_hour, Fmt.usd_rate)} reserved / "
        f"{_r(r.price_on_demand_per_gpu_hour, Fmt.usd_rate)} on-demand per GPU-hour",
        f"- Cost: **{_r(c.total_usd_per_week, Fmt.usd)} per week**; "
        f"{_r(c.usd_per_million_requests, Fmt.usd_rate)} per 1M requests"
        + (
            f", {_r(c.usd_per_million_tokens, Fmt.usd_rate)} per 1M tokens"
            if c.usd_per_million_tokens is not None
            else ""
        ),
        f"- Lead time: {_r(w.lead_time.seconds, Fmt.minutes)} ({w.lead_time.source}): "
        f"{w.lead_time.note}",
        f"- Forecast: {a.model} ({a.reason}) on {_r(w.forecast.history_days, Fmt.decimal1)} days; "
        f"P90 coverage {_r(a.coverage_p90, Fmt.fraction_pct)}, P99 coverage "
        f"{_r(a.coverage_p99, Fmt.fraction_pct)}; band widening after an unusual day "
        + (
            f"{_r(a.band_widening, Fmt.decimal2)} (chosen on the folds by P90 pinball loss)"
            + (
                f", this forecast's spread above P50 x{_r(a.band_widened_by, Fmt.decimal2)}"
                if a.band_widened_by > 1.0
                else ", this forecast not widened"
            )
            if a.band_widening > 0
            else "none (no backtest calibration)"
        ),
    ]
    if w.budget_note:
        out.append(f"- GPU budget: {text(w.budget_note)}")
    out.extend(["", "### Forecast accuracy", ""])
    out.append(
        _table(
            ["Model", f"MAE ({w.forecast.unit_label})", "MAE / weekly seasonal-naive"],
            [
                [m.model + (" (chosen)" if m.chosen else ""), m.not_eligible, ""]
                if m.not_eligible
                else [
                    m.model
                    + (" (chosen)" if m.chosen else "")
                    + (f" ({m.scored_on_fewer_folds})" if m.scored_on_fewer_folds else ""),
                    _r(m.mae, Fmt.decimal2),
                    _r(m.ratio_to_naive, Fmt.ratio),
                ]
                for m in a.candidates
            ],
        )
        if a.candidates
        else "No backtest candidates (history too short)."
    )
    out.extend(["", "### Cost by capacity type", ""])
    rows = [
        [
            LABELS[line.capacity_type],
            _r(line.peak_replicas, Fmt.integer),
            _r(line.mean_replicas, Fmt.decimal1),
            _r(line.gpu_hours_per_week, Fmt.gpu_hours),
            _r(line.cost_usd_per_week, Fmt.usd),
            _r(line.usd_per_million_requests, Fmt.usd_rate),
            _r(line.usd_per_million_tokens, Fmt.usd_rate),
        ]
        for line in c.lines
    ]
    rows.append(
        [
            "**planned per week**",
            "",
            "",
            _r(c.total_gpu_hours_per_week, Fmt.gpu_hours),
            _r(c.total_usd_per_week, Fmt.usd),
            _r(c.usd_per_million_requests, Fmt.usd_rate),
            _r(c.usd_per_million_tokens, Fmt.usd_rate),
        ]
    )
    for label, usd in (
        ("all on-demand per week", c.all_on_demand_usd_per_week),
        ("static peak per week", c.static_peak_usd_per_week),
    ):
        rows.append([label, "", "", "", _r(usd, Fmt.usd), "", ""])
    header = ["Capacity type", "Peak replicas", "Mean replicas", "GPU-hours / week", "$ / week"]
    out.append(_table([*header, "$ / 1M requests", "$ / 1M tokens"], rows))
    out.extend(["", "### Reservation duration curve", ""])
    out.append(
        _table(
            ["k-th replica", "Share of time needing >= k", "Reserve"],
            [
                [
                    str(p.replicas),
                    _r(p.share_of_time, Fmt.fraction_pct),
                    "yes" if p.reserve else "no",
                ]
                for p in r.duration_curve
            ],
        )
    )
    out.extend(_operating_point(w.plan_point))
    if w.simulation is not None:
        s = w.simulation
        out.extend(
            [
                "",
                f"### What-if replay ({_r(s.replay_days, Fmt.decimal1)} days, seed {s.seed})",
                "",
                f"Policies plan {_r(s.planning_lead_time_s, Fmt.minutes)} ahead; prescale refit "
                f"its {s.forecast_model or 'n/a'} forecast {s.forecast_refits} times.",
                "",
                _table(
                    [
                        "Policy",
                        "Minutes served",
                        "Demand unserved",
                        "GPU-hours",
                        "Reserved $",
                        "Spot $",
                        "On-demand $",
                        "Total $",
                        "Scale events",
                        "GPU-h vs oracle",
                        "Unserved runs",
                        "Longest run (min)",
                    ],
                    [
                        [
                            p.policy,
                            _r(p.served_minutes_pct, Fmt.served_pct),
                            _r(p.unserved_demand_pct, Fmt.pct),
                            _r(p.gpu_hours, Fmt.gpu_hours),
                            _r(p.reserved_usd, Fmt.usd),
                            _r(p.spot_usd, Fmt.usd),
                            _r(p.on_demand_usd, Fmt.usd),
                            _r(p.cost_usd, Fmt.usd),
                            _r(p.scale_events, Fmt.integer),
                            _r(p.gpu_hours_vs_oracle, Fmt.ratio),
                            _r(p.unserved_runs, Fmt.integer),
                            _r(p.longest_unserved_minutes, Fmt.integer),
                        ]
                        for p in s.policies
                    ],
                ),
                *_misses(s),
                *_operating_point(s.operating_point),
            ]
        )
    if w.shadow is not None:
        out.extend(shadow.markdown(w.shadow))
    return out


def _misses(s: model.Simulation) -> list[str]:
    """How prescale's unserved minutes came: in runs, against the cold start."""
    r = next((r for r in s.policies if r.policy == "prescale"), None)
    if r is None or not r.unserved_runs:
        return []
    return [
        "",
        f"prescale's {r.unserved_minutes} unserved minutes came in {r.unserved_runs} run(s), "
        f"the longest {r.longest_unserved_minutes} minutes (cold start {s.cold_start}): "
        f"{model.MISS_RUNS_MEANING}.",
    ]


def _operating_point(v: model.OperatingPointView | None) -> list[str]:
    """The choice and its frontier: the efficient points, cheapest first (as `prescale
    simulate` prints them)."""
    if v is None:
        return []
    if not v.windows:
        return [
            "",
            f"Operating point for the SLO of {_r(v.slo_served_minutes_pct, Fmt.served_pct)} of "
            f"minutes served: not chosen, {text(v.reason)}.",
        ]
    return [
        "",
        f"Operating point for the SLO of {_r(v.slo_served_minutes_pct, Fmt.served_pct)} of minutes "
        f"served: {text(v.chosen)} ({text(v.reason)}). Frontier on the last "
        f"{v.windows} validation window(s) of {v.replayed_on}:",
        "",
        _table(
            ["Operating point", "Minutes served (over the windows)", "GPU-hours", "Chosen"],
            [
                [
                    text(f.point),
                    _r(f.pooled_served_pct, Fmt.served_pct),
                    _r(f.gpu_hours, Fmt.gpu_hours),
                    "yes" if f.chosen else "",
                ]
                for f in v.frontier
                if f.efficient
            ],
        ),
    ]
