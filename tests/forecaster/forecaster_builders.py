"""Builders for forecaster tests: small synthetic demand series with fixed seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2024-01-01T00:00:00Z")  # a Monday


def hourly_demand(
    weeks: float, *, seed: int = 0, noise: float = 0.05, start: pd.Timestamp = START
) -> pd.Series:
    """Requests per hour: 100 + 40 sin(day) with weekends at 60 %, multiplicative noise.

    Hourly keeps statsmodels fits fast (a week is 168 points) while every season is present.
    """
    hours = round(weeks * 7 * 24)
    index = pd.date_range(start, periods=hours, freq="1h")
    hour_of_day = index.hour.to_numpy()
    weekend = index.day_of_week.to_numpy() >= 5
    shape = 100.0 + 40.0 * np.sin(2 * np.pi * (hour_of_day - 6) / 24)
    shape = np.where(weekend, 0.6 * shape, shape)
    rng = np.random.default_rng(seed)
    values = shape * rng.lognormal(0.0, noise, size=hours)
    return pd.Series(values, index=index, dtype=float)


def minute_demand(hours: float, *, level: float = 50.0, seed: int = 0) -> pd.Series:
    """Poisson requests per minute around a flat level."""
    minutes = round(hours * 60)
    index = pd.date_range(START, periods=minutes, freq="1min")
    rng = np.random.default_rng(seed)
    return pd.Series(rng.poisson(level, size=minutes).astype(float), index=index)
