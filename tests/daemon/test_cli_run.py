"""`prescale run --once [--at]`: one tick through the CLI, and its usage errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import daemon_builders as b
import pytest
import yaml

from actuator import cli, config, store
from actuator.commands import run as run_command


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "prescale.yaml"
    path.write_text(yaml.safe_dump(b.config_data(tmp_path / "prescale.db")), encoding="utf-8")
    return path


def test_once_at_ticks_as_of_that_time_prints_it_and_stores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(tmp_path)
    assert cli.main(["run", "--config", str(path), "--once", "--at", "1995-08-28T09:00Z"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["at"] == "1995-08-28T09:00:00Z"
    assert line["outcomes"] == {"on_demand": "exported"}
    assert line["lead_time_source"] == "spec_fallback"
    db = store.Store.connect(f"sqlite:///{tmp_path / 'prescale.db'}")
    (decision,) = db.latest_decisions(5)
    assert decision.target_replicas == line["targets"]["on_demand"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--at", "1995-08-28T09:00Z"], "--at (given) needs --once"),
        (["--once", "--at", "yesterday"], "--at ('yesterday') is not a UTC time"),
        (["--once", "--at", "1995-08-28T09:00"], "is not a UTC time with a zone"),
    ],
    ids=["at-without-once", "not-a-time", "no-zone"],
)
def test_bad_run_flags_exit_2_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert cli.main(["run", "--config", str(config_file(tmp_path)), *extra]) == 2
    assert message in capsys.readouterr().err


def test_the_mode_flag_offers_the_config_modes() -> None:
    """`--mode` lists its choices without importing the daemon's modules at start."""
    assert tuple(mode.value for mode in config.Mode) == run_command.MODES
