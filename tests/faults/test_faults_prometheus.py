"""Prometheus faults at the wire, in front of the real server, while the daemon ticks on a real
API server: each case warms the daemon up, breaks Prometheus for one tick, then heals it.

Every case asserts the same five things: the tick returns (the daemon keeps running), the
targets are the last ones and the HPA's floor is not lowered, the reason is stored with the
decision, the next tick after the fault recovers by itself, and no decision is missing from the
store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import fault_proxy
import fault_rig
import pytest

from actuator import daemon, http

F = fault_proxy.Fault
NOW = fault_rig.NOW
MINUTE = fault_rig.MINUTE


@dataclass(frozen=True)
class Case:
    id: str
    # what breaks Prometheus for the fault tick (and what heals it after)
    breaks: Callable[[fault_rig.Rig], None]
    heals: Callable[[fault_rig.Rig], None]
    reason: str


def answers(fault: F) -> Callable[[fault_rig.Rig], None]:
    def inject(rig: fault_rig.Rig) -> None:
        # more than the tick asks for: every request of the fault tick gets it
        rig.prom.faults = [fault] * 20

    return inject


def clear(rig: fault_rig.Rig) -> None:
    rig.prom.faults = []
    rig.prom.release.set()  # a held (hanging) request ends now


CASES = [
    Case("down", fault_rig.Rig.prometheus_down, fault_rig.Rig.prometheus_up, "source_unavailable"),
    Case("slow_past_timeout", answers(F.HANG), clear, "source_unavailable"),
    Case("503_overloaded", answers(F.STATUS_503), clear, "source_unavailable"),
    Case("502_html_from_a_gateway", answers(F.HTML_502), clear, "source_unavailable"),
    Case("200_html_login_page", answers(F.HTML_200), clear, "source_unavailable"),
    Case("truncated_json", answers(F.TRUNCATED_JSON), clear, "source_unavailable"),
    Case("body_shorter_than_its_length", answers(F.SHORT_BODY), clear, "source_unavailable"),
    Case("200_with_status_error", answers(F.STATUS_ERROR_200), clear, "source_unavailable"),
    Case("nan_values", answers(F.NAN_VALUES), clear, "demand_missing"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_prometheus_fault_holds_the_last_targets_and_recovers(
    rig: fault_rig.Rig, case: Case
) -> None:
    rig.tick(NOW)
    before = rig.tick(NOW + MINUTE)
    floor_before = rig.floor()
    case.breaks(rig)
    during = rig.tick(NOW + 2 * MINUTE)
    decision = fault_rig.first(during)
    assert fault_rig.targets(during) == fault_rig.targets(before)
    assert (decision.reason, decision.outcome) == (case.reason, daemon.Outcome.HELD)
    assert rig.floor() == floor_before
    stored = rig.db.latest_decisions(1, rig.workloads[0])[0]
    assert (stored.reason, stored.outcome, stored.target_replicas) == (
        case.reason,
        "held",
        decision.replicas,
    )
    case.heals(rig)
    after = rig.tick(NOW + 3 * MINUTE)
    assert after.workloads[0].source_up
    assert fault_rig.first(after).reason not in daemon.HOLD_REASONS
    assert rig.floor() == fault_rig.first(after).replicas
    assert rig.ledger.lost(rig.db) == []


def test_a_partial_history_is_not_refitted_on_and_the_plan_in_force_stays(
    rig: fault_rig.Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """The refit an hour later reads a range Prometheus marks partial (a store down behind a
    Thanos): no plan is made from part of the history; the tick steps on the plan in force, the
    skip is stored and counted with its reason, and the refit is made the next minute, when the
    range is whole."""
    rig.tick(NOW)
    first_plan = rig.db.latest_plan(rig.workloads[0])
    assert first_plan is not None
    floor_before = rig.floor()
    metrics = http.Metrics()
    rig.prom.faults = [F.WARNINGS]  # the refit's range query, the first request of the tick
    with caplog.at_level(logging.WARNING, logger="actuator.daemon"):
        during = rig.tick(NOW + 60 * MINUTE)
    metrics.observe(during, {})
    assert "refit skipped (history_partial)" in caplog.text
    assert rig.db.latest_plan(rig.workloads[0]) == first_plan
    assert during.workloads[0].refit_at == first_plan.made_at
    assert during.workloads[0].refit_skipped == daemon.HISTORY_PARTIAL
    (skipped,) = rig.db.skipped_refits(rig.workloads[0], NOW)
    assert (skipped.skipped_at, skipped.reason) == (NOW + 60 * MINUTE, daemon.HISTORY_PARTIAL)
    assert "partial" in skipped.detail
    counted = {"workload": rig.workloads[0], "reason": daemon.HISTORY_PARTIAL}
    assert metrics.registry.get_sample_value("prescale_refits_skipped_total", counted) == 1
    assert during.workloads[0].source_up  # the instant query was whole: the tick stepped
    assert (rig.floor() or 0) >= min(floor_before or 0, fault_rig.first(during).replicas)
    after = rig.tick(NOW + 61 * MINUTE)
    metrics.observe(after, {})
    assert after.workloads[0].refit_skipped is None
    assert metrics.registry.get_sample_value("prescale_refits_skipped_total", counted) == 1
    replanned = rig.db.latest_plan(rig.workloads[0])
    assert replanned is not None and replanned.made_at == NOW + 61 * MINUTE
    assert after.workloads[0].refit_at == NOW + 61 * MINUTE
    assert rig.ledger.lost(rig.db) == []


def test_a_long_outage_across_the_evening_never_lowers_the_floor(rig: fault_rig.Rig) -> None:
    """Prometheus is gone from 09:01 for four hours of ticks (every 20 minutes): the floor the
    daemon set stays, whatever the plan says meanwhile; it moves again once Prometheus is back."""
    rig.tick(NOW)
    held = rig.floor()
    rig.prometheus_down()
    for minute in range(1, 241, 20):
        report = rig.tick(NOW + minute * MINUTE)
        assert fault_rig.first(report).outcome is daemon.Outcome.HELD
        assert rig.floor() == held
    rig.prometheus_up()
    back = rig.tick(NOW + 241 * MINUTE)
    assert back.workloads[0].source_up
    assert rig.floor() == fault_rig.first(back).replicas
    assert rig.ledger.lost(rig.db) == []
