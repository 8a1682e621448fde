"""Pure: the spot interruption process the simulator replays.

Each spot replica that is running (starting or ready) is reclaimed by a Poisson process at
`rate_per_hour`, independently of the others. Over one minute a replica survives with
probability exp(-rate / 60), so the number of replicas lost in a minute out of `alive` is
Binomial(alive, 1 - exp(-rate / 60)).

The simulator draws one uniform number per minute up front (`InterruptionDraws`) and turns it
into a count by the binomial's inverse CDF. The uniforms depend only on the seed, not on the
policy, so policies that run the same number of spot replicas lose them in the same minutes
(common random numbers make the comparison between policies fair).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernel import errors


@dataclass(frozen=True)
class InterruptionDraws:
    """Per-minute uniforms for interruption counts and victim choice, from one seed."""

    count_uniforms: tuple[float, ...]
    victim_uniforms: tuple[float, ...]

    @classmethod
    def draw(cls, seed: int, minutes: int) -> InterruptionDraws:
        rng = np.random.default_rng(seed)
        counts = rng.random(minutes)
        victims = rng.random(minutes)
        return cls(tuple(counts.tolist()), tuple(victims.tolist()))


def survival_per_minute(rate_per_hour: float) -> float:
    """Probability that one spot replica survives a minute: exp(-rate / 60)."""
    if not math.isfinite(rate_per_hour) or rate_per_hour < 0:
        raise errors.InputError(
            f"spot_interruption_rate_per_hour ({rate_per_hour}) must be a finite rate >= 0; "
            "use e.g. 0.05 (one interruption per replica per 20 hours)"
        )
    return math.exp(-rate_per_hour / 60.0)


def interrupted_count(alive: int, survival: float, uniform: float) -> int:
    """How many of `alive` spot replicas are reclaimed this minute.

    Inverse CDF of Binomial(alive, p) with p = 1 - survival at `uniform` in [0, 1): walk the
    probability mass from k = 0 until the cumulative sum passes `uniform`. With rates of a few
    per day the first term, survival ** alive, already passes it almost every minute.
    """
    if alive <= 0 or survival >= 1.0:
        return 0
    if survival <= 0.0:
        return alive
    odds = (1.0 - survival) / survival
    mass = survival**alive  # P(k = 0)
    cumulative = mass
    k = 0
    while uniform >= cumulative and k < alive:
        mass *= (alive - k) / (k + 1) * odds  # P(k + 1) from P(k)
        k += 1
        cumulative += mass
    return k


def victim_index(alive: int, uniform: float, order: int) -> int:
    """Which of `alive` replicas (0-based) the `order`-th interruption of a minute hits.

    The first victim is uniform over the replicas; further ones in the same minute (rare) step
    through the rest deterministically so the result depends only on the seed.
    """
    return (int(uniform * alive) + order) % alive
