"""Test support: objects for the real API server, applied the way a GitOps tool would.

Builders return complete manifests (dicts); `apply` sends them by server-side apply under the
field manager `gitops`, so tests can tell prescale's fields from the owner's. `wait_for` polls a
condition with a bound instead of sleeping a fixed time.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
import yaml
from kubernetes import dynamic

REPO = Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "deploy" / "crds" / "keda-scaledobject.yaml"
OWNER = "gitops"
_T = TypeVar("_T")
_DYNAMIC: dict[int, dynamic.DynamicClient] = {}


def dynamic_client(api: kubernetes.client.ApiClient) -> dynamic.DynamicClient:
    if id(api) not in _DYNAMIC:
        _DYNAMIC[id(api)] = dynamic.DynamicClient(api)
    return _DYNAMIC[id(api)]


def apply(api: kubernetes.client.ApiClient, obj: dict[str, Any], manager: str = OWNER) -> Any:
    """Server-side apply one manifest (any kind the server knows)."""
    client = dynamic_client(api)
    resource = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    namespace = obj["metadata"].get("namespace")
    return client.server_side_apply(
        resource, body=obj, namespace=namespace, field_manager=manager, force_conflicts=True
    )


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def wait_for(what: str, probe: Callable[[], _T | None], timeout_s: float = 30.0) -> _T:
    """Poll `probe` until it returns something truthy; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        # The server changes state on its own schedule (controllers, informers): poll it.
        time.sleep(0.1)


def register_crd(api: kubernetes.client.ApiClient, path: Path) -> None:
    ext = kubernetes.client.ApiextensionsV1Api(api)
    for doc in load_all(path):
        apply(api, doc)
        name = doc["metadata"]["name"]

        def established(name: str = name) -> bool:
            crd = ext.read_custom_resource_definition(name)
            conditions = (crd.status.conditions if crd.status else None) or []
            return any(c.type == "Established" and c.status == "True" for c in conditions)

        wait_for(f"CRD {name} established", established)
    # The dynamic client caches discovery: forget it so the new kinds are found.
    _DYNAMIC.pop(id(api), None)


def token_kubeconfig(
    api: kubernetes.client.ApiClient,
    *,
    api_url: str,
    ca_file: Path,
    namespace: str,
    account: str,
    path: Path,
    expiration_s: int = 600,
) -> Path:
    """A kubeconfig at `path` holding the ServiceAccount's own short-lived token, from the
    TokenRequest API (what the kubelet mounts into its Pods)."""
    request = kubernetes.client.AuthenticationV1TokenRequest(
        spec=kubernetes.client.V1TokenRequestSpec(audiences=[], expiration_seconds=expiration_s)
    )
    answer = kubernetes.client.CoreV1Api(api).create_namespaced_service_account_token(
        account, namespace, request
    )
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "local",
                        "cluster": {"server": api_url, "certificate-authority": str(ca_file)},
                    }
                ],
                "users": [{"name": account, "user": {"token": answer.status.token}}],
                "contexts": [{"name": "sa", "context": {"cluster": "local", "user": account}}],
                "current-context": "sa",
            }
        )
    )
    path.chmod(0o600)
    return path


def deployment(namespace: str, name: str, replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "server",
                            "image": "registry.invalid/inference:1",
                            "resources": {"requests": {"cpu": "100m"}},
                        }
                    ]
                },
            },
        },
    }


def hpa(
    namespace: str, name: str, workload: str, min_replicas: int, max_replicas: int
) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
        },
    }


def scaled_object(
    namespace: str, name: str, workload: str, min_replicas: int, max_replicas: int
) -> dict[str, Any]:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"name": workload},
            "minReplicaCount": min_replicas,
            "maxReplicaCount": max_replicas,
            "triggers": [
                {
                    "type": "prometheus",
                    "name": "running",
                    "metadata": {
                        "serverAddress": "http://prometheus.monitoring:9090",
                        "query": "sum(vllm:num_requests_running)",
                        "threshold": "30",
                    },
                }
            ],
        },
    }


def pod(namespace: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "server", "image": "registry.invalid/inference:1"}]},
    }


def mark_ready(
    api: kubernetes.client.ApiClient, namespace: str, name: str, ready_at: dt.datetime
) -> None:
    """Play the kubelet: report the Pod Running and Ready as of `ready_at`."""
    stamp = ready_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    kubernetes.client.CoreV1Api(api).patch_namespaced_pod_status(
        name,
        namespace,
        {
            "status": {
                "phase": "Running",
                "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": stamp},
                    {"type": "ContainersReady", "status": "True", "lastTransitionTime": stamp},
                ],
            }
        },
    )


def managed_fields(obj: dict[str, Any], manager: str) -> list[dict[str, Any]]:
    return [m for m in obj["metadata"].get("managedFields", []) if m["manager"] == manager]
