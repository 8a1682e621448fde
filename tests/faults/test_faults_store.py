"""The store under faults: SQLite locked by another connection for a tick, then released;
PostgreSQL cut off (a TCP proxy in front of the real server drops every connection) for two
ticks, then back.

The tick must go on (targets written to the real API server), keep what it could not store in
memory, store all of it, in order, once the lock is gone, and a restart after that must set the
same targets (nothing of the state was lost either).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import fault_rig
import tcp_proxy

from actuator import daemon, http

NOW = fault_rig.NOW
MINUTE = fault_rig.MINUTE


def flushed_and_restarted(rig: fault_rig.Rig, at: dt.datetime) -> None:
    """The store answers again at `at`: the tick stores everything waiting, and a restart then
    carries on from the stored state (the same target, nothing rewritten)."""
    after = rig.tick(at)
    assert after.store_pending == 0
    assert rig.ledger.lost(rig.db) == []
    rig.core = rig.new_daemon()
    restarted = rig.tick(at + MINUTE)
    assert fault_rig.targets(restarted) == fault_rig.targets(after)
    assert fault_rig.first(restarted).outcome is daemon.Outcome.UNCHANGED


def test_a_locked_sqlite_store_costs_no_decision_and_no_tick(
    rig: fault_rig.Rig, tmp_path: Path
) -> None:
    rig.tick(NOW)
    assert fault_rig.first(rig.tick(NOW + MINUTE)).outcome is daemon.Outcome.UNCHANGED
    # someone else resets the floor, so the locked tick has a new decision to store
    fault_rig.set_floor_as_operator(rig.admin, rig.namespace, rig.workloads[0], 1)
    with fault_rig.sqlite_locked(tmp_path / "prescale.db"):
        during = rig.tick(NOW + 2 * MINUTE)
    decision = fault_rig.first(during)
    assert decision.outcome is daemon.Outcome.APPLIED  # the cluster was written all the same
    assert rig.floor() == decision.replicas
    assert during.store_pending > 0
    assert rig.ledger.lost(rig.db) != []  # the store really missed it meanwhile
    metrics = http.Metrics()
    metrics.observe(during, {})
    assert (metrics.registry.get_sample_value("prescale_store_pending") or 0) > 0
    flushed_and_restarted(rig, NOW + 3 * MINUTE)


def test_a_refit_while_the_store_is_locked_plans_from_memory(
    rig: fault_rig.Rig, tmp_path: Path
) -> None:
    """The hourly refit meets the lock: the new plan is used at once; the store gets the next."""
    rig.tick(NOW)
    with fault_rig.sqlite_locked(tmp_path / "prescale.db"):
        during = rig.tick(NOW + 60 * MINUTE)
    assert during.workloads[0].refit_at == NOW + 60 * MINUTE
    plan = rig.db.latest_plan(rig.workloads[0])
    assert plan is not None and plan.made_at == NOW  # the locked refit was not stored
    rig.tick(NOW + 61 * MINUTE)
    assert rig.ledger.lost(rig.db) == []


def test_a_postgresql_store_cut_off_costs_no_decision_and_no_tick(
    pg_rig: fault_rig.Rig, pg_line: tuple[tcp_proxy.Proxy, str]
) -> None:
    line, _ = pg_line
    rig = pg_rig
    rig.tick(NOW)
    assert fault_rig.first(rig.tick(NOW + MINUTE)).outcome is daemon.Outcome.UNCHANGED
    fault_rig.set_floor_as_operator(rig.admin, rig.namespace, rig.workloads[0], 1)
    line.cut()
    during = rig.tick(NOW + 2 * MINUTE)
    assert fault_rig.first(during).outcome is daemon.Outcome.APPLIED
    assert rig.floor() == fault_rig.first(during).replicas
    still = rig.tick(NOW + 3 * MINUTE)  # still cut: the queue waits, the tick goes on
    assert during.store_pending > 0 and still.store_pending >= during.store_pending
    line.restore()
    flushed_and_restarted(rig, NOW + 4 * MINUTE)
