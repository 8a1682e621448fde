"""`prescale forecast` end to end through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actuator import cli
from actuator.commands import forecast as forecast_command
from forecaster import errors


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


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["forecast", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "prescale forecast --trace" in out


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
