"""Builders of small, real simulator inputs: specs through the real parser, minute traces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from actuator import workloads
from forecaster import series
from planner import spec
from simulator import cold_start, engine, results, rivals
from simulator import scenario as scenario_

# A Monday, so hour-of-week arithmetic in the tests reads easily.
MONDAY = pd.Timestamp("2026-01-05T00:00:00Z")


def workload_data(**overrides: Any) -> dict[str, Any]:
    """A generic workload measured in requests/s: 1 req/s per replica at full utilisation.

    Arrivals of 60 x k per minute are k req/s and need k replicas at target utilisation 1.
    """
    data: dict[str, Any] = {
        "name": "toy",
        "kind": "generic",
        "unit": "requests_per_s",
        "gpu": "L4",
        "gpus_per_replica": 1,
        "capacity_per_replica": 1,
        "target_utilization": 1.0,
        "min_replicas": 1,
        "max_replicas": 50,
        "lead_time": "3m",
        "capacity_types": ["on_demand"],
    }
    data.update(overrides)
    return data


def workload(**overrides: Any) -> spec.WorkloadSpec:
    (parsed,) = workloads.parse_workloads(workload_data(**overrides))
    return parsed


def minute_trace(per_minute: Sequence[float], *, start: pd.Timestamp = MONDAY) -> series.Trace:
    """Arrivals per minute on a 1-minute UTC grid."""
    values = np.asarray(per_minute, dtype=float)
    index = pd.date_range(start, periods=values.size, freq="min", tz="UTC")
    return series.Trace(
        values=pd.Series(values, index=index, dtype=float),
        interval_s=60,
        column="requests",
        prompt_tokens=None,
        completion_tokens=None,
    )


def scenario(
    load: Sequence[float],
    *,
    workload_spec: spec.WorkloadSpec | None = None,
    load_before: float | None = None,
    lead_time_s: float = 180,
    seed: int = 0,
    start: pd.Timestamp = MONDAY,
    cold: cold_start.ColdStartDistribution | None = None,
) -> scenario_.Scenario:
    """A scenario whose demand is `load` req/s per minute (arrivals = 60 x load)."""
    chosen = workload_spec or workload()
    demand = np.asarray(load, dtype=float)
    before = demand[0] if load_before is None else load_before
    return scenario_.Scenario(
        timestamps=pd.date_range(start, periods=demand.size, freq="min", tz="UTC"),
        arrivals=demand * 60.0,
        demand=demand,
        tokens_per_request=np.full(demand.size, 1000.0),
        arrivals_before=before * 60.0,
        demand_before=before,
        capacity_per_replica=1.0,
        gpus_per_replica=chosen.gpus_per_replica,
        prices=chosen.prices,
        spot_interruption_rate_per_hour=(
            chosen.spot_interruption_rate_per_hour
            if spec.CapacityType.SPOT in chosen.capacity_types
            else 0.0
        ),
        api_overflow_price_per_1m_tokens=chosen.api_overflow_price_per_1m_tokens,
        cold_start=cold or cold_start.ColdStartDistribution.fixed(lead_time_s),
        seed=seed,
    )


def sizing(
    workload_spec: spec.WorkloadSpec | None = None,
    *,
    lead_time_s: int = 180,
    mix: results.MixMode = results.MixMode.ON_DEMAND,
    reserved: int = 0,
) -> rivals.Sizing:
    return rivals.Sizing(
        workload=workload_spec or workload(),
        capacity_per_replica=1.0,
        lead_time_s=lead_time_s,
        mix=mix,
        reserved=reserved,
    )


class Fixed:
    """A policy that asks for given targets per minute (a test double of the Policy protocol,
    not of our code: it drives the real engine)."""

    def __init__(self, targets: Sequence[spec.ByType[int]], *, commitment: int = 0) -> None:
        self._targets = list(targets)
        self._commitment = commitment
        self.seen: list[engine.Observation] = []

    @property
    def name(self) -> results.PolicyName:
        return results.PolicyName.STATIC

    @property
    def mix(self) -> results.MixMode:
        return results.MixMode.ON_DEMAND

    @property
    def reserved_commitment(self) -> int:
        return self._commitment

    def initial(self, observation: engine.Observation) -> spec.ByType[int]:
        return self._targets[0]

    def decide(self, observation: engine.Observation) -> spec.ByType[int]:
        self.seen.append(observation)
        return self._targets[observation.minute]


def on_demand(counts: Sequence[int]) -> list[spec.ByType[int]]:
    return [spec.ByType(on_demand=c) for c in counts]


def run_one(policy: engine.Policy, world: scenario_.Scenario) -> results.PolicyResult:
    (result,) = engine.simulate(world, [policy], workload="toy").policies
    return result


def unserved_minutes(result: results.PolicyResult) -> list[int]:
    served = result.timeseries["served"].to_numpy()
    return [int(i) for i in np.nonzero(served == 0.0)[0]]
