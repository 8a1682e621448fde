"""`prescale forecast` end to end through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actuator import cli
from actuator.commands import forecast as forecast_command
from kernel import errors


def _trace(tmp_path: Path, days: int = 3) -> Path:
    """Three days of 10-min requests with a daily cycle (fixed seed)."""
    index = pd.date_range("2024-01-01T00:00:00Z", periods=days * 144, freq="10min")
    rng = np.random.default_rng(5)
    values = (
        500 + 200 * np.sin(2 * np.pi * np.arange(len(index)) / 144) + rng.normal(0, 20, len(index))
    )
    frame = pd.DataFrame(
        {"timestamp": index.strftime("%Y-%m-%dT%H:%M:%SZ"), "requests": values.round()}
    )
    path = tmp_path / "demo_10min.csv"
    frame.to_csv(path, index=False)
    return path


def test_writes_the_csv_and_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_csv = tmp_path / "forecast.csv"
    code = cli.main(
        ["forecast", "--trace", str(_trace(tmp_path)), "--horizon", "1d", "--out", str(out_csv)]
    )
    assert code == 0
    written = pd.read_csv(out_csv)
    assert list(written.columns) == [
        "timestamp",
        "p50",
        "p90",
        "p99",
        "peak_p50",
        "peak_p90",
        "peak_p99",
    ]
    assert len(written) == 144  # one day at the input's own 10-min resolution
    assert written.timestamp.iloc[0] == "2024-01-04T00:00:00Z"
    table = capsys.readouterr().out
    assert "insufficient_history_daily" in table
    assert "seasonal_naive_daily" in table


def test_json_names_model_and_candidates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["forecast", "--trace", str(_trace(tmp_path)), "--horizon", "2h", "--format", "json"]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] in {c["model"] for c in doc["candidates"]}
    assert {"mae", "ratio_to_naive", "folds"} <= set(doc["candidates"][0])
    assert len(doc["forecast"]) == 12
    assert doc["forecast"][0]["p50"] <= doc["forecast"][0]["p90"] <= doc["forecast"][0]["p99"]


def test_unknown_column_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["forecast", "--trace", str(_trace(tmp_path)), "--column", "tokens"])
    assert code == 2
    assert "column 'tokens' not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 604800), ("36h", 129600), ("90m", 5400), ("3600", 3600), ("1w", 604800)],
    ids=["days", "hours", "minutes", "plain seconds", "week"],
)
def test_parse_horizon(text: str, seconds: int) -> None:
    assert forecast_command.parse_horizon(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-1d", "0h"], ids=["word", "negative", "zero"])
def test_bad_horizon_is_an_input_error(text: str) -> None:
    with pytest.raises(errors.InputError, match="--horizon"):
        forecast_command.parse_horizon(text)


@pytest.fixture(scope="module")
def four_weeks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _trace(tmp_path_factory.mktemp("four_weeks"), days=28)


def test_json_is_self_consistent_on_four_weeks(
    four_weeks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """4 weeks: 3 weekly folds planned; Holt-Winters and MSTL need 2 weeks before a fold, so
    they have 2 of the 3 and are listed as not eligible instead of scored on 2 folds. Every
    scored candidate has the same folds and the chosen one the lowest MAE."""
    code = cli.main(["forecast", "--trace", str(four_weeks), "--horizon", "1h", "--format", "json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["folds"] == doc["planned_folds"] == 3
    scored = [c for c in doc["candidates"] if c["folds"] > 0]
    assert {c["folds"] for c in scored} == {3}
    assert {c["status"] for c in scored} == {"eligible"}
    chosen = next(c for c in scored if c["model"] == doc["model"])
    assert chosen["mae"] == min(c["mae"] for c in scored)
    assert doc["band_widening"] in {0.5, 1.0}  # a strength of widening.py
    assert 1.0 <= doc["band_widened_by"] <= 3.0  # the factor in force, widening.WIDEN_MAX
    by_model = {c["model"]: c for c in doc["candidates"]}
    for slow in ("holt_winters", "mstl"):
        assert by_model[slow]["mae"] is None
        assert (by_model[slow]["status"], by_model[slow]["runnable_folds"]) == ("short_history", 2)


def test_table_states_the_rule_and_who_was_not_eligible(
    four_weeks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["forecast", "--trace", str(four_weeks), "--horizon", "1h"])
    assert code == 0
    table = capsys.readouterr().out
    assert "on the same 3 folds (3 planned)" in table
    widening_line = next(line for line in table.splitlines() if line.startswith("widening"))
    assert "P90 pinball loss" in widening_line
    assert "holt_winters" in table
    assert table.count("not eligible: history for 2 of 3 planned folds, needs 3") == 2


def test_table_says_weekly_naive_was_chosen_on_fewer_folds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ten days of hourly requests ending on a quiet Sunday: weekly seasonal-naive wins on the
    3 latest of 6 daily folds, and the table says both the rule and the fold count."""
    index = pd.date_range("2024-01-05T00:00:00Z", periods=10 * 24, freq="1h")  # a Friday
    rng = np.random.default_rng(2)
    level = np.where(index.day_of_week >= 5, 100.0, 1000.0)
    frame = pd.DataFrame(
        {
            "timestamp": index.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "requests": rng.poisson(level).astype(float),
        }
    )
    path = tmp_path / "weekly_1h.csv"
    frame.to_csv(path, index=False)
    assert cli.main(["forecast", "--trace", str(path), "--horizon", "1d"]) == 0
    table = capsys.readouterr().out
    assert "seasonal_naive_weekly: below the daily choice's backtest MAE on the latest 3" in table
    assert "scored on fewer folds: the latest 3 of 6, with a week of history before them" in table
