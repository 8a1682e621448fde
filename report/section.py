"""Shell: one workload's section of report.html: forecast, accuracy, replicas, cost,
reservation, lead time and the what-if replay."""

from __future__ import annotations

import math
from html import escape

from planner import spec
from report import elements, model, plots, shadow, units
from report.units import Fmt


def render(w: model.WorkloadReport, p: str) -> str:
    head = (
        f'<section class="panel workload" id="w-{escape(w.name)}"><h2>{escape(w.name)}</h2>'
        f'<p class="sub">{escape(w.kind)} &middot; {w.gpus_per_replica} x {escape(w.gpu)} per '
        f"replica &middot; {units.render(w.capacity_per_replica, Fmt.decimal1)} "
        f"{escape(w.unit)} per replica at {w.target_utilization * 100:.0f} % target utilisation "
        f"&middot; provisioned for {escape(w.provisioned_for)} &middot; "
        f"{w.min_replicas}-{w.max_replicas} replicas &middot; column "
        f"<code>{escape(w.column)}</code></p>"
        f'<p class="sub">History: <code>{escape(w.history.source_unit)}</code> from the source; '
        f"{escape(w.history.conversion)}</p>"
    )
    cost = w.cost
    per_request = elements.number(
        cost.usd_per_million_requests, Fmt.usd_rate, f"{p}.cost.usd_per_million_requests"
    )
    per_token = (
        elements.number(
            cost.usd_per_million_tokens, Fmt.usd_rate, f"{p}.cost.usd_per_million_tokens"
        )
        + " per 1M tokens"
        if cost.usd_per_million_tokens is not None
        else ""
    )
    cards = (
        '<div class="cards">'
        + elements.card(
            "Peak replicas",
            elements.number(w.peak_planned, Fmt.integer, f"{p}.peak_planned"),
            f"needed {elements.number(w.peak_needed, Fmt.integer, f'{p}.peak_needed')}; "
            f"{elements.number(w.peak_gpus, Fmt.integer, f'{p}.peak_gpus')} GPUs",
        )
        + (
            elements.card(
                "Reserve",
                elements.number(
                    w.reservation.reserved_replicas,
                    Fmt.integer,
                    f"{p}.reservation.reserved_replicas",
                )
                + '<span class="unit"> replicas</span>',
                elements.number(
                    w.reservation.reserved_gpus, Fmt.integer, f"{p}.reservation.reserved_gpus"
                )
                + f" x {escape(w.gpu)}",
            )
            if w.reservation.allowed
            else elements.card("Reserve", "none", "capacity_types exclude reserved")
        )
        + elements.card(
            "Cost per week",
            elements.number(cost.total_usd_per_week, Fmt.usd, f"{p}.cost.total_usd_per_week"),
            "saves "
            + elements.number(
                cost.savings_vs_on_demand_pct, Fmt.pct, f"{p}.cost.savings_vs_on_demand_pct"
            )
            + " vs all-on-demand",
        )
        + elements.card("Per 1M requests", per_request, per_token)
        + elements.card(
            "Lead time",
            elements.number(w.lead_time.seconds, Fmt.minutes, f"{p}.lead_time.seconds"),
            escape(w.lead_time.source),
        )
        + "</div>"
    )
    parts = [head, cards]
    if w.budget_note:
        parts.append(f'<p class="explain">GPU budget: {escape(w.budget_note)}</p>')
    parts.append(_forecast(w, p))
    parts.append(_replicas(w))
    parts.append(_operating_point(w.plan_point, f"{p}.plan_point"))
    parts.append(_cost(w, p))
    parts.append(_reservation(w, p))
    parts.append(
        "<h3>Lead time</h3><p>"
        + elements.number(w.lead_time.seconds, Fmt.minutes, f"{p}.lead_time.seconds")
        + f" from order to serving, source <strong>{escape(w.lead_time.source)}</strong>: "
        f"{escape(w.lead_time.note)} The plan orders each replica this long before the "
        "forecast needs it and keeps it until the need has stayed lower for this long.</p>"
    )
    if w.simulation is not None:
        parts.append(_simulation(w.simulation, f"{p}.simulation"))
    if w.shadow is not None:
        parts.append(shadow.html(w.shadow, f"{p}.shadow"))
    parts.append("</section>")
    return "".join(parts)


def _forecast(w: model.WorkloadReport, p: str) -> str:
    f, a = w.forecast, w.accuracy
    chart = plots.forecast_chart(f, f"{w.name}: history and forecast, {f.unit_label}")
    legend = (
        '<p class="legend">'
        f'<span><span class="line" style="border-color:{plots.HISTORY_COLOUR}"></span>'
        "history</span>"
        f'<span><span class="line" style="border-color:{plots.FORECAST_COLOUR}"></span>'
        "P50 forecast</span>"
        f'<span><span class="swatch" style="background:{plots.BAND_COLOUR}"></span>'
        "P90-P99 band</span>"
        "</p>"
    )
    rows = []
    for i, c in enumerate(a.candidates):
        mark = " (chosen)" if c.chosen else ""
        if c.scored_on_fewer_folds:
            mark += f" ({escape(c.scored_on_fewer_folds)})"
        scores = (
            f'<td colspan="2">{escape(c.not_eligible)}</td>'
            if c.not_eligible
            else elements.number(c.mae, Fmt.decimal2, f"{p}.accuracy.candidates.{i}.mae", "td")
            + elements.number(
                c.ratio_to_naive, Fmt.ratio, f"{p}.accuracy.candidates.{i}.ratio_to_naive", "td"
            )
        )
        rows.append(
            f'<tr class="{"chosen" if c.chosen else ""}"><td>{escape(c.model)}{mark}</td>'
            + scores
            + "</tr>"
        )
    table = (
        '<table class="accuracy"><thead><tr><th>Model (rolling-origin backtest)</th>'
        f'<th class="num">MAE ({escape(f.unit_label)})</th>'
        '<th class="num">MAE / weekly seasonal-naive</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No backtest candidates (history too short).</p>"
    )
    if rows and any(c.scored_on_fewer_folds for c in a.candidates):
        table += (
            "<p>Ratios are n/a: with less than two weeks of history the backtest compared "
            "daily models on one-day folds; weekly seasonal-naive ran only on the latest of "
            "them (a week of history before each), and was compared with the daily choice on "
            "those.</p>"
        )
    elif rows and not any(math.isfinite(c.ratio_to_naive) for c in a.candidates):
        table += (
            "<p>Ratios are n/a: weekly seasonal-naive needs two weeks of history, so the "
            "backtest compared daily models on one-day folds.</p>"
        )
    coverage = (
        "<p>Held-out coverage: P90 "
        + elements.number(a.coverage_p90, Fmt.fraction_pct, f"{p}.accuracy.coverage_p90")
        + " (target 90 %), P99 "
        + elements.number(a.coverage_p99, Fmt.fraction_pct, f"{p}.accuracy.coverage_p99")
        + " (target 99 %). "
        + _widening_text(a, f"{p}.accuracy")
        + "</p>"
    )
    return (
        "<h3>History and forecast</h3>"
        + chart
        + legend
        + f"<p>Model <strong>{escape(a.model)}</strong> ({escape(a.reason.replace('_', ' '))}), "
        + f"fitted at {units.duration_text(f.resolution_s)} on "
        + elements.number(f.history_days, Fmt.decimal1, f"{p}.forecast.history_days")
        + " days of history.</p>"
        + "<h3>Forecast accuracy</h3>"
        + table
        + coverage
    )


def _replicas(w: model.WorkloadReport) -> str:
    chart = plots.replica_chart(w.replicas, f"{w.name}: needed vs planned replicas")
    legend = (
        '<p class="legend">'
        + "".join(f"<span>{elements.swatch(k)}</span>" for k in spec.CapacityType)
        + f'<span><span class="line" style="border-color:{plots.NEEDED_COLOUR}"></span>'
        f"needed at {escape(w.provisioned_for)}</span></p>"
    )
    return "<h3>Needed vs planned replicas</h3>" + chart + legend


def _cost(w: model.WorkloadReport, p: str) -> str:
    c = w.cost
    tokens = c.usd_per_million_tokens is not None
    rows = []
    for i, line in enumerate(c.lines):
        q = f"{p}.cost.lines.{i}"
        rows.append(
            f"<tr><td>{elements.swatch(line.capacity_type)}</td>"
            + elements.number(line.peak_replicas, Fmt.integer, f"{q}.peak_replicas", "td")
            + elements.number(line.mean_replicas, Fmt.decimal1, f"{q}.mean_replicas", "td")
            + elements.number(
                line.gpu_hours_per_week, Fmt.gpu_hours, f"{q}.gpu_hours_per_week", "td"
            )
            + elements.number(line.cost_usd_per_week, Fmt.usd, f"{q}.cost_usd_per_week", "td")
            + _unit_costs(line, q, tokens)
            + "</tr>"
        )
    rows.append(
        '<tr class="total"><td>Planned</td><td></td><td></td>'
        + elements.number(
            c.total_gpu_hours_per_week, Fmt.gpu_hours, f"{p}.cost.total_gpu_hours_per_week", "td"
        )
        + elements.number(c.total_usd_per_week, Fmt.usd, f"{p}.cost.total_usd_per_week", "td")
        + _unit_costs(c, f"{p}.cost", tokens)
        + "</tr>"
    )
    compare = (
        '<table class="compare"><thead><tr><th>Alternative</th><th class="num">$ / week</th>'
        '<th class="num">Planned saves</th></tr></thead><tbody>'
        "<tr><td>All on-demand (same plan)</td>"
        + elements.number(
            c.all_on_demand_usd_per_week, Fmt.usd, f"{p}.cost.all_on_demand_usd_per_week", "td"
        )
        + elements.number(
            c.savings_vs_on_demand_pct, Fmt.pct, f"{p}.cost.savings_vs_on_demand_pct", "td"
        )
        + "</tr><tr><td>Static peak (on-demand)</td>"
        + elements.number(
            c.static_peak_usd_per_week, Fmt.usd, f"{p}.cost.static_peak_usd_per_week", "td"
        )
        + elements.number(c.savings_vs_static_pct, Fmt.pct, f"{p}.cost.savings_vs_static_pct", "td")
        + "</tr></tbody></table>"
    )
    horizon = (
        "<p>Per week by capacity type"
        + (
            f", scaled from the {units.duration_text(c.horizon_hours * 3600)} plan"
            " (x 168 h / horizon)."
            if abs(c.horizon_hours - 168) > 1e-6
            else "."
        )
        + " Reserved replicas are paid every hour; spot and on-demand only while planned.</p>"
    )
    return (
        "<h3>Cost</h3>"
        + horizon
        + '<table class="cost"><thead><tr><th>Capacity type</th><th class="num">Peak replicas</th>'
        '<th class="num">Mean replicas</th><th class="num">GPU-hours / week</th>'
        '<th class="num">$ / week</th><th class="num">$ / 1M requests</th>'
        + ('<th class="num">$ / 1M tokens</th>' if tokens else "")
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + compare
    )


def _unit_costs(c: model.CostLine | model.Cost, path: str, tokens: bool) -> str:
    """The $ / 1M requests cell, and the $ / 1M tokens one when the workload counts tokens."""
    cells = elements.number(
        c.usd_per_million_requests, Fmt.usd_rate, f"{path}.usd_per_million_requests", "td"
    )
    if tokens:
        cells += elements.number(
            c.usd_per_million_tokens, Fmt.usd_rate, f"{path}.usd_per_million_tokens", "td"
        )
    return cells


def _reservation(w: model.WorkloadReport, p: str) -> str:
    r = w.reservation
    q = f"{p}.reservation"
    chart = plots.duration_chart(r, f"{w.name}: share of time needing at least k replicas")
    kept = [pt for pt in r.duration_curve if pt.reserve]
    first_out = next((pt for pt in r.duration_curve if not pt.reserve), None)
    if not r.allowed:
        return (
            "<h3>Reservation</h3>"
            + chart
            + '<p class="explain">This workload\'s capacity_types exclude reserved, so nothing is '
            "reserved. Were it allowed, the k-th replica would pay off reserved when needed in "
            "more than "
            + elements.number(r.break_even_fraction, Fmt.fraction_pct, f"{q}.break_even_fraction")
            + " of the time (the bars above the dashed line).</p>"
        )
    why = (
        "Reserve <strong>"
        + elements.number(r.reserved_replicas, Fmt.integer, f"{q}.reserved_replicas")
        + "</strong> replicas: a reserved GPU costs "
        + elements.number(
            r.price_reserved_per_gpu_hour, Fmt.usd_rate, f"{q}.price_reserved_per_gpu_hour"
        )
        + "/h every hour, an on-demand one "
        + elements.number(
            r.price_on_demand_per_gpu_hour, Fmt.usd_rate, f"{q}.price_on_demand_per_gpu_hour"
        )
        + "/h only when used (spot "
        + elements.number(r.price_spot_per_gpu_hour, Fmt.usd_rate, f"{q}.price_spot_per_gpu_hour")
        + "/h), so the k-th replica is worth reserving when it is needed in more than "
        + elements.number(r.break_even_fraction, Fmt.fraction_pct, f"{q}.break_even_fraction")
        + " of the time."
    )
    if kept:
        last = kept[-1]
        idx = r.duration_curve.index(last)
        why += (
            f" Replica {last.replicas} is needed in "
            + elements.number(
                last.share_of_time,
                Fmt.fraction_pct,
                f"{q}.duration_curve.{idx}.share_of_time",
            )
            + " of the time"
        )
    if first_out is not None:
        idx = r.duration_curve.index(first_out)
        why += (
            ("; replica " if kept else " Replica ")
            + f"{first_out.replicas} only in "
            + elements.number(
                first_out.share_of_time,
                Fmt.fraction_pct,
                f"{q}.duration_curve.{idx}.share_of_time",
            )
            + ", so it stays on spot / on-demand"
        )
    why += "."
    return (
        "<h3>Reservation</h3>"
        + chart
        + '<p class="legend"><span>'
        + elements.swatch(spec.CapacityType.RESERVED)
        + " (above break-even)</span><span>"
        + f'<span class="swatch" style="background:{plots.BELOW_BREAK_EVEN_COLOUR}"></span>'
        + "below break-even: spot / on-demand</span></p>"
        + f'<p class="explain">{why}</p>'
    )


def _simulation(s: model.Simulation, p: str) -> str:
    rows = []
    for i, r in enumerate(s.policies):
        q = f"{p}.policies.{i}"
        rows.append(
            f'<tr class="{"chosen" if r.policy == "prescale" else ""}">'
            f"<td>{escape(r.policy)}</td>"
            + elements.number(r.served_minutes_pct, Fmt.served_pct, f"{q}.served_minutes_pct", "td")
            + elements.number(r.unserved_demand_pct, Fmt.pct, f"{q}.unserved_demand_pct", "td")
            + elements.number(r.gpu_hours, Fmt.gpu_hours, f"{q}.gpu_hours", "td")
            + elements.number(r.reserved_usd, Fmt.usd, f"{q}.reserved_usd", "td")
            + elements.number(r.spot_usd, Fmt.usd, f"{q}.spot_usd", "td")
            + elements.number(r.on_demand_usd, Fmt.usd, f"{q}.on_demand_usd", "td")
            + elements.number(r.cost_usd, Fmt.usd, f"{q}.cost_usd", "td")
            + elements.number(r.scale_events, Fmt.integer, f"{q}.scale_events", "td")
            + elements.number(r.gpu_hours_vs_oracle, Fmt.ratio, f"{q}.gpu_hours_vs_oracle", "td")
            + elements.number(r.unserved_runs, Fmt.integer, f"{q}.unserved_runs", "td")
            + elements.number(
                r.longest_unserved_minutes, Fmt.integer, f"{q}.longest_unserved_minutes", "td"
            )
            + "</tr>"
        )
    return (
        "<h3>What-if replay</h3><p>Replayed the last "
        + elements.number(s.replay_days, Fmt.decimal1, f"{p}.replay_days")
        + f" days from {s.replay_start:%a %d %b %Y %H:%M} UTC minute by minute (seed {s.seed}); "
        "every policy pays the same cold start and plans "
        + elements.number(s.planning_lead_time_s, Fmt.minutes, f"{p}.planning_lead_time_s")
        + " ahead. prescale refit its "
        + escape(s.forecast_model or "n/a")
        + " forecast "
        + elements.number(s.forecast_refits, Fmt.integer, f"{p}.forecast_refits")
        + " times on data before each simulated now. A minute is served when the ready "
        "replicas' full capacity covers its demand.</p>"
        '<div class="wide"><table class="simulation"><thead><tr><th>Policy</th>'
        '<th class="num">Minutes served</th><th class="num">Demand unserved</th>'
        '<th class="num">GPU-hours</th><th class="num">Reserved $</th>'
        '<th class="num">Spot $</th><th class="num">On-demand $</th><th class="num">Total $</th>'
        '<th class="num">Scale events</th><th class="num">GPU-h / oracle</th>'
        '<th class="num">Unserved runs</th><th class="num">Longest run (min)</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        "</div>" + _misses(s, p) + _operating_point(s.operating_point, f"{p}.operating_point")
    )


def _misses(s: model.Simulation, p: str) -> str:
    """How prescale's unserved minutes came: in runs, against the cold start."""
    i = next((i for i, r in enumerate(s.policies) if r.policy == "prescale"), None)
    if i is None or not s.policies[i].unserved_runs:
        return ""
    r, q = s.policies[i], f"{p}.policies.{i}"
    return (
        '<p class="explain">prescale\'s '
        + elements.number(r.unserved_minutes, Fmt.integer, f"{q}.unserved_minutes")
        + " unserved minutes came in "
        + elements.number(r.unserved_runs, Fmt.integer, f"{q}.unserved_runs")
        + " run(s), the longest "
        + elements.number(r.longest_unserved_minutes, Fmt.integer, f"{q}.longest_unserved_minutes")
        + f" minutes (cold start {escape(s.cold_start)}): {escape(model.MISS_RUNS_MEANING)}.</p>"
    )


def _operating_point(v: model.OperatingPointView | None, p: str) -> str:
    """The frontier plot and the choice in words (the points' figures are in report.json and
    the Markdown table)."""
    if v is None:
        return ""
    if not v.windows:
        return (
            "<h4>Operating point for the SLO</h4><p>Not chosen for the SLO of "
            + elements.number(
                v.slo_served_minutes_pct, Fmt.served_pct, f"{p}.slo_served_minutes_pct"
            )
            + f" of minutes served: {escape(v.reason)}.</p>"
        )
    chosen = next((i for i, f in enumerate(v.frontier) if f.chosen), None)
    figures = ""
    if chosen is not None:
        q = f"{p}.frontier.{chosen}"
        figures = (
            ": it served "
            + elements.number(
                v.frontier[chosen].pooled_served_pct, Fmt.served_pct, f"{q}.pooled_served_pct"
            )
            + " of the minutes of its windows for "
            + elements.number(v.frontier[chosen].gpu_hours, Fmt.gpu_hours, f"{q}.gpu_hours")
        )
    legend = (
        '<p class="legend">'
        f'<span><span class="line" style="border-color:{plots.FORECAST_COLOUR}"></span>'
        "frontier (no cheaper point serves as much)</span>"
        f'<span><span class="swatch" style="background:{plots.HISTORY_COLOUR}"></span>'
        "other points replayed</span>"
        f'<span><span class="swatch" style="background:{plots.CHOSEN_COLOUR}"></span>'
        "chosen</span></p>"
    )
    chart = plots.frontier_chart(v, "operating points: minutes served against GPU-hours")
    return (
        "<h4>Operating point for the SLO</h4><p>prescale replayed operating points (band, "
        "level correction, scale-in hold) on the last "
        + elements.number(v.windows, Fmt.integer, f"{p}.windows")
        + f" validation window(s) of {escape(v.replayed_on)}, walk-forward, for the SLO of "
        + elements.number(v.slo_served_minutes_pct, Fmt.served_pct, f"{p}.slo_served_minutes_pct")
        + f" of minutes served, and chose <b>{escape(v.chosen)}</b>{figures}. "
        + escape(v.reason[:1].upper() + v.reason[1:])
        + ".</p>"
        + chart
        + legend
    )


def _widening_text(a: model.Accuracy, path: str) -> str:
    """How the band follows a surprise (forecaster/widening.py), and how far this forecast's
    did, in words."""
    if a.band_widening <= 0:
        return "Band widening after an unusual day: none (no backtest calibration)."
    now = (
        "This forecast's spread above P50 is widened x"
        + elements.number(a.band_widened_by, Fmt.decimal2, f"{path}.band_widened_by")
        + " (its last day's residuals ran above the calibrated spread)."
        if a.band_widened_by > 1.0
        else "This forecast is not widened (its last day's residuals were within the calibrated "
        "spread)."
    )
    return (
        "Band widening after an unusual day: strength "
        + elements.number(a.band_widening, Fmt.decimal2, f"{path}.band_widening")
        + " (the P90/P99 spread follows the last day's residuals out of the calibrated range, "
        "chosen on the folds by P90 pinball loss). " + now
    )
