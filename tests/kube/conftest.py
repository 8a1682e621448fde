"""Fixtures for the Kubernetes adapter's tests, on the session's control plane (`control_plane`,
`admin` and `scaledobject_crd` come from tests/kube_fixtures.py): `namespace` gives each test a
namespace of its own, `proxy` and `wire` put a fault-injecting proxy in front of the API server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import cluster_objects
import kube_cluster
import kube_proxy
import pytest

from actuator import kube, kubeapi


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
