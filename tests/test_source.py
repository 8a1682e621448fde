"""The `source:` block: pydantic at the edge, a frozen SourceSpec out, every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actuator import presets, source, workloads
from actuator.commands import inputs
from kernel import errors
from planner import spec

URL = "http://prometheus.monitoring:9090"


def test_a_preset_source_renders_its_queries() -> None:
    parsed = source.parse(
        {"url": URL, "preset": "vllm", "selector": '{model_name="m"}', "step": "30s"}
    )
    assert parsed.step_s == 30
    assert parsed.since_s == 28 * 86400
    assert parsed.queries.main == 'sum(rate(vllm:request_success_total{model_name="m"}[30s]))'
    assert parsed.queries.kind is presets.Kind.COUNTER
    assert parsed.history_unit is spec.HistoryUnit.ARRIVALS


def test_a_query_source_takes_its_unit() -> None:
    parsed = source.parse({"url": URL, "query": "sum(x)", "unit": "concurrency"})
    assert parsed.queries.kind is presets.Kind.GAUGE
    assert parsed.history_unit is spec.HistoryUnit.CONCURRENCY


def test_unknown_keys_get_a_did_you_mean() -> None:
    with pytest.raises(errors.InputError) as caught:
        source.parse({"url": URL, "preset": "vllm", "selectr": "{}", "auth": {"ca_fle": "x"}})
    text = str(caught.value)
    assert "source.selectr is not a known key; did you mean 'selector'?" in text
    assert "source.auth.ca_fle is not a known key; did you mean 'ca_file'?" in text


def test_every_problem_is_reported_once_with_path_value_rule_and_fix() -> None:
    with pytest.raises(errors.InputError) as caught:
        source.parse(
            {
                "url": "prometheus:9090",
                "query": "sum(x)",
                "preset": "vllm",
                "step": "0.5s",
                "max_concurrency": 0,
            }
        )
    problems = caught.value.problems
    assert any(p.startswith("source.step ('0.5s') is not a positive duration") for p in problems)
    assert any("exactly one of query" in p and "both" in p for p in problems)
    assert any("is not an http(s) URL" in p for p in problems)
    assert any("max_concurrency (0) must be >= 1" in p for p in problems)


def test_selector_must_be_label_matchers() -> None:
    with pytest.raises(errors.InputError, match=r"source.preset: selector .*not a label matcher"):
        source.parse({"url": URL, "preset": "vllm", "selector": "{model_name=llama}"})


def test_the_repr_shows_no_header_values() -> None:
    parsed = source.parse(
        {"url": URL, "preset": "vllm", "headers": {"X-Scope-OrgID": "tenant-secret"}}
    )
    assert "tenant-secret" not in repr(parsed)
    assert "X-Scope-OrgID" in repr(parsed)


def test_workloads_split_the_source_block_off(tmp_path: Path) -> None:
    data = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    data["source"] = {"url": URL, "preset": "vllm"}
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({"workloads": [data]}))
    (parsed,) = workloads.load(path)
    assert parsed.name == data["name"]
    sources = workloads.load_sources(path)
    assert list(sources) == [data["name"]]
    assert sources[data["name"]].preset == "vllm"


def test_a_bad_source_block_names_the_workload_and_file(tmp_path: Path) -> None:
    data = yaml.safe_load(inputs.example_path(inputs.EXAMPLE_WORKLOAD).read_text())
    data["source"] = {"url": URL, "preset": "vlm"}
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(errors.InputError) as caught:
        workloads.load_sources(path)
    assert f"workload file {path}: workload {data['name']}: source.preset" in str(caught.value)
    assert "did you mean 'vllm'" in str(caught.value)


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_presets_never_rate_a_gauge(name: str) -> None:
    preset = presets.PRESETS[name]
    rated = "rate(" in preset.template
    assert rated == (preset.kind is presets.Kind.COUNTER)
    assert preset.template.startswith("sum(")
    assert preset.checked_against
