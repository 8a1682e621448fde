"""Test support: deploy/ rendered and applied by kubectl, the way the README tells a user to.

kubectl carries kustomize (`kubectl kustomize`, `kubectl apply -k`); the machine image ships it
(kubectl with kustomize v5). `render` returns the documents `kubectl kustomize` prints;
`compose` writes a throwaway kustomization that stacks an overlay and components, as a user's
own would; `apply` runs `kubectl apply --server-side -k` against a control plane. A missing or too
old kubectl raises `UnavailableError` (a fixture turns it into `parts.missing_part`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cluster_objects
import kube_cluster
import yaml

DEPLOY = cluster_objects.REPO / "deploy"
ACTUATE = DEPLOY / "overlays" / "actuate"
POSTGRES = DEPLOY / "overlays" / "postgres"
# The namespace deploy/base's RoleBinding gives prescale, and one it was not given.
TARGETS = "inference"
OTHER = "billing"
SERVICEMONITOR_CRD = Path(__file__).parent / "crds" / "servicemonitor.yaml"
# `components` and `patches` (what the overlays use) arrived in kustomize v3.7 and v3.8.
KUSTOMIZE_MIN_MAJOR = 4
HOW_TO_GET = "install kubectl 1.21 or newer (it carries kustomize v4+) and put it on PATH"
KUBECTL_TIMEOUT_S = 60


class UnavailableError(Exception):
    """No kubectl with a recent enough kustomize on this machine."""


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise UnavailableError(f"kubectl is not on PATH; {HOW_TO_GET}")
    done = subprocess.run(
        [found, "version", "--client"],
        capture_output=True,
        text=True,
        check=False,
        timeout=KUBECTL_TIMEOUT_S,
    )
    version = re.search(r"Kustomize Version: v(\d+)\.", done.stdout)
    if version is None or int(version.group(1)) < KUSTOMIZE_MIN_MAJOR:
        raise UnavailableError(f"{found} carries no kustomize v4+ ({done.stdout.strip()!r})")
    return found


def _run(*args: str, kubeconfig: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    done = subprocess.run(
        [kubectl(), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=KUBECTL_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def render(path: Path) -> list[dict[str, Any]]:
    """The documents `kubectl kustomize PATH` prints."""
    return [doc for doc in yaml.safe_load_all(_run("kustomize", str(path))) if doc]


def compose(folder: Path, resources: list[Path], components: list[Path]) -> Path:
    """A user's own kustomization in `folder` stacking `resources` and `components` (kustomize
    takes only relative paths to other kustomizations)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(p, folder) for p in resources],
                "components": [os.path.relpath(p, folder) for p in components],
            }
        )
    )
    return folder


def apply(plane: kube_cluster.ControlPlane, path: Path) -> str:
    """`kubectl apply --server-side -k PATH` as cluster-admin, under the field manager a GitOps
    tool would use; returns what kubectl printed."""
    return _run(
        *("apply", "--server-side", "--force-conflicts"),
        *("--field-manager", cluster_objects.OWNER, "-k", str(path)),
        kubeconfig=plane.kubeconfig,
    )


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one rendered document of `kind` (and `name`, when given)."""
    found = [
        d
        for d in docs
        if d["kind"] == kind and (name is None or d["metadata"]["name"].startswith(name))
    ]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''} in the rendered manifests"
    return found[0]
