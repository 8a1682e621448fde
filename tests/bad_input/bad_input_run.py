"""Test part: run the real CLI on one bad input and check how it refuses.

Every bad-input case of tests/bad_input goes through `refused`: the exit code, no traceback,
every expected fragment (field, value, rule, fix) in stderr, and each error line in the shape
`prescale: error: <what> (<value>) <rule>; <fix>` (a fix after the last semicolon).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from actuator import cli

# One day of a steady per-minute trace: loads in milliseconds, forecasts in well under a second.
DAY_MINUTES = 1440
SUBPROCESS_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    """`prescale ARGV` in-process; argparse's own usage errors (SystemExit) count as exits."""
    capsys.readouterr()
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def run_subprocess(argv: Sequence[str], cwd: Path) -> Outcome:
    """`prescale ARGV` as its own process, for the cases that used to hang or crash: a timeout
    fails the test instead of stalling the suite."""
    done = subprocess.run(
        [sys.executable, "-m", "actuator.cli", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def refused(outcome: Outcome, expect: Sequence[str], *, code: int = 2) -> None:
    """The run stopped with `code`, said every fragment of `expect`, and no traceback."""
    assert "Traceback" not in outcome.err, outcome.err
    assert outcome.code == code, outcome.err
    for fragment in expect:
        assert fragment in outcome.err, f"{fragment!r} not in {outcome.err!r}"
    if "usage:" in outcome.err:
        return  # argparse's own usage error: names the argument, the value and the choices
    errors = [line for line in outcome.err.splitlines() if line.startswith("prescale: error:")]
    assert errors or code != 2, outcome.err
    for line in errors:
        assert ";" in line, f"no fix after a semicolon: {line!r}"


def day_trace(path: Path, *, value: float = 100.0, days: int = 1) -> Path:
    rows = ["timestamp,requests"]
    start = 1_700_000_000 // 86400 * 86400
    for minute in range(DAY_MINUTES * days):
        stamp = start + 60 * minute
        rows.append(f"{_iso(stamp)},{value + (minute % 60)}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _iso(epoch_s: int) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


VALID_WORKLOAD = """\
name: chat
kind: llm
unit: concurrency
gpu: A100-80GB
capacity_per_replica: 16
max_replicas: 64
lead_time: 10m
request: {prompt_tokens: 500, completion_tokens: 600, ttft_s: 0.5, itl_s: 0.03}
capacity_types: [reserved, spot, on_demand]
"""
