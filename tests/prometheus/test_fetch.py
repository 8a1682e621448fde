"""The Prometheus adapter against a real server: ranges, chunks, series checks, presets."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import fault_proxy
import numpy as np
import pandas as pd
import pytest
from prometheus_history import LABELS, SELECTOR, History

from actuator import prometheus, source
from kernel import errors


def _conn(url: str, **overrides: object) -> prometheus.Connection:
    settings: dict[str, object] = {"url": url, "backoff_s": 0.0, "timeout_s": 10.0}
    settings.update(overrides)
    return prometheus.Connection(**settings)  # type: ignore[arg-type]


def _source(url: str, preset: str, selector: str = SELECTOR, **extra: object) -> source.SourceSpec:
    return source.parse({"url": url, "preset": preset, "selector": selector, **extra})


@pytest.fixture()
def proxy(prometheus_history: History) -> Iterator[fault_proxy.Proxy]:
    started = fault_proxy.start(prometheus_history.url)
    yield started
    started.stop()


def test_vllm_preset_history_is_the_csv_trace(prometheus_history: History) -> None:
    """Three pods' counters (one reset on day 10) summed and rated per minute, times 60 s,
    give back the CSV's requests per minute on the same interval starts."""
    loaded = prometheus.load_trace(
        _source(prometheus_history.url, "vllm"), prometheus_history.start, prometheus_history.end
    )
    assert loaded.interval_s == 60
    assert loaded.column == "requests"
    assert loaded.values.index.equals(prometheus_history.requests.index)
    assert loaded.values.index.freq == pd.Timedelta(minutes=1)
    np.testing.assert_allclose(
        loaded.values.to_numpy(), prometheus_history.requests.to_numpy(), rtol=1e-12
    )
    assert loaded.prompt_tokens is None  # no vLLM token counters on this server


def test_counter_reset_is_read_by_rate_not_by_hand(prometheus_history: History) -> None:
    """Pod chat-1 restarts at minute 10 d + 7: its own rate that minute is its count, not a
    negative jump."""
    at = prometheus_history.start + pd.Timedelta(days=10, minutes=7)
    query = 'sum(rate(vllm:request_success_total{model_name="llama-3-8b",pod="chat-1"}[60s])) * 60'
    got = prometheus.fetch_range(
        _conn(prometheus_history.url),
        query,
        at + pd.Timedelta(minutes=1),
        at + pd.Timedelta(minutes=1),
        60,
    )
    counts = prometheus_history.requests.loc[at]
    first = np.floor(counts / 3)
    assert got.values.iloc[0] == pytest.approx(np.floor((counts - first) / 2), rel=1e-12)


def test_gauge_gap_stays_nan_and_concurrency_is_the_sum_over_pods(
    prometheus_history: History,
) -> None:
    loaded = prometheus.load_trace(
        _source(prometheus_history.url, "vllm-concurrency"),
        prometheus_history.start + pd.Timedelta(days=3),
        prometheus_history.start + pd.Timedelta(days=4),
    )
    expected = (prometheus_history.running + prometheus_history.waiting).loc[loaded.values.index]
    assert loaded.column == "concurrency"
    # The 30-minute gap is NaN (never 0); 5 minutes of it are bridged by Prometheus's lookback.
    missing = loaded.values.isna()
    assert missing.sum() == 30 - 5
    assert not (loaded.values[missing.shift(1, fill_value=False)] == 0).any()
    in_gap = expected.isna()
    bridged = in_gap & ~missing
    assert bridged.sum() == 5
    last_before_gap = expected[~in_gap & (expected.index < expected.index[in_gap][0])].iloc[-1]
    np.testing.assert_array_equal(loaded.values[bridged], last_before_gap)
    np.testing.assert_allclose(loaded.values[~in_gap], expected[~in_gap], rtol=1e-12)


def test_chunks_are_step_aligned_contiguous_and_under_the_limit(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    """4 weeks at 60 s: 40,321 evaluations in chunks of at most 10,000, each starting one step
    after the previous end, all starts on the step grid; values identical to the direct read."""
    query = f"sum(rate(vllm:request_success_total{SELECTOR}[60s]))"
    start = prometheus_history.start + pd.Timedelta(seconds=17)  # off the grid: rounded up to 00:01
    got = prometheus.fetch_range(_conn(proxy.url), query, start, prometheus_history.end, 60)
    ranges = sorted(
        (int(float(r.query["start"][0])), int(float(r.query["end"][0])))
        for r in proxy.requests
        if r.path == "/api/v1/query_range"
    )
    assert len(ranges) == 5
    assert all(s % 60 == 0 and e % 60 == 0 for s, e in ranges)
    assert all((e - s) // 60 + 1 <= prometheus.CHUNK_POINTS for s, e in ranges)
    assert all(b[0] == a[1] + 60 for a, b in itertools.pairwise(ranges))
    assert ranges[0][0] == int(prometheus_history.start.timestamp()) + 60
    assert ranges[-1][1] == int(prometheus_history.end.timestamp())
    assert got.values.index[0] == prometheus_history.start + pd.Timedelta(minutes=1)
    assert len(got.values) == 40_320
    assert not got.partial
    np.testing.assert_allclose(
        got.values.to_numpy() * 60, prometheus_history.requests.to_numpy(), rtol=1e-12
    )


def test_several_series_is_an_error_listing_their_labels(prometheus_history: History) -> None:
    query = 'sum by (model_name) (rate(vllm:request_success_total{namespace="chat"}[60s]))'
    with pytest.raises(errors.InputError) as caught:
        prometheus.fetch_range(
            _conn(prometheus_history.url),
            query,
            prometheus_history.start,
            prometheus_history.end,
            60,
        )
    text = str(caught.value)
    assert query in text and "2 series" in text
    assert '{model_name="llama-3-8b"}' in text and '{model_name="other"}' in text


def test_no_series_is_an_error_naming_the_query(prometheus_history: History) -> None:
    spec = _source(prometheus_history.url, "vllm", '{model_name="no-such-model"}')
    with pytest.raises(errors.InputError, match="returned no series") as caught:
        prometheus.load_trace(
            spec, prometheus_history.start, prometheus_history.start + pd.Timedelta(hours=1)
        )
    assert "no-such-model" in str(caught.value)


def test_infinite_values_are_refused_and_nan_stays_nan(prometheus_history: History) -> None:
    base = f"sum(rate(vllm:request_success_total{SELECTOR}[60s]))"
    start, end = (
        prometheus_history.start + pd.Timedelta(hours=1),
        prometheus_history.start + pd.Timedelta(hours=2),
    )
    with pytest.raises(errors.InputError, match="infinite value"):
        prometheus.fetch_range(_conn(prometheus_history.url), f"{base} / 0", start, end, 60)
    got = prometheus.fetch_range(_conn(prometheus_history.url), f"({base} * 0) / 0", start, end, 60)
    assert got.values.isna().all()


def test_bad_promql_is_an_input_error_with_prometheus_reason(prometheus_history: History) -> None:
    with pytest.raises(errors.InputError, match=r"HTTP 400: bad_data: .*parse error"):
        prometheus.fetch_range(
            _conn(prometheus_history.url),
            "sum(rate(",
            prometheus_history.start,
            prometheus_history.end,
            60,
        )


def test_millions_of_points_are_refused_before_any_request(
    prometheus_history: History, proxy: fault_proxy.Proxy
) -> None:
    with pytest.raises(errors.InputError, match=r"2,419,201 points per series"):
        prometheus.fetch_range(
            _conn(proxy.url),
            "up",
            prometheus_history.start,
            prometheus_history.start + pd.Timedelta(days=28),
            1,
        )
    assert proxy.requests == []


def test_instant_reads_the_current_value(prometheus_history: History) -> None:
    at = prometheus_history.start + pd.Timedelta(days=1, minutes=1)
    query = f"sum(rate(vllm:request_success_total{SELECTOR}[60s])) * 60"
    value = prometheus.instant(_conn(prometheus_history.url), query, at)
    assert value == pytest.approx(
        prometheus_history.requests.loc[at - pd.Timedelta(minutes=1)], rel=1e-12
    )
    missing = prometheus.instant(
        _conn(prometheus_history.url), 'vllm:num_requests_running{pod="x"}', at
    )
    assert missing is None
    with pytest.raises(errors.InputError, match="3 series"):
        prometheus.instant(
            _conn(prometheus_history.url), 'vllm:num_requests_running{namespace="chat"}', at
        )


def test_labels_are_reported(prometheus_history: History) -> None:
    query = f"sum by (namespace) (vllm:num_requests_running{SELECTOR})"
    at = prometheus_history.start + pd.Timedelta(hours=1)
    got = prometheus.fetch_range(_conn(prometheus_history.url), query, at, at, 60)
    assert got.labels == {"namespace": LABELS["namespace"]}


@pytest.mark.parametrize("preset", ["vllm", "vllm-concurrency"])
def test_an_empty_selector_is_valid_promql(prometheus_history: History, preset: str) -> None:
    """`metric{}` and `{__name__=~"a|b",}` parse; without a selector every model is summed."""
    spec = source.parse({"url": prometheus_history.url, "preset": preset})
    at = prometheus_history.start + pd.Timedelta(hours=1)
    assert prometheus.instant(spec.connection, spec.queries.main, at) is not None
