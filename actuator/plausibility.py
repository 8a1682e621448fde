"""Shell: warnings about a history that would plan nonsense without a word.

The planner plans whatever it is given; these checks look at the history first and say when a
plan from it needs a human look: a horizon longer than the history, a history too short or all
zero to commit to reserved capacity (the reserved base is then dropped), and one absurd
interval that would set the peak for a week. Warnings go to stderr (stdout may be JSON).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecaster import series
from kernel import duration
from planner import spec

# A reserved replica is a commitment of a year or more: without a day of non-zero history
# there is no duration curve to break even on.
MIN_RESERVATION_HISTORY_S = 86400
# One interval this many times the history's P99 (and at most SPIKE_MAX_INTERVALS of them) is
# a spike no forecast should provision a week for: an export glitch, a load test, a unit slip.
SPIKE_FACTOR = 20.0
SPIKE_MAX_INTERVALS = 3


def warn(text: str) -> None:
    """A warning for the person at the terminal: stderr, never stdout."""
    print(f"prescale: warning: {text}", file=sys.stderr)


def span_s(loaded: series.Trace) -> int:
    """Seconds the history covers, first interval start to last interval end."""
    index = pd.DatetimeIndex(loaded.values.index)
    if len(index) == 0:
        return 0
    return int((index[-1] - index[0]).total_seconds()) + loaded.interval_s


def warn_long_horizon(flag: str, horizon_s: int, loaded: series.Trace) -> None:
    """Say so when the horizon reaches past the history's own length."""
    covered = span_s(loaded)
    if horizon_s > covered:
        warn(
            f"{flag} ({duration.text(horizon_s)}) is longer than the history "
            f"({duration.text(covered)}): the forecast past {duration.text(covered)} repeats "
            "patterns it saw at most once; pass a shorter horizon or a longer history"
        )


def without_unfounded_reservations(
    specs: Sequence[spec.WorkloadSpec], loaded: series.Trace
) -> tuple[spec.WorkloadSpec, ...]:
    """The specs, with `reserved` dropped (and a warning) when the history cannot justify a
    reservation: less than a day of data, or nothing but zeros."""
    values = loaded.values.to_numpy(dtype=float)
    present = values[~np.isnan(values)]
    covered_s = present.size * loaded.interval_s
    if covered_s >= MIN_RESERVATION_HISTORY_S and bool(np.any(present > 0)):
        return tuple(specs)
    why = (
        "is all zero"
        if present.size and not np.any(present > 0)
        else f"has {present.size} interval(s) of data ({duration.text(covered_s)})"
    )
    out = []
    for w in specs:
        if spec.CapacityType.RESERVED not in w.capacity_types:
            out.append(w)
            continue
        kept = tuple(t for t in w.capacity_types if t is not spec.CapacityType.RESERVED)
        warn(
            f"the history ({loaded.column}) {why}: too little to commit to reserved capacity, "
            f"so workload {w.name} is planned without reservations; give at least "
            f"{duration.text(MIN_RESERVATION_HISTORY_S)} of real history to plan a reserved base"
        )
        out.append(dataclasses.replace(w, capacity_types=kept))
    return tuple(out)


def warn_spikes(loaded: series.Trace) -> None:
    """Flag a handful of intervals far above everything else: they would set the peak."""
    values = loaded.values.dropna()
    if values.size < 2 * SPIKE_MAX_INTERVALS:
        return
    p99 = float(np.percentile(values.to_numpy(), 99))
    threshold = SPIKE_FACTOR * max(p99, 1.0)
    above = values[values > threshold]
    if 0 < above.size <= SPIKE_MAX_INTERVALS:
        worst_at = pd.DatetimeIndex(above.index)[int(np.argmax(above.to_numpy()))]
        worst = float(above.max())
        warn(
            f"{loaded.column} at {worst_at:%Y-%m-%dT%H:%M:%SZ} ({worst:,.0f} per "
            f"{loaded.interval_s} s) is {worst / max(p99, 1.0):,.0f} times the history's P99 "
            f"({p99:,.1f}), in {above.size} interval(s): one interval like that can drive a week "
            "of peak capacity; check the source, and drop or clip that row if it is not real"
        )
