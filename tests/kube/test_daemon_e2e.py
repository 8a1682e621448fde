"""End to end on the real API server, for each kind of target the daemon writes: an HPA's
minReplicas, a KEDA ScaledObject's minReplicaCount, a Deployment's /scale replicas. The daemon
raises the floor one lead time ahead of the Monday rise and lowers it after the hold; the
controller manager scales the Deployment (and its ReplicaSet) to it; decisions and reasons are
stored and exported. Time is injected; the trace is the bundled NASA one."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kubernetes
import prometheus_client as prom
import pytest
from prometheus_client import parser

from actuator import cluster, config, daemon, http, kube, store, trace_source

MONDAY = dt.datetime(1995, 8, 28, 0, 0, tzinfo=dt.UTC)
TICK_MINUTES = 10
LEAD_TIME_S = 600  # the builders' spec: lead_time 10m


@dataclass(frozen=True)
class Case:
    """One target kind: what the owner applies, the daemon's target, where the floor is held."""

    kind: str
    name: str  # the object the daemon writes
    # namespace -> the autoscaler the owner applies over the Deployment `llama`, if any
    autoscaler: Callable[[str], dict[str, Any]] | None
    floor: Callable[[kubernetes.client.ApiClient, str], int]  # (api, namespace) -> floor held
    # True when the controller manager scales the Deployment to the floor (no KEDA operator runs
    # here, so a ScaledObject's floor is only held)
    scales_deployment: bool


def _hpa_floor(api: kubernetes.client.ApiClient, namespace: str) -> int:
    hpa: Any = kubernetes.client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(
        "llama-od", namespace
    )
    return int(hpa.spec.min_replicas)


def _keda_floor(api: kubernetes.client.ApiClient, namespace: str) -> int:
    scaled: Any = kubernetes.client.CustomObjectsApi(api).get_namespaced_custom_object(
        "keda.sh", "v1alpha1", namespace, "scaledobjects", "llama-so"
    )
    return int(scaled["spec"]["minReplicaCount"])


def _deployment_replicas(api: kubernetes.client.ApiClient, namespace: str) -> int:
    deployment: Any = kubernetes.client.AppsV1Api(api).read_namespaced_deployment(
        "llama", namespace
    )
    return int(deployment.spec.replicas)


CASES = [
    Case(
        "hpa",
        "llama-od",
        lambda ns: cluster_objects.hpa(ns, "llama-od", "llama", 1, 20),
        _hpa_floor,
        scales_deployment=True,
    ),
    Case(
        "keda",
        "llama-so",
        lambda ns: cluster_objects.scaled_object(ns, "llama-so", "llama", 1, 20),
        _keda_floor,
        scales_deployment=False,
    ),
    Case("scale", "llama", None, _deployment_replicas, scales_deployment=True),
]


def _deployment_is(api: kubernetes.client.ApiClient, namespace: str, replicas: int) -> bool:
    return _deployment_replicas(api, namespace) == replicas


def _replica_set_follows(api: kubernetes.client.ApiClient, namespace: str, replicas: int) -> bool:
    """The Deployment controller has rolled its one ReplicaSet to `replicas`."""
    sets = kubernetes.client.AppsV1Api(api).list_namespaced_replica_set(
        namespace, label_selector="app=llama"
    )
    return len(sets.items) == 1 and sets.items[0].spec.replicas == replicas


def _exported(metrics: http.Metrics) -> dict[tuple[str, str], float]:
    """prescale_decisions_total by (reason, outcome), read back from the /metrics text."""
    text = prom.generate_latest(metrics.registry).decode()
    counts: dict[tuple[str, str], float] = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "prescale_decisions_total":
                key = (sample.labels["reason"], sample.labels["outcome"])
                counts[key] = counts.get(key, 0.0) + sample.value
    return counts


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_daemon_raises_and_lowers_a_floor_on_the_real_api_server(
    case: Case, admin: kube.Client, namespace: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if case.kind == "keda":
        request.getfixturevalue("scaledobject_crd")
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    if case.autoscaler is not None:
        cluster_objects.apply(admin.api, case.autoscaler(namespace))
    data: dict[str, Any] = b.config_data(tmp_path / "prescale.db")
    data["mode"] = "actuate"
    data["workloads"][0]["targets"]["on_demand"] = {
        "kind": case.kind,
        "namespace": namespace,
        "name": case.name,
    }
    settings = config.validate(data)
    db = store.Store.connect(settings.store_url)
    w = settings.workloads[0]
    src = trace_source.TraceSource.from_file(w.source.path, w.source.column)  # type: ignore[union-attr]
    core = daemon.Daemon(settings, db, {w.name: src}, writer=cluster.Targets(admin))
    metrics = http.Metrics()
    floors = []
    high = 0
    for minute in range(0, 24 * 60, TICK_MINUTES):
        now = MONDAY + dt.timedelta(minutes=minute)
        report = core.run_once(now)
        metrics.observe(report, {})
        (d,) = report.workloads[0].decisions
        floors.append(
            (now, d.replicas, d.reason, d.outcome.value, case.floor(admin.api, namespace))
        )
        if case.scales_deployment and d.replicas > high:
            # each new high is scaled to before time moves on (bounded poll: the HPA controller
            # syncs every second here, and without a metrics API it scales up to minReplicas
            # but never down, so only a high is observable)
            high = d.replicas
            cluster_objects.wait_for(
                f"the Deployment to follow the floor {high} at {now:%H:%M}",
                functools.partial(_deployment_is, admin.api, namespace, high),
            )
    peak_at, peak, peak_reason, *_ = max(floors, key=lambda f: f[1])
    night, last = floors[0][1], floors[-1][1]
    written = [f for f in floors if f[3] == "applied"]
    print(
        f"{case.kind}: night {night}, peak {peak} at {peak_at:%H:%M} ({peak_reason}), last {last}, "
        f"writes {len(written)} of {len(floors)} ticks: "
        + " ".join(f"{f[0]:%H:%M}={f[1]}" for f in written)
    )
    assert all(f[1] == f[4] for f in floors), f"the {case.kind} target holds every floor decided"
    assert peak > night, "the floor rose for the day"
    assert last < peak, "and came down after the hold"
    assert written and len(written) < len(floors), "written only when the floor changed"
    if case.scales_deployment:
        # /scale is the Deployment's own count, lowered with the floor; the HPA (no metrics
        # API) stays at the highest floor it enforced
        final = last if case.kind == "scale" else high
        assert _deployment_replicas(admin.api, namespace) == final
        assert cluster_objects.wait_for(
            f"the ReplicaSet to follow the Deployment to {final}",
            functools.partial(_replica_set_follows, admin.api, namespace, final),
        )
        print(f"{case.kind}: Deployment and ReplicaSet at {final} (highest floor {high})")
    stored = db.decisions("chat", MONDAY)
    assert all(s.target_ref == f"{case.kind}:{namespace}/{case.name}" for s in stored)
    applied = [(s.decided_at, s.target_replicas) for s in stored if s.outcome == "applied"]
    assert applied == [(f[0], f[1]) for f in written], "every write is stored, with its time"
    assert all(s.reason and json.loads(s.evidence_json) for s in stored), "with reason, evidence"
    # Ahead of load: the highest floor the forecast set (the need over the next lead time) was
    # written while the demand of the moment needed fewer replicas.
    ahead = max(
        (s for s in stored if s.outcome == "applied" and s.reason == "forecast_floor"),
        key=lambda s: s.target_replicas,
    )
    evidence = json.loads(ahead.evidence_json)
    print(
        f"ahead: {ahead.target_replicas} at {ahead.decided_at:%H:%M}, forecast floor "
        f"{evidence['forecast_floor']}, demand then needed {evidence['reactive_need']}"
    )
    assert evidence["forecast_floor"] == ahead.target_replicas > evidence["reactive_need"]
    assert evidence["lead_time_s"] == LEAD_TIME_S, "planned one lead time ahead"
    assert ahead.target_replicas > night
    assert any(
        s.decided_at > ahead.decided_at and s.target_replicas < ahead.target_replicas
        for s in stored
        if s.outcome == "applied"
    ), "lowered after the hold"
    exported = _exported(metrics)
    assert sum(v for (_, o), v in exported.items() if o == "applied") == len(written)
    assert sum(exported.values()) == len(floors), "every tick's decision is counted"
    assert exported[("forecast_floor", "applied")] >= 1
