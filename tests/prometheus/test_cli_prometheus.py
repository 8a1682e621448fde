"""The commands on history read from a real Prometheus equal the same commands on the CSV."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from prometheus_history import SELECTOR, History

from actuator import cli, prometheus, source, trace
from actuator.commands import inputs
from forecaster import forecast as forecasting

UNTIL = "1995-09-01T00:00:00Z"  # one interval after the bundled trace's last start
HORIZON_S = 7 * 86400  # the forecast command's default horizon


def _prometheus_flags(history: History, preset: str = "vllm") -> list[str]:
    return [
        "--prometheus",
        history.url,
        "--preset",
        preset,
        "--selector",
        SELECTOR,
        "--since",
        "28d",
        "--until",
        UNTIL,
        "--step",
        "1m",
    ]


def _differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ, with floats equal within 1e-12 relative: the counters'
    rates read back from Prometheus equal the CSV's values within two units in the last place
    (12,309 of the 40,320 minutes differ, measured), and that may reach an unrounded figure's
    last digit."""
    if isinstance(left, float) and isinstance(right, float):
        return [] if math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12) else [path]
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            return [f"{path} keys"]
        return [d for k in left for d in _differences(left[k], right[k], f"{path}.{k}")]
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path} length"]
        pairs = zip(left, right, strict=True)
        return [d for i, (a, b) in enumerate(pairs) for d in _differences(a, b, f"{path}[{i}]")]
    return [] if type(left) is type(right) and left == right else [path]


def _json_out(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    capsys.readouterr()
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_forecast_from_prometheus_equals_forecast_from_the_csv(
    prometheus_history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CSV trace backfilled as three pods' counters and read back through the vllm preset
    forecasts the same: same model, P50 equal within 1e-9 (unrounded), same CLI JSON (floats
    within 1e-12 relative)."""
    csv_path = inputs.example_path(inputs.EXAMPLE_TRACE)
    spec = source.parse({"url": prometheus_history.url, "preset": "vllm", "selector": SELECTOR})
    until = pd.Timestamp(UNTIL)
    loaded = prometheus.load_trace(spec, until - pd.Timedelta(days=28), until)
    from_csv = forecasting.forecast(trace.load(csv_path).values, horizon_s=HORIZON_S)
    from_prom = forecasting.forecast(loaded.values, horizon_s=HORIZON_S)
    assert from_prom.model == from_csv.model
    assert from_prom.frame.index.equals(from_csv.frame.index)
    np.testing.assert_allclose(from_prom.frame["p50"], from_csv.frame["p50"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(from_prom.frame, from_csv.frame, rtol=0, atol=1e-9)

    by_csv = _json_out(capsys, ["forecast", "--trace", str(csv_path), "--format", "json"])
    by_prom = _json_out(
        capsys, ["forecast", *_prometheus_flags(prometheus_history), "--format", "json"]
    )
    assert by_prom["trace"].startswith(f"prometheus {prometheus_history.url} preset vllm")
    by_prom.pop("trace")
    by_csv.pop("trace")
    assert _differences(by_prom, by_csv) == []


def _numbers(report_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    for key in ("generated_at", "trace"):
        document.pop(key)
    return document


def test_report_from_prometheus_writes_the_csv_report_numbers(
    prometheus_history: History, tmp_path: Path
) -> None:
    csv = str(inputs.example_path(inputs.EXAMPLE_TRACE))
    assert cli.main(["report", "--trace", csv, "--out", str(tmp_path / "csv")]) == 0
    argv = ["report", *_prometheus_flags(prometheus_history), "--out", str(tmp_path / "prom")]
    assert cli.main(argv) == 0
    assert _differences(_numbers(tmp_path / "prom"), _numbers(tmp_path / "csv")) == []
    trace_name = json.loads((tmp_path / "prom" / "report.json").read_text())["trace"]
    assert "preset vllm" in trace_name


def test_a_workload_file_with_a_source_block_is_enough(
    prometheus_history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workload = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    workload["source"] = {
        "url": prometheus_history.url,
        "preset": "vllm",
        "selector": SELECTOR,
        "step": "1m",
        "since": "28d",
    }
    path = tmp_path / "with-source.yaml"
    path.write_text(yaml.safe_dump(workload))
    plain = str(inputs.example_path(inputs.EXAMPLE_WORKLOAD))
    csv = str(inputs.example_path(inputs.EXAMPLE_TRACE))
    from_csv = _json_out(capsys, ["plan", "--trace", csv, "--workload", plain, "--format", "json"])
    from_yaml = _json_out(
        capsys, ["plan", "--workload", str(path), "--until", UNTIL, "--format", "json"]
    )
    assert _differences(from_yaml, from_csv) == []
    assert from_yaml["workloads"][0]["history"]["source_unit"] == "arrivals"


def test_a_gauge_history_is_load_without_littles_law(
    prometheus_history: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Concurrency read from vLLM's running + waiting gauges is already load: the plan says so
    and sizes replicas on it directly."""
    workload = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    workload["unit"] = "concurrency"
    path = tmp_path / "concurrency.yaml"
    path.write_text(yaml.safe_dump(workload))
    flags = _prometheus_flags(prometheus_history, "vllm-concurrency")
    flags[flags.index("28d")] = "14d"
    planned = _json_out(capsys, ["plan", *flags, "--workload", str(path), "--format", "json"])
    history = planned["workloads"][0]["history"]
    assert history["source_unit"] == "concurrency"
    assert "no Little's law" in history["conversion"]
    # The gauges sum to at most 39 * 3 + 2 * 3 = 123 concurrent; at the example's capacity
    # per replica and target utilisation that bounds the replicas needed.
    per_replica = planned["workloads"][0]["capacity_per_replica"]
    ceiling = int(np.ceil(123 / (per_replica * workload["target_utilization"])))
    assert 0 < planned["workloads"][0]["replicas"]["total"]["peak"] <= ceiling + 1
    capsys.readouterr()
    assert cli.main(["plan", *flags, "--workload", str(path)]) == 0
    assert "concurrency (gauge, already load) -> concurrency unchanged" in capsys.readouterr().out
    # The report says the same as the plan, in its JSON and on both pages.
    out = tmp_path / "report"
    assert cli.main(["report", *flags, "--workload", str(path), "--out", str(out)]) == 0
    reported = json.loads((out / "report.json").read_text())["workloads"][0]["history"]
    assert reported == history
    assert (
        f"`concurrency` from the source; {history['conversion']}" in (out / "report.md").read_text()
    )
    assert (
        f"<code>concurrency</code> from the source; {html.escape(history['conversion'])}"
        in (out / "report.html").read_text()
    )


def test_flag_mistakes_exit_2(
    prometheus_history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = str(inputs.example_path(inputs.EXAMPLE_TRACE))
    assert cli.main(["forecast", "--trace", csv, *_prometheus_flags(prometheus_history)]) == 2
    assert "--trace and --prometheus are both given" in capsys.readouterr().err
    assert cli.main(["forecast", "--prometheus", prometheus_history.url, "--preset", "vlm"]) == 2
    assert "did you mean 'vllm'" in capsys.readouterr().err
    assert cli.main(["forecast", "--preset", "vllm"]) == 2
    assert "--preset needs --prometheus" in capsys.readouterr().err


def test_the_comparison_forgives_a_last_bit_and_nothing_more() -> None:
    assert _differences({"a": [2.233818236583423]}, {"a": [2.233818236583422]}) == []
    assert _differences({"a": [1.0, 2.0]}, {"a": [1.0, 2.0 + 1e-9]}) == [".a[1]"]
    assert _differences({"n": 1}, {"n": 1.0}) == [".n"]
    assert _differences({"m": "fourier"}, {"m": "ets"}) == [".m"]
    assert _differences({"a": 1}, {"b": 1}) == [" keys"]
