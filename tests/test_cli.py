"""The `prescale` console script: every subcommand's help shows a working example, and usage
errors exit 2."""

from __future__ import annotations

import re
import subprocess
import sys

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
