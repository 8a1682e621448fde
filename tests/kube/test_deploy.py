"""deploy/ on a real API server: every object of the base, the actuate overlay and the postgres
component applies by server-side apply; the Deployment's Pods are admitted under Pod Security
"restricted"; the config the ConfigMap carries matches the Deployment's mounts and the Role.

What the ServiceAccount may and may not do with its own token is test_kube_rbac.py's part.
NetworkPolicy is validated and stored by the API server but enforced by a CNI, which this control
plane does not have: its rules are checked here only for what they name.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import cluster_objects
import kube_cluster
import kubernetes
import manifests
import pytest
import sqlalchemy as sa
import yaml

from actuator import kube

NAMESPACE = "prescale"
# The base's variables (None: taken from the Pod's own fields or a Secret).
ENV: dict[str, str | None] = {"HOME": "/tmp", "POD_NAME": None}


@pytest.fixture(scope="module")
def base(deployed: str) -> list[dict[str, Any]]:
    return manifests.render(manifests.DEPLOY)


@pytest.fixture(scope="module")
def postgres_actuate(tmp_path_factory: pytest.TempPathFactory, deployed: str) -> Path:
    """A user's kustomization: the actuate overlay with the postgres component."""
    return manifests.compose(
        tmp_path_factory.mktemp("user") / "prescale", [manifests.ACTUATE], [manifests.POSTGRES]
    )


def _container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = manifests.find(docs, "Deployment", "prescale")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _env(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(docs)["env"]}


def _config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    configmap = manifests.find(docs, "ConfigMap", "prescale-config")
    loaded: dict[str, Any] = yaml.safe_load(configmap["data"]["config.yaml"])
    return loaded


def _pods(admin: kube.Client) -> list[Any]:
    return list(
        kubernetes.client.CoreV1Api(admin.api)
        .list_namespaced_pod(NAMESPACE, label_selector="app.kubernetes.io/name=prescale")
        .items
    )


def _rollout(admin: kube.Client, replicas: int, env: dict[str, str | None]) -> list[Any]:
    """Wait until the controllers have created `replicas` Pods whose variables are `env` (None for
    one taken from a Secret): Pods are admitted or refused at creation. No kubelet runs, so no Pod
    becomes ready and a rolling update stops after its first surge Pod."""

    def current() -> list[Any] | None:
        pods = [
            p
            for p in _pods(admin)
            if p.metadata.deletion_timestamp is None
            and {e.name: e.value for e in p.spec.containers[0].env or []} == env
        ]
        return pods if len(pods) >= replicas else None

    return cluster_objects.wait_for(f"{replicas} prescale Pods with env {env}", current)


def test_every_object_of_the_base_is_applied_and_stored(
    admin: kube.Client, deployed: str, base: list[dict[str, Any]]
) -> None:
    kinds = sorted(d["kind"] for d in base)
    assert kinds == sorted(
        [
            "ClusterRole",
            "ConfigMap",
            "Deployment",
            "Namespace",
            "NetworkPolicy",
            "PersistentVolumeClaim",
            "PodDisruptionBudget",
            "Role",
            "RoleBinding",
            "RoleBinding",
            "Service",
            "ServiceAccount",
            "ServiceMonitor",
        ]
    )
    client = cluster_objects.dynamic_client(admin.api)
    for doc in base:
        resource = client.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        stored = resource.get(
            name=doc["metadata"]["name"], namespace=doc["metadata"].get("namespace")
        )
        owners = [m.manager for m in stored.metadata.managedFields]
        assert cluster_objects.OWNER in owners, (doc["kind"], owners)
        assert "serverside-applied" in deployed
    assert "Secret" not in kinds  # no secret in the repository: the user creates them


def test_the_pods_are_admitted_under_pod_security_restricted(
    admin: kube.Client, deployed: str, base: list[dict[str, Any]]
) -> None:
    namespace = kubernetes.client.CoreV1Api(admin.api).read_namespace(NAMESPACE)
    assert namespace.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = _rollout(admin, 2, ENV)  # both replicas of the base
    for pod in pods:
        assert pod.spec.service_account_name == "prescale"
        assert pod.spec.security_context.run_as_non_root
    # The control: the same Pod with one hardening removed is refused by this namespace.
    template = manifests.find(base, "Deployment", "prescale")["spec"]["template"]
    weakened = copy.deepcopy(template)
    del weakened["spec"]["containers"][0]["securityContext"]["capabilities"]
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"weak-{uuid.uuid4().hex[:6]}", "namespace": NAMESPACE},
        "spec": weakened["spec"],
    }
    with pytest.raises(kubernetes.client.exceptions.ApiException) as refused:
        kubernetes.client.CoreV1Api(admin.api).create_namespaced_pod(NAMESPACE, body, dry_run="All")
    assert refused.value.status == 403
    message = json.loads(refused.value.body)["message"]
    assert 'violates PodSecurity "restricted:latest"' in message
    assert "capabilities.drop" in message


def test_the_container_is_hardened_beyond_what_restricted_requires(
    base: list[dict[str, Any]],
) -> None:
    deployment = manifests.find(base, "Deployment", "prescale")
    pod = deployment["spec"]["template"]["spec"]
    container = _container(base)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is True
    assert manifests.find(base, "ServiceAccount")["automountServiceAccountToken"] is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert set(container["resources"]) == {"requests", "limits"}
    # both replicas on the node of the SQLite volume (ReadWriteOnce), rolled one at a time
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }
    # a drain of that node takes both (one at a time would wait for a Pod that cannot move)
    assert manifests.find(base, "PodDisruptionBudget", "prescale")["spec"]["maxUnavailable"] == 2
    (term,) = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


def test_the_config_matches_the_mounts_the_port_and_the_lease_role(
    base: list[dict[str, Any]],
) -> None:
    config = _config(base)
    container = _container(base)
    pod = manifests.find(base, "Deployment", "prescale")["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}

    def mount_of(path: str) -> dict[str, Any]:
        holders = [m for m in mounts if path.startswith(m.rstrip("/") + "/")]
        assert holders, f"{path} is on no volume of the Deployment"
        return mounts[max(holders, key=len)]

    store = sa.engine.make_url(config["store"])
    assert store.get_backend_name() == "sqlite"
    data = mount_of(str(store.database))
    assert "persistentVolumeClaim" in volumes[data["name"]]
    assert not data.get("readOnly")
    token = mount_of(config["http"]["api_token_file"])
    assert volumes[token["name"]]["secret"]["secretName"] == "prescale-api-token"
    (port,) = container["ports"]
    assert config["http"]["port"] == port["containerPort"]
    assert config["mode"] == "advisory"
    role = manifests.find(base, "Role", "prescale-leader-election")
    named = [r for r in role["rules"] if r.get("resourceNames")]
    assert named[0]["resourceNames"] == [config["leader_election"]["lease_name"]]
    bound = {
        d["metadata"]["namespace"]
        for d in base
        if d["kind"] == "RoleBinding" and d["roleRef"]["name"] == "prescale-targets"
    }
    for workload in config["workloads"]:
        assert {t["namespace"] for t in workload["targets"].values()} <= bound


def test_the_actuate_overlay_changes_only_the_mode_and_rolls_back(
    admin: kube.Client,
    control_plane: kube_cluster.ControlPlane,
    base: list[dict[str, Any]],
) -> None:
    actuate = manifests.render(manifests.ACTUATE)
    changed = [d for d, b in zip(actuate, base, strict=True) if d != b]
    assert [d["kind"] for d in changed] == ["Deployment"]
    assert _env(actuate) == {**_env(base), "PRESCALE_MODE": "actuate"}
    apps = kubernetes.client.AppsV1Api(admin.api)
    try:
        manifests.apply(control_plane, manifests.ACTUATE)
        env = (
            apps.read_namespaced_deployment("prescale", NAMESPACE)
            .spec.template.spec.containers[0]
            .env
        )
        assert {e.name: e.value for e in env} == {**ENV, "PRESCALE_MODE": "actuate"}
        _rollout(admin, 1, {**ENV, "PRESCALE_MODE": "actuate"})
    finally:
        # Applying the base again under the same field manager removes the variable: going
        # back to advisory is one command.
        manifests.apply(control_plane, manifests.DEPLOY)
    env = (
        apps.read_namespaced_deployment("prescale", NAMESPACE).spec.template.spec.containers[0].env
    )
    assert {e.name: e.value for e in env} == ENV


def test_the_postgres_component_runs_two_replicas_on_a_secret_url(
    admin: kube.Client,
    control_plane: kube_cluster.ControlPlane,
    postgres_actuate: Path,
    base: list[dict[str, Any]],
) -> None:
    docs = manifests.render(postgres_actuate)
    assert "PersistentVolumeClaim" not in {d["kind"] for d in docs}
    deployment = manifests.find(docs, "Deployment", "prescale")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    env = _env(docs)
    assert env["PRESCALE_MODE"] == "actuate"
    assert env["PRESCALE_STORE"] == {"secretKeyRef": {"name": "prescale-postgres", "key": "url"}}
    pod = deployment["spec"]["template"]["spec"]
    # no volume to share: spread over nodes instead of held on one
    assert set(pod["affinity"]) == {"podAntiAffinity"}
    assert "data" not in {v["name"] for v in pod["volumes"]}
    assert "/var/lib/prescale" not in {m["mountPath"] for m in _container(docs)["volumeMounts"]}
    assert "Secret" not in {d["kind"] for d in docs}
    # the PDB covers both replicas and lets a drain take only one: the other keeps serving
    pdb = manifests.find(docs, "PodDisruptionBudget", "prescale")["spec"]
    assert pdb["maxUnavailable"] == 1
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    apps = kubernetes.client.AppsV1Api(admin.api)
    try:
        manifests.apply(control_plane, postgres_actuate)
        assert apps.read_namespaced_deployment("prescale", NAMESPACE).spec.replicas == 2
        stored = kubernetes.client.PolicyV1Api(admin.api).read_namespaced_pod_disruption_budget(
            "prescale", NAMESPACE
        )
        assert stored.spec.max_unavailable == 1
        # A Pod of the new template admitted under restricted before the Secret exists (the
        # kubelet would hold it until the Secret is created).
        _rollout(admin, 1, {**ENV, "PRESCALE_MODE": "actuate", "PRESCALE_STORE": None})
    finally:
        manifests.apply(control_plane, manifests.DEPLOY)
    assert apps.read_namespaced_deployment("prescale", NAMESPACE).spec.replicas == 2


def test_the_network_policy_opens_only_the_http_port(base: list[dict[str, Any]]) -> None:
    policy = manifests.find(base, "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert [p["port"] for rule in policy["ingress"] for p in rule["ports"]] == ["http"]
    egress_ports = sorted(p["port"] for rule in policy["egress"] for p in rule["ports"])
    assert egress_ports == [53, 53, 443, 5432, 6443, 9090]
