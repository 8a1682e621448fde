"""Least privilege on a real API server: deploy/ applied by `kubectl apply --server-side -k`, then
prescale's own ServiceAccount token (from the TokenRequest API) does its job and is Forbidden
everything else. tests/kube/test_deploy.py runs the daemon itself with that token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import cluster_objects
import kubernetes
import manifests
import pytest

from actuator import kube, lease
from kernel import errors

TARGETS = manifests.TARGETS  # the namespace deploy/base's RoleBinding gives prescale
OTHER = manifests.OTHER  # a namespace it was not given


@pytest.fixture(scope="module", autouse=True)
def targets_and_secrets(admin: kube.Client, deployed: str) -> None:
    """Targets in `inference` and `billing` (deploy/ applied by `kubectl apply --server-side -k`),
    and Secrets prescale must not read: a target's and its own API token's."""
    for namespace in (TARGETS, OTHER):
        cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
        cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 10))
        cluster_objects.apply(
            admin.api, cluster_objects.scaled_object(namespace, "llama-spot", "llama", 0, 10)
        )
    for namespace, name in ((TARGETS, "hf-token"), ("prescale", "prescale-api-token")):
        cluster_objects.apply(
            admin.api,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace},
                "stringData": {"token": "not-for-prescale"},
            },
        )


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (kube.TargetKind.HPA, "llama-od"),
        (kube.TargetKind.KEDA, "llama-spot"),
        (kube.TargetKind.SCALE, "llama"),
    ],
)
def test_the_service_account_can_read_and_write_each_target(
    prescale_sa: kube.Client, kind: kube.TargetKind, name: str
) -> None:
    target = kube.Target(kind, TARGETS, name)
    assert kube.read(prescale_sa, target).selector == "app=llama"
    assert kube.apply_floor(prescale_sa, target, 2, dry_run=True).written
    assert kube.apply_floor(prescale_sa, target, 3, dry_run=False).replicas == 3
    assert kube.read(prescale_sa, target).floor_replicas == 3


def test_the_service_account_can_learn_cold_starts_and_record_events(
    prescale_sa: kube.Client,
) -> None:
    target = kube.Target(kube.TargetKind.HPA, TARGETS, "llama-od")
    assert kube.cold_starts(prescale_sa, target, since=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == ()
    kube.record_event(
        prescale_sa,
        target,
        reason="RaisedFloor",
        note="rbac check",
        action="Apply",
        event_type=kube.EventType.NORMAL,
        reporting_instance="prescale-0",
        now=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
    )


def test_the_service_account_can_lead_in_its_own_namespace(prescale_sa: kube.Client) -> None:
    clock = lambda: dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)  # noqa: E731
    elector = lease.Elector(
        prescale_sa, lease.LeaseSettings("prescale", "prescale", "prescale-0"), clock
    )
    assert elector.tick()
    elsewhere = lease.Elector(
        prescale_sa, lease.LeaseSettings(TARGETS, "prescale", "prescale-0"), clock
    )
    assert not elsewhere.tick()  # forbidden: logged, not leading


@pytest.mark.parametrize(
    ("namespace", "name"), [(TARGETS, "hf-token"), ("prescale", "prescale-api-token")]
)
def test_the_service_account_cannot_read_secrets(
    prescale_sa: kube.Client, namespace: str, name: str
) -> None:
    """Not the targets' Secrets, and not even its own API token: the kubelet mounts that."""
    core = kubernetes.client.CoreV1Api(prescale_sa.api)
    with pytest.raises(kubernetes.client.exceptions.ApiException) as denied:
        core.read_namespaced_secret(name, namespace)
    assert denied.value.status == 403
    with pytest.raises(kubernetes.client.exceptions.ApiException) as listing:
        core.list_namespaced_secret(namespace)
    assert listing.value.status == 403


def test_the_service_account_cannot_change_a_deployment_beyond_scale(
    prescale_sa: kube.Client,
) -> None:
    apps = kubernetes.client.AppsV1Api(prescale_sa.api)
    image = {
        "spec": {"template": {"spec": {"containers": [{"name": "server", "image": "evil:1"}]}}}
    }
    with pytest.raises(kubernetes.client.exceptions.ApiException) as patch:
        apps.patch_namespaced_deployment("llama", TARGETS, image)
    assert patch.value.status == 403
    with pytest.raises(kubernetes.client.exceptions.ApiException) as replicas:
        apps.patch_namespaced_deployment("llama", TARGETS, {"spec": {"replicas": 9}})
    assert replicas.value.status == 403  # even replicas: only through /scale
    with pytest.raises(kubernetes.client.exceptions.ApiException) as remove:
        apps.delete_namespaced_deployment("llama", TARGETS)
    assert remove.value.status == 403


@pytest.mark.parametrize("kind", [kube.TargetKind.HPA, kube.TargetKind.KEDA, kube.TargetKind.SCALE])
def test_the_service_account_cannot_touch_a_namespace_it_was_not_given(
    prescale_sa: kube.Client, kind: kube.TargetKind
) -> None:
    name = {kube.TargetKind.HPA: "llama-od", kube.TargetKind.KEDA: "llama-spot"}.get(kind, "llama")
    target = kube.Target(kind, OTHER, name)
    with pytest.raises(errors.ActuationError, match="forbidden"):
        kube.apply_floor(prescale_sa, target, 4, dry_run=True)
    with pytest.raises(errors.ActuationError, match="forbidden"):
        kube.read(prescale_sa, target)


def test_a_dry_run_proves_a_missing_write_permission(
    prescale_sa: kube.Client,
    admin: kube.Client,
    sa_kubeconfig: Callable[[str, str, Path], Path],
    tmp_path: Path,
) -> None:
    """A ServiceAccount that may only view (the built-in `view` ClusterRole) reads the HPA but its
    dry-run write is Forbidden: what `prescale run --dry-run` shows before going live."""
    cluster_objects.apply(
        admin.api,
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "viewer", "namespace": TARGETS},
        },
    )
    cluster_objects.apply(
        admin.api,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "viewer", "namespace": TARGETS},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": TARGETS}],
        },
    )
    viewer = kube.connect(sa_kubeconfig(TARGETS, "viewer", tmp_path / "kubeconfig"))
    target = kube.Target(kube.TargetKind.HPA, TARGETS, "llama-od")
    floor = kube.read(viewer, target).floor_replicas
    with pytest.raises(errors.ActuationError, match="forbidden"):
        kube.apply_floor(viewer, target, (floor or 1) + 1, dry_run=True)
