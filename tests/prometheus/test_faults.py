"""Faults injected at the wire between the adapter and a real Prometheus, and credentials."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import fault_proxy
import pandas as pd
import pytest
from prometheus_history import SELECTOR, History

from actuator import prometheus
from kernel import errors

QUERY = f"sum(rate(vllm:request_success_total{SELECTOR}[60s]))"
SECRET = "s3cr3t-token-value"


@pytest.fixture()
def proxy(prometheus_history: History) -> Iterator[fault_proxy.Proxy]:
    started = fault_proxy.start(prometheus_history.url)
    yield started
    started.stop()


def _conn(url: str, **overrides: object) -> prometheus.Connection:
    settings: dict[str, object] = {"url": url, "backoff_s": 0.0, "timeout_s": 5.0, "retries": 2}
    settings.update(overrides)
    return prometheus.Connection(**settings)  # type: ignore[arg-type]


def _hour(history: History) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = history.start + pd.Timedelta(days=1)
    return start, start + pd.Timedelta(hours=1)


def _range_requests(proxy: fault_proxy.Proxy) -> int:
    return sum(r.path == "/api/v1/query_range" for r in proxy.requests)


@pytest.mark.parametrize(
    "fault",
    [fault_proxy.Fault.STATUS_503, fault_proxy.Fault.HTML_502],
    ids=["503-json", "502-html"],
)
def test_5xx_is_retried_then_served(
    prometheus_history: History, proxy: fault_proxy.Proxy, fault: fault_proxy.Fault
) -> None:
    proxy.faults = [fault, fault]
    got = prometheus.fetch_range(_conn(proxy.url), QUERY, *_hour(prometheus_history), 60)
    assert _range_requests(proxy) == 3
    assert not got.partial and got.values.notna().all()


def test_5xx_beyond_the_retries_is_source_unavailable(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    proxy.faults = [fault_proxy.Fault.STATUS_503] * 3
    with pytest.raises(errors.SourceUnavailableError, match="after 2 retries"):
        prometheus.fetch_range(_conn(proxy.url), QUERY, *_hour(prometheus_history), 60)
    assert _range_requests(proxy) == 3


def test_4xx_is_never_retried(prometheus_history: History, proxy: fault_proxy.Proxy) -> None:
    with pytest.raises(errors.InputError, match="HTTP 400"):
        prometheus.fetch_range(_conn(proxy.url), "sum(", *_hour(prometheus_history), 60)
    assert _range_requests(proxy) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (fault_proxy.Fault.HTML_200, "text/html body, not Prometheus JSON"),
        (fault_proxy.Fault.TRUNCATED_JSON, "application/json body, not Prometheus JSON"),
        (fault_proxy.Fault.STATUS_ERROR_200, "not a query result .*internal: boom"),
    ],
    ids=["html-200", "truncated-json", "status-error-200"],
)
def test_garbage_answers_are_source_unavailable(
    prometheus_history: History, proxy: fault_proxy.Proxy, fault: fault_proxy.Fault, message: str
) -> None:
    proxy.faults = [fault]
    with pytest.raises(errors.SourceUnavailableError, match=message):
        prometheus.fetch_range(_conn(proxy.url), QUERY, *_hour(prometheus_history), 60)


def test_a_body_shorter_than_its_length_is_retried(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    proxy.faults = [fault_proxy.Fault.SHORT_BODY]
    got = prometheus.fetch_range(_conn(proxy.url), QUERY, *_hour(prometheus_history), 60)
    assert _range_requests(proxy) == 2
    assert got.values.notna().all()


def test_a_body_that_keeps_breaking_off_is_source_unavailable(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    proxy.faults = [fault_proxy.Fault.SHORT_BODY] * 3
    with pytest.raises(errors.SourceUnavailableError, match="broke off"):
        prometheus.fetch_range(_conn(proxy.url), QUERY, *_hour(prometheus_history), 60)
    assert _range_requests(proxy) == 3


def test_a_hung_server_times_out_after_the_retries(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    proxy.faults = [fault_proxy.Fault.HANG] * 2
    conn = _conn(proxy.url, timeout_s=0.3, retries=1)
    with pytest.raises(errors.SourceUnavailableError, match=r"within 0.3 s after 1 retries"):
        prometheus.fetch_range(conn, QUERY, *_hour(prometheus_history), 60)
    assert _range_requests(proxy) == 2


def test_a_failed_chunk_makes_the_result_partial(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    """Two chunks, one sequential worker: the first chunk fails past its retries, the second
    is served; the result says partial and names the missing span, which stays NaN."""
    start = prometheus_history.start
    end = start + pd.Timedelta(minutes=prometheus.CHUNK_POINTS + 100)
    proxy.faults = [fault_proxy.Fault.STATUS_503] * 3
    conn = _conn(proxy.url, max_concurrency=1)
    got = prometheus.fetch_range(conn, QUERY, start, end, 60)
    assert got.partial
    assert len(got.warnings) == 1 and "missing" in got.warnings[0]
    assert got.values.iloc[: prometheus.CHUNK_POINTS].isna().all()
    assert got.values.iloc[prometheus.CHUNK_POINTS + 1 :].notna().all()


def test_bearer_token_is_reread_and_headers_sent(
    prometheus_history: History, proxy: fault_proxy.Proxy, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("first\n")
    conn = _conn(proxy.url, bearer_token_file=token, headers=(("X-Scope-OrgID", "team-a"),))
    prometheus.fetch_range(conn, QUERY, *_hour(prometheus_history), 60)
    token.write_text("rotated")  # a mounted Secret updated in place
    prometheus.instant(conn, QUERY, prometheus_history.start + pd.Timedelta(days=1))
    auth = [r.headers.get("Authorization") for r in proxy.requests]
    assert auth == ["Bearer first", "Bearer rotated"]
    assert all(r.headers.get("X-Scope-OrgID") == "team-a" for r in proxy.requests)


def test_basic_auth_password_comes_from_its_file(
    prometheus_history: History, proxy: fault_proxy.Proxy, tmp_path: Path
) -> None:
    password = tmp_path / "password"
    password.write_text("pa55")
    conn = _conn(proxy.url, basic_auth_user="reader", basic_auth_password_file=password)
    prometheus.instant(conn, QUERY, prometheus_history.start + pd.Timedelta(days=1))
    assert proxy.requests[0].headers["Authorization"] == "Basic cmVhZGVyOnBhNTU="


def test_secrets_never_appear_in_errors_logs_or_repr(
    prometheus_history: History,
    proxy: fault_proxy.Proxy,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = tmp_path / "token"
    token.write_text(SECRET)
    conn = _conn(proxy.url, bearer_token_file=token, headers=(("X-Api-Key", SECRET),), retries=0)
    caplog.set_level(logging.DEBUG)
    texts = [repr(conn)]
    for fault in (fault_proxy.Fault.STATUS_503, fault_proxy.Fault.HTML_200):
        proxy.faults = [fault]
        with pytest.raises(errors.PrescaleError) as caught:
            prometheus.fetch_range(conn, QUERY, *_hour(prometheus_history), 60)
        texts.append(str(caught.value))
    with pytest.raises(errors.InputError) as refused:
        prometheus.fetch_range(conn, "sum(", *_hour(prometheus_history), 60)
    texts.append(str(refused.value))
    texts.extend(record.getMessage() for record in caplog.records)
    assert proxy.requests[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert all(SECRET not in text for text in texts)


def test_unusable_connections_are_refused_with_every_problem(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError) as caught:
        prometheus.Connection(
            url="https://user:pw@prometheus:9090",
            bearer_token_file=tmp_path / "t",
            basic_auth_user="u",
            max_concurrency=0,
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert "pw" not in str(caught.value)


def test_a_missing_token_file_names_the_file_not_a_secret(
    prometheus_history: History, tmp_path: Path
) -> None:
    conn = _conn(prometheus_history.url, bearer_token_file=tmp_path / "absent")
    with pytest.raises(errors.InputError, match=r"bearer token file .*absent cannot be read"):
        prometheus.fetch_range(conn, QUERY, *_hour(prometheus_history), 60)


def test_insecure_warns(prometheus_history: History, caplog: pytest.LogCaptureFixture) -> None:
    conn = _conn(prometheus_history.url, insecure=True)
    with caplog.at_level(logging.WARNING):
        prometheus.instant(conn, QUERY, prometheus_history.start + pd.Timedelta(days=1))
    assert any("TLS verification is off" in r.getMessage() for r in caplog.records)


def test_prometheus_warnings_make_the_result_partial(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    proxy.faults = [fault_proxy.Fault.WARNINGS]
    got = prometheus.fetch_range(_conn(proxy.url), QUERY, *_hour(prometheus_history), 60)
    assert got.partial
    assert got.warnings == ("results truncated: a store is down",)
    assert got.values.notna().all()
