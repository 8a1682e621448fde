"""Nonsense refused or flagged, not planned: inputs that parse but would plan something no one
asked for (an infinite need as one replica, tokens counted as requests, a reservation from no
history, a week of peak capacity from one absurd minute)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import bad_input_run as r
import pandas as pd
import pytest
import yaml

BASE = yaml.safe_load(r.VALID_WORKLOAD)


def _workload(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "w.yaml"
    data = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    path.write_text(yaml.safe_dump(data))
    return path


def _trace(tmp_path: Path, rows: list[tuple[str, float]], header: str = "requests") -> Path:
    path = tmp_path / "t.csv"
    path.write_text(f"timestamp,{header}\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


def _minutes(count: int, value: float = 100.0) -> list[tuple[str, float]]:
    stamps = pd.date_range("2024-01-01", periods=count, freq="min", tz="UTC")
    return [(s.strftime("%Y-%m-%dT%H:%M:%SZ"), value) for s in stamps]


REFUSED = [
    pytest.param(
        {"capacity_per_replica": 1e-9},
        [
            "capacity_per_replica (1e-09 concurrency) makes workload chat's forecast peak need",
            "more than 100 times max_replicas (64)",
            "check capacity_per_replica's unit",
        ],
        id="capacity-so-small-the-need-is-absurd",
    ),
    pytest.param(
        {
            "capacity_per_replica": None,
            "unit": "kv_tokens",
            "model": {"layers": 80, "kv_heads": 8, "head_dim": 128, "params_billion": 405},
        },
        [
            "capacity_per_replica (0 kv_tokens) leaves workload chat no capacity per replica",
            "weights fill the 1 x 80 GiB",
            "or a smaller model",
        ],
        id="weights-do-not-fit",
    ),
]


@pytest.mark.parametrize(("changes", "expect"), REFUSED)
def test_nonsense_is_refused(
    changes: dict[str, object],
    expect: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trace = r.day_trace(tmp_path / "t.csv")
    workload = _workload(tmp_path, **changes)
    outcome = r.run(["plan", "--trace", str(trace), "--workload", str(workload)], capsys)
    r.refused(outcome, expect)


def test_a_token_column_is_not_read_as_requests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "timestamp,requests,prompt_tokens\n"
        + "".join(f"2024-01-01T00:{m:02d}:00Z,5,2500\n" for m in range(30))
    )
    workload = _workload(tmp_path)
    argv = ["plan", "--trace", str(path), "--workload", str(workload), "--column", "prompt_tokens"]
    r.refused(
        r.run(argv, capsys),
        [
            "--column ('prompt_tokens') holds token counts",
            "would take every token for a request",
            "pass --column requests",
        ],
    )


FLAGGED = [
    pytest.param(
        _minutes(1440, 0.0), "is all zero: too little to commit to reserved capacity", id="all-zero"
    ),
    pytest.param(_minutes(1), "has 1 interval(s) of data (1m): too little to commit", id="one-row"),
    pytest.param(_minutes(120), "has 120 interval(s) of data (2h)", id="two-hours"),
]


@pytest.mark.parametrize(("rows", "warning"), FLAGGED)
def test_no_reservation_from_no_history(
    rows: list[tuple[str, float]], warning: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """min_replicas 1 is needed every minute, so a reservation would be planned from nothing:
    instead the plan says why and reserves none."""
    trace = _trace(tmp_path, rows)
    workload = _workload(tmp_path)
    argv = ["plan", "--trace", str(trace), "--workload", str(workload), "--format", "json"]
    outcome = r.run(argv, capsys)
    assert outcome.code == 0, outcome.err
    assert warning in outcome.err
    assert "workload chat is planned without reservations" in outcome.err
    assert json.loads(outcome.out)["workloads"][0]["reserved_base"] == 0


def test_one_absurd_minute_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _minutes(2 * 1440)
    rows[700] = (rows[700][0], 1_000_000.0)
    trace = _trace(tmp_path, rows)
    workload = _workload(tmp_path, max_replicas=10_000)
    outcome = r.run(["plan", "--trace", str(trace), "--workload", str(workload)], capsys)
    assert outcome.code == 0, outcome.err
    assert "requests at 2024-01-01T11:40:00Z (1,000,000 per 60 s) is 10,000 times" in outcome.err
    assert "drop or clip that row" in outcome.err


def test_a_horizon_past_the_history_is_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = r.day_trace(tmp_path / "t.csv")
    outcome = r.run(["forecast", "--trace", str(trace), "--horizon", "3d"], capsys)
    assert outcome.code == 0, outcome.err
    assert "--horizon (3d) is longer than the history (1d)" in outcome.err


def _five_minutes(days: int, value_of: Callable[[int], float]) -> list[tuple[str, float]]:
    stamps = pd.date_range("2024-01-01", periods=days * 288, freq="5min", tz="UTC")
    return [(s.strftime("%Y-%m-%dT%H:%M:%SZ"), value_of(i)) for i, s in enumerate(stamps)]


@pytest.mark.parametrize(
    "value_of",
    [
        pytest.param(lambda i: 0.0, id="three-weeks-of-zero"),
        # a service launched three days ago: its week before the last carries no traffic
        pytest.param(lambda i: 0.0 if i < 18 * 288 else 300.0 + i % 288, id="launched-last-week"),
    ],
)
def test_a_week_before_without_traffic_is_planned(
    value_of: Callable[[int], float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = _trace(tmp_path, _five_minutes(21, value_of))
    workload = _workload(tmp_path)
    argv = ["plan", "--trace", str(trace), "--workload", str(workload), "--format", "json"]
    outcome = r.run(argv, capsys)
    assert outcome.code == 0, outcome.err
    planned = json.loads(outcome.out)["workloads"][0]
    assert planned["replicas"]["total"]["peak"] >= 1
