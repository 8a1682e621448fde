"""Shell: `report.json`, the report model as versioned JSON (field names are the model's).

Datetimes are ISO 8601 UTC with a Z, enums their values, NaN and infinity null, tuples lists.
`resolve(document, path)` reads a dotted path ("workloads.0.cost.total_usd_per_week") the way
the HTML's `data-path` attributes name their source.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime
from enum import Enum

from kernel import timestamp
from report import model

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def to_document(report: model.Report) -> dict[str, JsonValue]:
    document = _plain(report)
    if not isinstance(document, dict):  # a Report is a dataclass, so this cannot happen
        raise TypeError("report did not serialise to an object")
    return document


def dumps(report: model.Report) -> str:
    return json.dumps(to_document(report), indent=1, allow_nan=False) + "\n"


def resolve(document: JsonValue, path: str) -> JsonValue:
    """The value at a dotted path; list indices are decimal parts."""
    node = document
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node[part]
        else:
            raise KeyError(f"{path}: {part!r} does not index a {type(node).__name__}")
    return node


def _plain(value: object) -> JsonValue:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return timestamp.utc_text(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    raise TypeError(f"report field of type {type(value).__name__} has no JSON form")
