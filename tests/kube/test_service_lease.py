"""The Lease as the running service uses it, on the real API server: one replica never races
itself (the elector is ticked from several threads), the start renews once before any job runs,
and what the service shows about the Lease (/readyz, /metrics) follows the lease job.

Requests are counted at the wire by the fault proxy; the service runs on its real scheduler, so
a test waits for a job's effect with a bounded poll.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kube_cluster
import kube_proxy
import pytest
import yaml

from actuator import clock, config, daemon, kube, lease, service

NOON = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
# The longest a tick that is not blocked needs to reach the local API server and back; the
# blocked case of the thread test waits this long once.
UNBLOCKED_TICK_S = 1.0


def lease_requests(proxy: kube_proxy.Proxy) -> list[str]:
    return [method for method, path in proxy.seen if "/leases" in path]


def test_one_elector_ticked_from_two_threads_does_not_race_itself(
    namespace: str, wire: kube.Client, proxy: kube_proxy.Proxy
) -> None:
    """While the first tick's create is on its way, a second tick of the same elector starts
    (from the proxy, as the service's lease job would from its own thread). Unserialised, the
    second creates the Lease and the first gets a 409 from its own replica's write: 'lease lost'.
    Serialised, the second waits, then renews what the first created."""
    now = START
    elector = lease.Elector(wire, lease.LeaseSettings(namespace, "prescale", "a"), lambda: now)
    second: list[bool] = []
    inner = threading.Thread(target=lambda: second.append(elector.tick()))

    def meanwhile() -> None:
        inner.start()
        # an unserialised tick completes in this time; a serialised one is still waiting
        inner.join(timeout=UNBLOCKED_TICK_S)

    proxy.inject(kube_proxy.Fault("POST", "/leases", before=meanwhile))
    first = elector.tick()
    inner.join()
    assert (first, second) == (True, [True])
    assert elector.is_leader()
    assert lease_requests(proxy) == ["GET", "POST", "GET", "PUT"]


@dataclass
class Rig:
    """A namespace with an HPA over a Deployment, the API server behind the fault proxy, and
    services started on it (stopped at the test's end)."""

    folder: Path
    namespace: str
    proxy: kube_proxy.Proxy
    kubeconfig: Path
    running: list[service.Service] = field(default_factory=list)

    def settings(self, name: str = "prescale-a", **leader: Any) -> config.Config:
        """An actuate-mode config writing the HPA, electing on a Lease in the namespace."""
        data: dict[str, Any] = b.config_data(self.folder / f"{name}.db")
        data["mode"] = "actuate"
        data["kubernetes"] = {"kubeconfig": str(self.kubeconfig)}
        data["leader_election"] = {
            "enabled": True,
            "lease_namespace": self.namespace,
            "identity": name,
            **leader,
        }
        data["workloads"][0]["targets"]["on_demand"] = {
            "kind": "hpa",
            "namespace": self.namespace,
            "name": "llama-od",
        }
        path = self.folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return config.load(path)

    def start(self, settings: config.Config) -> service.Service:
        made = service.Service(settings, service.restorer(settings), clock.ManualClock(NOON))
        self.running.append(made)
        made.start()
        return made


@pytest.fixture
def rig(
    tmp_path: Path,
    namespace: str,
    admin: kube.Client,
    proxy: kube_proxy.Proxy,
    control_plane: kube_cluster.ControlPlane,
) -> Iterator[Rig]:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    kubeconfig = proxy.kubeconfig(tmp_path / "kubeconfig", control_plane.admin_token)
    made = Rig(tmp_path, namespace, proxy, kubeconfig)
    yield made
    for running in made.running:
        running.request_stop()
        running.stop()


def _first_report(running: service.Service) -> daemon.TickReport:
    return cluster_objects.wait_for(
        "the service's first tick", lambda: running._core and running._core.last_report
    )


def test_the_start_renews_once_before_the_first_tick_and_it_writes(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """With a retry period far longer than the test, the only lease requests before the first
    tick are the start's own renewal (a GET and the create): the lease job must not also run at
    once, concurrently with it. The first tick then writes as the leader."""
    caplog.set_level(logging.INFO, logger="actuator")
    running = rig.start(rig.settings(lease_duration="5m", renew_deadline="4m", retry_period="3m"))
    report = _first_report(running)
    assert report.leader
    assert report.workloads[0].decisions[0].outcome.value == "applied"
    assert lease_requests(rig.proxy) == ["GET", "POST"]
    assert "lease lost" not in caplog.text


def _leader_metric(running: service.Service) -> float | None:
    return running.metrics.registry.get_sample_value("prescale_leader")


def test_the_leader_metric_follows_the_lease_job_not_the_tick(rig: Rig) -> None:
    """a leads; b stands by. a stops (and releases); b's lease job takes the Lease within a
    retry period (1 s), and b's prescale_leader says so long before its next tick (1 min)."""
    timing = {"lease_duration": "3s", "renew_deadline": "2s", "retry_period": "1s"}
    a = rig.start(rig.settings("prescale-a", **timing))
    assert _first_report(a).leader
    b_ = rig.start(rig.settings("prescale-b", **timing))
    assert not _first_report(b_).leader
    assert _leader_metric(b_) == 0
    a.request_stop()
    a.stop()
    cluster_objects.wait_for(
        "b's prescale_leader to be 1", lambda: _leader_metric(b_) == 1, timeout_s=10
    )
    assert b_.core.last_report is not None and not b_.core.last_report.leader  # no tick since
