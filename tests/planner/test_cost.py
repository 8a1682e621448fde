"""Plan cost by capacity type, next to all-on-demand and static peak."""

from __future__ import annotations

import dataclasses

import numpy as np
import planner_builders as build
import pytest

from planner import cost, spec


def test_cost_of_one_hour() -> None:
    """60 minutes: 2 reserved, spot 1 for 30 min, on-demand 3 for 30 min and 1 for 30.

    reserved 2 * 1 h * 2.20 = 4.40; spot 0.5 GPU-h * 1.2845 = 0.64225;
    on-demand (3 * 30 + 1 * 30) / 60 = 2 GPU-h * 3.67 = 7.34; total 12.38225.
    all on-demand: (5*30 + 4*30 + 3*30 ... ) totals [6]*30 + [3]*30 -> 4.5 GPU-h * 3.67 = 16.515.
    static peak: 6 replicas * 1 h * 3.67 = 22.02.
    """
    workload = build.workload(kind="llm", capacity_types=["reserved", "spot", "on_demand"])
    reserved = np.full(60, 2, dtype=np.int64)
    spot = np.array([1] * 30 + [0] * 30, dtype=np.int64)
    on_demand = np.array([3] * 30 + [1] * 30, dtype=np.int64)
    summary = cost.summarise(
        workload, reserved=reserved, spot=spot, on_demand=on_demand, requests=1000.0
    )
    dollars = {item.capacity_type: item.dollars for item in summary.by_type}
    assert dollars[spec.CapacityType.RESERVED] == pytest.approx(4.40)
    assert dollars[spec.CapacityType.SPOT] == pytest.approx(0.5 * 3.67 * 0.35)
    assert dollars[spec.CapacityType.ON_DEMAND] == pytest.approx(7.34)
    assert summary.dollars == pytest.approx(4.40 + 0.5 * 3.67 * 0.35 + 7.34)
    assert summary.dollars_per_week == pytest.approx(summary.dollars * 168)
    assert summary.all_on_demand_dollars == pytest.approx(4.5 * 3.67)
    assert summary.static_peak_replicas == 6
    assert summary.static_peak_dollars == pytest.approx(22.02)
    # 1000 requests * (500 + 200) tokens = 0.7 M tokens
    assert summary.tokens == pytest.approx(700_000)
    assert summary.dollars_per_1m_requests == pytest.approx(summary.dollars * 1000)
    assert summary.dollars_per_1m_tokens == pytest.approx(summary.dollars / 0.7)
    assert summary.share(spec.CapacityType.RESERVED) == pytest.approx(2 / 4.5)


def test_gpus_per_replica_multiply_and_generic_has_no_tokens() -> None:
    """2 GPUs per replica on-demand for an hour: 2 * 3.67."""
    workload = build.workload(kind="generic", gpus_per_replica=2)
    zeros = np.zeros(60, dtype=np.int64)
    summary = cost.summarise(
        workload, reserved=zeros, spot=zeros, on_demand=zeros + 1, requests=0.0
    )
    assert summary.dollars == pytest.approx(7.34)
    assert summary.tokens is None
    assert summary.dollars_per_1m_requests is None


def test_tokens_use_the_measured_request_shape() -> None:
    """1000 requests * (1155 + 211) measured tokens = 1.366 M tokens."""
    workload = build.workload(kind="llm")
    measured = dataclasses.replace(workload.request, prompt_tokens=1155, completion_tokens=211)
    ones = np.ones(60, dtype=np.int64)
    summary = cost.summarise(
        workload,
        reserved=ones * 0,
        spot=ones * 0,
        on_demand=ones,
        requests=1000.0,
        request=measured,
    )
    assert summary.tokens == pytest.approx(1_366_000)
