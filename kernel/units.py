"""Kernel: time units, in seconds, named once so that no module writes 86400 again."""

from __future__ import annotations

MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86400
WEEK_S = 7 * DAY_S
# Prometheus's `y` is 365 days (no leap years): https://prometheus.io/docs/prometheus/latest/querying/basics/#time-durations
YEAR_S = 365 * DAY_S

MINUTES_PER_HOUR = 60.0
SECONDS_PER_HOUR = 3600.0
