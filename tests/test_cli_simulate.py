"""`prescale simulate` end to end on a small synthetic trace written to a temporary file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actuator import cli
from actuator.commands import simulate as simulate_command
from planner import simulate

MINUTES_PER_DAY = 1440


def write_trace(path: Path, days: int = 4, seed: int = 5) -> Path:
    """A daily cycle (60-300 requests/min, peak at 14:00 UTC) with Poisson noise."""
    minutes = np.arange(days * MINUTES_PER_DAY)
    hour = (minutes % MINUTES_PER_DAY) / 60.0
    rate = 180.0 - 120.0 * np.cos(2 * np.pi * (hour - 2.0) / 24.0)
    counts = np.random.default_rng(seed).poisson(rate)
    stamps = pd.date_range("2026-01-05", periods=minutes.size, freq="min", tz="UTC")
    frame = pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "requests": counts})
    frame.to_csv(path, index=False)
    return path


def write_workload(path: Path, **extra: str) -> Path:
    lines = [
        "name: toy-chat",
        "kind: llm",
        "unit: concurrency",
        "gpu: L4",
        "capacity_per_replica: 10",
        "target_utilization: 0.8",
        "min_replicas: 1",
        "max_replicas: 40",
        "lead_time: 5m",
        "request: {prompt_tokens: 400, completion_tokens: 200, ttft_s: 0.4, itl_s: 0.02}",
        "capacity_types: [reserved, spot, on_demand]",
        "spot_interruption_rate_per_hour: 0.5",
    ]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("simulate")
    return write_trace(root / "trace.csv"), write_workload(root / "workload.yaml")


def simulate_args(files: tuple[Path, Path], *extra: str) -> list[str]:
    trace, workload = files
    return [
        "simulate",
        "--trace",
        str(trace),
        "--workload",
        str(workload),
        "--replay",
        "1d",
        "--lead-time",
        "5m",
        "--lead-time-p90",
        "9m",
        *extra,
    ]


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["simulate", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    assert "prescale simulate --trace" in text
    assert "--policies" in text and "--timeseries" in text


def test_same_seed_gives_byte_identical_json(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, again, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    assert cli.main(simulate_args(files, "--seed", "4", "--json", str(first))) == 0
    assert cli.main(simulate_args(files, "--seed", "4", "--json", str(again))) == 0
    assert cli.main(simulate_args(files, "--seed", "5", "--json", str(other))) == 0
    capsys.readouterr()
    assert first.read_bytes() == again.read_bytes()
    # another seed draws other cold starts and spot losses
    assert first.read_bytes() != other.read_bytes()


def test_json_has_one_object_per_policy_with_the_documented_keys(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim.json"
    assert cli.main(simulate_args(files, "--json", str(out))) == 0
    captured = capsys.readouterr()
    table = captured.out
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    document = json.loads(out.read_text())
    assert list(document["policies"]) == ["prescale", "reactive", "static", "cron", "oracle"]
    for name, figures in document["policies"].items():
        for key in (
            "served_minutes_pct",
            "unserved_demand_pct",
            "gpu_hours",
            "cost_usd",
            "cost_by_type",
            "scale_events",
        ):
            assert key in figures, (name, key)
        assert set(figures["cost_by_type"]) == {"reserved", "spot", "on_demand"}
        assert figures["cost_usd"] == pytest.approx(sum(figures["cost_by_type"].values()))
        assert name in table
    assert document["policies"]["oracle"]["gpu_hours_vs_oracle"] == 1.0
    assert document["replay_minutes"] == MINUTES_PER_DAY
    assert document["cold_start"] == {"kind": "lognormal", "median_s": 300.0, "p90_s": 540.0}


def test_timeseries_has_a_row_per_policy_and_minute(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "series.csv"
    args = simulate_args(files, "--policies", "reactive,oracle", "--timeseries", str(out))
    assert cli.main(args) == 0
    capsys.readouterr()
    frame = pd.read_csv(out)
    assert len(frame) == 2 * MINUTES_PER_DAY
    assert frame["policy"].unique().tolist() == ["reactive", "oracle"]
    assert {"timestamp", "demand", "capacity", "served", "billed_on_demand"} <= set(frame.columns)


def test_the_progress_bar_reports_replayed_days() -> None:
    stream = io.StringIO()
    bar = simulate_command.ProgressBar(stream)
    bar(simulate.PolicyName.REACTIVE, 720, 1440)
    assert stream.getvalue() == "\rreactive  [###############...............]   0.5/1.0 d"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(("--policies", "prescale,hpa"), "unknown names ['hpa']", id="unknown-policy"),
        pytest.param(
            ("--replay", "a week"), "--replay ('a week') is not a positive duration", id="replay"
        ),
        pytest.param(("--replay", "30d"), "leaves no warm-up", id="replay-too-long"),
        pytest.param(("--lead-time-p90", "2m"), "must be >= the median", id="p90-below-median"),
        pytest.param(("--name", "other"), "--name (other) is not a workload", id="unknown-name"),
        pytest.param(("--until", "someday"), "--until ('someday') is not a timestamp", id="until"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    files: tuple[Path, Path],
    extra: tuple[str, ...],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(simulate_args(files, *extra)) == 2
    assert message in capsys.readouterr().err
