"""An API server outage, injected at the wire in front of the real server, against a daemon
with three targets: the tick spends one call's retries, not every target's in turn, and the
first tick after the pause writes again.

Waits between attempts go to the `wire` client's recording sleep, so nothing here waits 7.5 s.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import cluster_objects
import daemon_builders as b
import kube_proxy
import pytest

from actuator import clock, cluster, daemon, kube

NOON = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)
TYPES = ("reserved", "spot", "on_demand")
# the retry policy's waits for one call: 0.5 + 1 + 2 + 4 s
ONE_CALLS_WAITS_S = 7.5


def _outcomes(report: daemon.TickReport) -> list[str]:
    return [d.outcome.value for d in report.workloads[0].decisions]


@pytest.fixture
def hpa_targets(admin: kube.Client, namespace: str) -> dict[str, dict[str, str]]:
    """One HPA per capacity type over one Deployment, as the config's targets."""
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    targets = {}
    for kind in TYPES:
        name = f"llama-{kind.replace('_', '-')}"
        cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, name, "llama", 1, 30))
        targets[kind] = {"kind": "hpa", "namespace": namespace, "name": name}
    return targets


def test_an_outage_costs_the_tick_one_calls_retries_and_the_next_tick_writes(
    wire: kube.Client,
    proxy: kube_proxy.Proxy,
    hpa_targets: dict[str, dict[str, str]],
    tmp_path: Path,
    waits: list[float],
) -> None:
    data = b.config_data(tmp_path / "prescale.db")
    data["mode"] = "actuate"
    workload = data["workloads"][0]
    workload["spec"]["capacity_types"] = list(TYPES)
    workload["targets"] = hpa_targets
    wall = clock.ManualClock(dt.datetime.now(dt.UTC))
    core, _ = b.build(data, writer=cluster.Targets(wire, clock=wall.now))

    outage = [kube_proxy.Fault(m, "/apis/", status=503, times=10**6) for m in ("GET", "PATCH")]
    for fault in outage:
        proxy.inject(fault)
    sent_before = len(proxy.seen)
    down = core.run_once(NOON)
    assert set(_outcomes(down)) == {"failed"}
    # One call spent the policy (5 attempts, 4 waits); the other reads and writes were not sent.
    assert sum(waits) == ONE_CALLS_WAITS_S
    assert len(proxy.seen) - sent_before == 5

    for fault in outage:
        fault.times = 0  # the server is back
    wall.set(wall.now() + dt.timedelta(seconds=cluster.UNREACHABLE_PAUSE_S))
    up = core.run_once(NOON + dt.timedelta(minutes=1))
    assert set(_outcomes(up)) <= {"applied", "unchanged"} and "applied" in _outcomes(up)
    assert sum(waits) == ONE_CALLS_WAITS_S  # no more waits: every call was answered
