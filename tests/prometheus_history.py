"""Test part: the session's real Prometheus (fixture `prometheus_history`), backfilled.

vLLM (4 weeks at 1 min, from the bundled NASA trace): `vllm:request_success_total` split over
three pods of model llama-3-8b in namespace chat (pod chat-1 restarts on day 10: a counter
reset), a second model `other` at 5 requests a minute, and the gauges
`vllm:num_requests_running` / `vllm:num_requests_waiting` per pod with a 30-minute gap on day 3
(longer than the 5-minute lookback, so it reads as absent). Every preset's metrics, over the
same 4 weeks, under a selector of their own: tests/preset_history.py. Registered as a plugin
by tests/conftest.py, so the server starts once per session, only when a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import preset_history
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


@dataclass(frozen=True)
class History:
    """What was backfilled, for tests to compare against."""

    url: str
    requests: pd.Series  # the NASA trace: requests per minute (interval starts)
    start: pd.Timestamp  # first interval start
    end: pd.Timestamp  # one interval after the last start
    running: pd.Series  # sum over pods of num_requests_running at each sample time (NaN = gap)
    waiting: pd.Series
    presets: preset_history.Written  # every preset's metrics (tests/preset_history.py)


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


@pytest.fixture(scope="session")
def prometheus_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    prometheus_server.require()
    requests = trace.load(inputs.example_path(inputs.EXAMPLE_TRACE)).values
    vllm, sums = _vllm_series(requests)
    every_preset, written = preset_history.series(int(requests.index[0].timestamp()), requests.size)
    work: Path = tmp_path_factory.mktemp("prometheus")
    blocks = prometheus_server.backfill(work, [*vllm, *every_preset])
    server = prometheus_server.start(work, blocks=blocks)
    try:
        yield History(
            url=server.url,
            requests=requests,
            start=requests.index[0],
            end=requests.index[-1] + pd.Timedelta(minutes=1),
            running=sums["running"],
            waiting=sums["waiting"],
            presets=written,
        )
    finally:
        server.stop()
