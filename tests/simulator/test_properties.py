"""Invariants of the replay, checked on generated demand (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import simulator_builders as b
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import engine, rivals

demand_lists = st.lists(st.integers(min_value=0, max_value=8), min_size=5, max_size=60)
lead_minutes = st.integers(min_value=0, max_value=5)


def lineup_for(demand: np.ndarray, lead: int, extras: list[int]) -> list[engine.Policy]:
    """The rivals, plus a policy that asks for the oracle's floor plus arbitrary extra
    replicas per minute (any such policy serves every minute)."""
    workload = b.workload(min_replicas=0)
    sizing = b.sizing(workload, lead_time_s=lead * 60)
    warmup = pd.Series(
        demand[::-1], index=pd.date_range(b.MONDAY, periods=demand.size, freq="min", tz="UTC")
    )
    stamps = pd.date_range(b.MONDAY, periods=demand.size, freq="min", tz="UTC")
    oracle = rivals.oracle(sizing, demand)
    padded = (extras * (demand.size // max(len(extras), 1) + 1))[: demand.size]
    generous = b.Fixed(b.on_demand((oracle.totals + np.array(padded, dtype=int)).tolist()))
    return [
        oracle,
        rivals.reactive(sizing),
        rivals.static(sizing, warmup, demand.size),
        rivals.cron(sizing, warmup, stamps),
        generous,
    ]


@settings(max_examples=60, deadline=None)
@given(
    demand=demand_lists,
    lead=lead_minutes,
    extras=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=8),
)
def test_the_oracle_is_never_beaten_at_full_service(
    demand: list[int], lead: int, extras: list[int]
) -> None:
    """At target utilisation 1 with a fixed cold start, the oracle serves every minute, and
    any policy that serves every minute bills at least the oracle's GPU-hours."""
    load = np.array(demand, dtype=float)
    world = b.scenario(
        load.tolist(), lead_time_s=lead * 60, workload_spec=b.workload(min_replicas=0)
    )
    result = engine.simulate(world, lineup_for(load, lead, extras), workload="toy")
    oracle = result.policies[0]
    assert oracle.served_minutes_pct == 100.0
    for other in result.policies[1:]:
        if other.served_minutes_pct == 100.0:
            assert other.gpu_hours >= oracle.gpu_hours - 1e-9


@settings(max_examples=60, deadline=None)
@given(
    targets=st.lists(st.integers(min_value=0, max_value=9), min_size=2, max_size=40),
    lead=lead_minutes,
)
def test_billing_and_readiness_follow_the_targets(targets: list[int], lead: int) -> None:
    """Billed replicas equal the target every minute (orders and removals are immediate),
    ready never exceeds billed, and a target held for a full lead time is all ready."""
    world = b.scenario([1.0] * len(targets), lead_time_s=lead * 60)
    series = b.run_one(b.Fixed(b.on_demand(targets)), world).timeseries
    billed = series["billed_on_demand"].to_numpy()
    ready = series["ready_on_demand"].to_numpy()
    assert billed.tolist() == targets
    assert (ready <= billed).all()
    for t in range(lead, len(targets)):
        if len(set(targets[t - lead : t + 1])) == 1:
            assert ready[t] == targets[t]
