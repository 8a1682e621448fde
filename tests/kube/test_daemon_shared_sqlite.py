"""Two replicas on one node sharing the SQLite volume (deploy/base): two real `prescale run`
processes, one SQLite file, one Lease on the real API server. Only the Lease holder writes
floors; both tick and write the store at the same time without losing a row or corrupting the
file; when the leader is SIGKILLed (no release), the other takes the Lease within the lease
duration and writes the floors.

Processes on one machine share the file through one kernel, as two Pods on one node share a
ReadWriteOnce volume: SQLite's locks hold there (they do not over a network filesystem).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders as b
import kubernetes
import pandas as pd
import yaml

from actuator import kube, trace

LEASE_S = 4  # lease_duration: a standby takes over this long after the last renewal
WAIT_S = 120.0  # real processes on a loaded machine: time to start, tick and take over


def _trace_around_now(path: Path) -> Path:
    """The bundled trace's last 8 days moved so that its second-to-last day is today: real
    processes tick on the real clock, and the trace source serves history up to it."""
    values = trace.load(b.TRACE).values
    part = values[values.index >= values.index[-1] - pd.Timedelta(days=8)]
    shift = pd.Timestamp.now(tz="UTC").floor("min") - (part.index[-1] - pd.Timedelta(days=1))
    frame = pd.DataFrame(
        {"timestamp": (part.index + shift).strftime("%Y-%m-%dT%H:%M:%SZ"), "requests": part}
    )
    frame.to_csv(path, index=False)
    return path


def _config(tmp_path: Path, namespace: str, identity: str, kubeconfig: Path) -> Path:
    data: dict[str, Any] = b.config_data(tmp_path / "prescale.db")
    data["workloads"][0]["source"] = {"trace": str(tmp_path / "trace.csv")}
    data["schedule"]["history"] = "7d"
    data["mode"] = "actuate"
    data["kubernetes"] = {"kubeconfig": str(kubeconfig)}
    data["leader_election"] = {
        "enabled": True,
        "lease_namespace": namespace,
        "identity": identity,
        "lease_duration": f"{LEASE_S}s",
        "renew_deadline": "3s",
        "retry_period": "1s",
    }
    data["schedule"]["tick"] = "2s"
    data["workloads"][0]["targets"]["on_demand"] = {
        "kind": "hpa",
        "namespace": namespace,
        "name": "llama-od",
    }
    data["log_format"] = "json"
    path = tmp_path / f"{identity}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _start(config_path: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESCALE_")}
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "actuator.cli", "run"),
            *("--config", str(config_path), "--port", str(port)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _metric(port: int, name: str, having: str = "") -> float | None:
    """The sum of the samples of `name` whose labels contain `having` (None: not serving)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except (urllib.error.URLError, OSError):
        return None  # not serving (yet, or any more)
    samples = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if (line.startswith(name + " ") or line.startswith(name + "{")) and having in line
    ]
    return sum(samples) if samples else None


def _wait(what: str, done: Callable[[], bool], processes: list[subprocess.Popen[str]]) -> float:
    """Seconds until `done`; the processes must stay alive meanwhile."""
    started = time.monotonic()
    while not done():
        for process in processes:
            assert process.poll() is None, (what, process.communicate())
        assert time.monotonic() - started < WAIT_S, f"never: {what}"
        time.sleep(0.2)  # real processes on the real clock: poll what they serve
    return time.monotonic() - started


def _rows(db: Path) -> set[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return set(conn.execute("SELECT * FROM decisions"))


def _outcomes(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT outcome, count(*) FROM decisions GROUP BY outcome"))


def _floor(admin: kube.Client, namespace: str) -> int:
    autoscaling = kubernetes.client.AutoscalingV2Api(admin.api)
    return int(
        autoscaling.read_namespaced_horizontal_pod_autoscaler(
            "llama-od", namespace
        ).spec.min_replicas
    )


def test_two_processes_on_one_sqlite_file_one_leader_then_the_other_takes_over(
    admin: kube.Client, namespace: str, control_plane: Any, tmp_path: Path
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    db = tmp_path / "prescale.db"
    _trace_around_now(tmp_path / "trace.csv")
    ports = {"a": _free_port(), "b": _free_port()}
    first = _start(_config(tmp_path, namespace, "a", control_plane.kubeconfig), ports["a"])
    processes = [first]
    try:
        _wait("a leads", lambda: _metric(ports["a"], "prescale_leader") == 1.0, processes)
        second = _start(_config(tmp_path, namespace, "b", control_plane.kubeconfig), ports["b"])
        processes.append(second)
        # both tick and write the one file: the leader its floors, the standby its standby rows
        _wait(
            "both store their ticks",
            lambda: (
                {"standby"} <= set(_outcomes(db)) and _metric(ports["b"], "prescale_leader") == 0.0
            ),
            processes,
        )
        assert _metric(ports["a"], "prescale_leader") == 1.0
        _wait("the leader's floor in the HPA", lambda: _floor(admin, namespace) > 1, processes)
        before = _rows(db)
        first.send_signal(signal.SIGKILL)  # no release: b must wait the lease out
        first.communicate(timeout=30)
        processes.remove(first)
        took_s = _wait("b leads", lambda: _metric(ports["b"], "prescale_leader") == 1.0, processes)
        assert took_s <= LEASE_S + 10  # the lease, a retry period, and a loaded machine
        # b decides as the leader now (its own counters), and stores it in the shared file
        _wait(
            "b's ticks as the leader",
            lambda: (
                (_metric(ports["b"], "prescale_decisions_total", 'outcome="applied"') or 0)
                + (_metric(ports["b"], "prescale_decisions_total", 'outcome="unchanged"') or 0)
                > 0
            ),
            processes,
        )
        assert _metric(ports["b"], "prescale_store_pending") == 0.0  # nothing left unstored
        after = _rows(db)
        assert before <= after  # nothing the two wrote together was lost, the file is whole
        assert _floor(admin, namespace) > 1  # the floor was never dropped on the takeover
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        assert "database is locked" not in err
        print(f"b took the Lease {took_s:.1f} s after a was killed; rows {len(after)}")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
