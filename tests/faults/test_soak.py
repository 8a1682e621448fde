"""The short soak: a quarter of an hour of daemon time for a small fleet with faults drawn at random
(seeded) across Prometheus, the API server and the store; `bench/soak.py` runs the long one."""

from __future__ import annotations

import fault_rig
import fault_soak


def test_a_quarter_hour_of_random_faults_loses_nothing_and_lowers_no_floor(
    fleet: fault_rig.Rig,
) -> None:
    counts = fault_soak.run(fleet, ticks=15, seed=13, fault_rate=0.8)
    print("\n".join(counts.lines()))
    assert counts.faults_injected >= 8
    assert counts.ticks_failed == 0
    assert counts.decisions_lost == 0
    assert counts.floors_lowered_on_missing_data == 0
    assert counts.faults_survived == counts.faults_injected
