"""A floor the daemon changes in actuate mode is said once on the target, as an events.k8s.io/v1
Event on the real API server (what `kubectl describe` shows): from what to what, and why. An
Event the server refuses (a 403 injected at the wire) costs the Event only, never the write.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kube_proxy
import kubernetes
import pytest

from actuator import cluster, daemon, kube

MONDAY_9 = dt.datetime(1995, 8, 28, 9, 0, tzinfo=dt.UTC)  # the rise: the floor goes above 1
MINUTE = dt.timedelta(minutes=1)


def actuating(namespace: str, client: kube.Client, folder: Path) -> daemon.Daemon:
    """An actuate-mode daemon writing HPA llama-od in `namespace` through `client`."""
    writer = cluster.Targets(client, identity="prescale-test-0")
    core, _ = b.build(b.actuating_hpa(folder / "prescale.db", namespace), writer=writer)
    return core


def events(admin: kube.Client, namespace: str) -> list[dict[str, Any]]:
    listing: dict[str, Any] = kubernetes.client.CustomObjectsApi(
        admin.api
    ).list_namespaced_custom_object("events.k8s.io", "v1", namespace, "events")
    return [e for e in listing["items"] if e.get("reportingController") == "prescale"]


@pytest.fixture
def llama(admin: kube.Client, namespace: str) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))


@pytest.mark.usefixtures("llama")
def test_a_changed_floor_records_one_event_saying_from_what_to_what_and_why(
    admin: kube.Client, namespace: str, tmp_path: Path
) -> None:
    core = actuating(namespace, admin, tmp_path)
    (decision,) = core.run_once(MONDAY_9).workloads[0].decisions
    assert decision.outcome is daemon.Outcome.APPLIED and decision.replicas > 1
    (event,) = events(admin, namespace)
    assert event["reason"] == "RaisedFloor"
    assert event["action"] == "Apply"
    assert event["type"] == "Normal"
    assert event["reportingInstance"] == "prescale-test-0"
    assert event["note"] == (
        f"prescale set spec.minReplicas from 1 to {decision.replicas}: {decision.reason}"
    )
    regarding = event["regarding"]
    assert (regarding["kind"], regarding["name"], regarding["namespace"]) == (
        "HorizontalPodAutoscaler",
        "llama-od",
        namespace,
    )
    assert regarding["uid"]
    # the next minute holds the floor: nothing written, nothing said
    (held,) = core.run_once(MONDAY_9 + MINUTE).workloads[0].decisions
    assert held.outcome is daemon.Outcome.UNCHANGED
    assert len(events(admin, namespace)) == 1


@pytest.mark.usefixtures("llama")
def test_an_event_the_server_refuses_costs_only_the_event(
    namespace: str,
    wire: kube.Client,
    proxy: kube_proxy.Proxy,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """(Read back through the same cluster-admin client: the one fault is spent by then.)"""
    proxy.inject(kube_proxy.Fault("POST", "/events", status=403))
    core = actuating(namespace, wire, tmp_path)
    (decision,) = core.run_once(MONDAY_9).workloads[0].decisions
    assert decision.outcome is daemon.Outcome.APPLIED
    hpa: Any = kubernetes.client.AutoscalingV2Api(
        wire.api
    ).read_namespaced_horizontal_pod_autoscaler("llama-od", namespace)
    assert hpa.spec.min_replicas == decision.replicas
    assert events(wire, namespace) == []
    (warning,) = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "event not recorded" in r.getMessage()
    ]
    assert f"target=hpa {namespace}/llama-od event not recorded (the floor was written)" in (
        warning
    )
    assert "forbidden" in warning
