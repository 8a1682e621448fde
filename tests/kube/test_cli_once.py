"""`prescale run --once` against the real API server: its exit code says whether the tick did
its job, so a CronJob alerts when a write failed. Faults come from the server itself (a target
that does not exist) or from the proxy at the wire (a 403 on the patch)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kube_cluster
import kube_proxy
import pytest
import yaml

from actuator import cli, kube

AT = "1995-08-28T09:00Z"  # the Monday rise: the floor decided is above the HPA's 1


Once = Callable[[Path, str], tuple[int, dict[str, Any], str]]


@pytest.fixture
def once(tmp_path: Path, namespace: str, capsys: pytest.CaptureFixture[str]) -> Once:
    """One actuate tick through the CLI, on a kubeconfig, writing the HPA named; (exit code,
    its line, stderr)."""

    def run(kubeconfig: Path, hpa: str) -> tuple[int, dict[str, Any], str]:
        data: dict[str, Any] = b.config_data(tmp_path / "prescale.db")
        data["mode"] = "actuate"
        data["kubernetes"] = {"kubeconfig": str(kubeconfig)}
        data["workloads"][0]["targets"]["on_demand"] = {
            "kind": "hpa",
            "namespace": namespace,
            "name": hpa,
        }
        path = tmp_path / "prescale.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        code = cli.main(["run", "--config", str(path), "--once", "--at", AT])
        out, err = capsys.readouterr()
        (line,) = [json.loads(text) for text in out.splitlines()]
        return code, line, err

    return run


@pytest.fixture
def llama(admin: kube.Client, namespace: str) -> str:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    return "llama-od"


def test_a_written_floor_exits_0(
    once: Once, llama: str, control_plane: kube_cluster.ControlPlane
) -> None:
    code, line, err = once(control_plane.kubeconfig, llama)
    assert (code, line["outcomes"]) == (0, {"on_demand": "applied"}), err[-2000:]
    assert "failed to write" not in err


def test_a_missing_target_exits_1_saying_how_many_failed(
    once: Once, namespace: str, control_plane: kube_cluster.ControlPlane
) -> None:
    code, line, err = once(control_plane.kubeconfig, "no-such-hpa")
    assert line["outcomes"] == {"on_demand": "failed"}
    assert code == 1
    (summary,) = [text for text in err.splitlines() if text.startswith("prescale:")]
    assert summary.startswith(
        f"prescale: 1 of 1 target(s) failed to write (hpa:{namespace}/no-such-hpa)"
    )
    assert '"outcomes"' in summary


def test_a_forbidden_patch_exits_1(
    once: Once,
    llama: str,
    proxy: kube_proxy.Proxy,
    control_plane: kube_cluster.ControlPlane,
    tmp_path: Path,
) -> None:
    proxy.inject(kube_proxy.Fault("PATCH", "/horizontalpodautoscalers/", status=403))
    kubeconfig = proxy.kubeconfig(tmp_path / "kubeconfig", control_plane.admin_token)
    code, line, err = once(kubeconfig, llama)
    assert line["outcomes"] == {"on_demand": "failed"}
    assert code == 1
    assert "1 of 1 target(s) failed to write" in err


def test_the_help_says_when_once_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "exit 1 when a write of the tick failed" in text
    assert "the exit code is 1 when any write of the tick failed" in text
