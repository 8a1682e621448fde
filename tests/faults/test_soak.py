"""The short soak: twenty minutes of daemon time for a small fleet with faults drawn at random
(seeded) across Prometheus, the API server and the store; `bench/soak.py` runs the long one."""

from __future__ import annotations

import fault_rig
import fault_soak


def test_half_an_hour_of_random_faults_loses_nothing_and_lowers_no_floor(
    fleet: fault_rig.Rig,
) -> None:
    counts = fault_soak.run(fleet, ticks=20, seed=13, fault_rate=0.7)
    print("\n".join(counts.lines()))
    assert counts.faults_injected >= 10
    assert counts.ticks_failed == 0
    assert counts.decisions_lost == 0
    assert counts.floors_lowered_on_missing_data == 0
    assert counts.faults_survived == counts.faults_injected
