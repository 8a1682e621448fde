"""One written form for moments: ISO 8601 UTC with a Z, whatever zone the moment is in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from kernel import timestamp


def test_utc_with_a_z_from_any_zone() -> None:
    assert timestamp.utc_text(datetime(2026, 12, 1, 6, tzinfo=UTC)) == "2026-12-01T06:00:00Z"
    east = timezone(timedelta(hours=2))
    assert timestamp.utc_text(datetime(2026, 12, 1, 8, 0, 5, tzinfo=east)) == (
        "2026-12-01T06:00:05Z"
    )
    assert timestamp.utc_text(pd.Timestamp("1995-09-01T00:00", tz="UTC")) == (
        "1995-09-01T00:00:00Z"
    )


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        timestamp.utc_text(datetime(2026, 12, 1, 6))
