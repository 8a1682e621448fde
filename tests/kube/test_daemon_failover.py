"""Two daemons on one real API server: only the Lease holder writes; when it dies (stops
renewing, no release), the other takes over within the lease duration and writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import cluster_objects
import daemon_builders as b

from actuator import clock, cluster, config, daemon, kube

NOON = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)


def replica(
    tmp_path: Path, namespace: str, name: str, admin: kube.Client, wall: clock.ManualClock
) -> daemon.Daemon:
    data = b.actuating_hpa(tmp_path / f"{name}.db", namespace)
    data["leader_election"] = {"enabled": True, "lease_namespace": namespace, "identity": name}
    settings = config.validate(data)
    core, _ = b.build(
        data,
        writer=cluster.Targets(admin),
        leadership=cluster.elector(admin, settings.leader_election, wall.now),
    )
    return core


def outcome(report: daemon.TickReport) -> str:
    return report.workloads[0].decisions[0].outcome.value


def test_one_writes_and_the_other_takes_over_within_the_lease_duration(
    admin: kube.Client, namespace: str, tmp_path: Path
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    wall = clock.ManualClock(dt.datetime.now(dt.UTC))  # the Lease's clock
    a = replica(tmp_path, namespace, "prescale-a", admin, wall)
    b_ = replica(tmp_path, namespace, "prescale-b", admin, wall)
    assert a.renew_lease_now() is True
    assert b_.renew_lease_now() is False
    assert outcome(a.run_once(NOON)) == "applied"
    assert outcome(b_.run_once(NOON)) == "standby"
    # a is killed: it neither renews nor releases. b tries every retry period (2 s).
    taken_over_after_s = None
    for step_s in range(2, 40, 2):
        wall.set(wall.now() + dt.timedelta(seconds=2))
        if b_.renew_lease_now():
            taken_over_after_s = step_s
            break
    assert taken_over_after_s is not None and taken_over_after_s <= 15 + 2
    later = b_.run_once(NOON + dt.timedelta(hours=2))
    assert outcome(later) in {"applied", "unchanged"}
    print("b took over after", taken_over_after_s, "s; outcome", outcome(later))


def test_a_standby_says_the_floor_the_leader_writes_within_the_hpas_max(
    admin: kube.Client, namespace: str, tmp_path: Path
) -> None:
    """The HPA's maxReplicas (2) is below what the plan wants at noon: the leader writes 2 and
    the standby's decision (stored, exported, shown by /api/v1/plan) is 2 as well, not the
    plan's number that no HPA would take."""
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 2))
    wall = clock.ManualClock(dt.datetime.now(dt.UTC))
    a = replica(tmp_path, namespace, "prescale-a", admin, wall)
    b_ = replica(tmp_path, namespace, "prescale-b", admin, wall)
    assert a.renew_lease_now() is True and b_.renew_lease_now() is False
    led = a.run_once(NOON).workloads[0]
    stood = b_.run_once(NOON).workloads[0]
    assert led.floor is not None and led.floor > 2  # the plan wants more than the HPA allows
    assert (led.decisions[0].outcome.value, led.decisions[0].replicas) == ("applied", 2)
    assert (stood.decisions[0].outcome.value, stood.decisions[0].replicas) == ("standby", 2)
