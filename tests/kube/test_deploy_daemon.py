"""The daemon itself with the ServiceAccount's own token: `prescale run --config <the rendered
ConfigMap's config.yaml> --once`, a real process, against the real API server (deploy/ applied)
and the session's real Prometheus (four weeks of vLLM counters backfilled).

Only what differs out of the cluster is overridden, by the `PRESCALE_` variables a Pod could set
too: the kubeconfig holding the token (in a Pod: the mounted token), the Lease namespace (in a
Pod: read from the ServiceAccount mount), Prometheus' address and the store's file. The config's
workload, source, targets, mode and Lease name are the shipped ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cluster_objects
import kubernetes
import manifests
import pytest
import yaml
from prometheus_history import History

from actuator import kube

# A Monday morning inside the backfilled weeks: demand is rising, so the floor is above 1.
AT = "1995-08-28T08:00Z"
RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def shipped_config(deployed: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    configmap = manifests.find(manifests.render(manifests.DEPLOY), "ConfigMap", "prescale-config")
    path = tmp_path_factory.mktemp("configmap") / "config.yaml"
    path.write_text(configmap["data"]["config.yaml"])
    return path


@pytest.fixture(scope="module")
def targets(admin: kube.Client, deployed: str) -> dict[str, Any]:
    """The example workload's targets, as the config names them, in `inference`."""
    workload = yaml.safe_load((manifests.DEPLOY / "base" / "config.yaml").read_text())["workloads"][
        0
    ]
    refs: dict[str, Any] = workload["targets"]
    hpa, keda = refs["on_demand"], refs["spot"]
    cluster_objects.apply(admin.api, cluster_objects.deployment(hpa["namespace"], "llama", 1))
    cluster_objects.apply(
        admin.api, cluster_objects.hpa(hpa["namespace"], hpa["name"], "llama", 1, 64)
    )
    cluster_objects.apply(
        admin.api, cluster_objects.scaled_object(keda["namespace"], keda["name"], "llama", 0, 64)
    )
    return refs


def _run(
    config: Path, env: dict[str, str], *extra: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    prescale = shutil.which("prescale", path=str(Path(sys.executable).parent))
    assert prescale is not None
    done = subprocess.run(
        [prescale, "run", "--config", str(config), "--once", "--at", AT, *extra],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PRESCALE_")} | env,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done, lines


@pytest.fixture
def sa_env(
    sa_kubeconfig: Callable[[str, str, Path], Path],
    prometheus_history: History,
    tmp_path: Path,
) -> dict[str, str]:
    """The variables a run out of the cluster needs, with the ServiceAccount's own token."""
    kubeconfig = sa_kubeconfig("prescale", "prescale", tmp_path / "kubeconfig")
    return {
        "PRESCALE_KUBERNETES__KUBECONFIG": str(kubeconfig),
        "PRESCALE_LEADER_ELECTION__LEASE_NAMESPACE": "prescale",
        "PRESCALE_PROMETHEUS__URL": prometheus_history.url,
        "PRESCALE_STORE": f"sqlite:///{tmp_path / 'prescale.db'}",
        "POD_NAME": "prescale-test-0",
    }


def test_the_daemon_does_its_job_with_its_own_token(
    admin: kube.Client, sa_env: dict[str, str], shipped_config: Path, targets: dict[str, Any]
) -> None:
    env = sa_env
    autoscaling = kubernetes.client.AutoscalingV2Api(admin.api)
    custom = kubernetes.client.CustomObjectsApi(admin.api)
    hpa, keda = targets["on_demand"], targets["spot"]

    def floors() -> tuple[int, int]:
        held = autoscaling.read_namespaced_horizontal_pod_autoscaler(hpa["name"], hpa["namespace"])
        scaled = custom.get_namespaced_custom_object(
            "keda.sh", "v1alpha1", keda["namespace"], "scaledobjects", keda["name"]
        )
        return held.spec.min_replicas, scaled["spec"]["minReplicaCount"]

    before = floors()
    # 1. advisory, as shipped: reads every target and the source, decides, writes nothing.
    advisory, (tick,) = _run(shipped_config, env)
    assert tick["workload"] == "chat-llama-8b"
    assert tick["source_up"] is True
    assert set(tick["outcomes"].values()) == {"advised"}, advisory.stderr[-2000:]
    assert "forbidden" not in advisory.stderr.lower()
    assert floors() == before
    # 2. actuate as a server-side dry run: RBAC and admission pass, nothing changes.
    _, (dry,) = _run(shipped_config, env, "--mode", "actuate", "--dry-run")
    held_before = {"on_demand": before[0], "spot": before[1]}
    changed = {t for t, n in dry["targets"].items() if n != held_before[t]}
    assert changed, "the tick decided a floor other than the one held"
    assert {dry["outcomes"][t] for t in changed} == {"dry_run"}
    assert floors() == before
    # 3. actuate: the floors the tick decided are held by the HPA and the ScaledObject.
    _, (live,) = _run(shipped_config, env, "--mode", "actuate")
    assert "failed" not in live["outcomes"].values()
    assert floors() == (live["targets"]["on_demand"], live["targets"]["spot"])
    # The Lease was taken in prescale's namespace and given back at exit.
    held = kubernetes.client.CoordinationV1Api(admin.api).read_namespaced_lease(
        "prescale", "prescale"
    )
    assert held.spec.holder_identity in {None, ""}
    print(f"floors before {before}, advisory {tick['targets']}, after actuate {floors()}")
