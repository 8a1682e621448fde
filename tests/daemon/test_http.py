"""The daemon's HTTP server on a loopback port, read with a real HTTP client."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import daemon_builders as b
import pytest
import yaml

from actuator import clock, service

NOON = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)
TOKEN = "t0ken-for-tests-only"


def get(port: int, path: str, token: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[service.Service, clock.ManualClock]]:
    """A service whose jobs are driven by hand on a manual clock; the HTTP server is real."""
    token_file = tmp_path / "api-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    data = b.config_data(tmp_path / "prescale.db")
    data["http"] = {"listen": "127.0.0.1", "port": 0, "api_token_file": str(token_file)}
    core, db = b.build(data)
    now = clock.ManualClock(NOON)
    served = service.Service.of(core.settings, core, db, now)
    served.server.start()
    try:
        yield served, now
    finally:
        served.server.close()


def test_probes_follow_the_ticks(running: tuple[service.Service, clock.ManualClock]) -> None:
    served, now = running
    port = served.server.port
    assert get(port, "/healthz")[0] == 200
    assert get(port, "/readyz")[0] == 503  # no tick yet
    served.tick(now.now())
    assert get(port, "/readyz")[0] == 200
    now.advance(4 * 60)  # three ticks missed
    assert get(port, "/readyz")[0] == 503


def test_metrics_export_floor_targets_forecast_demand_lead_time_and_reasons(
    running: tuple[service.Service, clock.ManualClock],
) -> None:
    served, now = running
    for _ in range(3):
        served.tick(now.now())
        now.advance(60)
    status, kind, text = get(served.server.port, "/metrics")
    assert status == 200 and kind.startswith("text/plain")
    report = served.core.last_report
    assert report is not None
    (ticked,) = report.workloads
    (decision,) = ticked.decisions
    expected = [
        f'prescale_floor_replicas{{workload="chat"}} {float(ticked.floor or 0)}',
        f'prescale_target_replicas{{capacity_type="on_demand",workload="chat"}} '
        f"{float(decision.replicas)}",
        'prescale_forecast_demand{quantile="p90",workload="chat"}',
        f'prescale_observed_demand{{workload="chat"}} {ticked.observed_demand}',
        'prescale_lead_time_seconds{source="spec_fallback",workload="chat"} 600.0',
        f'prescale_decisions_total{{outcome="exported",reason="{decision.reason}",'
        'workload="chat"}',
        'prescale_last_refit_age_seconds{workload="chat"} 120.0',
        'prescale_source_up{workload="chat"} 1.0',
        "prescale_tick_duration_seconds ",
        "prescale_leader 1.0",
    ]
    for line in expected:
        assert line in text, line
    assert TOKEN not in text


def test_the_api_and_report_need_the_token_and_serve_json_and_html(
    running: tuple[service.Service, clock.ManualClock],
) -> None:
    served, now = running
    served.tick(now.now())
    port = served.server.port
    assert get(port, "/api/v1/plan")[0] == 401
    assert get(port, "/api/v1/plan", token="wrong")[0] == 401
    assert get(port, "/report")[0] == 401
    status, kind, body = get(port, "/api/v1/plan/chat", token=TOKEN)
    assert status == 200 and kind == "application/json"
    plan = json.loads(body)
    report = served.core.last_report
    assert report is not None
    assert plan["targets"] == {"on_demand": report.workloads[0].decisions[0].replicas}
    assert plan["floors_ahead"][0] == report.workloads[0].floor
    assert len(plan["floors_ahead"]) == service.PLAN_AHEAD_MINUTES
    status, _, body = get(port, "/api/v1/decisions?limit=5", token=TOKEN)
    assert status == 200
    assert json.loads(body)["decisions"][0]["workload"] == "chat"
    assert get(port, "/api/v1/decisions?limit=-1", token=TOKEN)[0] == 400
    assert get(port, "/api/v1/plan/nobody", token=TOKEN)[0] == 404
    status, kind, page = get(port, "/report", token=TOKEN)
    assert status == 200 and kind.startswith("text/html")
    assert "chat" in page and TOKEN not in page


def test_sigterm_finishes_the_tick_and_exits_0(tmp_path: Path) -> None:
    """The real process: `prescale run` ticks (the store shows it), then SIGTERM stops it."""
    data = b.config_data(tmp_path / "prescale.db")
    config_path = tmp_path / "prescale.yaml"
    config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESCALE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "actuator.cli", "run", "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _has_decisions(tmp_path / "prescale.db"):
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)  # a real process on the real clock: poll its store for the tick
        assert _has_decisions(tmp_path / "prescale.db")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "prescale: stopped" in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _has_decisions(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with sqlite3.connect(path) as conn:
            return bool(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])
    except sqlite3.OperationalError:
        return False  # the migrations have not created the table yet
