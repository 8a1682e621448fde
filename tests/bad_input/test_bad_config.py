"""Bad daemon configs through `prescale check-config FILE`: exit 2 naming the key path, the
value, the rule and the fix (every problem at once), never a traceback; a valid config is
exit 0 as the control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bad_input_run as r
import pytest
import yaml

from actuator.commands import inputs


def _config(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    spec = yaml.safe_load(r.VALID_WORKLOAD)
    spec["capacity_types"] = ["on_demand"]
    data: dict[str, Any] = {
        "store": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "leader_election": {"enabled": False},
        "http": {"listen": "127.0.0.1", "port": 0},
        "workloads": [
            {
                "spec": spec,
                "source": {"trace": str(inputs.example_path(inputs.EXAMPLE_TRACE))},
                "targets": {"on_demand": {"kind": "metric", "namespace": "chat", "name": "chat"}},
            }
        ],
    }
    data.update(changes)
    return data


def _workload(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    data = _config(tmp_path)
    data["workloads"][0].update(changes)
    return data


def _spec(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    data = _config(tmp_path)
    data["workloads"][0]["spec"].update(changes)
    return data


# Each builder returns config data (dumped as YAML) or text (written as it is).
CASES: list[Any] = [
    pytest.param(
        lambda t: _config(t, mode="actuat"),
        ["mode ('actuat')", "'advisory' or 'actuate'"],
        id="mode-typo",
    ),
    pytest.param(
        lambda t: _config(t, modee="actuate"),
        ["modee is not a known key", "did you mean 'mode'?"],
        id="unknown-key",
    ),
    pytest.param(
        lambda t: _config(t, schedule={"tick": "1mm"}),
        ["schedule.tick ('1mm') is not a duration", "write it like 90s"],
        id="tick-not-a-duration",
    ),
    pytest.param(
        lambda t: _config(t, schedule={"tick": -5}), ["schedule.tick (-5)"], id="tick-negative"
    ),
    pytest.param(
        lambda t: _config(t, http={"port": 99999}),
        ["http.port (99999) must be <= 65535"],
        id="port-too-large",
    ),
    pytest.param(
        lambda t: _config(t, http={"port": "eighty"}), ["http.port ('eighty')"], id="port-text"
    ),
    pytest.param(
        lambda t: _config(t, store="mysql://db/prescale"),
        ["store", "SQLite or PostgreSQL"],
        id="store-other-database",
    ),
    pytest.param(
        lambda t: _config(t, store="not a url"),
        ["store", "is not a database URL"],
        id="store-not-a-url",
    ),
    pytest.param(
        lambda t: _config(t, leader_election={"lease_duration": "5s"}),
        ["retry_period (2s) < renew_deadline (10s) < lease_duration (5s) does not hold"],
        id="lease-timing",
    ),
    pytest.param(
        lambda t: _config(t, schedule={"tick": 0}),
        ["schedule.tick (0) is 0s, outside 1s to 1h; set it within that range"],
        id="tick-zero",
    ),
    pytest.param(
        lambda t: _config(t, schedule={"tick": "2h", "refit": "30d", "reselect": "1y"}),
        [
            "schedule.tick ('2h') is 2h, outside 1s to 1h",
            "schedule.refit ('30d') is 4w2d, outside 5m to 1w",
            "schedule.reselect ('1y') is 1y, outside 1h to 12w6d",
            "set it within that range",
        ],
        id="schedule-too-long",
    ),
    pytest.param(
        lambda t: _config(
            t,
            schedule={"history": "2y", "shadow_window": "1y", "prune": "1w"},
            retention={"forecasts": "3y", "decisions": "1h"},
        ),
        [
            "schedule.history ('2y') is 2y, outside 1d to 1y",
            "schedule.shadow_window ('1y') is 1y, outside 1h to 12w6d",
            "schedule.prune ('1w') is 1w, outside 1m to 1d",
            "retention.forecasts ('3y') is 3y, outside 1d to 2y",
            "retention.decisions ('1h') is 1h, outside 1d to 2y",
        ],
        id="windows-and-retention-out-of-range",
    ),
    pytest.param(
        lambda t: _config(
            t,
            leader_election={"lease_duration": "1h", "renew_deadline": "30m"},
            prometheus={"url": "http://127.0.0.1:1", "timeout": "1h"},
        ),
        [
            "leader_election.lease_duration ('1h') is 1h, outside 1s to 5m",
            "leader_election.renew_deadline ('30m') is 30m, outside 1s to 5m",
            "prometheus.timeout ('1h') is 1h, outside 1s to 5m",
        ],
        id="lease-and-timeout-too-long",
    ),
    pytest.param(
        lambda t: _config(t, schedule={"refit": "1m"}),
        ["schedule.refit ('1m') is 1m, outside 5m to 1w", "set it within that range"],
        id="refit-every-minute",
    ),
    pytest.param(lambda t: _config(t, log_format="xml"), ["log_format ('xml')"], id="log-format"),
    pytest.param(
        lambda t: _config(t, workloads=[]),
        ["workloads ([]) is empty", "list at least one workload: `workloads: [{spec: {name:"],
        id="no-workloads",
    ),
    pytest.param(
        lambda t: {k: v for k, v in _config(t).items() if k != "workloads"},
        ["workloads is missing", "add `workloads: [{spec: {name: chat", "targets: {on_demand:"],
        id="workloads-key-missing",
    ),
    pytest.param(lambda t: "workloads:\n", ["workloads (None) is not a list"], id="workloads-null"),
    pytest.param(
        lambda t: _workload(
            t, targets={"on_demand": {"kind": "hpaa", "namespace": "a", "name": "b"}}
        ),
        ["targets.on_demand.kind ('hpaa')"],
        id="target-kind",
    ),
    pytest.param(lambda t: _workload(t, targets={}), ["targets"], id="no-targets"),
    pytest.param(
        lambda t: _workload(t, source={"trace": "t.csv", "colum": "requests"}),
        ["source.colum is not a known key", "did you mean 'column'?"],
        id="source-typo",
    ),
    pytest.param(
        lambda t: _spec(t, max_replicas=0), ["max_replicas (0) must be >= 1"], id="spec-max-zero"
    ),
    pytest.param(
        lambda t: _spec(t, name="Chat_1"),
        ["name ('Chat_1') is not a valid Kubernetes name"],
        id="spec-name-not-dns",
    ),
    pytest.param(
        lambda t: _spec(t, lead_time="1y"),
        ["lead_time ('1y') is 31,536,000 s, more than the 1d limit"],
        id="spec-lead-time-year",
    ),
    pytest.param(
        lambda t: "mode: advisory\nmode: actuate\n",
        ["line 2: key 'mode' is given twice in one mapping (first on line 1)", "keep one"],
        id="duplicate-key",
    ),
    pytest.param(
        lambda t: (
            "pools:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
                for i in range(8)
            )
            + "workloads: *i\n"  # 10^9 nodes for the validator to walk, from 400 bytes
        ),
        ["expands to", "write the values out"],
        id="alias-bomb",
    ),
    pytest.param(lambda t: "mode: [unclosed\n", ["invalid YAML"], id="yaml-syntax"),
    pytest.param(lambda t: "just text\n", ["config"], id="scalar-document"),
]


@pytest.mark.parametrize(("make", "expect"), CASES)
def test_bad_config(
    make: Any, expect: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = make(tmp_path)
    path = tmp_path / "prescale.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    r.refused(r.run(["check-config", str(path)], capsys), expect)


@pytest.mark.parametrize("command", [["check-config"], ["run", "--once", "--config"]], ids=" ".join)
@pytest.mark.parametrize(
    ("trace", "shown"),
    [
        pytest.param("nothere.csv.gz", "etc/nothere.csv.gz", id="relative"),
        pytest.param("{tmp}/gone/t.csv", "gone/t.csv", id="absolute"),
    ],
)
def test_a_missing_trace_is_named_by_its_config_key(
    command: list[str],
    trace: str,
    shown: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """check-config refuses a config whose trace is not there (run would fail on it), and run
    says the config key, not the --trace flag of the other commands. A relative path is the
    config file's folder's."""
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    path = config_dir / "prescale.yaml"
    data = _workload(tmp_path, source={"trace": trace.format(tmp=tmp_path)})
    path.write_text(yaml.safe_dump(data))
    outcome = r.run([*command, str(path)], capsys)
    r.refused(
        outcome,
        [
            f"workloads[0].source.trace ('{tmp_path / shown}'): no such file",
            "read from the config file's folder",
            "set it to an existing CSV trace",
        ],
    )
    assert "--trace" not in outcome.err


@pytest.mark.parametrize(
    "argv", [["check-config", "{path}"], ["run", "--config", "{path}", "--once"]], ids=" ".join
)
def test_missing_config_file(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config takes the file as its argument, run as --config: the fix names neither."""
    path = str(tmp_path / "nope.yaml")
    outcome = r.run([a.format(path=path) for a in argv], capsys)
    r.refused(outcome, [f"config file {path} cannot be read", "give the path of an existing"])
    assert "pass --config" not in outcome.err


def test_a_valid_config_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "prescale.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path)))
    outcome = r.run(["check-config", str(path)], capsys)
    assert outcome.code == 0, outcome.err
