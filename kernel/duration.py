"""Kernel: the one duration grammar of prescale, Prometheus's (`ms s m h d w y`).

Every duration a user types (CLI flags, workload YAML, the daemon's config) is read here, so
`--horizon 1w` and `lead_time: 1w` mean the same thing. The grammar is Prometheus's: one or more
`<number><unit>` terms with units in descending order and each used once (`1h30m`, `90s`,
`1w2d`). Two extensions, both unambiguous: a term's number may be a decimal (`1.5h`), and a bare
number (YAML `120` or the string `"120"`) is seconds.

The result is seconds as a float; `whole_seconds` is the one place a duration becomes an integer
number of seconds, and it refuses a value that is not whole instead of rounding it (so `0.5s`
is neither 0 nor 1 but an error that says so).
"""

from __future__ import annotations

import math
import re

from kernel import units

# Descending order, as Prometheus requires. `ms` must precede `m` in the alternation.
UNIT_S: dict[str, float] = {
    "y": units.YEAR_S,
    "w": units.WEEK_S,
    "d": units.DAY_S,
    "h": units.HOUR_S,
    "m": units.MINUTE_S,
    "s": 1.0,
    "ms": 0.001,
}
_ORDER = tuple(UNIT_S)
_TERM = re.compile(r"(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)")
_BARE = re.compile(r"\d+(?:\.\d+)?")

_LARGEST_INT = 2**1000

EXAMPLES = "90s, 10m, 1h30m, 7d or 1w"


def parse_s(value: object) -> float | None:
    """Seconds of a duration (`90s`, `1h30m`, `1.5h`, `1w`, `120`), or None if it is not one.

    Negative, non-finite and boolean values are not durations.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # An int past a float's range (YAML `lead_time: 1e400` written out) is no duration.
        return float(value) if 0 <= value < _LARGEST_INT else None
    if isinstance(value, float):
        return value if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _BARE.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    total = 0.0
    position = 0
    last_rank = -1
    for match in _TERM.finditer(text):
        if match.start() != position:
            return None
        rank = _ORDER.index(match.group(2))
        if rank <= last_rank:
            return None  # units out of order or repeated: `30m1h`, `1h1h`
        last_rank = rank
        total += float(match.group(1)) * UNIT_S[match.group(2)]
        position = match.end()
    if position == 0 or position != len(text):
        return None
    return total if math.isfinite(total) else None


def whole_seconds(value: object) -> int | None:
    """Whole seconds of a duration; None when it is not a duration or not a whole second.

    A float is whole when it is within a microsecond of an integer (`1.5h` is 5400 s, `0.5s` is
    not whole).
    """
    seconds = parse_s(value)
    if seconds is None:
        return None
    nearest = round(seconds)
    return nearest if abs(seconds - nearest) < 1e-6 else None


def text(seconds: float) -> str:
    """The shortest grammar form of whole seconds: 5400 -> `1h30m`, 604800 -> `1w`, 0 -> `0s`."""
    remaining = round(seconds)
    if remaining == 0:
        return "0s"
    parts = []
    for unit in ("w", "d", "h", "m", "s"):
        size = round(UNIT_S[unit])
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
