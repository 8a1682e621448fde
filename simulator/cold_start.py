"""Pure: the cold-start (lead-time) distribution the simulator draws replica start-ups from.

A replica ordered at the start of minute `t` serves from the start of minute `t + m`, where
`m` is its lead time rounded UP to whole minutes: a replica that is ready after 90 s has missed
the first minute and the simulator does not credit partial minutes. The distribution is either
fixed, or lognormal from a median and a P90 (cold starts are right-skewed: a warm node and a
cached image take seconds, a fresh node plus a weight download takes many minutes; DESIGN.md
quotes LLM pods at 5-15 min end to end).

Draws come from a `numpy.random.Generator` the caller seeds, so a replay is reproducible.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from kernel import errors

# The standard normal, for lead-time quantiles (the standard library's: no scipy to import).
STANDARD_NORMAL = statistics.NormalDist()
# z such that Phi(z) = 0.90 for the standard normal.
Z_P90 = STANDARD_NORMAL.inv_cdf(0.9)

# Draws are made in blocks so the per-order cost in the replay loop is an index increment.
DRAW_BLOCK = 4096


class LeadTimeKind(StrEnum):
    FIXED = "fixed"
    LOGNORMAL = "lognormal"


@dataclass(frozen=True)
class ColdStartDistribution:
    """Lead time from order to ready, in seconds.

    `median_s == p90_s` for a fixed lead time. For a lognormal one, ln(L) ~ N(mu, sigma) with
    mu = ln(median_s) and sigma = ln(p90_s / median_s) / z90.
    """

    kind: LeadTimeKind
    median_s: float
    p90_s: float

    @classmethod
    def fixed(cls, seconds: float) -> ColdStartDistribution:
        if not math.isfinite(seconds) or seconds < 0:
            raise errors.InputError(
                errors.Problem(
                    "lead_time",
                    f"{seconds} s",
                    "must be a finite number of seconds >= 0",
                    "set {field} to e.g. 10m",
                )
            )
        return cls(LeadTimeKind.FIXED, float(seconds), float(seconds))

    @classmethod
    def lognormal(cls, median_s: float, p90_s: float) -> ColdStartDistribution:
        problems: list[errors.Problem] = []
        if not math.isfinite(median_s) or median_s <= 0:
            problems.append(
                errors.Problem(
                    "lead_time",
                    f"{median_s} s",
                    "must be > 0 for a lognormal cold start",
                    "set {field} to e.g. 10m",
                )
            )
        if not math.isfinite(p90_s) or p90_s < median_s:
            problems.append(
                errors.Problem(
                    "lead_time_p90",
                    f"{p90_s} s",
                    f"must be >= the median ({median_s} s)",
                    "set {field} at or above the median, e.g. 15m for a 10m median",
                )
            )
        if problems:
            raise errors.InputError(problems)
        if p90_s == median_s:
            return cls.fixed(median_s)
        return cls(LeadTimeKind.LOGNORMAL, float(median_s), float(p90_s))

    @property
    def sigma(self) -> float:
        if self.kind is LeadTimeKind.FIXED:
            return 0.0
        return math.log(self.p90_s / self.median_s) / Z_P90

    def quantile_s(self, q: float) -> float:
        """The q-quantile of the lead time in seconds (0 < q < 1)."""
        if self.kind is LeadTimeKind.FIXED:
            return self.median_s
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile {q} must be strictly between 0 and 1")
        z = STANDARD_NORMAL.inv_cdf(q)
        return self.median_s * math.exp(self.sigma * z)

    def draw_minutes(self, rng: np.random.Generator, count: int) -> npt.NDArray[np.int64]:
        """`count` lead times in whole minutes (rounded up), from `rng`."""
        if self.kind is LeadTimeKind.FIXED:
            return np.full(count, minutes_of(self.median_s), dtype=np.int64)
        seconds = self.median_s * np.exp(self.sigma * rng.standard_normal(count))
        return np.ceil(seconds / 60.0 - 1e-9).astype(np.int64)

    def describe(self) -> str:
        if self.kind is LeadTimeKind.FIXED:
            return f"fixed {self.median_s:g} s"
        return f"lognormal median {self.median_s:g} s, P90 {self.p90_s:g} s"


def minutes_of(seconds: float) -> int:
    """Whole minutes a replica needs before it can serve a full minute (rounded up)."""
    return math.ceil(seconds / 60.0 - 1e-9)


class LeadTimeStream:
    """Successive lead-time draws for one policy's orders, in minutes.

    Every policy gets its own stream from the same seed, so the k-th replica any policy orders
    takes the same time to start: policies are compared on common random numbers.
    """

    __slots__ = ("_block", "_cold_start", "_next", "_rng")

    def __init__(self, cold_start: ColdStartDistribution, seed: int) -> None:
        self._cold_start = cold_start
        self._rng = np.random.default_rng(seed)
        self._block: list[int] = []
        self._next = 0

    def next_minutes(self) -> int:
        if self._next >= len(self._block):
            self._block = self._cold_start.draw_minutes(self._rng, DRAW_BLOCK).tolist()
            self._next = 0
        value = self._block[self._next]
        self._next += 1
        return value
