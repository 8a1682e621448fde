"""What a 403 tells the operator to fix, with prescale's own ServiceAccount token against deploy/
applied on the real API server: the verb, the resource, the namespace, and deploy/base's
RoleBinding of ClusterRole prescale-targets (a target's namespace) or its Role for the Lease."""

from __future__ import annotations

import cluster_objects
import manifests
import pytest

from actuator import kube, kubeapi

OTHER = manifests.OTHER  # a namespace deploy/base does not bind


def _unbound_fix(verb: str, resource: str, namespace: str) -> str:
    return (
        f"prescale's ServiceAccount may not {verb} {resource} in namespace {namespace}: if no "
        "RoleBinding there binds ClusterRole prescale-targets to it, create one (a copy of "
        f"deploy/base/rolebinding-targets.yaml with namespace: {namespace}); if one does, add "
        f"{verb} on {resource} to the ClusterRole (deploy/base/clusterrole-targets.yaml)"
    )


@pytest.mark.parametrize(
    ("kind", "name", "resource"),
    [
        (kube.TargetKind.HPA, "llama-od", "horizontalpodautoscalers"),
        (kube.TargetKind.KEDA, "llama-spot", "scaledobjects"),
        (kube.TargetKind.SCALE, "llama", "deployments/scale"),
    ],
    ids=["hpa", "keda", "scale"],
)
def test_a_target_in_a_namespace_without_the_rolebinding_names_it_as_the_fix(
    prescale_sa: kube.Client, kind: kube.TargetKind, name: str, resource: str
) -> None:
    """The objects need not exist: RBAC answers before the object is looked up."""
    with pytest.raises(kubeapi.ForbiddenError) as denied:
        kube.read(prescale_sa, kube.Target(kind, OTHER, name))
    message = str(denied.value)
    assert "cannot get resource" in message  # the API server's own words are kept
    assert message.endswith(_unbound_fix("get", resource, OTHER))
    assert "prescale's Role" not in message


def test_a_verb_the_namespace_does_not_grant_is_named(
    prescale_sa: kube.Client, admin: kube.Client, namespace: str
) -> None:
    """prescale may only view this namespace (built-in ClusterRole `view`): it reads the HPA,
    and the patch is refused, which the hint names."""
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 10))
    cluster_objects.apply(
        admin.api,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "prescale-view", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "prescale", "namespace": "prescale"}],
        },
    )
    target = kube.Target(kube.TargetKind.HPA, namespace, "llama-od")
    assert kube.read(prescale_sa, target).floor_replicas == 1
    with pytest.raises(kubeapi.ForbiddenError) as denied:
        kube.apply_floor(prescale_sa, target, 3, dry_run=True)
    assert str(denied.value).endswith(_unbound_fix("patch", "horizontalpodautoscalers", namespace))


def test_the_lease_names_its_role(prescale_sa: kube.Client) -> None:
    """deploy/base lets prescale lead only in its own namespace."""
    with pytest.raises(kubeapi.ForbiddenError) as denied:
        kubeapi.call(
            prescale_sa,
            "get lease elsewhere",
            lambda: kubeapi.custom(prescale_sa).get_namespaced_custom_object(
                "coordination.k8s.io", "v1", OTHER, "leases", "prescale"
            ),
            access=kubeapi.Access("get", "leases", OTHER, "prescale"),
        )
    assert str(denied.value).endswith(
        f"grant get, create and update on leases prescale in namespace {OTHER} to prescale's "
        "ServiceAccount (deploy/base/role-leader-election.yaml: Role prescale-leader-election "
        f"and its RoleBinding, in namespace {OTHER})"
    )
