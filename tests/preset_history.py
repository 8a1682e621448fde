"""Test part: 4 weeks at 1 min of every preset's metrics over two pods, with a gap and a reset.

Every counter and gauge any preset of `actuator.presets.PRESETS` reads is written for pods p-0
and p-1 of model mixtral-8x7b in namespace presets (a selector of its own, so the vLLM history of
tests/prometheus_history.py keeps exactly its CSV trace). Both pods miss GAP_MINUTES of scrapes
on day GAP_DAY (longer than Prometheus's 5-minute lookback), and pod p-1 restarts at minute
RESET_MINUTE (its counters start again from 0). The values vary by minute, pod and metric, and
`Written` keeps, per metric, what a correct reading must give back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import prometheus_server

LABELS = {"model_name": "mixtral-8x7b", "namespace": "presets"}
SELECTOR = '{model_name="mixtral-8x7b",namespace="presets"}'
PODS = ("p-0", "p-1")
GAP_DAY = 5
GAP_START = GAP_DAY * 1440 + 600  # minute index of the first missing scrape
GAP_MINUTES = 30
RESET_POD = 1
RESET_MINUTE = 12 * 1440 + 421  # the counter sample at the end of this minute restarts from 0
LOOKBACK_MINUTES = 5  # Prometheus 2.42's default lookback for an instant vector selector

COUNTERS = (
    "vllm:request_success_total",
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
    "sglang:num_requests_total",
    "sglang:prompt_tokens_total",
    "sglang:generation_tokens_total",
    "trtllm_request_success_total",
    "nv_inference_request_success",
    "dynamo_frontend_requests_total",
    "llm_d_epp_request_total",
    "tgi_request_count",
)
GAUGES = (
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "sglang:num_running_reqs",
    "sglang:num_queue_reqs",
    "sglang:num_used_tokens",
    "nv_inference_pending_request_count",
    "dynamo_frontend_inflight_requests",
    "tgi_batch_current_size",
    "tgi_queue_size",
)
FRACTIONS = ("vllm:kv_cache_usage_perc",)  # gauges of a 0..1 fraction per pod


@dataclass(frozen=True)
class Written:
    """Per metric, summed over the pods: what a correct reading gives back."""

    counts: dict[str, np.ndarray]  # increase in each 1-min interval (index = interval start)
    gauges: dict[str, np.ndarray]  # value at each sample minute, NaN where no pod was scraped


def metrics_of(template: str) -> tuple[str, ...]:
    """The backfilled metric names a PromQL template reads."""
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", template))
    return tuple(m for m in (*COUNTERS, *GAUGES, *FRACTIONS) if m in words)


def _shape(minutes: int, number: int, pod: int) -> np.ndarray:
    """Integers that vary by minute (a daily step and a 7-minute ripple), pod and metric."""
    m = np.arange(minutes)
    daily = 1 + (m % 1440) // 360
    return ((number % 5 + 1) * (pod + 1) * daily + (m + 3 * number + pod) % 7).astype(float)


def series(start_s: int, minutes: int) -> tuple[list[prometheus_server.Series], Written]:
    """The series to backfill (interval starts from `start_s`, `minutes` of them)."""
    out: list[prometheus_server.Series] = []
    gap = slice(GAP_START, GAP_START + GAP_MINUTES)
    counts: dict[str, np.ndarray] = {}
    gauges: dict[str, np.ndarray] = {}
    for number, name in enumerate(COUNTERS):
        total = np.zeros(minutes)
        for pod, pod_name in enumerate(PODS):
            per_minute = _shape(minutes, number, pod) * (100 if "tokens" in name else 1)
            total += per_minute
            # N + 1 cumulative samples at each interval start and one after the last.
            cumulative = np.concatenate([[0.0], np.cumsum(per_minute)])
            if pod == RESET_POD:
                cumulative[RESET_MINUTE + 1 :] -= cumulative[RESET_MINUTE]
            cumulative[gap] = np.nan  # missed scrapes: no sample
            # OpenMetrics counters end in _total; Triton's and TGI's names do not: untyped.
            kind = "counter" if name.endswith("_total") else "gauge"
            labels = {**LABELS, "pod": pod_name}
            out.append(prometheus_server.Series(name, labels, start_s, 60, cumulative, kind))
        # rate() over one step needs the samples at both ends of the interval.
        total[GAP_START - 1 : GAP_START + GAP_MINUTES] = np.nan
        counts[name] = total
    for number, name in enumerate((*GAUGES, *FRACTIONS)):
        total = np.zeros(minutes)
        for pod, pod_name in enumerate(PODS):
            values = _shape(minutes, number, pod)
            if name in FRACTIONS:
                values = (values % 20) / 20
            total += values
            values[gap] = np.nan
            labels = {**LABELS, "pod": pod_name}
            out.append(prometheus_server.Series(name, labels, start_s, 60, values))
        total[gap] = np.nan
        gauges[name] = total
    return out, Written(counts=counts, gauges=gauges)
