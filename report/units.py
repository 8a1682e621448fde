"""Shell: how the report writes a number with its unit, the same way in HTML and Markdown.

Each format is a closed set member so that the HTML can name it on the element
(`data-format`) and a test can re-derive the text from the JSON value.
"""

from __future__ import annotations

import math
from enum import StrEnum

MISSING = "n/a"


class Fmt(StrEnum):
    usd = "usd"  # $12,345 (whole dollars; cents below $100)
    usd_rate = "usd_rate"  # unit prices: $3.67; $2,558 from $100; $0.0017 below $1
    pct = "pct"  # 0..100 value: 12.3 %
    # minutes served (0..100) beside an SLO: two decimals, cut and never rounded up, so 99.464
    # is 99.46 % and never reads as an SLO of 99.5 % met
    served_pct = "served_pct"
    fraction_pct = "fraction_pct"  # 0..1 value shown as percent: 0.123 -> 12.3 %
    integer = "integer"  # 1,234
    decimal1 = "decimal1"  # 1,234.5
    decimal2 = "decimal2"  # 0.87
    ratio = "ratio"  # 0.87x
    gpu_hours = "gpu_hours"  # 1,234 GPU-h (one decimal below 100)
    minutes = "minutes"  # seconds value shown as minutes: 600 -> 10 min


def render(value: float | int | None, fmt: Fmt) -> str:
    """Text for `value` in `fmt`; None or NaN renders as n/a."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    v = float(value)
    if fmt is Fmt.usd:
        return f"${v:,.0f}" if abs(v) >= 100 else f"${v:,.2f}"
    if fmt is Fmt.usd_rate:
        # Per-token prices are fractions of a cent: keep three significant digits there.
        if abs(v) >= 100:
            return f"${v:,.0f}"
        return f"${v:,.2f}" if abs(v) >= 1 or v == 0 else f"${v:.3g}"
    if fmt is Fmt.pct:
        return f"{v:.1f} %"
    if fmt is Fmt.served_pct:
        # the 1e-9 keeps a value stored as 99.53 (9952.999... hundredths) at 99.53
        return f"{math.floor(v * 100 + 1e-9) / 100:.2f} %"
    if fmt is Fmt.fraction_pct:
        return f"{v * 100:.1f} %"
    if fmt is Fmt.integer:
        return f"{round(v):,d}"
    if fmt is Fmt.decimal1:
        return f"{v:,.1f}"
    if fmt is Fmt.decimal2:
        return f"{v:,.2f}"
    if fmt is Fmt.ratio:
        return f"{v:.2f}x"
    if fmt is Fmt.gpu_hours:
        return f"{v:,.0f} GPU-h" if abs(v) >= 100 else f"{v:,.1f} GPU-h"
    # Fmt.minutes
    minutes = v / 60
    return f"{minutes:.0f} min" if minutes == round(minutes) else f"{minutes:.1f} min"


def duration_text(seconds: float) -> str:
    """Human duration for prose: 45 -> "45 s", 600 -> "10 min", 9000 -> "2.5 h", 7 d -> "7 days"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return render(seconds, Fmt.minutes)
    if seconds < 2 * 86400:
        hours = seconds / 3600
        return f"{hours:.0f} h" if hours == round(hours) else f"{hours:.1f} h"
    days = seconds / 86400
    return f"{days:.0f} days" if days == round(days) else f"{days:.1f} days"


WEEK_HOURS = 7 * 24


def fleet_heading(horizon_hours: float) -> str:
    """The fleet summary's heading: its figures are per week, whatever the plan's horizon."""
    if horizon_hours == WEEK_HOURS:
        return "Fleet next week"
    return f"Fleet over the next {duration_text(horizon_hours * 3600)}, per week"
