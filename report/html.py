"""Shell: `report.html`, one self-contained page (inline CSS and SVG; nothing fetched).

Every number is written by `elements.number`, which tags it with the JSON path it came from
(`data-path`) and its format (`data-format`), so a test can check each one against report.json.
"""

from __future__ import annotations

from html import escape

from report import elements, model, plots, section, units
from report.units import Fmt

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
svg .break-even-label, svg .slo-label, svg .chosen-label { fill: #1d2733; font-weight: 600;
  paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg .slo { stroke: #1d2733; stroke-dasharray: 6 4; stroke-width: 1.3; }
.explain { background: #f3f6fa; border-left: 3px solid var(--accent); padding: 8px 12px;
  margin: 8px 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 30px; }
"""


def render(report: model.Report) -> str:
    css = CSS % {k.value: v for k, v in plots.COLOURS.items()}
    horizon = (
        f"{report.horizon_start:%a %d %b %Y %H:%M} UTC + "
        f"{units.duration_text(report.horizon_hours * 3600)}"
    )
    nav = "".join(f'<a href="#w-{escape(w.name)}">{escape(w.name)}</a>' for w in report.workloads)
    body = [
        "<header><h1>Capacity report</h1>",
        f'<p class="meta">Plan horizon {escape(horizon)} &middot; trace '
        f"<code>{escape(report.trace)}</code> &middot; workloads "
        f"<code>{escape(report.workload_file)}</code> &middot; generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC &middot; schema {report.schema_version}</p>",
        f"<nav>{nav}</nav></header>",
        _fleet(report.fleet, report.horizon_hours),
        _overview(report.workloads),
    ]
    body.extend(section.render(w, f"workloads.{i}") for i, w in enumerate(report.workloads))
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


def _fleet(fleet: model.Fleet, horizon_hours: float) -> str:
    peaks = " + ".join(
        f"{elements.number(g.gpus_at_peak, Fmt.integer, f'fleet.gpu_types.{i}.gpus_at_peak')}"
        f' <span class="unit">{escape(g.gpu)}</span>'
        for i, g in enumerate(fleet.gpu_types)
    )
    reserved = " + ".join(
        f"{elements.number(g.reserved_gpus, Fmt.integer, f'fleet.gpu_types.{i}.reserved_gpus')}"
        f' <span class="unit">{escape(g.gpu)}</span>'
        for i, g in enumerate(fleet.gpu_types)
        if g.reserved_gpus > 0
    )
    cards = [
        elements.card(
            "Planned cost per week",
            elements.number(fleet.usd_per_week, Fmt.usd, "fleet.usd_per_week"),
            elements.number(fleet.gpu_hours_per_week, Fmt.gpu_hours, "fleet.gpu_hours_per_week"),
        ),
        elements.card(
            "Saved vs all-on-demand",
            '<span class="good">'
            + elements.number(
                fleet.savings_vs_on_demand_usd_per_week,
                Fmt.usd,
                "fleet.savings_vs_on_demand_usd_per_week",
            )
            + "</span>",
            elements.number(
                fleet.savings_vs_on_demand_pct, Fmt.pct, "fleet.savings_vs_on_demand_pct"
            )
            + " of "
            + elements.number(
                fleet.all_on_demand_usd_per_week, Fmt.usd, "fleet.all_on_demand_usd_per_week"
            ),
        ),
        elements.card(
            "Saved vs static peak",
            '<span class="good">'
            + elements.number(
                fleet.savings_vs_static_usd_per_week,
                Fmt.usd,
                "fleet.savings_vs_static_usd_per_week",
            )
            + "</span>",
            elements.number(fleet.savings_vs_static_pct, Fmt.pct, "fleet.savings_vs_static_pct")
            + " of "
            + elements.number(
                fleet.static_peak_usd_per_week, Fmt.usd, "fleet.static_peak_usd_per_week"
            ),
        ),
        elements.card("GPUs at peak", peaks or "0", "planned, all capacity types"),
        elements.card("Reserve (1-yr)", reserved or "0", "GPUs worth committing to"),
    ]
    rows = "".join(
        "<tr>"
        f"<td>{escape(g.gpu)}</td>"
        + elements.number(g.gpus_at_peak, Fmt.integer, f"fleet.gpu_types.{i}.gpus_at_peak", "td")
        + elements.number(g.reserved_gpus, Fmt.integer, f"fleet.gpu_types.{i}.reserved_gpus", "td")
        + elements.number(
            g.gpu_hours_per_week, Fmt.gpu_hours, f"fleet.gpu_types.{i}.gpu_hours_per_week", "td"
        )
        + elements.number(g.usd_per_week, Fmt.usd, f"fleet.gpu_types.{i}.usd_per_week", "td")
        + elements.number(
            g.all_on_demand_usd_per_week,
            Fmt.usd,
            f"fleet.gpu_types.{i}.all_on_demand_usd_per_week",
            "td",
        )
        + elements.number(
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
        + elements.number(fleet.usd_per_week, Fmt.usd, "fleet.usd_per_week")
        + " per week, "
        + elements.number(
            fleet.savings_vs_on_demand_usd_per_week,
            Fmt.usd,
            "fleet.savings_vs_on_demand_usd_per_week",
        )
        + " less than the same plan all on-demand.</p>"
    )
    return (
        f'<section class="panel fleet-summary"><h2>{units.fleet_heading(horizon_hours)}</h2>'
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
            + elements.number(w.peak_planned, Fmt.integer, f"{p}.peak_planned", "td")
            + elements.number(
                w.reservation.reserved_replicas,
                Fmt.integer,
                f"{p}.reservation.reserved_replicas",
                "td",
            )
            + elements.number(
                w.cost.total_usd_per_week, Fmt.usd, f"{p}.cost.total_usd_per_week", "td"
            )
            + elements.number(
                w.cost.savings_vs_on_demand_pct, Fmt.pct, f"{p}.cost.savings_vs_on_demand_pct", "td"
            )
            + elements.number(
                w.accuracy.chosen_ratio_to_naive,
                Fmt.ratio,
                f"{p}.accuracy.chosen_ratio_to_naive",
                "td",
            )
            + elements.number(w.lead_time.seconds, Fmt.minutes, f"{p}.lead_time.seconds", "td")
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
