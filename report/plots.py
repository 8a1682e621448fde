"""Shell: the report's plots as hand-written inline SVG (no fonts, scripts or files to fetch).

Three charts per workload: history and forecast (P50 line, P90-P99 band), needed vs planned
replicas stacked by capacity type, and the reservation duration curve against the break-even
line; with a what-if replay a fourth, the operating-point frontier (served % against
GPU-hours, the chosen point marked). Colours per capacity type come from `COLOURS` and match
the HTML tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from planner import spec
from report import model

WIDTH = 920
HEIGHT = 290
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 14
MARGIN_BOTTOM = 40

COLOURS: dict[spec.CapacityType, str] = {
    spec.CapacityType.RESERVED: "#2f6690",
    spec.CapacityType.SPOT: "#f6ae2d",
    spec.CapacityType.ON_DEMAND: "#e4572e",
}
HISTORY_COLOUR = "#8a8f98"
FORECAST_COLOUR = "#1f4e79"
BAND_COLOUR = "#9ecae1"
NEEDED_COLOUR = "#111111"
BELOW_BREAK_EVEN_COLOUR = "#c9ccd1"
CHOSEN_COLOUR = "#e4572e"


@dataclass(frozen=True)
class _Frame:
    """Maps data coordinates to SVG pixels inside the margins."""

    x0: float
    x1: float
    y0: float
    y1: float

    def px(self, x: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return MARGIN_LEFT + (x - self.x0) / span * (WIDTH - MARGIN_LEFT - MARGIN_RIGHT)

    def py(self, y: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return HEIGHT - MARGIN_BOTTOM - (y - self.y0) / span * (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM)


def nice_ticks(top: float, target: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top`: steps of 1, 2 or 5 x 10^k."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    count = math.ceil(top / step - 1e-9)
    return [i * step for i in range(count + 1)]


def tick_label(value: float) -> str:
    """Short axis labels: 2,500 / 25k / 2.5M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1000:g}k"
    if value == round(value):
        return f"{value:,.0f}"
    return f"{value:g}"


def _epoch(t: datetime) -> float:
    return t.timestamp()


def _time_ticks(start: datetime, end: datetime) -> list[datetime]:
    """Midnight ticks for spans of two days or more, else every 6 hours."""
    span_h = (end - start).total_seconds() / 3600
    step = timedelta(days=1) if span_h >= 48 else timedelta(hours=6 if span_h > 12 else 1)
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        first = first.replace(hour=0)
    ticks = []
    t = first
    while t <= end:
        if t >= start:
            ticks.append(t)
        t += step
    return ticks


def _axes(frame: _Frame, y_ticks: Sequence[float], y_label: str, x_ticks: list[str]) -> str:
    parts = []
    for y in y_ticks:
        py = frame.py(y)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{py:.1f}" y2="{py:.1f}"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{py + 4:.1f}" '
            f'text-anchor="end">{tick_label(y)}</text>'
        )
    parts.extend(x_ticks)
    mid = (MARGIN_TOP + HEIGHT - MARGIN_BOTTOM) / 2
    parts.append(
        f'<text class="axis-label" transform="translate(14,{mid:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    base = HEIGHT - MARGIN_BOTTOM
    parts.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y1="{base}" y2="{base}"/>'
    )
    return "".join(parts)


def _time_axis(frame: _Frame, start: datetime, end: datetime) -> list[str]:
    out = []
    daily = (end - start) >= timedelta(hours=48)
    ticks = _time_ticks(start, end)
    # About 11 labels fit across the plot; keep every n-th tick beyond that.
    every = max(1, math.ceil(len(ticks) / 11))
    for t in ticks[::every]:
        x = frame.px(_epoch(t))
        if x > WIDTH - MARGIN_RIGHT - 40:  # a label there would run off the plot
            continue
        label = t.strftime("%a %d %b") if daily else t.strftime("%d %b %H:%M")
        out.append(
            f'<line class="xtick" x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN_TOP}" '
            f'y2="{HEIGHT - MARGIN_BOTTOM}"/>'
            f'<text class="tick" x="{x + 3:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}">'
            f"{label}</text>"
        )
    return out


def _points(series: model.Series, frame: _Frame) -> list[list[tuple[float, float]]]:
    """Pixel points of a series, split into runs at NaN gaps."""
    runs: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(series.values):
        if math.isnan(v):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((frame.px(_epoch(series.time_at(i))), frame.py(v)))
    return [r for r in runs if r]


def _polyline(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _svg(kind: str, title: str, body: str, data: dict[str, str]) -> str:
    attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in data.items())
    return (
        f'<svg class="plot plot-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}"{attrs}>'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def forecast_chart(view: model.ForecastView, title: str) -> str:
    """History (grey), P90-P99 band, P50 line; a dashed line marks where the forecast starts."""
    start = view.history.start if view.history.values else view.p50.start
    end = view.p50.end
    top = max(
        (s.finite_max() for s in (view.history, view.p99) if s.values),
        default=1.0,
    )
    ticks = nice_ticks(top if math.isfinite(top) else 1.0)
    frame = _Frame(_epoch(start), _epoch(end), 0.0, ticks[-1])
    body = [_axes(frame, ticks, view.unit_label, _time_axis(frame, start, end))]
    upper = _points(view.p99, frame)
    lower = _points(view.p90, frame)
    if upper and lower and len(upper) == 1 and len(lower) == 1:
        polygon = upper[0] + list(reversed(lower[0]))
        body.append(f'<polygon class="band" fill="{BAND_COLOUR}" points="{_polyline(polygon)}"/>')
    for run in _points(view.history, frame):
        body.append(
            f'<polyline class="history" fill="none" stroke="{HISTORY_COLOUR}" '
            f'stroke-width="1" points="{_polyline(run)}"/>'
        )
    for run in _points(view.p50, frame):
        body.append(
            f'<polyline class="p50" fill="none" stroke="{FORECAST_COLOUR}" '
            f'stroke-width="1.6" points="{_polyline(run)}"/>'
        )
    x_now = frame.px(_epoch(view.p50.start))
    body.append(
        f'<line class="now" x1="{x_now:.1f}" x2="{x_now:.1f}" y1="{MARGIN_TOP}" '
        f'y2="{HEIGHT - MARGIN_BOTTOM}"/>'
        f'<text class="now-label" x="{x_now + 4:.1f}" y="{MARGIN_TOP + 10}">forecast</text>'
    )
    return _svg(
        "forecast",
        title,
        "".join(body),
        {"p50-max": f"{view.p50.finite_max():.6g}", "p99-max": f"{view.p99.finite_max():.6g}"},
    )


def replica_chart(view: model.ReplicaView, title: str) -> str:
    """Planned replicas stacked reserved / spot / on-demand, with the needed replicas as a line."""
    layers = (
        (spec.CapacityType.RESERVED, view.reserved),
        (spec.CapacityType.SPOT, view.spot),
        (spec.CapacityType.ON_DEMAND, view.on_demand),
    )
    n = len(view.needed.values)
    totals = [sum(layer.values[i] for _, layer in layers) for i in range(n)]
    top = max([*totals, view.needed.finite_max(), 1.0])
    ticks = nice_ticks(top)
    start, end = view.needed.start, view.needed.end
    frame = _Frame(_epoch(start), _epoch(end), 0.0, ticks[-1])
    body = [_axes(frame, ticks, "replicas", _time_axis(frame, start, end))]
    below = [0.0] * n
    for kind, layer in layers:
        above = [below[i] + layer.values[i] for i in range(n)]
        if any(v > 0 for v in layer.values):
            body.append(_step_area(view.needed, below, above, frame, kind))
        below = above
    body.append(
        f'<polyline class="needed" fill="none" stroke="{NEEDED_COLOUR}" stroke-width="1.3" '
        f'points="{_polyline(_step_points(view.needed, list(view.needed.values), frame))}"/>'
    )
    return _svg("replicas", title, "".join(body), {"peak-total": f"{max(totals, default=0):g}"})


def _step_points(
    axis: model.Series, values: list[float], frame: _Frame
) -> list[tuple[float, float]]:
    points = []
    for i, v in enumerate(values):
        y = frame.py(0.0 if math.isnan(v) else v)
        points.append((frame.px(_epoch(axis.time_at(i))), y))
        points.append((frame.px(_epoch(axis.time_at(i + 1))), y))
    return points


def _step_area(
    axis: model.Series,
    below: list[float],
    above: list[float],
    frame: _Frame,
    kind: spec.CapacityType,
) -> str:
    top = _step_points(axis, above, frame)
    bottom = list(reversed(_step_points(axis, below, frame)))
    return (
        f'<polygon class="area area-{kind.value}" fill="{COLOURS[kind]}" '
        f'fill-opacity="0.85" points="{_polyline(top + bottom)}"/>'
    )


def duration_chart(reservation: model.Reservation, title: str) -> str:
    """Bars: share of time needing >= k replicas; dashed line: the break-even fraction."""
    curve = reservation.duration_curve
    k_max = max((p.replicas for p in curve), default=1)
    frame = _Frame(0.5, k_max + 0.5, 0.0, 1.0)
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    x_ticks = []
    label_every = max(1, math.ceil(k_max / 24))
    for p in curve:
        if p.replicas % label_every == 0 or p.replicas == 1:
            x_ticks.append(
                f'<text class="tick" x="{frame.px(p.replicas):.1f}" '
                f'y="{HEIGHT - MARGIN_BOTTOM + 16}" text-anchor="middle">{p.replicas}</text>'
            )
    body = [_axes(frame, ticks, "share of time", x_ticks)]
    body.append(
        f'<text class="tick" x="{(MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2:.0f}" '
        f'y="{HEIGHT - 6}" text-anchor="middle">k-th replica</text>'
    )
    bar_w = (frame.px(1.5) - frame.px(0.5)) * 0.78
    for p in curve:
        colour = COLOURS[spec.CapacityType.RESERVED] if p.reserve else BELOW_BREAK_EVEN_COLOUR
        x = frame.px(p.replicas) - bar_w / 2
        y = frame.py(p.share_of_time)
        body.append(
            f'<rect class="bar{" bar-reserve" if p.reserve else ""}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{bar_w:.1f}" height="{frame.py(0.0) - y:.1f}" fill="{colour}">'
            f"<title>replica {p.replicas}: needed in {p.share_of_time * 100:.1f} % of the time"
            f"</title></rect>"
        )
    y_be = frame.py(reservation.break_even_fraction)
    body.append(
        f'<line class="break-even" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y1="{y_be:.1f}" y2="{y_be:.1f}"/>'
        f'<text class="break-even-label" x="{WIDTH - MARGIN_RIGHT - 4}" y="{y_be - 5:.1f}" '
        f'text-anchor="end">break-even {reservation.break_even_fraction * 100:.1f} % '
        f"(reserved / on-demand price)</text>"
    )
    return _svg(
        "duration",
        title,
        "".join(body),
        {"reserved": str(reservation.reserved_replicas)},
    )


def _span_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round ticks covering [low, high] (steps as nice_ticks), for an axis not starting at 0."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        centre = low if math.isfinite(low) else 0.0
        low, high = centre - 1.0, centre + 1.0
    step = nice_ticks(high - low, target)[1]
    first = math.floor(low / step + 1e-9) * step
    count = math.ceil((high - first) / step - 1e-9)
    return [first + i * step for i in range(count + 1)]


def frontier_chart(view: model.OperatingPointView, title: str) -> str:
    """Every operating point replayed (dots), the efficient ones joined cheapest first, the
    chosen one marked, and the SLO as a dashed line: served % over the windows (y) against
    GPU-hours over the windows (x)."""
    points = [p for p in view.frontier if math.isfinite(p.pooled_served_pct)]
    served = [p.pooled_served_pct for p in points] + [view.slo_served_minutes_pct]
    cost = [p.gpu_hours for p in points] or [0.0]
    y_ticks = _span_ticks(min(served), min(100.0, max(served)))
    x_ticks = _span_ticks(min(cost), max(cost))
    frame = _Frame(x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1])
    labels = [
        f'<text class="tick" x="{frame.px(x):.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" '
        f'text-anchor="middle">{tick_label(x)}</text>'
        for x in x_ticks
    ]
    # served % ticks read better with their unit than as bare numbers
    body = [_axes(frame, y_ticks, "minutes served over the windows (%)", labels)]
    body.append(
        f'<text class="tick" x="{(MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2:.0f}" '
        f'y="{HEIGHT - 6}" text-anchor="middle">GPU-hours over the validation windows</text>'
    )
    y_slo = frame.py(view.slo_served_minutes_pct)
    body.append(
        f'<line class="slo" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y1="{y_slo:.1f}" y2="{y_slo:.1f}"/>'
        f'<text class="slo-label" x="{WIDTH - MARGIN_RIGHT - 4}" y="{y_slo - 5:.1f}" '
        f'text-anchor="end">SLO {view.slo_served_minutes_pct:g} %</text>'
    )
    line = [(frame.px(p.gpu_hours), frame.py(p.pooled_served_pct)) for p in points if p.efficient]
    if len(line) > 1:
        body.append(
            f'<polyline class="frontier" fill="none" stroke="{FORECAST_COLOUR}" '
            f'stroke-width="1.6" points="{_polyline(line)}"/>'
        )
    for p in points:
        x, y = frame.px(p.gpu_hours), frame.py(p.pooled_served_pct)
        css = "point" + (" efficient" if p.efficient else "") + (" chosen" if p.chosen else "")
        colour = CHOSEN_COLOUR if p.chosen else FORECAST_COLOUR if p.efficient else HISTORY_COLOUR
        radius = 6 if p.chosen else 3.5
        body.append(
            f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">'
            f"<title>{escape(p.point)}: {p.pooled_served_pct:.2f} % served, "
            f"{p.gpu_hours:,.1f} GPU-h</title></circle>"
        )
        if p.chosen:
            body.append(f'<text class="chosen-label" x="{x + 9:.1f}" y="{y + 4:.1f}">chosen</text>')
    return _svg(
        "frontier",
        title,
        "".join(body),
        {"points": str(len(points)), "chosen": view.chosen},
    )
