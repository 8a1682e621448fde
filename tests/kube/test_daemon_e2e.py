"""End to end on the real API server: the daemon raises an HPA floor one lead time before the
Monday morning rise, the controller manager scales the Deployment to it, and the floor comes
down after the hold. Time is injected; the trace is the bundled NASA one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kubernetes

from actuator import cluster, config, daemon, kube, store, trace_source

MONDAY = dt.datetime(1995, 8, 28, 0, 0, tzinfo=dt.UTC)


def test_daemon_raises_and_lowers_an_hpa_floor_on_the_real_api_server(
    admin: kube.Client, namespace: str, tmp_path: Path
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    data: dict[str, Any] = b.config_data(tmp_path / "prescale.db")
    data["mode"] = "actuate"
    data["workloads"][0]["targets"]["on_demand"] = {
        "kind": "hpa",
        "namespace": namespace,
        "name": "llama-od",
    }
    settings = config.validate(data)
    db = store.Store.connect(settings.store_url)
    w = settings.workloads[0]
    src = trace_source.TraceSource.from_file(w.source.path, w.source.column)  # type: ignore[union-attr]
    core = daemon.Daemon(settings, db, {w.name: src}, writer=cluster.Targets(admin))
    autoscaling = kubernetes.client.AutoscalingV2Api(admin.api)
    apps = kubernetes.client.AppsV1Api(admin.api)
    floors = []
    for minute in range(0, 24 * 60, 10):
        now = MONDAY + dt.timedelta(minutes=minute)
        report = core.run_once(now)
        (d,) = report.workloads[0].decisions
        held = autoscaling.read_namespaced_horizontal_pod_autoscaler("llama-od", namespace)
        floors.append((now, d.replicas, d.outcome.value, held.spec.min_replicas))
    peak_at, peak, *_ = max(floors, key=lambda f: f[1])
    night = floors[0][1]
    last = floors[-1][1]
    written = [f for f in floors if f[2] == "applied"]
    print(f"night {night}, peak {peak} at {peak_at:%H:%M}, last {last}, writes {len(written)}")
    assert written, floors
    assert all(f[1] == f[3] for f in floors), "the HPA holds every floor the daemon decided"
    assert peak > night, "the floor rose for the day"
    assert last < peak, "and came down after the hold"
    assert len(written) < len(floors), "written only when the floor changed"
    # Without a metrics API the HPA scales up to its minReplicas but never down, so the
    # Deployment ends between the last floor and the highest one: the highest when the HPA
    # controller synced while it was in force (a few wall-clock seconds of this loop), at least
    # the last floor in any case (under load a sync can miss the peak's seconds).
    replicas = cluster_objects.wait_for(
        "the Deployment to follow the floors",
        lambda: (
            last <= (apps.read_namespaced_deployment("llama", namespace).spec.replicas or 0) <= peak
        ),
        timeout_s=30,
    )
    assert replicas
    stored = db.decisions("chat", MONDAY)
    assert {s.outcome for s in stored} >= {"applied", "unchanged"}
    assert all(s.target_ref == f"hpa:{namespace}/llama-od" for s in stored)
