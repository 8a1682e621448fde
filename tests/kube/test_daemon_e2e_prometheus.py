"""End to end on real parts: the daemon reads demand from a real Prometheus (four weeks of the
NASA trace backfilled as vLLM counters), writes the HPA floor on the real API server, stores in
SQLite; time is injected. The same daemon on the CSV of that history decides the same floors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kubernetes
from prometheus_history import SELECTOR, History

from actuator import cluster, config, daemon, kube, service, store

MONDAY_MORNING = dt.datetime(1995, 8, 28, 6, 0, tzinfo=dt.UTC)
TICKS = 6 * 4  # every 15 minutes from 06:00 to 12:00, across the morning rise


def _daemon(data: dict[str, Any], admin: kube.Client | None) -> tuple[daemon.Daemon, store.Store]:
    settings = config.validate(data)
    db = store.Store.connect(settings.store_url)
    writer = None if admin is None else cluster.Targets(admin)
    return daemon.Daemon(settings, db, service.sources(settings), writer=writer), db


def test_prometheus_to_hpa_floor_end_to_end(
    prometheus_history: History, admin: kube.Client, namespace: str, tmp_path: Path
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    live: dict[str, Any] = b.config_data(tmp_path / "live.db")
    live["mode"] = "actuate"
    live["prometheus"] = {"url": prometheus_history.url}
    live["workloads"][0]["source"] = {"preset": "vllm", "selector": SELECTOR}
    live["workloads"][0]["targets"]["on_demand"] = {
        "kind": "hpa",
        "namespace": namespace,
        "name": "llama-od",
    }
    from_prometheus, db = _daemon(live, admin)
    from_csv, _ = _daemon(b.config_data(tmp_path / "csv.db"), None)
    autoscaling = kubernetes.client.AutoscalingV2Api(admin.api)
    rows = []
    for i in range(TICKS):
        now = MONDAY_MORNING + dt.timedelta(minutes=15 * i)
        (decided,) = from_prometheus.run_once(now).workloads[0].decisions
        (expected,) = from_csv.run_once(now).workloads[0].decisions
        held = autoscaling.read_namespaced_horizontal_pod_autoscaler("llama-od", namespace)
        rows.append((now, decided.replicas, expected.replicas, held.spec.min_replicas))
    first, peak = rows[0][1], max(r[1] for r in rows)
    print(f"floor {first} at 06:00 -> {peak} by 12:00; {len(rows)} ticks")
    differ = [(f"{r[0]:%H:%M}", r[1], r[2]) for r in rows if r[1] != r[2]]
    assert differ == [], "Prometheus and CSV decide alike (time, Prometheus, CSV)"
    assert all(r[1] == r[3] for r in rows), "the HPA holds every floor decided"
    assert peak > first
    apps = kubernetes.client.AppsV1Api(admin.api)
    assert cluster_objects.wait_for(
        "the Deployment to follow the floor",
        lambda: apps.read_namespaced_deployment("llama", namespace).spec.replicas == peak,
    )
    stored = db.decisions("chat", MONDAY_MORNING)
    assert "applied" in {s.outcome for s in stored}
