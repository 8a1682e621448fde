"""The Kubernetes adapter under faults injected at the wire, in front of the real API server.

Waits between attempts go to an injected sleep that records them, so the backoff is checked to
the second without the test waiting for it.
"""

from __future__ import annotations

import cluster_objects
import kube_proxy
import kubernetes
import pytest

from actuator import kube, kubeapi
from kernel import errors

pytestmark = pytest.mark.usefixtures("scaledobject_crd")
HPA_PATH = "/horizontalpodautoscalers/llama-od"


@pytest.fixture
def target(admin: kube.Client, namespace: str) -> kube.Target:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama"))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 10))
    return kube.Target(kube.TargetKind.HPA, namespace, "llama-od")


def _min_replicas(admin: kube.Client, target: kube.Target) -> int:
    hpa = kubernetes.client.AutoscalingV2Api(admin.api).read_namespaced_horizontal_pod_autoscaler(
        target.name, target.namespace
    )
    return int(hpa.spec.min_replicas)


def _patches(proxy: kube_proxy.Proxy) -> int:
    return sum(1 for method, path in proxy.seen if method == "PATCH" and HPA_PATH in path)


def test_a_concurrent_write_gives_a_real_conflict_answered_by_a_fresh_read(
    admin: kube.Client, wire: kube.Client, proxy: kube_proxy.Proxy, target: kube.Target
) -> None:
    """Someone raises the floor to 2 between prescale's read (1) and its write: the server
    refuses the stale write with 409, prescale reads 2 and writes 5 on top of it."""

    def someone_else_writes() -> None:
        owner = cluster_objects.hpa(target.namespace, "llama-od", "llama", 2, 10)
        cluster_objects.apply(admin.api, owner, manager="operator")

    proxy.inject(kube_proxy.Fault("PATCH", HPA_PATH, before=someone_else_writes))
    outcome = kube.apply_floor(wire, target, 5, dry_run=False)
    assert (outcome.result, outcome.previous_replicas, outcome.replicas) == (
        kube.ApplyResult.APPLIED,
        2,
        5,
    )
    assert _patches(proxy) == 2
    assert _min_replicas(admin, target) == 5


def test_429_waits_as_long_as_retry_after_says(
    admin: kube.Client,
    wire: kube.Client,
    proxy: kube_proxy.Proxy,
    target: kube.Target,
    waits: list[float],
) -> None:
    proxy.inject(kube_proxy.Fault("PATCH", HPA_PATH, status=429, headers={"Retry-After": "3"}))
    assert kube.apply_floor(wire, target, 4, dry_run=False).written
    assert waits == [3.0]
    assert _min_replicas(admin, target) == 4


def test_429_asking_for_too_long_is_an_actuation_error(
    wire: kube.Client, proxy: kube_proxy.Proxy, target: kube.Target, waits: list[float]
) -> None:
    proxy.inject(kube_proxy.Fault("PATCH", HPA_PATH, status=429, headers={"Retry-After": "120"}))
    with pytest.raises(errors.ActuationError, match="retry after 120 s, more than 30 s"):
        kube.apply_floor(wire, target, 4, dry_run=False)
    assert waits == []


def test_5xx_backs_off_doubling_then_succeeds(
    admin: kube.Client,
    wire: kube.Client,
    proxy: kube_proxy.Proxy,
    target: kube.Target,
    waits: list[float],
) -> None:
    proxy.inject(kube_proxy.Fault("PATCH", HPA_PATH, status=503, times=2))
    assert kube.apply_floor(wire, target, 4, dry_run=False).written
    assert waits == [0.5, 1.0]
    assert _min_replicas(admin, target) == 4


def test_5xx_that_persists_gives_up_after_bounded_attempts(
    wire: kube.Client, proxy: kube_proxy.Proxy, target: kube.Target, waits: list[float]
) -> None:
    proxy.inject(kube_proxy.Fault("GET", HPA_PATH, status=500, times=5))
    with pytest.raises(errors.ActuationError, match="gave up after 5 attempts; last: HTTP 500"):
        kube.read(wire, target)
    assert waits == [0.5, 1.0, 2.0, 4.0]


def test_a_timeout_is_retried(
    wire: kube.Client, proxy: kube_proxy.Proxy, target: kube.Target, waits: list[float]
) -> None:
    """The proxy holds the first read 1.5 s; the client gives up at 0.5 s and asks again."""
    proxy.inject(kube_proxy.Fault("GET", HPA_PATH, delay_s=1.5))
    assert kube.read(wire, target).floor_replicas == 1
    assert waits == [0.5]


def test_a_target_deleted_mid_run_is_a_clear_actuation_error(
    admin: kube.Client, wire: kube.Client, proxy: kube_proxy.Proxy, target: kube.Target
) -> None:
    def delete() -> None:
        kubernetes.client.AutoscalingV2Api(admin.api).delete_namespaced_horizontal_pod_autoscaler(
            target.name, target.namespace
        )

    proxy.inject(kube_proxy.Fault("PATCH", HPA_PATH, before=delete))
    with pytest.raises(kubeapi.TargetMissingError, match=f"{target.namespace}/llama-od"):
        kube.apply_floor(wire, target, 4, dry_run=False)
    with pytest.raises(kubernetes.client.exceptions.ApiException) as gone:
        kubernetes.client.AutoscalingV2Api(admin.api).read_namespaced_horizontal_pod_autoscaler(
            target.name, target.namespace
        )
    assert gone.value.status == 404  # and prescale did not re-create it from its fragment
