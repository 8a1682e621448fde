"""Fixtures for the Kubernetes adapter's tests, on the session's control plane (`control_plane`,
`admin` and `scaledobject_crd` come from tests/kube_fixtures.py): `namespace` gives each test a
namespace of its own, `proxy` and `wire` put a fault-injecting proxy in front of the API server,
and `deployed` is deploy/ applied by `kubectl apply --server-side -k` (the README's command)
next to target namespaces `inference` (bound by deploy/base) and `billing` (not bound);
`sa_kubeconfig` writes a kubeconfig with a ServiceAccount's own token, and `prescale_sa` is a
client with the token of deploy/base's ServiceAccount.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import cluster_objects
import kube_cluster
import kube_proxy
import manifests
import parts
import pytest

from actuator import kube, kubeapi


@pytest.fixture(scope="session")
def deployed(
    admin: kube.Client, control_plane: kube_cluster.ControlPlane, scaledobject_crd: None
) -> str:
    """deploy/ applied to the real API server; returns what kubectl printed."""
    try:
        manifests.kubectl()
    except manifests.UnavailableError as exc:
        parts.missing_part("kubectl with kustomize", str(exc))
    for name in (manifests.TARGETS, manifests.OTHER):
        cluster_objects.apply(
            admin.api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )
    # The Prometheus Operator's CRD, minimal and ours: the base's ServiceMonitor needs it.
    cluster_objects.register_crd(admin.api, manifests.SERVICEMONITOR_CRD)
    return manifests.apply(control_plane, manifests.DEPLOY)


@pytest.fixture(scope="session")
def sa_kubeconfig(
    admin: kube.Client, control_plane: kube_cluster.ControlPlane
) -> Callable[[str, str, Path], Path]:
    """`sa_kubeconfig(namespace, account, path)` writes at `path`, and returns it, a kubeconfig for
    the API server holding ServiceAccount namespace/account's own short-lived token (from the
    TokenRequest API)."""

    def write(namespace: str, account: str, path: Path) -> Path:
        return cluster_objects.token_kubeconfig(
            admin.api,
            api_url=control_plane.api_url,
            ca_file=control_plane.ca_file,
            namespace=namespace,
            account=account,
            path=path,
        )

    return write


@pytest.fixture(scope="module")
def prescale_sa(
    deployed: str,
    sa_kubeconfig: Callable[[str, str, Path], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> kube.Client:
    """A client with the token of deploy/base's ServiceAccount prescale/prescale, once `deployed`
    is applied; one per test module, and its retries do not sleep."""
    kubeconfig = sa_kubeconfig("prescale", "prescale", tmp_path_factory.mktemp("sa") / "kubeconfig")
    return kube.connect(kubeconfig, sleep=lambda _s: None)


@pytest.fixture
def namespace(admin: kube.Client) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    cluster_objects.apply(
        admin.api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    return name


@pytest.fixture
def proxy(control_plane: kube_cluster.ControlPlane) -> Iterator[kube_proxy.Proxy]:
    """A fault-injecting proxy in front of the API server; it also records every request."""
    with kube_proxy.running(control_plane.api_url, control_plane.ca_file) as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    """The waits between attempts of the `wire` client, in seconds (not slept)."""
    return []


@pytest.fixture
def wire(
    proxy: kube_proxy.Proxy,
    control_plane: kube_cluster.ControlPlane,
    tmp_path: Path,
    waits: list[float],
) -> kube.Client:
    """A cluster-admin client whose requests pass through `proxy`."""
    kubeconfig = proxy.kubeconfig(tmp_path / "kubeconfig", control_plane.admin_token)
    return kube.connect(
        kubeconfig, retry=kubeapi.RetryPolicy(request_timeout_s=0.5), sleep=waits.append
    )
