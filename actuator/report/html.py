"""Shell: `report.html`, one self-contained page (inline CSS and SVG; nothing fetched).

Every number is written by `_num`, which tags it with the JSON path it came from
(`data-path`) and its format (`data-format`), so a test can check each one against report.json.
"""

from __future__ import annotations

import math
from html import escape

from actuator.report import model, plots, units
from actuator.report.units import Fmt

CSS = """
:root { --ink:#1d2733; --muted:#5b6573; --line:#e3e6ea; --bg:#f6f7f9; --card:#fff;
  --reserved:%(reserved)s; --spot:%(spot)s; --on_demand:%(on_demand)s; --accent:#1f4e79; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 2px; }
h3 { font-size: 15px; margin: 22px 0 8px; color: var(--accent); }
p.meta, p.sub { color: var(--muted); margin: 0 0 14px; }
p.lead { font-size: 16px; margin: 4px 0 12px; }
p.lead .unit { color: var(--muted); }
section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin: 18px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px;
  margin: 10px 0 6px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .03em; }
.card .value { font-size: 22px; font-weight: 650; margin-top: 2px; }
.card .detail { color: var(--muted); font-size: 12px; }
.card .unit, .card .per { font-size: 13px; font-weight: 500; color: var(--muted); }
.good { color: #1a7f37; }
table { border-collapse: collapse; width: 100%%; margin: 6px 0 4px; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.wide { overflow-x: auto; }
table.simulation { font-size: 12px; } table.simulation th { white-space: normal; }
table.simulation td, table.simulation th { padding: 5px 6px; }
tr.total td { font-weight: 650; border-top: 2px solid var(--ink); }
tr.chosen td { background: #eef5fb; font-weight: 600; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
.swatch.reserved { background: var(--reserved); } .swatch.spot { background: var(--spot); }
.swatch.on_demand { background: var(--on_demand); }
.legend { color: var(--muted); font-size: 12px; margin: 2px 0 0; }
.legend span { margin-right: 16px; white-space: nowrap; }
.legend .line { display:inline-block; width:18px; height:0; border-top:2px solid; margin-right:6px;
  vertical-align: 3px; }
ul.caveats { margin: 6px 0 0; padding-left: 20px; }
ul.caveats li { margin: 3px 0; }
.caveat-kind { font-size: 11px; background: #fff4d6; color: #7a5300; border-radius: 4px;
  padding: 1px 5px; margin-right: 6px; }
nav a { margin-right: 14px; color: var(--accent); }
svg.plot { width: 100%%; height: auto; display: block; background: #fff; }
svg .grid { stroke: #eceef1; } svg .xtick { stroke: #f1f2f4; } svg .axis { stroke: #9aa1ab; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  fill: #5b6573; }
svg .axis-label { font-size: 12px; fill: #1d2733; }
svg .now { stroke: #1d2733; stroke-dasharray: 4 3; } svg .now-label { fill: #1d2733; }
svg .break-even { stroke: #1d2733; stroke-dasharray: 6 4; stroke-width: 1.3; }
svg .break-even-label { fill: #1d2733; font-weight: 600; paint-order: stroke;
  stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
.explain { background: #f3f6fa; border-left: 3px solid var(--accent); padding: 8px 12px;
  margin: 8px 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 30px; }
"""

CAPACITY_LABELS = {
    model.CapacityKind.reserved: "Reserved",
    model.CapacityKind.spot: "Spot",
    model.CapacityKind.on_demand: "On-demand",
}


def _num(value: float | int | None, fmt: Fmt, path: str, tag: str = "span") -> str:
    css = ' class="num"' if tag in ("td", "th") else ""
    return (
        f'<{tag}{css} data-path="{path}" data-format="{fmt.value}">'
        f"{escape(units.render(value, fmt))}</{tag}>"
    )


def _card(label: str, value_html: str, detail: str = "") -> str:
    detail_html = f'<div class="detail">{detail}</div>' if detail else ""
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value">{value_html}</div>{detail_html}</div>'
    )


def _swatch(kind: model.CapacityKind) -> str:
    return f'<span class="swatch {kind.value}"></span>{CAPACITY_LABELS[kind]}'


def render(report: model.Report) -> str:
    css = CSS % {k.value: v for k, v in plots.COLOURS.items()}
    end = report.horizon_start.timestamp() + report.horizon_hours * 3600
    horizon = (
        f"{report.horizon_start:%a %d %b %Y %H:%M} UTC + "
        f"{units.duration_text(end - report.horizon_start.timestamp())}"
    )
    nav = "".join(f'<a href="#w-{escape(w.name)}">{escape(w.name)}</a>' for w in report.workloads)
    body = [
        "<header><h1>Capacity report</h1>",
        f'<p class="meta">Plan horizon {escape(horizon)} &middot; trace '
        f"<code>{escape(report.trace)}</code> &middot; workloads "
        f"<code>{escape(report.workload_file)}</code> &middot; generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC &middot; schema {report.schema_version}</p>",
        f"<nav>{nav}</nav></header>",
        _fleet(report.fleet),
        _overview(report.workloads),
    ]
    body.extend(_workload(w, f"workloads.{i}") for i, w in enumerate(report.workloads))
    body.append(
        "<footer>Costs are for the planned week at the listed $/GPU-hour; all-on-demand prices "
        "the same plan without reservations or spot; static peak holds the week's peak plan "
        "on demand all week. Written by prescale; the same numbers are in report.json."
        "</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>prescale capacity report</title><style>{css}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _fleet(fleet: model.Fleet) -> str:
    peaks = " + ".join(
        f"{_num(g.gpus_at_peak, Fmt.integer, f'fleet.gpu_types.{i}.gpus_at_peak')}"
        f' <span class="unit">{escape(g.gpu)}</span>'
        for i, g in enumerate(fleet.gpu_types)
    )
    reserved = " + ".join(
        f"{_num(g.reserved_gpus, Fmt.integer, f'fleet.gpu_types.{i}.reserved_gpus')}"
        f' <span class="unit">{escape(g.gpu)}</span>'
        for i, g in enumerate(fleet.gpu_types)
        if g.reserved_gpus > 0
    )
    cards = [
        _card(
            "Planned cost per week",
            _num(fleet.usd_per_week, Fmt.usd, "fleet.usd_per_week"),
            _num(fleet.gpu_hours_per_week, Fmt.gpu_hours, "fleet.gpu_hours_per_week"),
        ),
        _card(
            "Saved vs all-on-demand",
            '<span class="good">'
            + _num(
                fleet.savings_vs_on_demand_usd_per_week,
                Fmt.usd,
                "fleet.savings_vs_on_demand_usd_per_week",
            )
            + "</span>",
            _num(fleet.savings_vs_on_demand_pct, Fmt.pct, "fleet.savings_vs_on_demand_pct")
            + " of "
            + _num(fleet.all_on_demand_usd_per_week, Fmt.usd, "fleet.all_on_demand_usd_per_week"),
        ),
        _card(
            "Saved vs static peak",
            '<span class="good">'
            + _num(
                fleet.savings_vs_static_usd_per_week,
                Fmt.usd,
                "fleet.savings_vs_static_usd_per_week",
            )
            + "</span>",
            _num(fleet.savings_vs_static_pct, Fmt.pct, "fleet.savings_vs_static_pct")
            + " of "
            + _num(fleet.static_peak_usd_per_week, Fmt.usd, "fleet.static_peak_usd_per_week"),
        ),
        _card("GPUs at peak", peaks or "0", "planned, all capacity types"),
        _card("Reserve (1-yr)", reserved or "0", "GPUs worth committing to"),
    ]
    rows = "".join(
        "<tr>"
        f"<td>{escape(g.gpu)}</td>"
        + _num(g.gpus_at_peak, Fmt.integer, f"fleet.gpu_types.{i}.gpus_at_peak", "td")
        + _num(g.reserved_gpus, Fmt.integer, f"fleet.gpu_types.{i}.reserved_gpus", "td")
        + _num(g.gpu_hours_per_week, Fmt.gpu_hours, f"fleet.gpu_types.{i}.gpu_hours_per_week", "td")
        + _num(g.usd_per_week, Fmt.usd, f"fleet.gpu_types.{i}.usd_per_week", "td")
        + _num(
            g.all_on_demand_usd_per_week,
            Fmt.usd,
            f"fleet.gpu_types.{i}.all_on_demand_usd_per_week",
            "td",
        )
        + _num(
            g.static_peak_usd_per_week,
            Fmt.usd,
            f"fleet.gpu_types.{i}.static_peak_usd_per_week",
            "td",
        )
        + "</tr>"
        for i, g in enumerate(fleet.gpu_types)
    )
    table = (
        '<table class="fleet"><thead><tr><th>GPU type</th><th class="num">GPUs at peak</th>'
        '<th class="num">Reserved GPUs</th><th class="num">GPU-hours / week</th>'
        '<th class="num">Planned $ / week</th><th class="num">All-on-demand $ / week</th>'
        f'<th class="num">Static peak $ / week</th></tr></thead><tbody>{rows}</tbody></table>'
    )
    bound = (
        "Workloads held back by their pool's GPU budget: "
        + ", ".join(f"<strong>{escape(n)}</strong>" for n in fleet.budget_bound_workloads)
        if fleet.budget_bound_workloads
        else "No workload is held back by a GPU budget."
    )
    caveats = "".join(
        f'<li><span class="caveat-kind">{escape(c.kind.value.replace("_", " "))}</span>'
        f"{escape(c.message)}</li>"
        for c in fleet.caveats
    )
    warnings = (
        f'<h3>Warnings</h3><ul class="caveats">{caveats}</ul>'
        if caveats
        else "<h3>Warnings</h3><p>None.</p>"
    )
    lead = (
        f'<p class="lead">The plan needs up to {peaks or "0"} GPUs at once. '
        + (f"Commit to {reserved} reserved GPUs and run the rest" if reserved else "Run them")
        + " on spot and on-demand: "
        + _num(fleet.usd_per_week, Fmt.usd, "fleet.usd_per_week")
        + " per week, "
        + _num(
            fleet.savings_vs_on_demand_usd_per_week,
            Fmt.usd,
            "fleet.savings_vs_on_demand_usd_per_week",
        )
        + " less than the same plan all on-demand.</p>"
    )
    return (
        '<section class="panel fleet-summary"><h2>Fleet next week</h2>'
        f'{lead}<div class="cards">{"".join(cards)}</div>{table}<p>{bound}</p>{warnings}'
        "</section>"
    )


def _overview(workloads: tuple[model.WorkloadReport, ...]) -> str:
    """One row per workload, so a planner with many of them sees where the money goes."""
    rows = []
    for i, w in enumerate(workloads):
        p = f"workloads.{i}"
        rows.append(
            f'<tr><td><a href="#w-{escape(w.name)}">{escape(w.name)}</a></td>'
            f"<td>{w.gpus_per_replica} x {escape(w.gpu)}</td>"
            + _num(w.peak_planned, Fmt.integer, f"{p}.peak_planned", "td")
            + _num(
                w.reservation.reserved_replicas,
                Fmt.integer,
                f"{p}.reservation.reserved_replicas",
                "td",
            )
            + _num(w.cost.total_usd_per_week, Fmt.usd, f"{p}.cost.total_usd_per_week", "td")
            + _num(
                w.cost.savings_vs_on_demand_pct, Fmt.pct, f"{p}.cost.savings_vs_on_demand_pct", "td"
            )
            + _num(
                w.accuracy.chosen_ratio_to_naive,
                Fmt.ratio,
                f"{p}.accuracy.chosen_ratio_to_naive",
                "td",
            )
            + _num(w.lead_time.seconds, Fmt.minutes, f"{p}.lead_time.seconds", "td")
            + "</tr>"
        )
    return (
        '<section class="panel overview"><h2>Workloads</h2>'
        '<table class="overview"><thead><tr><th>Workload</th><th>Replica</th>'
        '<th class="num">Peak replicas</th><th class="num">Reserve</th>'
        '<th class="num">$ / week</th><th class="num">Saved vs on-demand</th>'
        '<th class="num">Forecast MAE vs naive</th><th class="num">Lead time</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _workload(w: model.WorkloadReport, p: str) -> str:
    head = (
        f'<section class="panel workload" id="w-{escape(w.name)}"><h2>{escape(w.name)}</h2>'
        f'<p class="sub">{escape(w.kind)} &middot; {w.gpus_per_replica} x {escape(w.gpu)} per '
        f"replica &middot; {units.render(w.capacity_per_replica, Fmt.decimal1)} "
        f"{escape(w.unit)} per replica at {w.target_utilization * 100:.0f} % target utilisation "
        f"&middot; provisioned for {escape(w.provisioning_quantile)} &middot; "
        f"{w.min_replicas}-{w.max_replicas} replicas &middot; column "
        f"<code>{escape(w.column)}</code></p>"
    )
    cost = w.cost
    per_request = _num(
        cost.usd_per_million_requests, Fmt.usd_rate, f"{p}.cost.usd_per_million_requests"
    )
    per_token = (
        _num(cost.usd_per_million_tokens, Fmt.usd_rate, f"{p}.cost.usd_per_million_tokens")
        + " per 1M tokens"
        if cost.usd_per_million_tokens is not None
        else ""
    )
    cards = (
        '<div class="cards">'
        + _card(
            "Peak replicas",
            _num(w.peak_planned, Fmt.integer, f"{p}.peak_planned"),
            f"needed {_num(w.peak_needed, Fmt.integer, f'{p}.peak_needed')}; "
            f"{_num(w.peak_gpus, Fmt.integer, f'{p}.peak_gpus')} GPUs",
        )
        + (
            _card(
                "Reserve",
                _num(
                    w.reservation.reserved_replicas,
                    Fmt.integer,
                    f"{p}.reservation.reserved_replicas",
                )
                + '<span class="unit"> replicas</span>',
                _num(w.reservation.reserved_gpus, Fmt.integer, f"{p}.reservation.reserved_gpus")
                + f" x {escape(w.gpu)}",
            )
            if w.reservation.allowed
            else _card("Reserve", "none", "capacity_types exclude reserved")
        )
        + _card(
            "Cost per week",
            _num(cost.total_usd_per_week, Fmt.usd, f"{p}.cost.total_usd_per_week"),
            "saves "
            + _num(cost.savings_vs_on_demand_pct, Fmt.pct, f"{p}.cost.savings_vs_on_demand_pct")
            + " vs all-on-demand",
        )
        + _card("Per 1M requests", per_request, per_token)
        + _card(
            "Lead time",
            _num(w.lead_time.seconds, Fmt.minutes, f"{p}.lead_time.seconds"),
            escape(w.lead_time.source),
        )
        + "</div>"
    )
    parts = [head, cards]
    if w.budget_note:
        parts.append(f'<p class="explain">GPU budget: {escape(w.budget_note)}</p>')
    parts.append(_forecast(w, p))
    parts.append(_replicas(w))
    parts.append(_cost(w, p))
    parts.append(_reservation(w, p))
    parts.append(
        "<h3>Lead time</h3><p>"
        + _num(w.lead_time.seconds, Fmt.minutes, f"{p}.lead_time.seconds")
        + f" from order to serving, source <strong>{escape(w.lead_time.source)}</strong>: "
        f"{escape(w.lead_time.note)} The plan orders each replica this long before the "
        "forecast needs it and keeps it until the need has stayed lower for this long.</p>"
    )
    if w.simulation is not None:
        parts.append(_simulation(w.simulation, f"{p}.simulation"))
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
        rows.append(
            f'<tr class="{"chosen" if c.chosen else ""}"><td>{escape(c.model)}{mark}</td>'
            + _num(c.mae, Fmt.decimal2, f"{p}.accuracy.candidates.{i}.mae", "td")
            + _num(c.ratio_to_naive, Fmt.ratio, f"{p}.accuracy.candidates.{i}.ratio_to_naive", "td")
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
    if rows and not any(math.isfinite(c.ratio_to_naive) for c in a.candidates):
        table += (
            "<p>Ratios are n/a: weekly seasonal-naive needs two weeks of history, so the "
            "backtest compared daily models on one-day folds.</p>"
        )
    coverage = (
        "<p>Held-out coverage: P90 "
        + _num(a.coverage_p90, Fmt.fraction_pct, f"{p}.accuracy.coverage_p90")
        + " (target 90 %), P99 "
        + _num(a.coverage_p99, Fmt.fraction_pct, f"{p}.accuracy.coverage_p99")
        + " (target 99 %).</p>"
    )
    return (
        "<h3>History and forecast</h3>"
        + chart
        + legend
        + f"<p>Model <strong>{escape(a.model)}</strong> ({escape(a.reason.replace('_', ' '))}), "
        + f"fitted at {units.duration_text(f.resolution_s)} on "
        + _num(f.history_days, Fmt.decimal1, f"{p}.forecast.history_days")
        + " days of history.</p>"
        + "<h3>Forecast accuracy</h3>"
        + table
        + coverage
    )


def _replicas(w: model.WorkloadReport) -> str:
    chart = plots.replica_chart(w.replicas, f"{w.name}: needed vs planned replicas")
    legend = (
        '<p class="legend">'
        + "".join(f"<span>{_swatch(k)}</span>" for k in model.CapacityKind)
        + f'<span><span class="line" style="border-color:{plots.NEEDED_COLOUR}"></span>'
        f"needed at {escape(w.provisioning_quantile)}</span></p>"
    )
    return "<h3>Needed vs planned replicas</h3>" + chart + legend


def _cost(w: model.WorkloadReport, p: str) -> str:
    c = w.cost
    tokens = c.usd_per_million_tokens is not None
    rows = []
    for i, line in enumerate(c.lines):
        q = f"{p}.cost.lines.{i}"
        rows.append(
            f"<tr><td>{_swatch(line.capacity_type)}</td>"
            + _num(line.peak_replicas, Fmt.integer, f"{q}.peak_replicas", "td")
            + _num(line.mean_replicas, Fmt.decimal1, f"{q}.mean_replicas", "td")
            + _num(line.gpu_hours_per_week, Fmt.gpu_hours, f"{q}.gpu_hours_per_week", "td")
            + _num(line.cost_usd_per_week, Fmt.usd, f"{q}.cost_usd_per_week", "td")
            + _num(
                line.usd_per_million_requests, Fmt.usd_rate, f"{q}.usd_per_million_requests", "td"
            )
            + (
                _num(line.usd_per_million_tokens, Fmt.usd_rate, f"{q}.usd_per_million_tokens", "td")
                if tokens
                else ""
            )
            + "</tr>"
        )
    rows.append(
        '<tr class="total"><td>Planned</td><td></td><td></td>'
        + _num(
            c.total_gpu_hours_per_week, Fmt.gpu_hours, f"{p}.cost.total_gpu_hours_per_week", "td"
        )
        + _num(c.total_usd_per_week, Fmt.usd, f"{p}.cost.total_usd_per_week", "td")
        + _num(c.usd_per_million_requests, Fmt.usd_rate, f"{p}.cost.usd_per_million_requests", "td")
        + (
            _num(c.usd_per_million_tokens, Fmt.usd_rate, f"{p}.cost.usd_per_million_tokens", "td")
            if tokens
            else ""
        )
        + "</tr>"
    )
    compare = (
        '<table class="compare"><thead><tr><th>Alternative</th><th class="num">$ / week</th>'
        '<th class="num">Planned saves</th></tr></thead><tbody>'
        "<tr><td>All on-demand (same plan)</td>"
        + _num(c.all_on_demand_usd_per_week, Fmt.usd, f"{p}.cost.all_on_demand_usd_per_week", "td")
        + _num(c.savings_vs_on_demand_pct, Fmt.pct, f"{p}.cost.savings_vs_on_demand_pct", "td")
        + "</tr><tr><td>Static peak (on-demand)</td>"
        + _num(c.static_peak_usd_per_week, Fmt.usd, f"{p}.cost.static_peak_usd_per_week", "td")
        + _num(c.savings_vs_static_pct, Fmt.pct, f"{p}.cost.savings_vs_static_pct", "td")
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
            + _num(r.break_even_fraction, Fmt.fraction_pct, f"{q}.break_even_fraction")
            + " of the time (the bars above the dashed line).</p>"
        )
    why = (
        "Reserve <strong>"
        + _num(r.reserved_replicas, Fmt.integer, f"{q}.reserved_replicas")
        + "</strong> replicas: a reserved GPU costs "
        + _num(r.price_reserved_per_gpu_hour, Fmt.usd_rate, f"{q}.price_reserved_per_gpu_hour")
        + "/h every hour, an on-demand one "
        + _num(r.price_on_demand_per_gpu_hour, Fmt.usd_rate, f"{q}.price_on_demand_per_gpu_hour")
        + "/h only when used (spot "
        + _num(r.price_spot_per_gpu_hour, Fmt.usd_rate, f"{q}.price_spot_per_gpu_hour")
        + "/h), so the k-th replica is worth reserving when it is needed in more than "
        + _num(r.break_even_fraction, Fmt.fraction_pct, f"{q}.break_even_fraction")
        + " of the time."
    )
    if kept:
        last = kept[-1]
        idx = r.duration_curve.index(last)
        why += (
            f" Replica {last.replicas} is needed in "
            + _num(
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
            + _num(
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
        + _swatch(model.CapacityKind.reserved)
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
            f"<tr><td>{escape(r.policy)}</td>"
            + _num(r.served_minutes_pct, Fmt.pct, f"{q}.served_minutes_pct", "td")
            + _num(r.unserved_demand_pct, Fmt.pct, f"{q}.unserved_demand_pct", "td")
            + _num(r.gpu_hours, Fmt.gpu_hours, f"{q}.gpu_hours", "td")
            + _num(r.reserved_usd, Fmt.usd, f"{q}.reserved_usd", "td")
            + _num(r.spot_usd, Fmt.usd, f"{q}.spot_usd", "td")
            + _num(r.on_demand_usd, Fmt.usd, f"{q}.on_demand_usd", "td")
            + _num(r.cost_usd, Fmt.usd, f"{q}.cost_usd", "td")
            + _num(r.scale_events, Fmt.integer, f"{q}.scale_events", "td")
            + _num(r.gpu_hours_vs_oracle, Fmt.ratio, f"{q}.gpu_hours_vs_oracle", "td")
            + "</tr>"
        )
    return (
        "<h3>What-if replay</h3><p>Replayed the last "
        + _num(s.replay_days, Fmt.decimal1, f"{p}.replay_days")
        + f" days from {s.replay_start:%a %d %b %Y %H:%M} UTC minute by minute (seed {s.seed}); "
        "every policy pays the same cold start and plans "
        + _num(s.planning_lead_time_s, Fmt.minutes, f"{p}.planning_lead_time_s")
        + " ahead. prescale refit its "
        + escape(s.forecast_model or "n/a")
        + " forecast "
        + _num(s.forecast_refits, Fmt.integer, f"{p}.forecast_refits")
        + " times on data before each simulated now. A minute is served when the ready "
        "replicas' full capacity covers its demand.</p>"
        '<div class="wide"><table class="simulation"><thead><tr><th>Policy</th>'
        '<th class="num">Minutes served</th><th class="num">Demand unserved</th>'
        '<th class="num">GPU-hours</th><th class="num">Reserved $</th>'
        '<th class="num">Spot $</th><th class="num">On-demand $</th><th class="num">Total $</th>'
        '<th class="num">Scale events</th><th class="num">GPU-h / oracle</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        "</div>"
    )
