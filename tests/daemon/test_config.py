"""The daemon's config: every problem at once, overrides in order, defaults pinned, no secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import daemon_builders as b
import pytest
import yaml

from actuator import cli, config
from actuator.commands import inputs
from forecaster import forecast
from kernel import errors
from planner import spec


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "prescale.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def problems_of(data: dict[str, Any], environ: dict[str, str] | None = None) -> tuple[str, ...]:
    with pytest.raises(errors.InputError) as raised:
        config.load(None, environ=environ or {}, flags=data)
    return raised.value.problems


def test_every_problem_is_listed_at_once_with_path_value_rule_and_fix(tmp_path: Path) -> None:
    data = b.config_data(tmp_path / "db.sqlite")
    data["mode"] = "actuat"
    data["schedule"] = {"tick": "1mm", "refitt": "1h"}
    data["http"] = {"port": 99999}
    data["leader_election"] = {"lease_duration": "5s"}
    workload = data["workloads"][0]
    workload["spec"]["max_replicas"] = 0
    workload["targets"]["on_demand"]["kind"] = "hpaa"
    workload["source"] = {"trace": str(b.TRACE), "colum": "requests"}
    found = problems_of(data, {"PRESCALE_MODEE": "actuate"})
    expected = [
        "environment variable PRESCALE_MODEE names no setting; did you mean PRESCALE_MODE?",
        "mode ('actuat') input should be 'advisory' or 'actuate'; use one of those",
        "schedule.tick ('1mm') is not a duration in whole seconds; write it like 90s",
        "schedule.refitt is not a known key; did you mean 'refit'?",
        "http.port (99999) must be <= 65535",
        "leader_election: retry_period (2s) < renew_deadline (10s) < lease_duration (5s) does "
        "not hold; raise lease_duration",
        "workloads[0].targets.on_demand.kind ('hpaa') input should be 'hpa', 'keda', 'scale' or",
        "workloads[0].source.colum is not a known key; did you mean 'column'?",
        "workloads[].spec: max_replicas (0) must be >= 1 for workload chat; set max_replicas",
    ]
    for fragment in expected:
        assert any(fragment in p for p in found), (fragment, found)
    assert len(found) == len(expected), found


def test_a_target_per_capacity_type_the_spec_uses(tmp_path: Path) -> None:
    data = b.config_data(tmp_path / "db.sqlite")
    data["workloads"][0]["spec"]["capacity_types"] = ["spot", "on_demand"]
    data["workloads"][0]["targets"]["reserved"] = {"kind": "hpa", "namespace": "a", "name": "b"}
    found = problems_of(data)
    assert any(p.startswith("workloads[0].targets.spot (missing) is required") for p in found)
    assert any(p.startswith("workloads[0].targets.reserved is set but") for p in found)


def test_duplicate_yaml_keys_are_refused_with_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "mode: advisory\nhttp: {port: 1}\nmode: actuate\n")
    with pytest.raises(errors.InputError, match=r"line 3: key 'mode' is given twice .*line 1"):
        config.load(path, environ={})


def test_environment_overrides_the_file_and_flags_override_the_environment(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, {**b.config_data(tmp_path / "db.sqlite"), "mode": "advisory"})
    environ = {
        "PRESCALE_MODE": "actuate",
        "PRESCALE_SCHEDULE__TICK": "30s",
        "PRESCALE_HTTP__PORT": "9100",
        "PRESCALE_STORE": "sqlite:////var/lib/prescale/p.db",
        "HOME": "/root",  # not ours: ignored
    }
    loaded = config.load(path, environ=environ, flags={"http": {"port": 9200}})
    assert loaded.mode is config.Mode.ACTUATE
    assert loaded.schedule.tick_s == 30
    assert loaded.http.port == 9200  # the flag beats the variable
    assert loaded.http.listen == "127.0.0.1"  # the file's, untouched by the override
    assert loaded.store_url == "sqlite:////var/lib/prescale/p.db"


def test_every_default_is_pinned(tmp_path: Path) -> None:
    """The defaults the README documents; change both together."""
    minimal = {"workloads": b.config_data(tmp_path / "db.sqlite")["workloads"]}
    resolved = config.resolved(config.load(None, environ={}, flags=minimal))
    del resolved["workloads"]
    assert resolved == {
        "store": "sqlite:///prescale.db",
        "prometheus": {
            "url": None,
            "bearer_token_file": None,
            "basic_auth": None,
            "ca_file": None,
            "cert_file": None,
            "key_file": None,
            "insecure_skip_verify": False,
            "headers": {},
            "timeout": "30s",
        },
        "kubernetes": {"kubeconfig": None, "context": None},
        "mode": "advisory",
        "dry_run": False,
        "schedule": {
            "tick": "1m",
            "refit": "1h",
            "reselect": "1d",
            "rechoose": "1w",
            "learn_cold_starts": "5m",
            "prune": "1h",
            "history": "4w",
            "cold_start_window": "1w",
            "cold_start_min_count": 5,
            "shadow_window": "1w",
        },
        "retention": {
            "decisions": "4w2d",
            "forecasts": "2w",
            "cold_starts": "12w6d",
            "forecast_errors": "12w6d",
        },
        "http": {"listen": "0.0.0.0", "port": 8080, "api_token_file": None},
        "leader_election": {
            "enabled": True,
            "lease_name": "prescale",
            "lease_namespace": None,
            "lease_duration": "15s",
            "renew_deadline": "10s",
            "retry_period": "2s",
            "identity": None,
        },
        "log_format": "text",
    }


def test_every_field_is_documented() -> None:
    """Each field's description says what it is; the groups' defaults say why in it."""
    groups = [
        config.ConfigModel,
        config.StoreModel,
        config.PrometheusModel,
        config.KubernetesModel,
        config.ScheduleModel,
        config.RetentionModel,
        config.HttpModel,
        config.LeaderElectionModel,
        config.TraceSourceModel,
        config.TargetModel,
        config.WorkloadModel,
    ]
    undocumented = [
        f"{group.__name__}.{name}"
        for group in groups
        for name, field in group.model_fields.items()
        if not field.description and group is not config.ConfigModel
    ]
    assert undocumented == []


def test_check_config_prints_every_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, {"mode": "actuat", "schedule": {"tick": "never"}})
    assert cli.main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3, err  # mode, tick, no workloads
    assert all(line.startswith("prescale: error: ") for line in err)


def test_check_config_prints_the_resolved_config_without_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b.config_data(tmp_path / "db.sqlite")
    data["store"] = "postgresql+psycopg2://prescale:s3cret-pw@db:5432/prescale"
    data["prometheus"] = {"url": "http://prom:9090", "headers": {"X-Scope-OrgID": "tenant-key"}}
    path = write(tmp_path, data)
    monkeypatch.delenv("PRESCALE_MODE", raising=False)
    assert cli.main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    resolved = yaml.safe_load(out)
    assert resolved["store"] == "postgresql+psycopg2://prescale:***@db:5432/prescale"
    assert resolved["prometheus"]["headers"] == {"X-Scope-OrgID": "***"}
    assert resolved["workloads"][0]["targets"] == {"on_demand": "metric:chat/chat-od"}
    assert "s3cret-pw" not in out and "tenant-key" not in out


def test_the_bundled_example_config_is_valid_and_reads_its_trace_beside_it() -> None:
    path = b.TRACE.parent / "daemon.yaml"
    loaded = config.load(path, environ={})
    (workload,) = loaded.workloads
    assert isinstance(workload.source, config.TraceSource)
    assert workload.source.path == b.TRACE
    assert [t.ref for t in workload.targets] == ["metric:chat/llama-spot", "metric:chat/llama-od"]


def test_the_minimal_config_shown_for_missing_workloads_is_valid(tmp_path: Path) -> None:
    """What `workloads is missing` tells the user to write loads (beside its trace)."""
    (tmp_path / "trace.csv").write_bytes(b.TRACE.read_bytes())
    path = write(tmp_path, config.MINIMAL.strip("`") + "\n")
    (workload,) = config.load(path, environ={}).workloads
    assert workload.name == "chat" and workload.source == config.TraceSource(
        tmp_path / "trace.csv", "requests"
    )


def test_the_daemon_and_a_replay_share_the_refit_floor(tmp_path: Path) -> None:
    """schedule.refit and `simulate --refit-every` take 5 min and up: the forecast's resolution,
    below which a refit reads the same complete buckets."""
    assert spec.MIN_REFIT_S == forecast.DEFAULT_RESOLUTION_S
    assert inputs.DURATION_FLOORS["--refit-every"][0] == spec.MIN_REFIT_S
    data = b.config_data(tmp_path / "db.sqlite")
    data["schedule"]["refit"] = "5m"
    assert config.load(None, environ={}, flags=data).schedule.refit_s == spec.MIN_REFIT_S
    data["schedule"]["refit"] = "4m59s"
    assert problems_of(data) == (
        "schedule.refit ('4m59s') is 4m59s, outside 5m to 1w; set it within that range",
    )


def test_a_prometheus_source_is_the_adapters_block_over_the_top_level_connection(
    tmp_path: Path,
) -> None:
    data = b.config_data(tmp_path / "db.sqlite")
    data["prometheus"] = {"url": "http://prometheus.monitoring:9090", "timeout": "10s"}
    data["workloads"][0]["source"] = {
        "preset": "vllm-concurrency",
        "selector": '{model_name="llama-3-8b"}',
    }
    (workload,) = config.load(None, environ={}, flags=data).workloads
    assert not isinstance(workload.source, config.TraceSource)
    assert workload.source.connection.url == "http://prometheus.monitoring:9090"
    assert workload.source.step_s == 60
    # a gauge of running requests is load already: the planner must not apply Little's law
    assert workload.spec.history_unit.value == "concurrency"


def test_a_prometheus_source_without_a_url_names_the_workload(tmp_path: Path) -> None:
    data = b.config_data(tmp_path / "db.sqlite")
    data["workloads"][0]["source"] = {"preset": "vllm", "selectr": "{}"}
    found = problems_of(data)
    assert any(p.startswith("workloads[0].source.url is missing") for p in found), found
    assert any("selectr" in p and "did you mean 'selector'" in p for p in found), found
