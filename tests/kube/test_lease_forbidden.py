"""A Lease prescale's ServiceAccount may not use: RBAC's real 403 from the API server must not
pass for a standby. The elector logs an error naming the Lease, the verb and the Role to fix,
/readyz says not ready with the same words, and `prescale run --once` exits 1.

The ServiceAccount here may read and write its targets (a Role in the test's namespace) but is
granted on leases only what each test says.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import pytest
import yaml

from actuator import cli, clock, config, kube, lease, service

NOON = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)
ACCOUNT = "prescale"


def _role(name: str, namespace: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": rules,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": namespace}],
    }
    return [role, binding]


TARGET_RULES = [
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["patch"]},
    {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "patch"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
]


def grant_leases(admin: kube.Client, namespace: str, verbs: list[str]) -> None:
    rules = [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": verbs}]
    for obj in _role("leases", namespace, rules):
        cluster_objects.apply(admin.api, obj)


@pytest.fixture
def account(
    admin: kube.Client,
    namespace: str,
    sa_kubeconfig: Callable[[str, str, Path], Path],
    tmp_path: Path,
) -> Path:
    """A kubeconfig with the token of a ServiceAccount that may drive the HPA `llama-od` in the
    namespace and nothing else."""
    cluster_objects.apply(
        admin.api,
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": ACCOUNT, "namespace": namespace},
        },
    )
    for obj in _role("targets", namespace, TARGET_RULES):
        cluster_objects.apply(admin.api, obj)
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    return sa_kubeconfig(namespace, ACCOUNT, tmp_path / "kubeconfig")


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "grant", [([], "get"), (["get"], "create")], ids=["nothing-so-get", "get-only-so-create"]
)
def test_a_forbidden_lease_is_an_error_naming_the_lease_the_verb_and_the_fix(
    admin: kube.Client,
    namespace: str,
    account: Path,
    caplog: pytest.LogCaptureFixture,
    grant: tuple[list[str], str],
) -> None:
    """`grant`: the verbs on leases granted, and the verb the API server then refuses first."""
    granted, verb = grant
    if granted:
        grant_leases(admin, namespace, granted)
    now = lambda: NOON  # noqa: E731
    elector = lease.Elector(
        kube.connect(account), lease.LeaseSettings(namespace, "prescale", "prescale-0"), now
    )
    assert not elector.tick()
    assert not elector.is_leader()
    (message,) = _errors(caplog)
    assert message.startswith(f"lease {namespace}/prescale: forbidden to {verb} it (")
    assert (
        f"grant get, create and update on leases prescale in namespace {namespace} to "
        "prescale's ServiceAccount (deploy/base/role-leader-election.yaml: Role "
        "prescale-leader-election" in message
    )
    assert elector.problem() == message
    assert not elector.tick()
    assert len(_errors(caplog)) == 1, "said once, not every retry period"
    # granted: the next tick leads and the problem is gone
    grant_leases(admin, namespace, ["get", "create", "update"])
    assert elector.tick()
    assert elector.problem() is None


def _settings(tmp_path: Path, namespace: str, kubeconfig: Path) -> config.Config:
    data: dict[str, Any] = b.config_data(tmp_path / "prescale.db")
    data["mode"] = "actuate"
    data["kubernetes"] = {"kubeconfig": str(kubeconfig)}
    data["leader_election"] = {"enabled": True, "lease_namespace": namespace}
    data["workloads"][0]["targets"]["on_demand"] = {
        "kind": "hpa",
        "namespace": namespace,
        "name": "llama-od",
    }
    path = tmp_path / "prescale.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config.load(path)


def _readyz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_readyz_says_the_lease_is_forbidden(namespace: str, account: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path, namespace, account)
    core, db = service.restorer(settings)()
    served = service.Service.of(settings, core, db, clock.ManualClock(NOON))
    served.server.start()
    try:
        core.renew_lease_now()
        report = served.tick(NOON)
        assert report.workloads[0].decisions[0].outcome.value == "standby"
        status, body = _readyz(served.server.port)
        assert status == 503
        assert body.startswith(f"lease {namespace}/prescale: forbidden to get it (")
        assert "role-leader-election.yaml" in body
    finally:
        served.server.close()


def test_once_exits_1_when_the_lease_is_forbidden(
    namespace: str, account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prescale.yaml"
    _settings(tmp_path, namespace, account)  # writes the file
    code = cli.main(["run", "--config", str(path), "--once", "--at", "1995-08-28T09:00Z"])
    out, err = capsys.readouterr()
    (line,) = [json.loads(text) for text in out.splitlines()]
    assert line["outcomes"] == {"on_demand": "standby"}
    assert code == 1
    assert f"prescale: error: lease {namespace}/prescale: forbidden to get it (" in err
