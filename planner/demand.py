"""Pure: arrivals per input interval -> load in the workload's unit, by Little's law.

DESIGN.md "From arrivals to load": with arrival rate lambda = arrivals / interval_s and mean
request duration D = ttft_s + completion_tokens * itl_s,
  concurrency      C = lambda * D
  kv_tokens        K = C * (prompt * (1 - prefix_cache_hit_rate) + completion / 2)
  tokens_per_s       = lambda * completion           (output token throughput)
  requests_per_s     = lambda                        (images/s for vision)
Where the trace carries token columns, the measured per-request means replace the spec's.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from kernel import errors
from planner import capacity, spec


class TokenTrace(Protocol):
    """What demand needs of a `forecaster.series.Trace`."""

    @property
    def values(self) -> pd.Series: ...

    @property
    def prompt_tokens(self) -> pd.Series | None: ...

    @property
    def completion_tokens(self) -> pd.Series | None: ...


def measured_request(request: spec.RequestShape, trace: TokenTrace) -> spec.RequestShape:
    """The spec's request shape with token means measured from the trace where it has them.

    Mean prompt tokens = sum(prompt_tokens) / sum(requests) over intervals where both are known
    (Azure 2023 code: 18.06 M / 8819 = 2048 per request). The duration is recomputed from the
    measured completion length unless the spec gave duration_s explicitly.
    """
    prompt = _mean_per_request(trace.values, trace.prompt_tokens)
    completion = _mean_per_request(trace.values, trace.completion_tokens)
    if prompt is None and completion is None:
        return request
    new_prompt = prompt if prompt is not None else request.prompt_tokens
    new_completion = completion if completion is not None else request.completion_tokens
    derived = request.ttft_s + request.completion_tokens * request.itl_s
    explicit_duration = not math.isclose(request.duration_s, derived)
    duration = (
        request.duration_s if explicit_duration else request.ttft_s + new_completion * request.itl_s
    )
    return dataclasses.replace(
        request, prompt_tokens=new_prompt, completion_tokens=new_completion, duration_s=duration
    )


def _mean_per_request(requests: pd.Series, tokens: pd.Series | None) -> float | None:
    if tokens is None:
        return None
    both = requests.notna() & tokens.notna()
    total_requests = float(requests[both].sum())
    if total_requests <= 0:
        return None
    return float(tokens[both].sum()) / total_requests


def load_factor(unit: spec.DemandUnit, request: spec.RequestShape) -> float:
    """Load in `unit` per (request per second) of arrivals.

    Concurrency with ttft 0.5 s, 600 out at 0.03 s: D = 0.5 + 18 = 18.5 s, so 1 req/s -> 18.5
    concurrent. KV tokens with 500 in, 600 out: 18.5 * (500 + 300) = 14800 tokens per req/s.
    """
    if unit is spec.DemandUnit.CONCURRENCY:
        return request.duration_s
    if unit is spec.DemandUnit.KV_TOKENS:
        return request.duration_s * capacity.tokens_per_sequence(request)
    if unit is spec.DemandUnit.TOKENS_PER_S:
        return request.completion_tokens
    return 1.0


def load(
    arrivals: npt.NDArray[np.float64],
    *,
    interval_s: float,
    unit: spec.DemandUnit,
    request: spec.RequestShape,
) -> npt.NDArray[np.float64]:
    """Load in `unit` from arrivals per interval (NaN stays NaN: no data is not zero load).

    300 requests per 60 s interval = 5 req/s; at D = 18.5 s that is 92.5 concurrent.
    """
    rate_per_s = np.asarray(arrivals, dtype=np.float64) / interval_s
    return rate_per_s * load_factor(unit, request)


def history_load(
    values: npt.NDArray[np.float64],
    *,
    interval_s: float,
    workload: spec.WorkloadSpec,
    request: spec.RequestShape,
) -> npt.NDArray[np.float64]:
    """Load in the workload's unit from its history, whatever unit the source gave.

    Arrivals go through Little's law (`load`). A gauge or rate that is already load is never
    put through it again: in the workload's unit it is taken as it is (40 running requests
    are 40 concurrent); in another load unit it is converted through the request rate it
    implies (40 concurrent at D = 18.5 s is 2.16 req/s, so 2.16 * 14800 = 32,000 KV tokens).
    KV usage (replicas' worth of KV cache) times the KV capacity of one replica is KV tokens.
    """
    source = workload.history_unit
    array = np.asarray(values, dtype=np.float64)
    if source is spec.HistoryUnit.ARRIVALS:
        return load(array, interval_s=interval_s, unit=workload.unit, request=request)
    if source is spec.HistoryUnit.KV_USAGE:
        if workload.unit is not spec.DemandUnit.KV_TOKENS:
            raise errors.InputError(
                f"workload {workload.name}: its history is KV-cache usage (a fraction per "
                f"replica) but unit is {workload.unit.value}; set unit: kv_tokens, or use a "
                "concurrency or request-rate preset"
            )
        return array * capacity.per_replica(workload, request)
    given = spec.DemandUnit(source.value)
    if given is workload.unit:
        return array.copy()
    return array / load_factor(given, request) * load_factor(workload.unit, request)


def describe(workload: spec.WorkloadSpec, request: spec.RequestShape, interval_s: int) -> str:
    """How the history's unit became the workload's, in words for tables and JSON."""
    source = workload.history_unit
    unit = workload.unit.value
    if source is spec.HistoryUnit.ARRIVALS:
        factor = load_factor(workload.unit, request)
        return (
            f"arrivals per {interval_s} s -> {unit} by Little's law "
            f"(1 request/s = {factor:.6g} {unit})"
        )
    if source is spec.HistoryUnit.KV_USAGE:
        per = capacity.per_replica(workload, request)
        return f"kv_usage (gauge, replicas' worth of KV cache) x {per:.6g} kv_tokens per replica"
    if source.value == unit:
        return f"{source.value} (gauge, already load) -> {unit} unchanged, no Little's law"
    given = spec.DemandUnit(source.value)
    ratio = load_factor(workload.unit, request) / load_factor(given, request)
    return (
        f"{source.value} (already load) -> {unit} through the implied request rate "
        f"(x {ratio:.6g}), no Little's law on top"
    )
