"""Pure: the lead time to plan with: the P90 of the workload's own observed cold starts over a
rolling window once there are enough of them, the spec's configured value until then.

A cold start is scale decision (or Pod creation) to Ready (DESIGN.md "Lead time"). The shell
collects the observations; `now` comes in as an argument.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kernel import errors
from planner import spec

# A P90 from fewer than 5 samples is the maximum of a handful; below that, trust the config.
DEFAULT_MIN_COUNT = 5
# One week covers a full weekly cycle of node-pool and image-cache states.
DEFAULT_WINDOW = timedelta(days=7)
DEFAULT_QUANTILE = 0.9


class LeadTimeSource(StrEnum):
    LEARNED = "learned"  # quantile of observed cold starts in the window
    SPEC_FALLBACK = "spec_fallback"  # too few observations: the spec's lead_time


@dataclass(frozen=True, slots=True)
class ColdStart:
    ready_at: datetime  # tz-aware: when the replica became ready
    seconds: float  # from scale decision (or Pod creation) to Ready


@dataclass(frozen=True, slots=True)
class LeadTime:
    seconds: int
    source: LeadTimeSource
    observations: int  # cold starts inside the window
    fallback_s: int  # the spec's value, for the record


def nearest_rank_quantile(values: list[float], q: float) -> float:
    """The smallest observed value with at least q of the sample at or below it (nearest rank).

    An observed cold start, never an interpolation: for 10 values the P90 is the 9th smallest.
    """
    ordered = sorted(values)
    rank = max(math.ceil(q * len(ordered)), 1)
    return ordered[rank - 1]


def learn(
    workload: spec.WorkloadSpec,
    observations: Iterable[ColdStart],
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    min_count: int = DEFAULT_MIN_COUNT,
    quantile: float = DEFAULT_QUANTILE,
) -> LeadTime:
    """P90 (nearest rank, rounded up to whole seconds) of the cold starts that became ready
    within `window` before `now`; the spec's lead_time when fewer than `min_count`.

    Observations of [300, 320, ..., 480] s (10 of them) give the 9th smallest, 460 s.
    """
    problems = []
    if now.tzinfo is None:
        problems.append(f"now ({now.isoformat()}) is naive; pass a tz-aware UTC datetime")
    if min_count < 1:
        problems.append(f"min_count ({min_count}) must be >= 1; pass 1 or more")
    if not 0.0 < quantile <= 1.0:
        problems.append(f"quantile ({quantile}) must be in (0, 1]; pass e.g. 0.9")
    if problems:
        raise errors.InputError(problems)
    start = now - window
    recent = [
        o.seconds
        for o in observations
        if start < o.ready_at <= now and math.isfinite(o.seconds) and o.seconds >= 0
    ]
    fallback = workload.lead_time_s
    if len(recent) < min_count:
        return LeadTime(fallback, LeadTimeSource.SPEC_FALLBACK, len(recent), fallback)
    value = math.ceil(nearest_rank_quantile(recent, quantile))
    return LeadTime(value, LeadTimeSource.LEARNED, len(recent), fallback)
