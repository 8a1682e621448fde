"""The store down when the daemon starts: PostgreSQL stopped (pg_ctl, for real), PostgreSQL
behind a proxy that refuses connections, the SQLite volume not mounted yet.

The process must start anyway: /healthz answers 200, /readyz 503 with the reason, nothing is
written to a target while the store has not answered (the kube proxy sees every request), the
start is retried, and once the store answers the daemon carries on by itself from the state it
restored: the same targets as before the outage, and every decision stored before is still
there, with the ones made since.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fault_rig
import postgres_server
import tcp_proxy

from actuator import clock, daemon, service, store

NOW = fault_rig.NOW
MINUTE = fault_rig.MINUTE
# How long the process test waits for the real process to reach a state (its start is slow on a
# shared machine; the retries are 1, 2, 4 s apart).
REACH_TIMEOUT_S = 90.0
WRITES = ("PATCH", "PUT", "POST", "DELETE")


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def target_writes(rig: fault_rig.Rig) -> list[tuple[str, str]]:
    """Every request through the kube proxy that could change an object."""
    return [(m, p) for m, p in rig.kube.seen if m in WRITES]


def decisions(url: str, rig: fault_rig.Rig) -> set[tuple[Any, ...]]:
    """The stored decisions, read on a connection of its own."""
    db = store.Store.connect(url)
    return {
        (r.capacity_type, r.target_replicas, r.reason, r.outcome, r.decided_at)
        for r in db.decisions(rig.workloads[0], fault_rig.START)
    }


def before_the_outage(rig: fault_rig.Rig) -> dict[str, int]:
    """Two ticks with the store up: the floor written, then held (the targets to come back to)."""
    rig.tick(NOW)
    second = rig.tick(NOW + MINUTE)
    assert fault_rig.first(second).outcome is daemon.Outcome.UNCHANGED
    targets = fault_rig.targets(second)
    assert rig.floor() == targets[rig.workloads[0]]
    return targets


def started_through_an_outage(
    rig: fault_rig.Rig, url: str, down: Callable[[], object], up: Callable[[], object]
) -> None:
    """The service, on a manual clock and driven by hand, starting while the store is down."""
    before = before_the_outage(rig)
    stored = decisions(url, rig)
    down()
    writes = len(target_writes(rig))
    now = clock.ManualClock(NOW + 2 * MINUTE)

    def restore() -> tuple[daemon.Daemon, store.Store]:
        db = store.Store.connect(url, busy_timeout_s=fault_rig.STORE_BUSY_TIMEOUT_S)
        return rig.new_daemon(db=db), db

    running = service.Service(rig.settings, restore, now)
    running.server.start()
    port = running.server.port
    try:
        assert not running.try_start()
        assert not running.try_start()
        assert get(port, "/healthz") == (200, "ok\n")
        status, reason = get(port, "/readyz")
        assert status == 503 and reason.startswith("store unavailable after 2 attempt(s)")
        assert "prescale_started 0.0" in get(port, "/metrics")[1]
        waiting = json.loads(get(port, f"/api/v1/plan/{rig.workloads[0]}")[1])
        assert "targets" not in waiting and waiting["starting"] == reason.strip()
        assert len(target_writes(rig)) == writes  # nothing written while the store was down
        assert rig.floor() == before[rig.workloads[0]]
        up()
        assert running.try_start()
        assert "prescale_started 1.0" in get(port, "/metrics")[1]
        after = running.tick(now.now())
        rig.ledger.add(after)
        assert fault_rig.targets(after) == before
        assert fault_rig.first(after).outcome is daemon.Outcome.UNCHANGED
        assert get(port, "/readyz") == (200, "ok\n")
        assert rig.floor() == before[rig.workloads[0]]
        assert decisions(url, rig) >= stored
        assert rig.ledger.lost(store.Store.connect(url)) == []
    finally:
        running.stop()


def test_a_start_with_postgresql_stopped_waits_for_it_and_restores_the_state(
    rigs: Callable[..., fault_rig.Rig], own_postgres: postgres_server.Cluster
) -> None:
    rig = rigs(1, store_url=own_postgres.url)
    started_through_an_outage(rig, own_postgres.url, own_postgres.stop, own_postgres.start)


def test_a_start_with_postgresql_refusing_connections_waits_for_it(
    rigs: Callable[..., fault_rig.Rig], pg_line: tuple[tcp_proxy.Proxy, str]
) -> None:
    line, url = pg_line
    rig = rigs(1, store_url=url)
    started_through_an_outage(rig, url, line.cut, line.restore)


def test_a_start_before_the_sqlite_volume_is_mounted_waits_for_it(
    rigs: Callable[..., fault_rig.Rig], warm_db: Path, tmp_path: Path
) -> None:
    """The volume's directory is not there yet: SQLite cannot open the file (and must not make
    a new, empty one, which would lose the state)."""
    volume = tmp_path / "volume"
    volume.mkdir()
    shutil.copy(warm_db, volume / "prescale.db")
    url = f"sqlite:///{volume / 'prescale.db'}"
    rig = rigs(1, store_url=url)
    unmounted = tmp_path / "unmounted"
    started_through_an_outage(
        rig, url, lambda: volume.rename(unmounted), lambda: unmounted.rename(volume)
    )


def wait_for(what: str, reached: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    # a real process on the real clock: poll for the state it must reach
    deadline = time.monotonic() + REACH_TIMEOUT_S
    while not reached():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.2)


def answered(port: int, path: str) -> tuple[int, str] | None:
    try:
        return get(port, path)
    except OSError:
        return None  # not listening yet


def test_the_process_started_with_postgresql_stopped_runs_on_when_it_starts(
    rigs: Callable[..., fault_rig.Rig],
    own_postgres: postgres_server.Cluster,
    tmp_path: Path,
    control_plane: Any,
) -> None:
    """`prescale run` itself, on the wall clock: it must not exit while PostgreSQL is stopped,
    and once PostgreSQL is started it ticks on the state it restored (the wall clock is past
    the rig's history, so the tick holds that state: `demand_missing`, nothing written)."""
    rig = rigs(1, store_url=own_postgres.url)
    before = before_the_outage(rig)
    stored = decisions(own_postgres.url, rig)
    own_postgres.stop()
    writes = len(target_writes(rig))
    with socket.socket() as sock:  # a free loopback port for the process to serve on
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config_path = fault_rig.process_config(rig, tmp_path, control_plane.admin_token, port)
    process = subprocess.Popen(
        [sys.executable, "-m", "actuator.cli", "run", "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for("/healthz", lambda: answered(port, "/healthz") == (200, "ok\n"), process)
        wait_for(
            "a second start attempt",
            lambda: "after 2 attempt(s)" in (answered(port, "/readyz") or (0, ""))[1],
            process,
        )
        assert get(port, "/readyz")[0] == 503
        assert len(target_writes(rig)) == writes
        own_postgres.start()
        wait_for("/readyz", lambda: answered(port, "/readyz") == (200, "ok\n"), process)
        plan = json.loads(get(port, f"/api/v1/plan/{rig.workloads[0]}")[1])
        assert plan["targets"] == {"on_demand": before[rig.workloads[0]]}
        assert plan["reasons"] == {"on_demand": daemon.DEMAND_MISSING}
        assert len(target_writes(rig)) == writes  # held: nothing to write
        assert rig.floor() == before[rig.workloads[0]]
        now_stored = decisions(own_postgres.url, rig)
        assert now_stored > stored  # the held decision, after every earlier one
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            _, err = process.communicate()
            print(err[-6000:])  # shown when the test failed: the process's last log lines
