"""Bad Prometheus answers through the CLI: a real (empty) Prometheus on loopback, faults
injected at the wire by tests/fault_proxy.py. A server that cannot answer is exit 1 naming the
server and what to check; an answer that is wrong for planning (a PromQL error, no series,
infinite values) is exit 2 naming the query, the rule and the fix. Never a traceback, never a
hang past the configured timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bad_input_run as r
import conftest
import fault_proxy
import prometheus_server
import pytest
import yaml

BASE = yaml.safe_load(r.VALID_WORKLOAD)
UNTIL = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def empty_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty Prometheus: the queries below compute their values (vector(1), 0/0, 1/0)."""
    server = prometheus_server.start(tmp_path_factory.mktemp("prometheus-empty"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture()
def proxy(empty_prometheus: str) -> Iterator[fault_proxy.Proxy]:
    started = fault_proxy.start(empty_prometheus)
    yield started
    started.stop()


def _workload(tmp_path: Path, url: str, query: str) -> Path:
    """A workload whose source: reads `query` for an hour, without retries (no backoff waits)
    and a 2 s timeout."""
    source = {
        "url": url,
        "query": query,
        "since": "1h",
        "step": "1m",
        "retries": 0,
        "timeout": "2s",
    }
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({**BASE, "source": source}))
    return path


FAULTS = [
    pytest.param(fault_proxy.Fault.STATUS_503, ["kept failing (HTTP 5xx)", "try again"], id="503"),
    pytest.param(fault_proxy.Fault.HTML_502, ["kept failing (HTTP 5xx)"], id="502-html"),
    pytest.param(
        fault_proxy.Fault.HTML_200,
        ["text/html body, not Prometheus JSON", "not a login page"],
        id="html-200",
    ),
    pytest.param(fault_proxy.Fault.TRUNCATED_JSON, ["not Prometheus JSON"], id="truncated-json"),
    pytest.param(fault_proxy.Fault.SHORT_BODY, ["prometheus"], id="short-body"),
    pytest.param(fault_proxy.Fault.STATUS_ERROR_200, ["internal: boom"], id="status-error-200"),
    pytest.param(
        fault_proxy.Fault.HANG, ["did not answer within 2.0 s", "raise timeout_s"], id="hang"
    ),
]


@pytest.mark.parametrize(("fault", "expect"), FAULTS)
def test_prometheus_fault(
    fault: fault_proxy.Fault,
    expect: list[str],
    proxy: fault_proxy.Proxy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proxy.faults = [fault] * 20
    workload = _workload(tmp_path, proxy.url, "vector(1)")
    outcome = r.run(["plan", "--workload", str(workload), "--until", UNTIL], capsys)
    r.refused(outcome, [proxy.url, *expect], code=1)


ANSWERS = [
    pytest.param("sum(", ["HTTP 400", "sum("], id="promql-syntax"),
    pytest.param("no_such_metric_total", ["no_such_metric_total", "no series"], id="no-series"),
    pytest.param("vector(1) / 0", ["returned 60 infinite value(s)", "guard a division"], id="inf"),
    pytest.param("vector(0) / 0", ["history has no data", "check the trace's column"], id="nan"),
    pytest.param(
        "vector(-5)",
        ["(-300) is negative (60 such values)", "never goes below zero"],
        id="negative",
    ),
]


@pytest.mark.parametrize(("query", "expect"), ANSWERS)
def test_prometheus_answer_unfit_for_planning(
    query: str,
    expect: list[str],
    empty_prometheus: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workload = _workload(tmp_path, empty_prometheus, query)
    outcome = r.run(["plan", "--workload", str(workload), "--until", UNTIL], capsys)
    r.refused(outcome, expect)


def test_prometheus_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{conftest.free_port()}"
    workload = _workload(tmp_path, url, "vector(1)")
    outcome = r.run(["plan", "--workload", str(workload), "--until", UNTIL], capsys)
    r.refused(
        outcome, [url, "cannot be reached", "check the URL and that the server is up"], code=1
    )
