"""Kernel: how prescale writes a moment: ISO 8601 in UTC with a Z, to the second.

One form in every output (plan CSV and JSON, the report's JSON, the daemon's API and its
`run --once` line), so that a reader parses them all the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(moment: datetime) -> str:
    """`2026-12-01T06:00:00Z`; a pandas Timestamp is a datetime. A naive moment is refused:
    prescale keeps UTC only, and a naive one would be read in the machine's zone."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; prescale writes UTC moments only")
    return moment.astimezone(UTC).strftime(FORMAT)
