"""The advisory shadow score across a restart, on the real API server: the ready replicas come
from the Pods of a real Deployment, the score is stored in a real SQLite store, and a new
process on that store carries the week on (in /metrics and /report alike)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kubernetes

from actuator import clock, cluster, config, daemon, service, store, trace_source

MONDAY_MORNING = dt.datetime(1995, 8, 28, 8, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
RUNNING = 3  # the Deployment's replicas, all made Ready (no kubelet runs here)


def _pods(api: kubernetes.client.ApiClient, namespace: str) -> list[str] | None:
    pods = kubernetes.client.CoreV1Api(api).list_namespaced_pod(
        namespace, label_selector="app=llama"
    )
    names = [p.metadata.name for p in pods.items]
    return names if len(names) == RUNNING else None


def _service(settings: config.Config, admin: Any, now: clock.ManualClock) -> service.Service:
    """One daemon process: its own store connection, source and cluster adapter."""
    db = store.Store.connect(settings.store_url)
    w = settings.workloads[0]
    source = trace_source.TraceSource.from_file(w.source.path, w.source.column)  # type: ignore[union-attr]
    core = daemon.Daemon(settings, db, {w.name: source}, writer=cluster.Targets(admin))
    return service.Service.of(settings, core, db, now)


def test_the_shadow_score_carries_on_after_a_restart(
    admin: Any, namespace: str, tmp_path: Path
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", RUNNING))
    names = cluster_objects.wait_for(
        "the ReplicaSet's Pods", functools.partial(_pods, admin.api, namespace)
    )
    for name in names:
        cluster_objects.mark_ready(admin.api, namespace, name, MONDAY_MORNING - MINUTE)
    data: dict[str, Any] = b.config_data(tmp_path / "prescale.db")  # advisory: nothing written
    data["workloads"][0]["targets"]["on_demand"] = {
        "kind": "scale",
        "namespace": namespace,
        "name": "llama",
    }
    settings = config.validate(data)
    now = clock.ManualClock(MONDAY_MORNING)
    first = _service(settings, admin, now)
    for _ in range(90):  # 08:00-09:29: the morning rise, two hours of buckets
        first.tick(now.now())
        now.advance(60)
    before = first.shadow.score("chat")
    assert before.minutes == 90  # every minute had demand and the ready replicas
    assert before.plan_served_pct is not None and before.actual_served_pct is not None
    # what ran: 3 replicas on A100s at the spec's on-demand price, every minute
    assert before.actual_usd > 0 and before.plan_usd > 0

    restarted = _service(settings, admin, now)  # a new process on the same store
    assert restarted.shadow.score("chat") == before
    for _ in range(60):  # past 10:00, its first refit: /report shows the plans it made
        restarted.tick(now.now())
        now.advance(60)
    after = restarted.shadow.score("chat")
    assert after.minutes == 150
    assert after.plan_usd > before.plan_usd and after.actual_usd > before.actual_usd
    restarted.server.start()
    try:
        metrics = b.http_get(restarted.server.port, "/metrics")
        page = b.http_get(restarted.server.port, "/report")
    finally:
        restarted.server.close()
    assert 'prescale_shadow_minutes{workload="chat"} 150.0' in metrics
    assert "<h3>Shadow score</h3>" in page
    assert '<span data-path="workloads.0.shadow.minutes" data-format="integer">150</span>' in page
    print(
        f"shadow: {before.minutes} min before the restart, {after.minutes} after; plan served "
        f"{after.plan_served_pct:.1f} % for ${after.plan_usd:.2f}, what ran "
        f"{after.actual_served_pct:.1f} % for ${after.actual_usd:.2f}"
    )
