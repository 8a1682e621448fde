"""Test part: the session's real Kubernetes control plane, shared by every test that needs one.

Registered as a plugin by tests/conftest.py, so the adapter's tests (tests/kube) and the fault
suite (tests/faults) start one control plane per session, only when a test asks for it:
`control_plane` runs etcd, kube-apiserver and kube-controller-manager (see `kube_cluster`);
`admin` is a `kube.Client` as cluster-admin; `scaledobject_crd` registers our ScaledObject CRD.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import kube_cluster
import parts
import pytest

from actuator import kube

# tests/kube holds the object builders and the API server's fault proxy; the fault suite imports
# them by the same module names as the adapter's tests, so both share one discovery cache.
sys.path.insert(0, str(Path(__file__).resolve().parent / "kube"))
import cluster_objects


@pytest.fixture(scope="session")
def control_plane() -> Iterator[kube_cluster.ControlPlane]:
    try:
        with kube_cluster.running(controllers=True) as plane:
            yield plane
    except kube_cluster.UnavailableError as exc:
        parts.missing_part("a Kubernetes control plane", f"{exc}; {kube_cluster.HOW_TO_GET}")


@pytest.fixture(scope="session")
def admin(control_plane: kube_cluster.ControlPlane) -> kube.Client:
    return kube.connect(control_plane.kubeconfig)


@pytest.fixture(scope="session")
def scaledobject_crd(admin: kube.Client) -> None:
    cluster_objects.register_crd(admin.api, cluster_objects.CRD_FILE)
