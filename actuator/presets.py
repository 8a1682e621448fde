"""Shell: PromQL presets for the inference engines prescale reads demand from.

Each preset is one workload's demand as one series: a PromQL template summed over the replicas
of one workload (`sum(... {selector} ...)`), the unit it yields, and where the metric names were
checked (docs/prometheus.md cites the pages). Counters are read with `rate()` over the query
step, gauges as they are (never `rate()` of a gauge). The `{selector}` placeholder takes the
user's label matchers (`model_name="llama-3-8b",namespace="chat"`), with or without braces.

A counter of requests yields `requests_per_s`: the loader turns it into arrivals per interval,
the unit of a CSV trace, and the planner applies Little's law to it like to a CSV. A gauge
(running requests, KV tokens in use) is already load: the planner takes it as it is.
"""

from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass

from kernel import errors
from planner import spec


class SourceUnit(enum.StrEnum):
    """What a query's values are, before they become the workload's unit."""

    REQUESTS_PER_S = "requests_per_s"  # a counter rate: arrivals, Little's law applies
    CONCURRENCY = "concurrency"  # a gauge of requests in the engine (running + waiting)
    KV_TOKENS = "kv_tokens"  # a gauge of KV-cache tokens in use
    KV_USAGE = "kv_usage"  # sum over replicas of the KV-cache usage fraction (0..1 each)
    TOKENS_PER_S = "tokens_per_s"  # a counter rate of generated tokens


class Kind(enum.StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"


@dataclass(frozen=True)
class Preset:
    """One engine metric as one workload's demand series."""

    name: str
    engine: str
    template: str  # PromQL with {selector} and, for counters, {step}
    kind: Kind
    unit: SourceUnit
    checked_against: str  # engine version / docs page the metric names were read from
    legacy: bool = False  # the engine is in maintenance upstream
    prompt_tokens: str | None = None  # companion counter templates (per-interval token sums)
    completion_tokens: str | None = None


def _counter(metric: str) -> str:
    # str.format template: `{{` and `}}` are literal braces around the {selector} field.
    return "sum(rate(" + metric + "{{{selector}}}[{step}]))"


def _gauge(*metrics: str) -> str:
    if len(metrics) == 1:
        return "sum(" + metrics[0] + "{{{selector}}})"
    # One selector over several names: `sum(a) + sum(b)` would be empty whenever one of them
    # has no series (an engine that never queued), and the sum would be lost.
    names = "|".join(metrics)
    return 'sum({{__name__=~"' + names + '",{selector}}})'


VLLM_DOCS = "vLLM V1 metrics, docs.vllm.ai/en/stable/usage/metrics (v0.9.1 page and later)"
SGLANG_DOCS = "SGLang production metrics, docs.sglang.io/docs/references/production_metrics"
TRTLLM_DOCS = (
    "TensorRT-LLM 1.1.0rc5 via trtllm-serve /prometheus/metrics (NVIDIA Dynamo TensorRT-LLM "
    "observability page)"
)
TRITON_DOCS = "Triton Inference Server user guide, metrics (r24.04 and later)"
DYNAMO_DOCS = "NVIDIA Dynamo metrics catalog v1.4-v1.7, dynamo_frontend_* family"
LLMD_DOCS = "llm-d router metrics (dev docs), Endpoint Picker llm_d_epp_* family"
TGI_DOCS = "Text Generation Inference 3.x metrics (huggingface.co/docs/text-generation-inference)"

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "vllm",
            "vLLM (V1 engine)",
            _counter("vllm:request_success_total"),
            Kind.COUNTER,
            SourceUnit.REQUESTS_PER_S,
            VLLM_DOCS,
            prompt_tokens=_counter("vllm:prompt_tokens_total"),
            completion_tokens=_counter("vllm:generation_tokens_total"),
        ),
        Preset(
            "vllm-concurrency",
            "vLLM (V1 engine)",
            _gauge("vllm:num_requests_running", "vllm:num_requests_waiting"),
            Kind.GAUGE,
            SourceUnit.CONCURRENCY,
            VLLM_DOCS,
        ),
        Preset(
            "vllm-kv",
            "vLLM (V1 engine)",
            # gpu_cache_usage_perc is the deprecated name of the same fraction.
            _gauge("vllm:kv_cache_usage_perc"),
            Kind.GAUGE,
            SourceUnit.KV_USAGE,
            VLLM_DOCS,
        ),
        Preset(
            "vllm-tokens",
            "vLLM (V1 engine)",
            _counter("vllm:generation_tokens_total"),
            Kind.COUNTER,
            SourceUnit.TOKENS_PER_S,
            VLLM_DOCS,
        ),
        Preset(
            "sglang",
            "SGLang",
            _counter("sglang:num_requests_total"),
            Kind.COUNTER,
            SourceUnit.REQUESTS_PER_S,
            SGLANG_DOCS,
            prompt_tokens=_counter("sglang:prompt_tokens_total"),
            completion_tokens=_counter("sglang:generation_tokens_total"),
        ),
        Preset(
            "sglang-concurrency",
            "SGLang",
            _gauge("sglang:num_running_reqs", "sglang:num_queue_reqs"),
            Kind.GAUGE,
            SourceUnit.CONCURRENCY,
            SGLANG_DOCS,
        ),
        Preset(
            "sglang-kv",
            "SGLang",
            _gauge("sglang:num_used_tokens"),
            Kind.GAUGE,
            SourceUnit.KV_TOKENS,
            SGLANG_DOCS,
        ),
        Preset(
            "trtllm",
            "TensorRT-LLM (trtllm-serve)",
            _counter("trtllm_request_success_total"),
            Kind.COUNTER,
            SourceUnit.REQUESTS_PER_S,
            TRTLLM_DOCS,
        ),
        Preset(
            "triton",
            "Triton Inference Server",
            _counter("nv_inference_request_success"),
            Kind.COUNTER,
            SourceUnit.REQUESTS_PER_S,
            TRITON_DOCS,
        ),
        Preset(
            "triton-concurrency",
            "Triton Inference Server",
            _gauge("nv_inference_pending_request_count"),
            Kind.GAUGE,
            SourceUnit.CONCURRENCY,
            TRITON_DOCS,
        ),
        Preset(
            "dynamo",
            "NVIDIA Dynamo frontend",
            _counter("dynamo_frontend_requests_total"),
            Kind.COUNTER,
            SourceUnit.REQUESTS_PER_S,
            DYNAMO_DOCS,
        ),
        Preset(
            "dynamo-concurrency",
            "NVIDIA Dynamo frontend",
            _gauge("dynamo_frontend_inflight_requests"),
            Kind.GAUGE,
            SourceUnit.CONCURRENCY,
            DYNAMO_DOCS,
        ),
        Preset(
            "llm-d",
            "llm-d router (Endpoint Picker)",
            _counter("llm_d_epp_request_total"),
            Kind.COUNTER,
            SourceUnit.REQUESTS_PER_S,
            LLMD_DOCS,
        ),
        Preset(
            "tgi",
            "Text Generation Inference (legacy: in maintenance upstream)",
            _counter("tgi_request_count"),
            Kind.COUNTER,
            SourceUnit.REQUESTS_PER_S,
            TGI_DOCS,
            legacy=True,
        ),
        Preset(
            "tgi-concurrency",
            "Text Generation Inference (legacy: in maintenance upstream)",
            _gauge("tgi_batch_current_size", "tgi_queue_size"),
            Kind.GAUGE,
            SourceUnit.CONCURRENCY,
            TGI_DOCS,
            legacy=True,
        ),
    )
}

# Label matchers as PromQL writes them: name, operator, quoted value; comma separated.
_MATCHER = re.compile(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*')


def selector_body(selector: str) -> str:
    """The matchers inside `{...}` (braces optional); InputError when they are not matchers."""
    text = selector.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    text = text.strip().rstrip(",")
    if not text:
        return ""
    parts = re.split(r',(?=(?:[^"\\]|\\.|"(?:[^"\\]|\\.)*")*$)', text)
    bad = [p for p in parts if not _MATCHER.fullmatch(p)]
    if bad:
        raise errors.InputError(
            f"selector ({selector!r}): {bad[0].strip()!r} is not a label matcher; write "
            '\'{model_name="llama-3-8b",namespace="chat"}\' (operators = != =~ !~, values quoted)'
        )
    return ",".join(p.strip() for p in parts)


def find(name: str) -> Preset:
    """The preset called `name`; InputError listing the names (and the closest) otherwise."""
    if name in PRESETS:
        return PRESETS[name]
    close = difflib.get_close_matches(name, PRESETS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise errors.InputError(
        f"preset ({name!r}) is not known{hint}; use one of {', '.join(PRESETS)}, or pass "
        "--query with your own PromQL"
    )


@dataclass(frozen=True)
class Queries:
    """The PromQL a source runs, with the unit its main query yields."""

    main: str
    kind: Kind
    unit: SourceUnit
    prompt_tokens: str | None
    completion_tokens: str | None


def render(preset: Preset, selector: str, step_s: int) -> Queries:
    """The preset's queries for one workload's selector at a step of `step_s` seconds."""
    body = selector_body(selector)
    step = f"{step_s}s"

    def fill(template: str | None) -> str | None:
        return None if template is None else template.format(selector=body, step=step)

    return Queries(
        main=preset.template.format(selector=body, step=step),
        kind=preset.kind,
        unit=preset.unit,
        prompt_tokens=fill(preset.prompt_tokens),
        completion_tokens=fill(preset.completion_tokens),
    )


def custom(query: str, unit: SourceUnit) -> Queries:
    """A hand-written query that yields `unit` (a counter rate for requests_per_s and
    tokens_per_s, a gauge otherwise)."""
    text = query.strip()
    if not text:
        raise errors.InputError(
            "query ('') is empty; write PromQL that returns one series, e.g. "
            "'sum(rate(vllm:request_success_total{namespace=\"chat\"}[1m]))'"
        )
    rates = (SourceUnit.REQUESTS_PER_S, SourceUnit.TOKENS_PER_S)
    kind = Kind.COUNTER if unit in rates else Kind.GAUGE
    return Queries(main=text, kind=kind, unit=unit, prompt_tokens=None, completion_tokens=None)


def history_unit(unit: SourceUnit) -> spec.HistoryUnit:
    """The history's unit once loaded: a request rate becomes arrivals per interval (the unit
    of a CSV trace); every other unit is already load and stays what it is."""
    if unit is SourceUnit.REQUESTS_PER_S:
        return spec.HistoryUnit.ARRIVALS
    return spec.HistoryUnit(unit.value)
