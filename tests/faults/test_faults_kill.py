"""The daemon killed with SIGKILL mid-tick, then restarted: real `prescale run --once --at`
processes on the rig's real Prometheus, API server and SQLite store (through the proxies).

Two places to die: waiting on Prometheus (the cluster read, nothing decided), and after the
floor was written but while the store is locked (decided and acted on, not yet stored). Either
way the store stays whole, nothing stored before is lost, the restart ticks cleanly, sets the
same targets (no churn) and never lowers the floor.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fault_proxy
import fault_rig
import pytest

NOW = fault_rig.NOW
MINUTE = fault_rig.MINUTE
# How long a test waits for a real process to reach the point where it is killed.
REACH_TIMEOUT_S = 60.0


def prescale_once(config_path: Path, at: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "actuator.cli", "run"),
            *("--config", str(config_path), "--once", "--at", at),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> list[dict[str, Any]]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def wait_until(what: str, reached: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    # a real process on the real clock: poll for the point it must reach
    deadline = time.monotonic() + REACH_TIMEOUT_S
    while not reached():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.05)


def stored_rows(db_path: Path) -> set[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return set(conn.execute("SELECT * FROM decisions"))


@dataclass(frozen=True)
class Case:
    id: str
    # makes the process stop mid-tick; returns when it is there (the process running)
    stall: Callable[[fault_rig.Rig, Path, Callable[[], subprocess.Popen[str]]], Iterator[None]]


def hang_on_prometheus(
    rig: fault_rig.Rig, _db: Path, start: Callable[[], subprocess.Popen[str]]
) -> Iterator[None]:
    rig.prom.release.clear()
    rig.prom.faults = [fault_proxy.Fault.HANG] * 5
    seen = len(rig.prom.requests)
    process = start()
    # the demand query is held: the targets were read, nothing is decided yet
    wait_until("the demand query", lambda: len(rig.prom.requests) > seen, process)
    yield
    rig.prom.faults = []
    rig.prom.release.set()


def lock_the_store_after_the_write(
    rig: fault_rig.Rig, db: Path, start: Callable[[], subprocess.Popen[str]]
) -> Iterator[None]:
    fault_rig.set_floor_as_operator(rig.admin, rig.namespace, rig.workloads[0], 1)
    with fault_rig.sqlite_locked(db):
        process = start()
        # the floor is written back, the decision waits on the lock (5 s busy timeout)
        wait_until("the floor written", lambda: (rig.floor() or 0) > 1, process)
        yield


CASES = [
    Case("waiting_on_prometheus", hang_on_prometheus),
    Case("after_the_write_before_the_store", lock_the_store_after_the_write),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sigkill_mid_tick_then_a_restart_loses_nothing_and_sets_the_same_targets(
    rig: fault_rig.Rig, tmp_path: Path, control_plane: Any, case: Case
) -> None:
    config_path = fault_rig.process_config(rig, tmp_path, control_plane.admin_token)
    # the tick before, in this process, on the same store and cluster (a process start is slow)
    first = fault_rig.targets(rig.tick(NOW + MINUTE))
    floor = rig.floor()
    assert floor == first[rig.workloads[0]]
    before = stored_rows(rig.db_path)
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        started.append(prescale_once(config_path, (NOW + 2 * MINUTE).isoformat()))
        return started[0]

    stall = case.stall(rig, rig.db_path, start)
    next(stall)
    started[0].send_signal(signal.SIGKILL)
    started[0].communicate(timeout=30)
    assert started[0].returncode == -signal.SIGKILL
    next(stall, None)
    assert stored_rows(rig.db_path) >= before  # whole, and nothing stored before is gone
    assert (rig.floor() or 0) >= floor  # nothing lowered
    restarted = finished(prescale_once(config_path, (NOW + 2 * MINUTE).isoformat()))
    assert restarted[0]["targets"] == {"on_demand": first[rig.workloads[0]]}
    assert restarted[0]["outcomes"]["on_demand"] == "unchanged"  # no churn: already in place
    assert rig.floor() == floor
    assert stored_rows(rig.db_path) >= before
