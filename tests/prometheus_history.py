"""Test part: the session's real Prometheus (fixture `prometheus_history`), backfilled.

vLLM (4 weeks at 1 min, from the bundled NASA trace): `vllm:request_success_total` split over
three pods of model llama-3-8b in namespace chat (pod chat-1 restarts on day 10: a counter
reset), a second model `other` at 5 requests a minute, and the gauges
`vllm:num_requests_running` / `vllm:num_requests_waiting` per pod with a 30-minute gap on day 3
(longer than the 5-minute lookback, so it reads as absent). Every other preset: one day of its
counter and gauges over two pods. Registered as a plugin by tests/conftest.py, so the server
starts once per session, only when a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import prometheus_server
import pytest

from actuator import trace
from actuator.commands import inputs

LABELS = {"model_name": "llama-3-8b", "namespace": "chat"}
SELECTOR = '{model_name="llama-3-8b",namespace="chat"}'
PODS = ("chat-0", "chat-1", "chat-2")
RESET_DAY = 10
GAP_DAY = 3
GAP_MINUTES = 30
PRESET_DAY_PODS = ("p-0", "p-1")


@dataclass(frozen=True)
class History:
    """What was backfilled, for tests to compare against."""

    url: str
    requests: pd.Series  # the NASA trace: requests per minute (interval starts)
    start: pd.Timestamp  # first interval start
    end: pd.Timestamp  # one interval after the last start
    running: pd.Series  # sum over pods of num_requests_running at each sample time (NaN = gap)
    waiting: pd.Series
    preset_day_start: pd.Timestamp  # the day every other preset has data for


def _split(counts: np.ndarray) -> list[np.ndarray]:
    first = np.floor(counts / 3)
    second = np.floor((counts - first) / 2)
    return [first, second, counts - first - second]


def _counter(per_minute: np.ndarray, reset_at: int | None = None) -> np.ndarray:
    """Cumulative samples at each interval's start and one after the last: N + 1 values.

    With a restart at minute `reset_at` the counter starts again from 0 there, so the sample
    at the end of that minute holds only that minute's count (what rate() then reads).
    """
    totals = np.concatenate([[0.0], np.cumsum(per_minute)])
    if reset_at is not None:
        totals[reset_at + 1 :] -= totals[reset_at]
    return totals


def _vllm_series(
    requests: pd.Series,
) -> tuple[list[prometheus_server.Series], dict[str, pd.Series]]:
    start_s = int(requests.index[0].timestamp())
    counts = requests.to_numpy(dtype=float)
    minutes = counts.size
    series: list[prometheus_server.Series] = []
    for number, (pod, share) in enumerate(zip(PODS, _split(counts), strict=True)):
        reset = RESET_DAY * 1440 + 7 if number == 1 else None
        series.append(
            prometheus_server.Series(
                "vllm:request_success_total",
                {**LABELS, "pod": pod, "finished_reason": "stop"},
                start_s,
                60,
                _counter(share, reset),
                kind="counter",
            )
        )
    series.append(
        prometheus_server.Series(
            "vllm:request_success_total",
            {
                "model_name": "other",
                "namespace": "chat",
                "pod": "other-0",
                "finished_reason": "stop",
            },
            start_s,
            60,
            _counter(np.full(minutes, 5.0)),
            kind="counter",
        )
    )
    index = np.arange(minutes)
    gap = slice(GAP_DAY * 1440 + 100, GAP_DAY * 1440 + 100 + GAP_MINUTES)
    sums: dict[str, pd.Series] = {}
    for name, base in (("running", 40), ("waiting", 3)):
        total = np.zeros(minutes)
        for number, pod in enumerate(PODS):
            values = ((index + 7 * number) % base).astype(float)
            total += values
            values[gap] = np.nan
            series.append(
                prometheus_server.Series(
                    f"vllm:num_requests_{name}", {**LABELS, "pod": pod}, start_s, 60, values
                )
            )
        total[gap] = np.nan
        sums[name] = pd.Series(total, index=requests.index)
    return series, sums


# Per preset other than vllm: (counter metric, counter labels) and gauges; one day, two pods.
PRESET_METRICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sglang": (
        (
            "sglang:num_requests_total",
            "sglang:prompt_tokens_total",
            "sglang:generation_tokens_total",
        ),
        ("sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:num_used_tokens"),
    ),
    "trtllm": (("trtllm_request_success_total",), ()),
    "triton": (("nv_inference_request_success",), ("nv_inference_pending_request_count",)),
    "dynamo": (("dynamo_frontend_requests_total",), ("dynamo_frontend_inflight_requests",)),
    "llm-d": (("llm_d_epp_request_total",), ()),
    "tgi": (("tgi_request_count",), ("tgi_batch_current_size", "tgi_queue_size")),
    # vLLM's token counters stay out: the request history must match the token-less CSV.
    "vllm": ((), ("vllm:kv_cache_usage_perc",)),
}
# A pod's counters grow by this much a minute, its gauges hold this value: the preset's sum over
# the two pods is twice that.
PER_POD_RATE_PER_MIN = 30.0
PER_POD_GAUGE = 6.0


def _preset_series(day_start_s: int) -> list[prometheus_server.Series]:
    out: list[prometheus_server.Series] = []
    for counters, gauges in PRESET_METRICS.values():
        for pod in PRESET_DAY_PODS:
            labels = {**LABELS, "pod": pod}
            for name in counters:
                # Counters keep the _total suffix in the name (OpenMetrics); Triton's and TGI's
                # have none, so they go in untyped.
                kind = "counter" if name.endswith("_total") else "gauge"
                values = _counter(np.full(1440, PER_POD_RATE_PER_MIN))
                out.append(prometheus_server.Series(name, labels, day_start_s, 60, values, kind))
            for name in gauges:
                value = 0.25 if name.endswith("_perc") else PER_POD_GAUGE
                out.append(
                    prometheus_server.Series(name, labels, day_start_s, 60, np.full(1440, value))
                )
    return out


@pytest.fixture(scope="session")
def prometheus_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    prometheus_server.require()
    requests = trace.load(inputs.example_path(inputs.EXAMPLE_TRACE)).values
    vllm, sums = _vllm_series(requests)
    day = requests.index[0] + pd.Timedelta(days=20)
    work: Path = tmp_path_factory.mktemp("prometheus")
    blocks = prometheus_server.backfill(work, [*vllm, *_preset_series(int(day.timestamp()))])
    server = prometheus_server.start(work, blocks=blocks)
    try:
        yield History(
            url=server.url,
            requests=requests,
            start=requests.index[0],
            end=requests.index[-1] + pd.Timedelta(minutes=1),
            running=sums["running"],
            waiting=sums["waiting"],
            preset_day_start=day,
        )
    finally:
        server.stop()
