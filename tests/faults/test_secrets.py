"""Secrets never reach what prescale writes: real `prescale` processes run with known secret
values (the Prometheus bearer token and a tenant header, the store's database password, the
API token, the Kubernetes token) on the rig's real Prometheus, API server and a PostgreSQL that
checks the password, through faults that make them log errors; then everything they wrote is
searched for those values: stdout and stderr of `check-config`, two `run --once` ticks and a
serving `run`, every HTTP response (body and headers) of every endpoint, every row of every
table of the store, and every file they left (crash logs included).

Each secret is also shown to have been used, so that a search finding nothing means something:
Prometheus saw the bearer token and the header, the store answered only to the password, the
API answered 200 only with the token, and the targets were read with the Kubernetes token.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fault_proxy
import fault_rig
import postgres_server
import prometheus_server
import pytest
import sqlalchemy as sa
import yaml

NOW = fault_rig.NOW
MINUTE = fault_rig.MINUTE
# A serving daemon answers its probes within this on a loaded machine.
SERVE_TIMEOUT_S = 120.0
ENDPOINTS = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/plan",
    "/api/v1/plan/w00",
    "/api/v1/decisions?limit=50",
    "/report",
)


def _secret(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def _run(args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actuator.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=env["HOME"],  # anything written to the working directory is searched too
        timeout=300,
        check=False,
    )


def _get(port: int, path: str, token: str | None) -> tuple[int, str]:
    """Status and everything the server sent (headers and body) for one request."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, str(response.headers) + response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.headers) + exc.read().decode()


def _store_dump(url: str) -> str:
    """Every row of every table of the store, every column, as text."""
    engine = sa.create_engine(url)
    try:
        tables = sa.MetaData()
        tables.reflect(engine)
        with engine.connect() as conn:
            rows = [
                repr(tuple(row))
                for table in tables.sorted_tables
                for row in conn.execute(table.select())
            ]
    finally:
        engine.dispose()
    assert "decisions" in tables.tables
    dump = "\n".join(rows)
    assert "w00" in dump  # the rows' columns were read, not only counted
    return dump


def _serve(config_path: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "actuator.cli", "run"),
            *("--config", str(config_path), "--port", str(port)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=env["HOME"],
    )


def _wait_serving(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    while True:
        assert process.poll() is None, process.communicate()
        try:
            if _get(port, "/healthz", None)[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        assert time.monotonic() < deadline, "the daemon never served /healthz"
        time.sleep(0.2)  # a real process on the real clock: poll until it listens


def test_known_secrets_appear_nowhere_the_daemon_wrote(
    rig: fault_rig.Rig,
    own_postgres: postgres_server.Cluster,
    control_plane: Any,
    tmp_path: Path,
) -> None:
    prom_token, tenant, db_password, api_token = (
        _secret(k) for k in ("prom", "tenant", "db", "api")
    )
    kube_token = control_plane.admin_token
    secrets = {
        "prometheus token": prom_token,
        "tenant header": tenant,
        "database password": db_password,
        "api token": api_token,
        "kubernetes token": kube_token,
    }
    store_url = own_postgres.add_password_role("prescale_app", db_password)
    wrong = sa.engine.make_url(store_url).set(password="not-it")
    with pytest.raises(sa.exc.OperationalError):  # the server checks the password
        sa.create_engine(wrong).connect().close()

    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    (secret_dir / "prometheus-token").write_text(prom_token + "\n", encoding="utf-8")
    (secret_dir / "api-token").write_text(api_token + "\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    config_path = fault_rig.process_config(rig, secret_dir, kube_token)
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data["store"] = store_url
    data["prometheus"].update(
        bearer_token_file=str(secret_dir / "prometheus-token"),
        headers={"X-Scope-OrgID": tenant},
    )
    data["http"]["api_token_file"] = str(secret_dir / "api-token")
    config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESCALE_")}
    env["XDG_STATE_HOME"] = str(out_dir / "state")  # crash logs land here, if any
    env["HOME"] = str(out_dir)
    written: list[str] = []

    checked = _run(["check-config", str(config_path)], env)
    assert checked.returncode == 0, checked.stderr
    written += [checked.stdout, checked.stderr]
    at = (NOW + MINUTE).isoformat()
    ticked = _run(["run", "--config", str(config_path), "--once", "--at", at], env)
    assert ticked.returncode == 0, ticked.stderr
    written += [ticked.stdout, ticked.stderr]
    # Prometheus failing: the errors name the server and the query, never the token
    rig.prom.faults = [fault_proxy.Fault.STATUS_503, fault_proxy.Fault.HTML_200] * 4
    at = (NOW + 2 * MINUTE).isoformat()
    failed = _run(["run", "--config", str(config_path), "--once", "--at", at], env)
    rig.prom.faults = []
    written += [failed.stdout, failed.stderr]
    assert failed.returncode == 0, failed.stderr

    # serving on the real clock: its history query finds no recent data, which it logs
    port = prometheus_server.conftest.free_port()  # tests/conftest.py (this folder has its own)
    served = _serve(config_path, port, env)
    try:
        _wait_serving(port, served)
        statuses = {}
        for path in ENDPOINTS:
            for token in (None, "wrong-token", api_token):
                status, text = _get(port, path, token)
                statuses[path, token] = status
                written.append(text)
        served.send_signal(signal.SIGTERM)
        out, err = served.communicate(timeout=60)
        written += [out, err]
        assert served.returncode == 0, err
    finally:
        if served.poll() is None:
            served.kill()
            served.communicate()
    assert statuses["/api/v1/plan/w00", None] == 401
    assert statuses["/api/v1/plan/w00", "wrong-token"] == 401
    assert statuses["/api/v1/plan/w00", api_token] == 200
    assert statuses["/report", api_token] == 200
    assert statuses["/metrics", None] == 200

    written.append(_store_dump(store_url))
    # every file the processes left (their home, state and working directory); the inputs
    # (secret files, config, kubeconfig) are in secret_dir
    written += [
        p.read_text(encoding="utf-8", errors="replace") for p in out_dir.rglob("*") if p.is_file()
    ]

    # the secrets were used: found nowhere means kept, not unused
    sent = [r.headers for r in rig.prom.requests]
    assert any(h.get("Authorization") == f"Bearer {prom_token}" for h in sent)
    assert any(h.get("X-Scope-OrgID") == tenant for h in sent)
    everything = "\n".join(written)
    assert "w00" in everything  # the search reads real output
    leaked = [name for name, value in secrets.items() if value in everything]
    assert leaked == []
