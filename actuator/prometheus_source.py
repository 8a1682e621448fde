"""Shell: a workload's demand from Prometheus, behind `daemon.DemandSource`.

History is `prometheus.load_trace` (the Trace a CSV gives, in the unit the source gives:
arrivals for a counter, load for a gauge); the current demand is an instant query of the same
main query at the tick's time, on the same scale (a counter's per-second rate times the step is
the step's arrivals). A partial range (Prometheus warnings, a failed chunk) is refused as
"source unavailable": a refit on part of the history is not made, the plan in force stays.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from actuator import presets, prometheus
from actuator import source as source_module
from forecaster import series


class PrometheusSource:
    """`daemon.DemandSource` on one workload's `source:` block."""

    def __init__(self, spec: source_module.SourceSpec) -> None:
        self._spec = spec

    @property
    def interval_s(self) -> int:
        return self._spec.step_s

    def history(self, since: dt.datetime, until: dt.datetime) -> series.Trace:
        return prometheus.load_trace(
            self._spec, pd.Timestamp(since), pd.Timestamp(until), strict=True
        )

    def latest(self, at: dt.datetime) -> float | None:
        queries = self._spec.queries
        value = prometheus.instant(self._spec.connection, queries.main, pd.Timestamp(at))
        if value is None:
            return None
        if queries.unit is presets.SourceUnit.REQUESTS_PER_S:
            return value * self._spec.step_s
        return value
