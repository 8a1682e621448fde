"""`prescale simulate` end to end on a small synthetic trace written to a temporary file."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from actuator import cli
from actuator.commands import inputs, progress
from simulator import operating_point, results

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


@dataclass(frozen=True)
class SeededRuns:
    """`prescale simulate --json` run twice with seed 4 and once with seed 5 (the first run's
    stdout and stderr kept): the replays the seed and JSON tests below read."""

    first: Path
    again: Path
    other: Path
    table: str  # stdout of the first run
    err: str  # stderr of the first run


@pytest.fixture(scope="module")
def seeded(files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> SeededRuns:
    root = tmp_path_factory.mktemp("seeded")
    first, again, other = root / "a.json", root / "b.json", root / "c.json"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(simulate_args(files, "--seed", "4", "--json", str(first))) == 0
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(simulate_args(files, "--seed", "4", "--json", str(again))) == 0
        assert cli.main(simulate_args(files, "--seed", "5", "--json", str(other))) == 0
    return SeededRuns(first, again, other, out.getvalue(), err.getvalue())


def test_same_seed_gives_byte_identical_json(seeded: SeededRuns) -> None:
    assert seeded.first.read_bytes() == seeded.again.read_bytes()
    # another seed draws other cold starts and spot losses
    assert seeded.first.read_bytes() != seeded.other.read_bytes()


def test_json_has_one_object_per_policy_with_the_documented_keys(seeded: SeededRuns) -> None:
    out = seeded.first
    table = seeded.table
    assert seeded.err == ""  # no progress bar when stderr is not a terminal
    document = json.loads(out.read_text())
    assert list(document["policies"]) == [
        "prescale",
        "reactive",
        "static",
        "cron",
        "last_week",
        "oracle",
    ]
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
        # unserved minutes in runs: none exactly when every minute was served, each at least
        # a minute long, the longest within the minutes missed
        missed = figures["minutes_with_data"] - figures["served_minutes"]
        runs, longest = figures["unserved_runs"], figures["longest_unserved_minutes"]
        assert (runs == 0) == (missed == 0) and runs <= missed
        assert missed == longest == 0 or missed / runs <= longest <= missed - (runs - 1)
    prescale = document["policies"]["prescale"]
    said = f"unserved minutes came in {prescale['unserved_runs']} run(s), the longest " in table
    assert said == (prescale["unserved_runs"] > 0)
    assert document["policies"]["oracle"]["gpu_hours_vs_oracle"] == 1.0
    # prescale's operating point for the spec's SLO, with the frontier it was chosen from
    chosen = document["operating_point"]
    assert chosen["slo_served_minutes_pct"] == 99.5
    assert set(chosen["chosen"]) == {"band_scale", "level_correction", "hold"}
    assert 0 < len(chosen["frontier"]) <= len(operating_point.GRID) and chosen["windows"]
    assert "operating point" in table and "frontier on the warm-up" in table
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
    bar = progress.ProgressBar(stream)
    bar(results.PolicyName.REACTIVE, 720, 1440)
    assert stream.getvalue() == "\rreactive  [###############...............]   0.5/1.0 d"


def test_the_progress_bar_names_the_workload_when_several_replay() -> None:
    stream = io.StringIO()
    bar = progress.ProgressBar(stream, label="chat-big (2/2) ")
    bar(results.PolicyName.ORACLE, 1440, 1440)
    assert stream.getvalue() == "\rchat-big (2/2) oracle    [" + "#" * 30 + "]   1.0/1.0 d"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_workload_counter_notes_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """plan's and report's note while operating points are chosen: a line per finished
    workload, cleared at the last; nothing when stderr is a pipe or a file."""
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress.counter("chose operating points for", 3, 2) is None
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    done = progress.counter("chose operating points for", 3, 2)
    assert done is not None
    done(1)
    assert (
        terminal.getvalue().rstrip()
        == "\rchose operating points for 1/3 workloads in 2 processes ..."
    )
    done(3)
    assert terminal.getvalue().endswith("\r" + " " * 70 + "\r")


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
        pytest.param(("--jobs", "0"), "--jobs (0) must be at least 1", id="jobs"),
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


FLEET_KEYS = (
    "served_minutes_pct",
    "unserved_demand_pct",
    "gpu_hours",
    "cost_usd",
    "cost_by_type",
    "scale_events",
)


def write_two_workloads(path: Path) -> Path:
    """The bundled example workload twice: as shipped (16 per replica) and a copy named
    chat-big at 8 per replica in a pool of 64 GPUs. Both state their quantile (the expert
    override): the fleet tests are about sharing, sums and processes, and the seeded runs
    above hold the chosen operating point and its frontier."""
    shipped = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    shipped["provisioning_quantile"] = "p90"
    big = {**shipped, "name": "chat-big", "capacity_per_replica": 8, "pool": "a100"}
    document = {"workloads": [shipped, big], "pools": {"a100": {"gpus": 64}}}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@dataclass(frozen=True)
class FleetRun:
    """Outputs of replaying both workloads together, twice, and each alone with --name."""

    together: Path  # --json of the two-workload run (one process per workload, two jobs)
    # the same run repeated with --jobs 1 (one process, one workload after the other): the
    # seed test and the serial-equals-parallel test both compare it with `together`
    serial: Path
    table: str
    timeseries: Path
    alone: dict[str, Path]  # --json of each workload replayed alone
    alone_tables: dict[str, str]


@pytest.fixture(scope="module")
def fleet_run(files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> FleetRun:
    root = tmp_path_factory.mktemp("fleet")
    pair = (files[0], write_two_workloads(root / "two.yaml"))

    def replay(*extra: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(simulate_args(pair, "--seed", "3", *extra)) == 0
        return out.getvalue()

    together, serial, timeseries = root / "a.json", root / "serial.json", root / "series.csv"
    table = replay("--json", str(together), "--timeseries", str(timeseries), "--jobs", "2")
    assert replay("--json", str(serial), "--jobs", "1") == table
    alone, alone_tables = {}, {}
    for name in ("chat-llama-8b", "chat-big"):
        alone[name] = root / f"{name}.json"
        alone_tables[name] = replay("--name", name, "--json", str(alone[name]))
    return FleetRun(together, serial, table, timeseries, alone, alone_tables)


def test_every_workload_replays_as_it_does_alone(fleet_run: FleetRun) -> None:
    """Sharing the model choice, trace, seed and cold starts changes no workload's figure."""
    document = json.loads(fleet_run.together.read_text())
    assert [w["name"] for w in document["workloads"]] == ["chat-llama-8b", "chat-big"]
    for entry in document["workloads"]:
        single = json.loads(fleet_run.alone[entry["name"]].read_text())
        assert single["workload"] == entry["name"]
        assert "workloads" not in single  # one workload keeps the one-workload shape
        for key in ("policies", "capacity_per_replica", "forecast_model", "forecast_refits"):
            assert entry[key] == single[key], (entry["name"], key)
    capacities = [w["capacity_per_replica"] for w in document["workloads"]]
    assert capacities == [16.0, 8.0]
    # half the capacity per replica needs more GPUs: the two are not the same replay
    small, big = (w["policies"]["oracle"]["gpu_hours"] for w in document["workloads"])
    assert big > small


def test_the_fleet_sums_gpu_hours_and_cost_over_workloads(fleet_run: FleetRun) -> None:
    document = json.loads(fleet_run.together.read_text())
    assert list(document["policies"]) == [
        "prescale",
        "reactive",
        "static",
        "cron",
        "last_week",
        "oracle",
    ]
    for name, fleet in document["policies"].items():
        for key in FLEET_KEYS:
            assert key in fleet, (name, key)
        each = [w["policies"][name] for w in document["workloads"]]
        for key in ("gpu_hours", "cost_usd"):
            assert fleet[key] == pytest.approx(sum(e[key] for e in each), abs=1e-5), (name, key)
        assert fleet["scale_events"] == sum(e["scale_events"] for e in each)
        # served in a minute only when both were: never above either workload's share
        assert fleet["served_minutes_pct"] <= min(e["served_minutes_pct"] for e in each) + 1e-9
        # one trace: the requests' unserved share is the mean of the workloads' shares
        mean = sum(e["unserved_demand_pct"] for e in each) / len(each)
        assert fleet["unserved_demand_pct"] == pytest.approx(mean, abs=1e-5)
    assert document["policies"]["oracle"]["gpu_hours_vs_oracle"] == 1.0


def test_two_workloads_give_byte_identical_json_for_a_seed(fleet_run: FleetRun) -> None:
    """Two runs of the same seed (the second one serial) write the same bytes."""
    assert fleet_run.together.read_bytes() == fleet_run.serial.read_bytes()


def test_workloads_replayed_in_parallel_processes_give_the_serial_json(
    fleet_run: FleetRun,
) -> None:
    assert fleet_run.together.read_bytes() == fleet_run.serial.read_bytes()


def test_the_table_shows_each_workload_the_fleet_and_the_pool_not_simulated(
    fleet_run: FleetRun,
) -> None:
    table = fleet_run.table
    assert "workload  chat-llama-8b" in table and "workload  chat-big" in table
    assert "fleet     2 workloads (chat-llama-8b, chat-big)" in table
    assert table.count("pool budgets are not simulated") == 2  # chat-big's note, fleet note
    # the workload's own table is the one it prints alone
    alone = fleet_run.alone_tables["chat-llama-8b"].strip()
    assert alone in table
    assert "pool      chat-big is in pool a100 (64 GPUs)" in fleet_run.alone_tables["chat-big"]
    assert "pool " not in alone


def test_the_timeseries_of_two_workloads_has_a_workload_column(fleet_run: FleetRun) -> None:
    frame = pd.read_csv(fleet_run.timeseries)
    assert frame.columns[:3].tolist() == ["timestamp", "workload", "policy"]
    assert frame["workload"].unique().tolist() == ["chat-llama-8b", "chat-big"]
    assert len(frame) == 2 * 6 * MINUTES_PER_DAY  # six policies


def test_help_says_pool_budgets_are_not_simulated(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Pool budgets (pools: in the spec) are not simulated" in text
    assert "--name" in text and "every workload" in text


def test_a_stated_quantile_chooses_no_operating_point(fleet_run: FleetRun) -> None:
    """The fleet's workloads state provisioning_quantile (the expert override): no operating
    point is chosen for either, and the table says none (tests/simulator/test_lineup.py holds
    the replay equal to the spec's quantile as it stands)."""
    document = json.loads(fleet_run.together.read_text())
    assert [w["operating_point"] for w in document["workloads"]] == [None, None]
    assert "operating point" not in fleet_run.table


def test_minutes_without_data_in_the_replay_are_disclosed(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows missing from the trace inside the replayed day are not scored, and the table says
    how many (a replay that hid them would read as served)."""
    trace, workload = files
    frame = pd.read_csv(trace)
    holed = tmp_path / "holed.csv"
    frame.drop(frame.index[-600:-300]).to_csv(holed, index=False)  # 300 minutes of the last day
    assert cli.main(simulate_args((holed, workload))) == 0
    table = capsys.readouterr().out
    assert "gaps      300 replayed minutes (20.8%) have no data in the trace" in table
    assert cli.main(simulate_args(files)) == 0
    assert "have no data" not in capsys.readouterr().out
