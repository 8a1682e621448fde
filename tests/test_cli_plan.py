"""`prescale plan` end to end on a short excerpt of the bundled trace (real forecaster)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from actuator import cli
from actuator.commands import inputs

EXCERPT_DAYS = 4


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The last 4 days of the bundled trace: the forecaster's daily regime, seconds to fit."""
    frame = pd.read_csv(inputs.example_path(inputs.EXAMPLE_TRACE))
    path = tmp_path_factory.mktemp("plan") / "excerpt.csv.gz"
    with gzip.open(path, "wt") as out:
        frame.tail(EXCERPT_DAYS * 1440).to_csv(out, index=False)
    return path


def _workload_file(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "workload.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_table_and_csv_for_the_example_workload(
    excerpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.csv"
    assert cli.main(["plan", "--trace", str(excerpt), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for label in ("reserved", "spot", "on_demand", "total", "GPU-hours", "all on-demand"):
        assert label in text
    # 4 days are too few for the weekly models: the table says so next to the reserved base
    assert "note        the forecast is insufficient_history_daily" in text
    # the example's 600 s lead time outlasts its 300 s cooldown, so scale-in waits 600 s
    assert "scale-in    after 600 s without a higher want" in text
    written = pd.read_csv(out)
    assert list(written.columns) == [
        "timestamp",
        "reserved",
        "spot",
        "on_demand",
        "total",
        "needed",
    ]
    assert len(written) == 7 * 1440
    assert written["timestamp"].iloc[0].endswith("Z")
    assert (written["reserved"] + written["spot"] + written["on_demand"] == written["total"]).all()
    assert written["total"].between(1, 64).all()  # the example's min_replicas..max_replicas


def test_json_format(excerpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--trace", str(excerpt), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == 1
    # the same form as the CSV's timestamps and the report's JSON: UTC with a Z
    assert document["forecast"]["start"].endswith(":00Z")
    (workload,) = document["workloads"]
    assert workload["name"] == "chat-llama-8b"
    cost = workload["cost"]
    assert sum(v["dollars"] for v in cost["by_type"].values()) == pytest.approx(cost["dollars"])
    assert cost["dollars"] <= cost["all_on_demand_dollars"]


def test_pool_budget_binds_and_says_who_got_less(
    excerpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two copies of the example in a 4-GPU pool want more than 4 GPUs at the daily peak."""
    example = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    data = {
        "pools": {"a100": {"gpus": 4}},
        "workloads": [
            {**example, "name": "a", "pool": "a100"},
            {**example, "name": "b", "pool": "a100"},
        ],
    }
    out = tmp_path / "plan.csv"
    args = ["plan", "--trace", str(excerpt), "--workload", str(_workload_file(tmp_path, data))]
    assert cli.main([*args, "--out", str(out)]) == 0
    assert "budget      got fewer replicas than wanted" in capsys.readouterr().out
    written = pd.read_csv(out)
    assert list(written.columns)[:2] == ["timestamp", "workload"]
    per_minute = written.groupby("timestamp")["total"].sum()
    assert per_minute.max() <= 4


def test_bad_workload_exits_2_naming_the_field(
    excerpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    path = _workload_file(tmp_path, {**example, "min_replicas": 9, "max_replicas": 3})
    code = cli.main(["plan", "--trace", str(excerpt), "--workload", str(path)])
    assert code == 2
    assert "max_replicas (3) is below min_replicas (9)" in capsys.readouterr().err


def test_max_replicas_binding_is_reported(
    excerpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """max_replicas 2 is below the example's daily peak need: the table says so."""
    example = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    path = _workload_file(tmp_path, {**example, "max_replicas": 2})
    assert cli.main(["plan", "--trace", str(excerpt), "--workload", str(path)]) == 0
    assert "bounds      the need exceeds max_replicas (2) in " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        pytest.param(
            {"slo": {"served_minutes": "99.9%"}},
            "slo         99.9 % of minutes served: band ",
            id="slo-chosen-by-replay",
        ),
        pytest.param({"provisioning_quantile": "p99"}, None, id="expert-override"),
    ],
)
def test_the_table_says_where_the_plan_stands_against_the_slo(
    changes: dict[str, object],
    line: str | None,
    excerpt: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`plan` plans at the operating point chosen for the SLO by replaying the history, and
    says which and how it was chosen; a quantile stated as the user's override is planned as
    it stands, with no replay."""
    example = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    path = _workload_file(tmp_path, {**example, **changes})
    assert cli.main(["plan", "--trace", str(excerpt), "--workload", str(path)]) == 0
    text = capsys.readouterr().out
    assert (
        cli.main(["plan", "--trace", str(excerpt), "--workload", str(path), "--format", "json"])
        == 0
    )
    (planned,) = json.loads(capsys.readouterr().out)["workloads"]
    if line is None:
        assert "provisioned at p99" in text and "\nslo " not in text
        assert planned["operating_point"] is None
    else:
        point = planned["operating_point"]
        assert point["slo_served_pct"] == 99.9 and point["met"] in (True, False)
        band = f"band {point['band_scale']:g}"
        assert f"provisioned at {band}, chosen for the SLO" in text
        assert f"{line}{point['band_scale']:g}," in text
        assert "chosen by replaying" in text and point["reason"] in text


def test_a_day_of_history_is_planned_at_the_quantile_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No validation window fits in one day: no point is chosen, the table says so once."""
    frame = pd.read_csv(inputs.example_path(inputs.EXAMPLE_TRACE))
    path = tmp_path / "day.csv.gz"
    with gzip.open(path, "wt") as out:
        frame.tail(1440).to_csv(out, index=False)
    assert cli.main(["plan", "--trace", str(path)]) == 0
    text = capsys.readouterr().out
    assert "provisioned at p90\n" in text
    assert "slo         99.5 % of minutes served: no point chosen, too little history" in text
