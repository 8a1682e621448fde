"""Test support: seeded per-minute arrivals with a daily wave, for tests that need a real
forecast of a few days in about a second (the forecaster's daily regime)."""

from __future__ import annotations

import numpy as np
import pandas as pd

MONDAY = pd.Timestamp("2026-01-05T00:00Z")


def daily_wave(days: int = 3, seed: int = 7, start: pd.Timestamp = MONDAY) -> pd.Series:
    """Requests per minute: 60 + 40 sin(day) + Poisson noise, peaking at 14:00 UTC."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days * 1440, freq="min", tz="UTC")
    minutes = np.arange(index.size)
    rate = 60 + 40 * np.sin(2 * np.pi * (minutes % 1440 - 480) / 1440)
    return pd.Series(rng.poisson(rate).astype(float), index=index)
