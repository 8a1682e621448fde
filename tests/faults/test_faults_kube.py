"""API server faults at the wire, in front of the real kube-apiserver, while the daemon ticks on
a real Prometheus: each case has someone else reset the HPA's floor to 1 (so the tick must write
it back), breaks the API server for that tick, then heals it.

Every case asserts: the tick returns, the daemon never sets a floor below its decision (a failed
write leaves what was there), the outcome is stored with the decision, the next tick after the
fault writes the floor by itself, and no decision is missing from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import fault_rig
import kube_proxy
import pytest

from actuator import daemon

NOW = fault_rig.NOW
MINUTE = fault_rig.MINUTE
RESET_FLOOR = 1


def hpa_path(rig: fault_rig.Rig) -> str:
    return f"/horizontalpodautoscalers/{fault_rig.hpa_name(rig.workloads[0])}"


@dataclass(frozen=True)
class Case:
    id: str
    breaks: Callable[[fault_rig.Rig], None]
    outcome: daemon.Outcome  # of the fault tick
    heals: Callable[[fault_rig.Rig], None] = lambda rig: None
    waits_s: tuple[float, ...] | None = None  # the client's waits, when the case fixes them


def fault(
    method: str, status: int | None = None, **kwargs: object
) -> Callable[[fault_rig.Rig], None]:
    def inject(rig: fault_rig.Rig) -> None:
        rig.kube.inject(kube_proxy.Fault(method, hpa_path(rig), status=status, **kwargs))

    return inject


def someone_else_writes_between_read_and_write(rig: fault_rig.Rig) -> None:
    def raise_floor() -> None:
        fault_rig.set_floor_as_operator(rig.admin, rig.namespace, rig.workloads[0], 2)

    rig.kube.inject(kube_proxy.Fault("PATCH", hpa_path(rig), before=raise_floor))


def delete_target(rig: fault_rig.Rig) -> None:
    fault_rig.delete_hpa(rig.admin, rig.namespace, rig.workloads[0])


def recreate_target(rig: fault_rig.Rig) -> None:
    fault_rig.create_hpa(rig.admin, rig.namespace, rig.workloads[0], RESET_FLOOR)


def clear(rig: fault_rig.Rig) -> None:
    with rig.kube.lock:
        rig.kube.faults.clear()


CASES = [
    Case(
        "409_conflict_answered_by_a_fresh_read",
        someone_else_writes_between_read_and_write,
        daemon.Outcome.APPLIED,
    ),
    Case(
        "429_waits_as_retry_after_says",
        fault("PATCH", 429, headers={"Retry-After": "2"}),
        daemon.Outcome.APPLIED,
        waits_s=(2.0,),
    ),
    Case("503_on_every_attempt", fault("PATCH", 503, times=10), daemon.Outcome.FAILED, clear),
    Case(
        "500_on_a_read_retried",
        fault("GET", 500),
        daemon.Outcome.APPLIED,
        waits_s=(0.5,),
    ),
    Case("write_times_out", fault("PATCH", delay_s=1.0, times=10), daemon.Outcome.FAILED, clear),
    Case("target_deleted_mid_run", delete_target, daemon.Outcome.FAILED, recreate_target),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_api_server_fault_is_survived_and_the_floor_written_once_it_clears(
    rig: fault_rig.Rig, case: Case
) -> None:
    rig.tick(NOW)
    assert fault_rig.first(rig.tick(NOW + MINUTE)).outcome is daemon.Outcome.UNCHANGED
    decided = rig.floor()
    assert decided is not None and decided > RESET_FLOOR
    fault_rig.set_floor_as_operator(rig.admin, rig.namespace, rig.workloads[0], RESET_FLOOR)
    case.breaks(rig)
    rig.waits.clear()
    during = rig.tick(NOW + 2 * MINUTE)
    decision = fault_rig.first(during)
    assert decision.outcome is case.outcome
    assert during.workloads[0].source_up
    stored = rig.db.latest_decisions(1, rig.workloads[0])[0]
    assert (stored.outcome, stored.target_replicas, stored.reason) == (
        case.outcome.value,
        decision.replicas,
        decision.reason,
    )
    floor = rig.floor()
    if case.outcome is daemon.Outcome.APPLIED:
        assert floor == decision.replicas
    else:
        assert floor in (None, RESET_FLOOR)  # what was there (or nothing): never lower
    if case.waits_s is not None:
        assert tuple(rig.waits) == case.waits_s
    case.heals(rig)
    after = rig.tick(NOW + 3 * MINUTE)
    assert fault_rig.first(after).outcome in (daemon.Outcome.APPLIED, daemon.Outcome.UNCHANGED)
    assert rig.floor() == fault_rig.first(after).replicas
    assert rig.ledger.lost(rig.db) == []


def test_429_asking_for_longer_than_a_tick_gives_up_for_this_tick_only(rig: fault_rig.Rig) -> None:
    rig.tick(NOW)
    fault_rig.set_floor_as_operator(rig.admin, rig.namespace, rig.workloads[0], RESET_FLOOR)
    fault("PATCH", 429, headers={"Retry-After": "120"}, times=10)(rig)
    rig.waits.clear()
    during = rig.tick(NOW + MINUTE)
    assert fault_rig.first(during).outcome is daemon.Outcome.FAILED
    assert rig.waits == []  # not slept: the server asked for more than the cap
    assert rig.floor() == RESET_FLOOR
    clear(rig)
    after = rig.tick(NOW + 2 * MINUTE)
    assert fault_rig.first(after).outcome is daemon.Outcome.APPLIED
    assert rig.floor() == fault_rig.first(after).replicas
    assert rig.ledger.lost(rig.db) == []
