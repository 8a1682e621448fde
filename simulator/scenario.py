"""Pure: the world every policy faces in one replay: demand, prices, cold starts, spot losses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner import spec
from simulator import cold_start


@dataclass(frozen=True)
class Scenario:
    """The world every policy faces in one run: the same demand, cold starts and spot losses."""

    timestamps: pd.DatetimeIndex  # replayed minutes, UTC, freq "min"
    arrivals: npt.NDArray[np.float64]  # per replayed minute, trace unit; NaN = gap
    demand: npt.NDArray[np.float64]  # per replayed minute, spec unit; NaN = gap
    tokens_per_request: npt.NDArray[np.float64]  # prompt + completion per request, per minute
    arrivals_before: float | None  # the last warm-up minute (what minute 0 observes)
    demand_before: float | None
    capacity_per_replica: float  # spec unit, at full capacity
    gpus_per_replica: int
    prices: spec.Prices
    spot_interruption_rate_per_hour: float
    api_overflow_price_per_1m_tokens: float | None
    cold_start: cold_start.ColdStartDistribution
    seed: int

    @property
    def minutes(self) -> int:
        return len(self.timestamps)
