"""The Kubernetes adapter against a real kube-apiserver: reads and server-side-applied floors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import cluster_objects
import kube_proxy
import kubernetes
import pytest
import yaml

from actuator import kube, kubeapi
from kernel import errors

pytestmark = pytest.mark.usefixtures("scaledobject_crd")
_API = {
    kube.TargetKind.HPA: ("autoscaling", "v2"),
    kube.TargetKind.KEDA: ("keda.sh", "v1alpha1"),
    kube.TargetKind.SCALE: ("apps", "v1"),
}
_PLURAL = {
    kube.TargetKind.HPA: "horizontalpodautoscalers",
    kube.TargetKind.KEDA: "scaledobjects",
    kube.TargetKind.SCALE: "deployments",
}


def _custom(client: kube.Client) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(client.api)


def _get_hpa(client: kube.Client, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = _custom(client).get_namespaced_custom_object(
        "autoscaling", "v2", namespace, "horizontalpodautoscalers", name
    )
    return obj


def _get_so(client: kube.Client, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = _custom(client).get_namespaced_custom_object(
        "keda.sh", "v1alpha1", namespace, "scaledobjects", name
    )
    return obj


def _get_deploy(client: kube.Client, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = _custom(client).get_namespaced_custom_object(
        "apps", "v1", namespace, "deployments", name
    )
    return obj


def _owned_paths(obj: dict[str, Any], manager: str) -> str:
    """The managedFields entries of one manager, as text to search for field paths."""
    return repr([m["fieldsV1"] for m in cluster_objects.managed_fields(obj, manager)])


def _hpa_setup(
    admin: kube.Client, namespace: str, min_replicas: int = 1, max_replicas: int = 10
) -> kube.Target:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama"))
    cluster_objects.apply(
        admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", min_replicas, max_replicas)
    )
    return kube.Target(kube.TargetKind.HPA, namespace, "llama-od")


def _writes(proxy: kube_proxy.Proxy) -> list[tuple[str, str]]:
    return [(method, path) for method, path in proxy.seen if method in ("PATCH", "PUT", "POST")]


def test_hpa_floor_is_applied_once_by_prescale_and_leaves_the_owners_fields(
    admin: kube.Client, namespace: str, wire: kube.Client, proxy: kube_proxy.Proxy
) -> None:
    target = _hpa_setup(admin, namespace)
    before = kube.read(admin, target)
    assert (before.floor_replicas, before.max_replicas) == (1, 10)
    assert before.workload == kube.WorkloadRef("apps/v1", "Deployment", "llama")
    assert before.selector == "app=llama"

    first = kube.apply_floor(wire, target, 4, dry_run=False)
    assert first == kube.ApplyOutcome(kube.ApplyResult.APPLIED, 4, 4, 1, True, False)
    assert len(_writes(proxy)) == 1
    hpa = _get_hpa(admin, namespace, "llama-od")
    assert hpa["spec"]["minReplicas"] == 4
    assert hpa["spec"]["maxReplicas"] == 10
    prescale_owns = _owned_paths(hpa, "prescale")
    assert "f:minReplicas" in prescale_owns
    assert "f:maxReplicas" not in prescale_owns and "f:scaleTargetRef" not in prescale_owns
    owner_owns = _owned_paths(hpa, "gitops")
    assert "f:maxReplicas" in owner_owns and "f:metrics" in owner_owns
    assert "f:minReplicas" not in owner_owns  # forced: the floor moved to prescale

    second = kube.apply_floor(wire, target, 4, dry_run=False)
    assert second.result is kube.ApplyResult.UNCHANGED and not second.written
    assert len(_writes(proxy)) == 1  # the second call read, and sent nothing


def test_hpa_floor_never_exceeds_max_replicas(admin: kube.Client, namespace: str) -> None:
    target = _hpa_setup(admin, namespace, max_replicas=5)
    outcome = kube.apply_floor(admin, target, 9, dry_run=False)
    assert (outcome.result, outcome.replicas, outcome.written) == (
        kube.ApplyResult.CLAMPED,
        5,
        True,
    )
    assert _get_hpa(admin, namespace, "llama-od")["spec"]["minReplicas"] == 5
    again = kube.apply_floor(admin, target, 9, dry_run=False)
    assert (again.result, again.written) == (kube.ApplyResult.CLAMPED, False)


def test_hpa_floor_of_zero_is_held_at_one(admin: kube.Client, namespace: str) -> None:
    """autoscaling/v2 rejects minReplicas 0 without the HPAScaleToZero gate: 1 is the least."""
    target = _hpa_setup(admin, namespace, min_replicas=3)
    outcome = kube.apply_floor(admin, target, 0, dry_run=False)
    assert (outcome.result, outcome.replicas, outcome.previous_replicas) == (
        kube.ApplyResult.CLAMPED,
        1,
        3,
    )


def test_keda_floor_is_the_scaled_objects_min_replica_count(
    admin: kube.Client, namespace: str
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama"))
    cluster_objects.apply(
        admin.api, cluster_objects.scaled_object(namespace, "llama-spot", "llama", 0, 20)
    )
    target = kube.Target(kube.TargetKind.KEDA, namespace, "llama-spot")
    status = kube.read(admin, target)
    assert (status.floor_replicas, status.max_replicas, status.selector) == (0, 20, "app=llama")

    outcome = kube.apply_floor(admin, target, 3, dry_run=False)
    assert outcome == kube.ApplyOutcome(kube.ApplyResult.APPLIED, 3, 3, 0, True, False)
    scaled = _get_so(admin, namespace, "llama-spot")
    assert scaled["spec"]["minReplicaCount"] == 3
    assert "f:minReplicaCount" in _owned_paths(scaled, "prescale")
    assert "f:maxReplicaCount" not in _owned_paths(scaled, "prescale")
    assert kube.apply_floor(admin, target, 3, dry_run=False).result is kube.ApplyResult.UNCHANGED
    clamped = kube.apply_floor(admin, target, 50, dry_run=False)
    assert (clamped.result, clamped.replicas) == (kube.ApplyResult.CLAMPED, 20)
    # The ScaledObject is the source of truth: prescale made no HPA of its own.
    hpas = _custom(admin).list_namespaced_custom_object(
        "autoscaling", "v2", namespace, "horizontalpodautoscalers"
    )
    assert hpas["items"] == []


def test_scale_target_writes_the_deployments_scale_subresource(
    admin: kube.Client, namespace: str
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "vit", replicas=1))
    target = kube.Target(kube.TargetKind.SCALE, namespace, "vit")
    assert kube.read(admin, target).floor_replicas == 1
    outcome = kube.apply_floor(admin, target, 3, dry_run=False)
    assert outcome == kube.ApplyOutcome(kube.ApplyResult.APPLIED, 3, 3, 1, True, False)
    deployment = _get_deploy(admin, namespace, "vit")
    assert deployment["spec"]["replicas"] == 3
    assert "f:replicas" in _owned_paths(deployment, "prescale")
    assert "f:template" not in _owned_paths(deployment, "prescale")
    assert "f:template" in _owned_paths(deployment, "gitops")
    assert kube.apply_floor(admin, target, 3, dry_run=False).result is kube.ApplyResult.UNCHANGED


def test_scale_target_works_for_any_custom_resource_with_scale(
    admin: kube.Client, namespace: str, tmp_path: Path
) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "modelservers.serving.example.com"},
        "spec": {
            "group": "serving.example.com",
            "scope": "Namespaced",
            "names": {"kind": "ModelServer", "plural": "modelservers", "singular": "modelserver"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                            "labelSelectorPath": ".status.selector",
                        }
                    },
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "replicas": {"type": "integer"},
                                        "model": {"type": "string"},
                                    },
                                },
                                "status": {
                                    "type": "object",
                                    "properties": {
                                        "replicas": {"type": "integer"},
                                        "selector": {"type": "string"},
                                    },
                                },
                            },
                        }
                    },
                }
            ],
        },
    }
    crd_file = tmp_path / "modelserver-crd.yaml"
    crd_file.write_text(yaml.safe_dump(crd))
    cluster_objects.register_crd(admin.api, crd_file)
    cluster_objects.apply(
        admin.api,
        {
            "apiVersion": "serving.example.com/v1",
            "kind": "ModelServer",
            "metadata": {"name": "qwen", "namespace": namespace},
            "spec": {"replicas": 2, "model": "qwen-32b"},
        },
    )
    target = kube.Target(
        kube.TargetKind.SCALE,
        namespace,
        "qwen",
        api_version="serving.example.com/v1",
        resource_kind="ModelServer",
    )
    status = kube.read(admin, target)
    assert (status.floor_replicas, status.selector, status.ready_replicas) == (2, None, None)
    assert kube.apply_floor(admin, target, 6, dry_run=False).written
    server = _custom(admin).get_namespaced_custom_object(
        "serving.example.com", "v1", namespace, "modelservers", "qwen"
    )
    assert server["spec"] == {"replicas": 6, "model": "qwen-32b"}


def test_kind_without_scale_is_an_input_error(admin: kube.Client, namespace: str) -> None:
    target = kube.Target(
        kube.TargetKind.SCALE, namespace, "x", api_version="batch/v1", resource_kind="Job"
    )
    with pytest.raises(errors.InputError, match="no /scale subresource"):
        kube.read(admin, target)


@pytest.mark.parametrize("kind", [kube.TargetKind.HPA, kube.TargetKind.KEDA, kube.TargetKind.SCALE])
def test_dry_run_proves_the_write_without_effect(
    admin: kube.Client,
    namespace: str,
    kind: kube.TargetKind,
    wire: kube.Client,
    proxy: kube_proxy.Proxy,
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama"))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 10))
    cluster_objects.apply(
        admin.api, cluster_objects.scaled_object(namespace, "llama-spot", "llama", 1, 10)
    )
    name = {kube.TargetKind.HPA: "llama-od", kube.TargetKind.KEDA: "llama-spot"}.get(kind, "llama")
    target = kube.Target(kind, namespace, name)
    outcome = kube.apply_floor(wire, target, 7, dry_run=True)
    assert (outcome.result, outcome.written, outcome.dry_run) == (
        kube.ApplyResult.APPLIED,
        True,
        True,
    )
    # One write, or more when the controller manager moved the Deployment's resourceVersion
    # between our read and the write (a real 409, answered by a fresh read and a retry).
    writes = _writes(proxy)
    assert writes
    for method, path in writes:
        assert method == "PATCH" and "dryRun=All" in path and "fieldManager=prescale" in path
    assert kube.read(admin, target).floor_replicas == 1
    stored = _custom(admin).get_namespaced_custom_object(
        *_API[kind], namespace, _PLURAL[kind], name
    )
    assert cluster_objects.managed_fields(stored, "prescale") == []


def test_metric_target_writes_nothing(
    admin: kube.Client, namespace: str, wire: kube.Client, proxy: kube_proxy.Proxy
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=2))
    target = kube.Target(kube.TargetKind.METRIC, namespace, "llama")
    before = kube.read(admin, target)
    assert (before.floor_replicas, before.replicas) == (None, 2)
    outcome = kube.apply_floor(wire, target, 5, dry_run=False)
    assert (outcome.result, outcome.written) == (kube.ApplyResult.EXPORTED, False)
    assert proxy.seen == []  # not even a read


def test_missing_target_is_a_clear_actuation_error(admin: kube.Client, namespace: str) -> None:
    target = kube.Target(kube.TargetKind.HPA, namespace, "gone")
    with pytest.raises(
        kubeapi.TargetMissingError, match=f"horizontalpodautoscalers {namespace}/gone"
    ):
        kube.apply_floor(admin, target, 3, dry_run=False)


def test_negative_floor_is_refused(admin: kube.Client, namespace: str) -> None:
    with pytest.raises(errors.InputError, match=r"replicas \(-1\)"):
        kube.apply_floor(admin, kube.Target(kube.TargetKind.HPA, namespace, "x"), -1, dry_run=False)


def test_raised_hpa_floor_really_scales_the_deployment(admin: kube.Client, namespace: str) -> None:
    """The controller manager's HPA controller enforces the floor prescale wrote."""
    target = _hpa_setup(admin, namespace)
    kube.apply_floor(admin, target, 3, dry_run=False)
    replicas = cluster_objects.wait_for(
        "the Deployment to follow the HPA floor to 3",
        lambda: _get_deploy(admin, namespace, "llama")["spec"]["replicas"] == 3,
        timeout_s=30,
    )
    assert replicas


def test_cold_starts_come_from_pod_creation_to_ready(admin: kube.Client, namespace: str) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=2))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 2, 4))
    target = kube.Target(kube.TargetKind.HPA, namespace, "llama-od")
    core = kubernetes.client.CoreV1Api(admin.api)

    def pods() -> list[Any] | None:
        items = core.list_namespaced_pod(namespace, label_selector="app=llama").items
        return items if len(items) == 2 else None

    first, second = sorted(
        cluster_objects.wait_for("two Pods", pods), key=lambda p: p.metadata.name
    )
    created = first.metadata.creation_timestamp
    cluster_objects.mark_ready(
        admin.api, namespace, first.metadata.name, created + dt.timedelta(seconds=42)
    )
    cluster_objects.mark_ready(
        admin.api,
        namespace,
        second.metadata.name,
        second.metadata.creation_timestamp + dt.timedelta(seconds=75),
    )
    starts = kube.cold_starts(admin, target, since=created - dt.timedelta(minutes=1))
    assert sorted(s.lead_time_s for s in starts) == [42.0, 75.0]
    assert {s.pod_uid for s in starts} == {first.metadata.uid, second.metadata.uid}
    assert kube.read(admin, target).ready_replicas == 2
    later = kube.cold_starts(admin, target, since=created + dt.timedelta(seconds=60))
    assert [s.pod_uid for s in later] == [second.metadata.uid]


def test_an_event_on_the_target_says_why_the_floor_moved(
    admin: kube.Client, namespace: str
) -> None:
    target = _hpa_setup(admin, namespace)
    kube.record_event(
        admin,
        target,
        reason="RaisedFloor",
        note="floor 1 -> 4 ahead of the Monday 09:00 peak (lead time 420 s, learned)",
        action="Apply",
        event_type=kube.EventType.NORMAL,
        reporting_instance="prescale-0",
        now=dt.datetime(2026, 3, 2, 8, 53, tzinfo=dt.UTC),
    )
    # Listed as plain objects: the controller manager's own events (no eventTime) do not fit the
    # client's strict events.k8s.io model.
    listed = _custom(admin).list_namespaced_custom_object(
        "events.k8s.io", "v1", namespace, "events"
    )
    ours = [e for e in listed["items"] if e.get("reportingController") == "prescale"]
    assert [(e["reason"], e["regarding"]["kind"], e["regarding"]["name"]) for e in ours] == [
        ("RaisedFloor", "HorizontalPodAutoscaler", "llama-od")
    ]
    assert ours[0]["regarding"]["uid"] == _get_hpa(admin, namespace, "llama-od")["metadata"]["uid"]


def test_the_hpa_keda_owns_is_refused(admin: kube.Client, namespace: str) -> None:
    """An hpa target naming KEDA's keda-hpa-* HPA would be reverted by KEDA at its next sync."""
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama"))
    scaled = cluster_objects.apply(
        admin.api, cluster_objects.scaled_object(namespace, "llama-spot", "llama", 1, 10)
    )
    owned = cluster_objects.hpa(namespace, "keda-hpa-llama-spot", "llama", 1, 10)
    owned["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "name": "llama-spot",
            "uid": scaled.metadata.uid,
            "controller": True,
        }
    ]
    cluster_objects.apply(admin.api, owned, manager="keda")
    target = kube.Target(kube.TargetKind.HPA, namespace, "keda-hpa-llama-spot")
    with pytest.raises(errors.InputError, match="use kind: keda, name: llama-spot"):
        kube.apply_floor(admin, target, 4, dry_run=False)
    assert _get_hpa(admin, namespace, "keda-hpa-llama-spot")["spec"]["minReplicas"] == 1


@pytest.mark.parametrize(
    ("annotations", "paused"),
    [
        pytest.param({}, False, id="none"),
        pytest.param({"autoscaling.keda.sh/paused": "true"}, True, id="paused"),
        pytest.param({"autoscaling.keda.sh/paused": "false"}, False, id="paused-false"),
        pytest.param({"autoscaling.keda.sh/paused-replicas": "0"}, True, id="paused-replicas"),
    ],
)
def test_keda_pause_annotations_are_reported(
    admin: kube.Client, namespace: str, annotations: dict[str, str], paused: bool
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama"))
    scaled = cluster_objects.scaled_object(namespace, "llama-spot", "llama", 1, 10)
    scaled["metadata"]["annotations"] = annotations
    cluster_objects.apply(admin.api, scaled)
    assert (
        kube.read(admin, kube.Target(kube.TargetKind.KEDA, namespace, "llama-spot")).paused
        is paused
    )
