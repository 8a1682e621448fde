"""Shell: where the daemon reads "now": the system clock, or a clock set by hand.

A tick reads now once and passes it down; nothing below the daemon asks for the time. The
manual clock drives `prescale run --once --at TIME` and the tests (no sleeps: they set or
advance it).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from kernel import errors


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, tz-aware UTC."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that says what it was last set to; `advance` moves it forward."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = aware(start, "start")

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = aware(moment, "moment")

    def advance(self, seconds: float) -> dt.datetime:
        self._now += dt.timedelta(seconds=seconds)
        return self._now


def aware(moment: dt.datetime, field: str) -> dt.datetime:
    """`moment` in UTC; a naive datetime is refused (it would be read in local time)."""
    if moment.tzinfo is None:
        raise errors.InputError(
            f"{field} ({moment.isoformat()}) has no time zone; write it in UTC, e.g. "
            "2026-12-01T06:00Z"
        )
    return moment.astimezone(dt.UTC)
