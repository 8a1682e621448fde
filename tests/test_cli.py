"""The `prescale` console script: every subcommand's help shows a working example, and usage
errors exit 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from actuator import cli


@pytest.mark.parametrize(
    ("command", "must_show"),
    [
        pytest.param("forecast", ["prescale forecast --trace"], id="forecast"),
        pytest.param(
            "plan",
            ["prescale plan --trace traffic.csv.gz --workload chat.yaml --out plan.csv"],
            id="plan",
        ),
        pytest.param(
            "simulate", ["prescale simulate --trace", "--policies", "--timeseries"], id="simulate"
        ),
        pytest.param("report", ["prescale report --out prescale-report"], id="report"),
        pytest.param(
            "run", ["prescale run --config prescale.yaml --once --at", "--dry-run"], id="run"
        ),
        pytest.param("check-config", ["prescale check-config prescale.yaml"], id="check-config"),
    ],
)
def test_every_subcommand_help_shows_an_example(
    command: str, must_show: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text
    for fragment in must_show:
        assert fragment in text
    # an example continued on the next line keeps its backslash and line break (a lone
    # backslash in the source string joined the lines with a run of spaces)
    examples = text.split("examples:", 1)[1]
    assert not re.search(r"\S {4,}--", examples), examples


def test_every_registered_command_is_in_the_table_above() -> None:
    """A new subcommand must get a help example (and a row in the table above)."""
    registered = {module.__name__.rsplit(".", 1)[-1] for module in cli.COMMANDS}
    assert registered == {"forecast", "plan", "simulate", "report", "run"}


def test_top_level_help_shows_the_main_job(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    assert "example: prescale report --out prescale-report" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [pytest.param([], id="no-command"), pytest.param(["frobnicate"], id="unknown-command")],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "usage: prescale" in capsys.readouterr().err


def test_the_command_line_imports_no_statsmodels_or_scipy_before_a_fit() -> None:
    """`--help` and `check-config` fit nothing: statsmodels and scipy (about 2 s of `--help`'s
    3 s before) are imported where a model is fitted or a history cleaned, not with the CLI."""
    probe = (
        "import sys\n"
        "from actuator import cli, config, service\n"
        "from actuator.commands import run\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'statsmodels', 'scipy'})\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""


def test_a_one_shot_commands_log_warnings_read_like_its_other_warnings(tmp_path: Path) -> None:
    """The trace reader logs (the daemon's log collector wants it so); at the terminal, the
    same warning reads `prescale: warning: ...` like the plausibility checks' own."""
    trace = tmp_path / "dup.csv"
    trace.write_text(
        "timestamp,requests\n"
        + "".join(f"2024-01-01T00:{m:02d}:00Z,5\n" for m in range(30))
        + "2024-01-01T00:29:00Z,5\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "actuator.cli",
            "forecast",
            "--trace",
            str(trace),
            "--horizon",
            "10m",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(
        line.startswith("prescale: warning: trace ") and "1 duplicate" in line for line in lines
    )
    assert all(line.startswith("prescale: ") for line in lines), lines
