"""Bad command-line flags: exit 2 naming the flag, the value, the rule and the fix, before any
work is done (so these run in milliseconds)."""

from __future__ import annotations

from pathlib import Path

import bad_input_run as r
import pytest

# {trace} and {workload} are filled with a valid one-day trace and workload.
CASES = [
    pytest.param(
        ["--log-level", "LOUD", "forecast"],
        ["--log-level ('LOUD') is not a log level", "pass one of DEBUG"],
        id="log-level",
    ),
    pytest.param(
        ["forecast", "--horizon", "0"],
        ["--horizon ('0') is not a positive duration", "write it like 90s"],
        id="horizon-zero",
    ),
    pytest.param(
        ["forecast", "--horizon=-1d"],
        ["--horizon ('-1d') is not a positive duration"],
        id="horizon-negative",
    ),
    pytest.param(
        # A value with a minus, as its own word: the flag's value, not an unknown flag.
        ["report", "--horizon", "-1d"],
        ["--horizon ('-1d') is not a positive duration", "write it like 90s"],
        id="horizon-negative-word",
    ),
    pytest.param(
        ["forecast", "--horizon", "10y"],
        ["--horizon ('10y') is 315,360,000 s, more than the 12w6d limit", "pass 12w6d or less"],
        id="horizon-decade",
    ),
    pytest.param(
        ["forecast", "--horizon", "soon"],
        ["--horizon ('soon') is not a positive duration"],
        id="horizon-words",
    ),
    pytest.param(
        ["forecast", "--horizon", "1" + "0" * 400],
        ["--horizon ('1000", "is not a positive duration"],
        id="horizon-overflow",
    ),
    pytest.param(
        ["forecast", "--resolution", "0"],
        ["--resolution ('0') is not a positive duration", "write it like 90s"],
        id="resolution-zero",
    ),
    pytest.param(
        ["forecast", "--resolution", "7"],
        ["--resolution ('7') must be whole minutes from 1m to 1d", "pass e.g. 5m"],
        id="resolution-seconds",
    ),
    pytest.param(
        ["forecast", "--resolution", "999999999"],
        ["--resolution ('999999999') must be whole minutes from 1m to 1d"],
        id="resolution-huge",
    ),
    pytest.param(
        ["forecast", "--format", "xml"],
        ["argument --format: invalid choice: 'xml'"],
        id="format-unknown",
    ),
    pytest.param(
        ["forecast", "--prometheus", "http://127.0.0.1:1", "--query", "up", "--trace", "{trace}"],
        ["--trace and --prometheus are both given", "pass one history source"],
        id="trace-and-prometheus",
    ),
    pytest.param(
        ["forecast", "--query", "up"],
        ["--query needs --prometheus URL", "pass the server"],
        id="query-without-server",
    ),
    pytest.param(
        [
            "forecast",
            "--prometheus",
            "http://127.0.0.1:1",
            "--query",
            "up",
            "--until",
            "3000-01-01",
        ],
        [
            "--until ('3000-01-01') is outside the times this tool handles "
            "(1677-09-22 to 2262-04-10)",
            "write ISO 8601",
        ],
        id="prometheus-until-3000",
    ),
    pytest.param(
        ["forecast", "--prometheus", "http://127.0.0.1:1", "--query", "up", "--since", "100y"],
        ["--since ('100y') is 3,153,600,000 s, more than the 104w2d limit"],
        id="prometheus-since-century",
    ),
    pytest.param(
        ["forecast", "--prometheus", "http://127.0.0.1:1", "--query", "up", "--header", "nocolon"],
        ["--header ('nocolon') is not 'Name: value'", "write 'X-Scope-OrgID: a'"],
        id="header-shape",
    ),
    pytest.param(
        ["plan", "--trace", "{trace}", "--workload", "{workload}", "--jobs", "0"],
        ["--jobs (0) must be at least 1 (1 = serial)"],
        id="plan-jobs-zero",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--seed", "-1"],
        ["--seed (-1) must be a whole number from 0 to", "pass e.g. --seed 1"],
        id="seed-negative",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--seed", str(2**70)],
        [f"--seed ({2**70}) must be a whole number from 0"],
        id="seed-huge",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--seed", "one"],
        ["argument --seed: invalid int value: 'one'"],
        id="seed-text",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--replay", "0"],
        ["--replay ('0') is not a positive duration"],
        id="replay-zero",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--replay", "10y"],
        ["--replay ('10y') is 315,360,000 s, more than the 104w2d limit"],
        id="replay-decade",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--until", "3000-01-01"],
        ["--until ('3000-01-01') is outside the times this tool handles"],
        id="until-3000",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--until", "1500-01-01"],
        ["--until ('1500-01-01') is outside the times"],
        id="until-1500",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--until", ""],
        ["--until ('') is not a timestamp"],
        id="until-empty",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--lead-time", "0"],
        ["--lead-time ('0') is not a positive duration"],
        id="lead-time-zero",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--lead-time", "2d"],
        ["--lead-time ('2d') is 172,800 s, more than the 1d limit"],
        id="lead-time-two-days",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--lead-time-p90", "15m"],
        ["--lead-time-p90 (15m) needs --lead-time as the median"],
        id="p90-without-median",
    ),
    pytest.param(
        [
            "simulate",
            "--trace",
            "{trace}",
            "--workload",
            "{workload}",
            "--lead-time",
            "10m",
            "--lead-time-p90",
            "5m",
        ],
        ["--lead-time-p90"],
        id="p90-below-median",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--policies", "magic"],
        ["--policies", "magic"],
        id="policy-unknown",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--refit-every", "0"],
        ["--refit-every ('0') is not a positive duration"],
        id="refit-zero",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--name", "nope"],
        ["--name (nope) is not a workload of", "pass one of those"],
        id="name-unknown",
    ),
    pytest.param(
        ["simulate", "--trace", "{trace}", "--workload", "{workload}", "--mix", "cheap"],
        ["argument --mix: invalid choice: 'cheap'"],
        id="mix-unknown",
    ),
    pytest.param(
        ["report", "--trace", "{trace}", "--workload", "{workload}", "--seed", "-5"],
        ["--seed (-5) must be a whole number from 0"],
        id="report-seed-negative",
    ),
    pytest.param(
        ["report", "--trace", "{trace}", "--workload", "{workload}", "--horizon", "1000d"],
        ["--horizon ('1000d') is 86,400,000 s, more than the 12w6d limit"],
        id="report-horizon-huge",
    ),
    pytest.param(
        [
            "report",
            "--trace",
            "{trace}",
            "--workload",
            "{workload}",
            "--simulate",
            "--replay",
            "0s",
        ],
        ["--replay ('0s') is not a positive duration"],
        id="report-replay-zero",
    ),
    pytest.param(
        ["plan", "--trace", "{trace}", "--workload", "{workload}", "--format", "yaml"],
        ["argument --format: invalid choice"],
        id="plan-format",
    ),
    pytest.param(["nosuchcommand"], ["invalid choice: 'nosuchcommand'"], id="unknown-command"),
]


@pytest.mark.parametrize(("argv", "expect"), CASES)
def test_bad_flag(
    argv: list[str], expect: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "trace": str(r.day_trace(tmp_path / "t.csv")),
        "workload": str(tmp_path / "w.yaml"),
    }
    (tmp_path / "w.yaml").write_text(r.VALID_WORKLOAD)
    filled = [arg.format(**files) if "{" in arg else arg for arg in argv]
    r.refused(r.run(filled, capsys), expect)


def test_a_refit_every_minute_is_refused_at_once(tmp_path: Path) -> None:
    """The review's command on the bundled example: `--refit-every 1m` refitted the same
    5-minute buckets every minute, 1,440 refits of a replayed day, 6 minutes without a line.
    In its own process, so a run that starts replaying fails on the timeout instead of
    stalling the suite."""
    argv = ["simulate", "--replay", "1d", "--refit-every", "1m"]
    r.refused(
        r.run_subprocess(argv, cwd=tmp_path),
        [
            "--refit-every ('1m') is 1m, outside 5m to 12w6d",
            "complete 5-minute buckets",
            "pass 5m or more",
        ],
    )
