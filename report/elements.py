"""Shell: the HTML elements every part of the report page is built from.

`number` writes a figure with the JSON path it came from (`data-path`) and its format
(`data-format`), so a test can check each one on the page against report.json.
"""

from __future__ import annotations

from html import escape

from planner import spec
from report import units
from report.units import Fmt

CAPACITY_LABELS = {
    spec.CapacityType.RESERVED: "Reserved",
    spec.CapacityType.SPOT: "Spot",
    spec.CapacityType.ON_DEMAND: "On-demand",
}


def number(value: float | int | None, fmt: Fmt, path: str, tag: str = "span") -> str:
    css = ' class="num"' if tag in ("td", "th") else ""
    return (
        f'<{tag}{css} data-path="{path}" data-format="{fmt.value}">'
        f"{escape(units.render(value, fmt))}</{tag}>"
    )


def card(label: str, value_html: str, detail: str = "") -> str:
    detail_html = f'<div class="detail">{detail}</div>' if detail else ""
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value">{value_html}</div>{detail_html}</div>'
    )


def swatch(kind: spec.CapacityType) -> str:
    return f'<span class="swatch {kind.value}"></span>{CAPACITY_LABELS[kind]}'
