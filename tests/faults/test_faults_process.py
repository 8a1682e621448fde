"""Faults of the daemon's own life: the leader killed (two daemons, one Lease on the real API
server) and the clock jumping an hour forward or back.

Time is injected: the ticks take their `now`, the Lease electors read a manual clock, so the
lease duration passes without the test waiting for it.
"""

from __future__ import annotations

import datetime as dt

import fault_rig

from actuator import clock, daemon, lease

NOW = fault_rig.NOW
MINUTE = fault_rig.MINUTE
SECOND = dt.timedelta(seconds=1)
LEASE_DURATION_S = 15


def elector(rig: fault_rig.Rig, identity: str, now: clock.ManualClock) -> lease.Elector:
    return lease.Elector(
        rig.admin,
        lease.LeaseSettings(
            namespace=rig.namespace,
            name="prescale",
            identity=identity,
            lease_duration_s=LEASE_DURATION_S,
        ),
        now.now,
    )


def test_the_leader_killed_is_replaced_within_the_lease_and_the_new_one_writes_the_same(
    rig: fault_rig.Rig,
) -> None:
    now = clock.ManualClock(NOW + MINUTE)
    first = rig.new_daemon(elector(rig, "replica-a", now))
    second = rig.new_daemon(elector(rig, "replica-b", now))
    ledgers = [fault_rig.Ledger.from_store(rig.db, rig.workloads) for _ in range(2)]
    assert first.renew_lease_now()
    assert not second.renew_lease_now()

    def tick(which: int, at: dt.datetime) -> daemon.TickReport:
        report = (first, second)[which].run_once(at)
        ledgers[which].add(report)
        return report

    led = tick(0, NOW + MINUTE)
    assert fault_rig.first(led).outcome is daemon.Outcome.APPLIED
    # someone resets the floor: the follower sees it and writes nothing
    fault_rig.set_floor_as_operator(rig.admin, rig.namespace, rig.workloads[0], 1)
    followed = tick(1, NOW + MINUTE)
    assert fault_rig.first(followed).outcome is daemon.Outcome.STANDBY
    assert rig.floor() == 1
    # the leader dies without releasing the Lease (SIGKILL): from here on nothing calls it
    last_renewal = now.now()
    taken_at = None
    for _ in range(LEASE_DURATION_S + 3):
        now.advance(1)
        if second.renew_lease_now():
            taken_at = now.now()
            break
    assert taken_at is not None
    assert taken_at - last_renewal <= dt.timedelta(seconds=LEASE_DURATION_S + 1)
    took_over = tick(1, NOW + 2 * MINUTE)
    assert fault_rig.first(took_over).outcome is daemon.Outcome.APPLIED
    assert fault_rig.targets(took_over) == fault_rig.targets(led)  # no churn: the same floor
    assert rig.floor() == fault_rig.first(led).replicas
    assert ledgers[0].lost(rig.db) == [] and ledgers[1].lost(rig.db) == []


def test_the_clock_jumping_an_hour_forward_refits_and_goes_on(rig: fault_rig.Rig) -> None:
    before = rig.tick(NOW + MINUTE)
    jumped = rig.tick(NOW + 61 * MINUTE)
    w = jumped.workloads[0]
    assert w.refit_at == NOW + 61 * MINUTE and w.source_up
    assert rig.floor() == fault_rig.first(jumped).replicas
    # an hour later the morning has risen: the floor may go up, never down on a jump
    assert fault_rig.first(jumped).replicas >= fault_rig.first(before).replicas
    rig.tick(NOW + 62 * MINUTE)
    assert rig.ledger.lost(rig.db) == []


def test_the_clock_jumping_an_hour_back_scales_nothing_in_and_recovers(
    rig: fault_rig.Rig,
) -> None:
    """A tick earlier than one already stepped holds the last targets (stepping would read the
    policy's windows backwards: without the hold the target fell from 5 to 4 half an hour
    "back"); no refit is made; once the clock is right again the ticks carry on as before."""
    rig.tick(NOW + MINUTE)
    before = rig.tick(NOW + 2 * MINUTE)
    floor_before = rig.floor()
    plan_before = rig.db.latest_plan(rig.workloads[0])
    for minute in (-58, -57, -30):
        back = rig.tick(NOW + minute * MINUTE)
        decision = fault_rig.first(back)
        assert (decision.reason, decision.outcome) == ("clock_behind", daemon.Outcome.HELD)
        assert fault_rig.targets(back) == fault_rig.targets(before)
        assert rig.floor() == floor_before
    assert rig.db.latest_plan(rig.workloads[0]) == plan_before
    again = rig.tick(NOW + 3 * MINUTE)
    assert fault_rig.first(again).reason not in daemon.HOLD_REASONS
    assert again.workloads[0].floor == before.workloads[0].floor
    assert rig.floor() == fault_rig.first(again).replicas
    assert rig.ledger.lost(rig.db) == []
