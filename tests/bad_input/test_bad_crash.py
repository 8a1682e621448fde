"""An unexpected error is one line on stderr naming the log file that holds the details, and
exit 1: never a traceback at the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from actuator import cli


def _raise() -> None:
    int("not a number")


def test_an_unexpected_error_is_one_line_and_a_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    try:
        _raise()
    except ValueError as exc:
        code = cli.report_crash(exc, ["plan", "--trace", "t.csv"])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("prescale: internal error (ValueError: invalid literal for int()")
    logs = list((tmp_path / "state" / "prescale").glob("crash-*.log"))
    assert len(logs) == 1 and f"details in {logs[0]}" in err
    text = logs[0].read_text()
    assert text.startswith("prescale plan --trace t.csv\n")
    assert "Traceback (most recent call last)" in text and "_raise" in text


def test_the_log_falls_back_when_the_state_folder_is_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "afile"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cli.crash_folder() == tmp_path / "home" / ".local" / "state" / "prescale"
