"""Pure: the workload spec: what a workload is, validated, with every default resolved once.

`parse_workloads` takes the YAML data as loaded (a mapping, a list of mappings, or a mapping
with `workloads:` and `pools:`) and returns frozen `WorkloadSpec`s, or raises one `InputError`
listing every problem found.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from kernel import duration, errors
from planner import catalog

_E = TypeVar("_E", bound=StrEnum)


class CapacityType(StrEnum):
    RESERVED = "reserved"
    SPOT = "spot"
    ON_DEMAND = "on_demand"


class WorkloadKind(StrEnum):
    LLM = "llm"
    VISION = "vision"
    GENERIC = "generic"


class DemandUnit(StrEnum):
    CONCURRENCY = "concurrency"
    KV_TOKENS = "kv_tokens"
    TOKENS_PER_S = "tokens_per_s"
    REQUESTS_PER_S = "requests_per_s"


class HistoryUnit(StrEnum):
    """What the workload's demand history measures, as its source gave it.

    ARRIVALS (requests per input interval: a CSV trace, or a counter's rate times the step)
    become load by Little's law (demand.py). The others are gauges or rates that are already
    load and are taken as they are (converted only between units, never through Little's law
    again). KV_USAGE is the sum over replicas of a KV-cache usage fraction: replicas' worth of
    KV capacity.
    """

    ARRIVALS = "arrivals"
    CONCURRENCY = "concurrency"
    KV_TOKENS = "kv_tokens"
    KV_USAGE = "kv_usage"
    TOKENS_PER_S = "tokens_per_s"


class HoldRule(StrEnum):
    """How long scale-in waits after the last tick that wanted more (step.hold_s)."""

    LEAD_TIME = "lead_time"  # max(cooldown, lead time): a released replica cannot return sooner
    COOLDOWN = "cooldown"  # the cooldown only: short spikes are not held for a whole lead time


class ProvisioningQuantile(StrEnum):
    P50 = "p50"
    P90 = "p90"
    P99 = "p99"


# Kubernetes HPA's default scale-down stabilisation window is 300 s; DESIGN.md: "5 min default".
DEFAULT_COOLDOWN_S = 300
# vLLM's default --gpu-memory-utilization.
DEFAULT_GPU_MEMORY_UTILIZATION = 0.9
# CUDA context, activations and CUDA graphs per GPU: an assumption, override with overhead_gib.
DEFAULT_OVERHEAD_GIB = 2.0
# No source gives an interruption rate for our GPUs; 5 % per replica-hour is an assumption the
# spec should override with the provider's figure (e.g. AWS Spot Instance Advisor).
DEFAULT_SPOT_INTERRUPTION_RATE_PER_HOUR = 0.05
# Half of the replicas above the reserved base on spot when spot is allowed: an assumption
# balancing the discount against interruption risk; override with spot_share.
DEFAULT_SPOT_SHARE = 0.5

# Upper bounds: past each a value is a typo, not a workload, and some would hang or overflow the
# planner (a week-long lead time is a 10,081-minute window per tick). Each is far above any
# real deployment, with the reason.
# Replicas: the largest inference fleets run a few thousand GPUs per model.
MAX_REPLICAS = 10_000
# GPUs per replica: 8 per node; multi-node tensor/pipeline parallel replicas reach 64.
MAX_GPUS_PER_REPLICA = 64
# GPU memory: the largest GPUs hold under 300 GiB (B200 192 GB, MI355X 288 GB).
MAX_GPU_MEMORY_GIB = 1024
# A cold start: DESIGN.md gives 5-15 min for LLM pods plus 5-8 min node provisioning.
MAX_LEAD_TIME_S = 86400
# A scale-in wait: the HPA's default is 300 s; a day already means "never scale in".
MAX_COOLDOWN_S = 86400
# $ per GPU-hour: list prices top out near $15 (H100/B200 on demand).
MAX_PRICE_PER_GPU_HOUR = 1000.0
# Spot interruptions per replica-hour: 60 would be one a minute, already unusable.
MAX_INTERRUPTION_RATE_PER_HOUR = 60.0
# Request shape: context windows reach 10M tokens; a request of a day is no request.
MAX_TOKENS = 10_000_000
MAX_REQUEST_S = 86400.0
# A pool of GPUs: larger than any cluster.
MAX_POOL_GPUS = 1_000_000
# Capacity of one replica in any unit (KV tokens reach a few million per replica).
MAX_CAPACITY_PER_REPLICA = 1e12
# API overflow, $ per 1M tokens: list prices are under $100.
MAX_OVERFLOW_PRICE = 10_000.0
# Model architecture: the largest published models have ~200 layers, 128 KV heads, head_dim
# 256 and under 2,000 B parameters.
MAX_LAYERS = 1000
MAX_KV_HEADS = 1024
MAX_HEAD_DIM = 4096
MAX_PARAMS_BILLION = 100_000.0
MAX_OVERHEAD_GIB = 1024.0

# Workload and pool names become Kubernetes object names and label values: an RFC 1123 label
# (lower-case letters, digits and '-', starting and ending with a letter or digit, 63 at most).
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_LABEL_MAX = 63
DNS_RULE = (
    "is not a valid Kubernetes name (RFC 1123 label: lower-case letters, digits and '-', "
    f"starting and ending with a letter or digit, at most {DNS_LABEL_MAX} characters)"
)


def name_problem(field: str, value: str) -> str | None:
    """Why `value` cannot name a workload or pool, or None."""
    if len(value) <= DNS_LABEL_MAX and DNS_LABEL.fullmatch(value):
        return None
    suggestion = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:DNS_LABEL_MAX]
    fix = f"rename it, e.g. {suggestion!r}" if suggestion else "rename it, e.g. 'chat-llama-8b'"
    return f"{field} ({value!r}) {DNS_RULE}; {fix}"


@dataclass(frozen=True, slots=True)
class RequestShape:
    """Mean request shape: tokens in and out, latencies (DESIGN.md, Little's law)."""

    prompt_tokens: float
    completion_tokens: float
    ttft_s: float
    itl_s: float
    duration_s: float  # mean time a request is in the system: given, or ttft_s + out * itl_s
    prefix_cache_hit_rate: float  # fraction of prompt tokens served from the prefix cache


@dataclass(frozen=True, slots=True)
class ModelArchitecture:
    """What KV-cache sizing needs: per-token KV bytes and the weights' footprint."""

    name: str
    layers: int
    kv_heads: int
    head_dim: int
    kv_dtype_bytes: float
    weight_bytes: float  # all weights, split across the replica's GPUs
    gpu_memory_utilization: float  # fraction of GPU memory the engine may use
    overhead_bytes_per_gpu: float


@dataclass(frozen=True, slots=True)
class Prices:
    """$ per GPU-hour by capacity type."""

    on_demand_per_gpu_hour: float
    reserved_per_gpu_hour: float
    spot_per_gpu_hour: float
    source: str

    def per_gpu_hour(self, capacity_type: CapacityType) -> float:
        if capacity_type is CapacityType.RESERVED:
            return self.reserved_per_gpu_hour
        if capacity_type is CapacityType.SPOT:
            return self.spot_per_gpu_hour
        return self.on_demand_per_gpu_hour


@dataclass(frozen=True, slots=True)
class Slo:
    """What the user asks for: the share of minutes in which demand is fully served."""

    served_minutes_pct: float  # 0 < x <= 100


# The SLO when the spec states none: what the decision-quality targets are judged by.
DEFAULT_SLO = Slo(served_minutes_pct=99.5)


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    name: str
    kind: WorkloadKind
    unit: DemandUnit
    gpu: str
    gpus_per_replica: int
    gpu_memory_gib: float
    capacity_per_replica: float | None  # in `unit` at the SLO; None: derived from `model`
    target_utilization: float
    min_replicas: int
    max_replicas: int
    lead_time_s: int  # fallback until cold starts are learned
    request: RequestShape
    capacity_types: tuple[CapacityType, ...]
    model: ModelArchitecture | None
    spot_interruption_rate_per_hour: float
    spot_share: float  # fraction of the replicas above the reserved base put on spot
    prices: Prices
    provisioning_quantile: ProvisioningQuantile
    cooldown_s: int  # least wait before a scale-in; the step waits the lead time if longer
    scale_in_step: int  # most replicas removed per tick (one minute)
    warm_standby: int  # extra ready replicas on top of the need
    pool: str | None  # GPU pool shared with other workloads; None: not pooled
    pool_gpu_budget: int | None  # GPUs of the pool; None: no budget
    api_overflow_price_per_1m_tokens: float | None  # None: unserved demand is not priced
    # Set by the shell from the history's source (a Prometheus gauge), not a YAML key.
    history_unit: HistoryUnit = HistoryUnit.ARRIVALS
    # the SLO the operating point is chosen for (simulator/operating_point.py)
    slo: Slo = DEFAULT_SLO
    # expert override of the scale-in hold; the operating point may choose it otherwise
    scale_in_hold: HoldRule = HoldRule.LEAD_TIME


# The YAML keys: the spec's fields, with durations written `lead_time: 10m`, `cooldown: 5m`
# and the pool's budget under `pools:`.
KNOWN_FIELDS = frozenset(f.name for f in dataclasses.fields(WorkloadSpec)) - {
    "lead_time_s",
    "cooldown_s",
    "pool_gpu_budget",
    "history_unit",
} | {"lead_time", "cooldown"}
REQUEST_FIELDS = frozenset(f.name for f in dataclasses.fields(RequestShape))


class _Fields:
    """Reads one mapping, collecting problems instead of stopping at the first."""

    def __init__(self, data: Mapping[str, object], where: str, problems: list[str]) -> None:
        self.data = data
        self.where = where
        self.problems = problems

    def problem(self, field: str, value: object, rule: str, fix: str) -> None:
        self.problems.append(f"{field} ({value!r}) {rule} for {self.where}; {fix}")

    def number(
        self,
        field: str,
        default: float | None,
        *,
        low: float,
        high: float,
        low_open: bool = False,
    ) -> float | None:
        value = self.data.get(field, default)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.problem(field, value, "is not a number", f"set {field} to a number")
            return default
        bad_low = value <= low if low_open else value < low
        if bad_low or value > high:
            sign = ">" if low_open else ">="
            rule = f"must be {sign} {low:g}" + (f" and <= {high:g}" if high < math.inf else "")
            self.problem(field, value, rule, f"set {field} within that range")
            return default
        return float(value)

    def integer(self, field: str, default: int | None, *, low: int, high: int) -> int | None:
        value = self.data.get(field, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(field, value, "is not a whole number", f"set {field} to an integer")
            return default
        if value < low:
            self.problem(field, value, f"must be >= {low}", f"set {field} to {low} or more")
            return default
        if value > high:
            self.problem(
                field, value, f"must be <= {high:,} (the limit)", f"set {field} to {high:,} or less"
            )
            return default
        return value

    def choice(self, field: str, enum: type[_E], default: _E | None) -> _E | None:
        value = self.data.get(field)
        if value is None:
            if default is None:
                self.problem(field, value, "is missing", f"set {field}: one of {_names(enum)}")
            return default
        try:
            return enum(str(value).strip().lower())
        except ValueError:
            self.problem(field, value, f"is not one of {_names(enum)}", "use one of those")
            return default

    def duration(self, field: str, default_s: int, *, high_s: int) -> int:
        value = self.data.get(field, default_s)
        seconds = duration.whole_seconds(value)
        if seconds is None:
            self.problem(
                field,
                value,
                "is not a duration in whole seconds",
                f"write {field} like {duration.EXAMPLES}",
            )
            return default_s
        if seconds > high_s:
            self.problem(
                field,
                value,
                f"is {seconds:,} s, more than the {duration.text(high_s)} limit",
                f"set {field} to {duration.text(high_s)} or less",
            )
            return default_s
        return seconds


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key, sorted(KNOWN_FIELDS), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}? fix its spelling or remove it"
    return "remove it or fix its spelling"


def _names(enum: type[StrEnum]) -> str:
    return "|".join(member.value for member in enum)


def parse_workloads(data: object) -> tuple[WorkloadSpec, ...]:
    """Validate workload YAML data into specs; raise one InputError listing every problem."""
    problems: list[str] = []
    items, pools = _split_document(data, problems)
    budgets = _parse_pools(pools, problems)
    specs: list[WorkloadSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append(
                f"workload #{index + 1} ({type(item).__name__}) is not a mapping; "
                "write each workload as `name: ..., unit: ..., ...`"
            )
            continue
        spec = _parse_one(item, index, budgets, problems)
        if spec is None:
            continue
        if spec.name in seen:
            problems.append(
                f"name ({spec.name!r}) is used by two workloads; give each workload its own name"
            )
        seen.add(spec.name)
        specs.append(spec)
    if not items and not problems:
        problems.append("workloads ([]) is empty; define at least one workload")
    problems.extend(_pool_problems(specs, budgets))
    if problems:
        raise errors.InputError(problems)
    return tuple(specs)


def _split_document(data: object, problems: list[str]) -> tuple[list[object], object]:
    if isinstance(data, list):
        return list(data), None
    if isinstance(data, Mapping):
        if "workloads" in data:
            workloads = data["workloads"]
            if not isinstance(workloads, list):
                problems.append(
                    f"workloads ({workloads!r}) is not a list; write `workloads:` as a list"
                )
                return [], data.get("pools")
            return list(workloads), data.get("pools")
        return [data], None
    problems.append(
        f"workload document ({type(data).__name__}) is neither a mapping nor a list; "
        "write one workload mapping, a list of them, or `workloads:` plus `pools:`"
    )
    return [], None


def _parse_pools(pools: object, problems: list[str]) -> dict[str, int]:
    if pools is None:
        return {}
    if not isinstance(pools, Mapping):
        problems.append(
            f"pools ({pools!r}) is not a mapping; write `pools: {{NAME: {{gpus: 16}}}}`"
        )
        return {}
    budgets: dict[str, int] = {}
    for name, body in pools.items():
        gpus = body.get("gpus") if isinstance(body, Mapping) else None
        if isinstance(gpus, bool) or not isinstance(gpus, int) or not 1 <= gpus <= MAX_POOL_GPUS:
            problems.append(
                f"pools.{name}.gpus ({gpus!r}) must be a whole number from 1 to "
                f"{MAX_POOL_GPUS:,}; set `pools: {{{name}: {{gpus: N}}}}`"
            )
            continue
        bad_name = name_problem(f"pools.{name}", str(name))
        if bad_name is not None:
            problems.append(bad_name)
            continue
        budgets[str(name)] = gpus
    return budgets


def _pool_problems(specs: list[WorkloadSpec], budgets: dict[str, int]) -> list[str]:
    problems: list[str] = []
    for pool, gpus in budgets.items():
        members = [s for s in specs if s.pool == pool]
        floor_gpus = sum(s.min_replicas * s.gpus_per_replica for s in members)
        if floor_gpus > gpus:
            names = ", ".join(s.name for s in members)
            problems.append(
                f"pools.{pool}.gpus ({gpus}) is below the {floor_gpus} GPUs that min_replicas "
                f"of {names} hold; raise the pool's gpus or lower min_replicas"
            )
    return problems


def _parse_one(
    item: Mapping[str, object], index: int, budgets: dict[str, int], problems: list[str]
) -> WorkloadSpec | None:
    raw_name = item.get("name")
    name = str(raw_name) if isinstance(raw_name, str) and raw_name.strip() else None
    where = f"workload {name}" if name else f"workload #{index + 1}"
    f = _Fields(item, where, problems)
    if name is None:
        f.problem("name", raw_name, "is missing", "give the workload a name")
    else:
        bad_name = name_problem("name", name)
        if bad_name is not None:
            problems.append(f"{bad_name} (for {where})")
    for key in item:
        if key not in KNOWN_FIELDS:
            f.problem(str(key), item[key], "is not a known field", _did_you_mean(str(key)))

    kind = f.choice("kind", WorkloadKind, WorkloadKind.GENERIC)
    unit = f.choice("unit", DemandUnit, None)
    gpu_entry, gpu_name = _gpu(f)
    gpus_per_replica = f.integer("gpus_per_replica", 1, low=1, high=MAX_GPUS_PER_REPLICA) or 1
    default_memory = gpu_entry.memory_gib if gpu_entry else None
    memory = f.number(
        "gpu_memory_gib", default_memory, low=0, high=MAX_GPU_MEMORY_GIB, low_open=True
    )
    if memory is None and gpu_name:
        f.problem("gpu_memory_gib", None, f"is unknown for gpu {gpu_name}", "set gpu_memory_gib")
    capacity = f.number(
        "capacity_per_replica", None, low=0, high=MAX_CAPACITY_PER_REPLICA, low_open=True
    )
    target_util = f.number("target_utilization", 0.8, low=0, high=1, low_open=True) or 0.8
    min_replicas = f.integer("min_replicas", 1, low=0, high=MAX_REPLICAS)
    max_replicas = f.integer("max_replicas", None, low=1, high=MAX_REPLICAS)
    if item.get("max_replicas") is None:
        f.problem("max_replicas", None, "is missing", "set max_replicas, the most you will run")
    elif max_replicas is not None and min_replicas is not None and max_replicas < min_replicas:
        problems.append(
            f"max_replicas ({max_replicas}) is below min_replicas ({min_replicas}) for {where}; "
            "raise max_replicas or lower min_replicas"
        )
    lead_time_s = f.duration("lead_time", 600, high_s=MAX_LEAD_TIME_S)
    request = _request(item.get("request"), where, problems)
    types = _capacity_types(f)
    model = _model(item.get("model"), where, problems)
    rate = f.number(
        "spot_interruption_rate_per_hour",
        DEFAULT_SPOT_INTERRUPTION_RATE_PER_HOUR,
        low=0,
        high=MAX_INTERRUPTION_RATE_PER_HOUR,
    )
    spot_default = DEFAULT_SPOT_SHARE if CapacityType.SPOT in types else 0.0
    spot_share = f.number("spot_share", spot_default, low=0, high=1)
    if spot_share and CapacityType.SPOT not in types:
        rule, fix = "is set but spot is not in capacity_types", "add spot or drop spot_share"
        f.problem("spot_share", spot_share, rule, fix)
    prices = _prices(f, gpu_entry, gpu_name)
    spot_dearer = prices is not None and prices.spot_per_gpu_hour >= prices.on_demand_per_gpu_hour
    if prices is not None and spot_dearer and CapacityType.SPOT in types:
        f.problem(
            "prices.spot",
            prices.spot_per_gpu_hour,
            f"is not below prices.on_demand ({prices.on_demand_per_gpu_hour:g}): spot would "
            "cost more than on-demand and still be interrupted",
            "lower prices.spot, or remove spot from capacity_types",
        )
    quantile = f.choice("provisioning_quantile", ProvisioningQuantile, ProvisioningQuantile.P90)
    cooldown_s = f.duration("cooldown", DEFAULT_COOLDOWN_S, high_s=MAX_COOLDOWN_S)
    # No step limit unless asked: the HPA's default scale-down policy may remove 100 % per period.
    scale_in_step = f.integer("scale_in_step", max_replicas or 1, low=1, high=MAX_REPLICAS)
    warm_standby = f.integer("warm_standby", 0, low=0, high=MAX_REPLICAS)
    pool = item.get("pool")
    pool_name = str(pool) if pool is not None else None
    if pool_name is not None and budgets and pool_name not in budgets:
        rule = f"is not defined under pools ({', '.join(budgets)})"
        f.problem("pool", pool, rule, "add it under `pools:` or fix the name")
    overflow = f.number("api_overflow_price_per_1m_tokens", None, low=0, high=MAX_OVERFLOW_PRICE)
    slo = _slo(item.get("slo"), where, problems)
    hold = f.choice("scale_in_hold", HoldRule, HoldRule.LEAD_TIME)

    if unit is not None and request is not None:
        _check_request_for_unit(f, unit, request)
    if unit is not None and item.get("capacity_per_replica") is None:
        _check_derivable(f, unit, kind, model)
    if name is None or unit is None or max_replicas is None or memory is None:
        return None
    if gpu_name is None or prices is None or request is None:
        return None
    return WorkloadSpec(
        name=name,
        kind=kind or WorkloadKind.GENERIC,
        unit=unit,
        gpu=gpu_name,
        gpus_per_replica=gpus_per_replica,
        gpu_memory_gib=memory,
        capacity_per_replica=capacity,
        target_utilization=target_util,
        min_replicas=min_replicas if min_replicas is not None else 1,
        max_replicas=max_replicas,
        lead_time_s=lead_time_s,
        request=request,
        capacity_types=types,
        model=model,
        spot_interruption_rate_per_hour=rate or 0.0,
        spot_share=spot_share or 0.0,
        prices=prices,
        provisioning_quantile=quantile or ProvisioningQuantile.P90,
        cooldown_s=cooldown_s,
        scale_in_step=scale_in_step or 1,
        warm_standby=warm_standby or 0,
        pool=pool_name,
        pool_gpu_budget=budgets.get(pool_name) if pool_name else None,
        api_overflow_price_per_1m_tokens=overflow,
        slo=slo,
        scale_in_hold=hold or HoldRule.LEAD_TIME,
    )


def _slo(value: object, where: str, problems: list[str]) -> Slo:
    """`slo: {served_minutes: 99.5%}` (a percentage: a number, or a string ending in %)."""
    if value is None:
        return DEFAULT_SLO
    fix = "write e.g. slo: {served_minutes: 99.5%}"
    if not isinstance(value, Mapping) or set(value) != {"served_minutes"}:
        problems.append(f"slo ({value!r}) is not a mapping with served_minutes for {where}; {fix}")
        return DEFAULT_SLO
    raw = value["served_minutes"]
    text = str(raw).strip()
    try:
        pct = float(text.removesuffix("%")) if not isinstance(raw, bool) else math.nan
    except ValueError:
        pct = math.nan
    if not (math.isfinite(pct) and 0 < pct <= 100):
        problems.append(
            f"slo.served_minutes ({raw!r}) is not a percentage in (0, 100] for {where}; {fix}"
        )
        return DEFAULT_SLO
    return Slo(served_minutes_pct=pct)


def _gpu(f: _Fields) -> tuple[catalog.GpuEntry | None, str | None]:
    value = f.data.get("gpu")
    if not isinstance(value, str) or not value.strip():
        f.problem("gpu", value, "is missing", f"set gpu, e.g. one of {', '.join(catalog.GPUS)}")
        return None, None
    entry = catalog.gpu(value)
    return entry, entry.name if entry else value.strip()


def _capacity_types(f: _Fields) -> tuple[CapacityType, ...]:
    value = f.data.get("capacity_types", ["on_demand"])
    if not isinstance(value, list) or not value:
        fix = f"write e.g. [{_names(CapacityType).replace('|', ', ')}]"
        f.problem("capacity_types", value, "is not a non-empty list", fix)
        return (CapacityType.ON_DEMAND,)
    types: list[CapacityType] = []
    for item in value:
        try:
            types.append(CapacityType(str(item).strip().lower()))
        except ValueError:
            f.problem(
                "capacity_types", item, f"is not one of {_names(CapacityType)}", "use those names"
            )
    if types and CapacityType.ON_DEMAND not in types and CapacityType.SPOT in types:
        rule, fix = "has spot without on_demand", "add on_demand (it covers interrupted spot)"
        f.problem("capacity_types", value, rule, fix)
    if types and types == [CapacityType.RESERVED]:
        rule, fix = "is reserved only", "add on_demand (reserved alone cannot follow the need)"
        f.problem("capacity_types", value, rule, fix)
    return tuple(dict.fromkeys(types)) or (CapacityType.ON_DEMAND,)


def _request(value: object, where: str, problems: list[str]) -> RequestShape | None:
    data: Mapping[str, object] = value if isinstance(value, Mapping) else {}
    if value is not None and not isinstance(value, Mapping):
        problems.append(
            f"request ({value!r}) is not a mapping for {where}; "
            "write `request: {prompt_tokens: 500, completion_tokens: 200, ttft_s: 0.5, "
            "itl_s: 0.02}`"
        )
    f = _Fields(data, where, problems)
    for key in data:
        if key not in REQUEST_FIELDS:
            f.problem(f"request.{key}", data[key], "is not a known field", "remove it")
    prompt = f.number("prompt_tokens", 0.0, low=0, high=MAX_TOKENS) or 0.0
    completion = f.number("completion_tokens", 0.0, low=0, high=MAX_TOKENS) or 0.0
    ttft = f.number("ttft_s", 0.0, low=0, high=MAX_REQUEST_S) or 0.0
    itl = f.number("itl_s", 0.0, low=0, high=MAX_REQUEST_S) or 0.0
    hit = f.number("prefix_cache_hit_rate", 0.0, low=0, high=1) or 0.0
    given = f.number("duration_s", None, low=0, high=MAX_REQUEST_S, low_open=True)
    duration = given if given is not None else ttft + completion * itl
    return RequestShape(prompt, completion, ttft, itl, duration, hit)


def _model(value: object, where: str, problems: list[str]) -> ModelArchitecture | None:
    if value is None:
        return None
    if isinstance(value, str):
        preset = catalog.model(value)
        if preset is None:
            problems.append(
                f"model ({value!r}) is not a built-in model ({', '.join(catalog.MODELS)}) for "
                f"{where}; use one of those or write its layers, kv_heads, head_dim, params_billion"
            )
            return None
        value = {"preset": preset.name}
    if not isinstance(value, Mapping):
        problems.append(f"model ({value!r}) is not a name or mapping for {where}; fix it")
        return None
    preset = catalog.model(str(value.get("preset", ""))) if "preset" in value else None
    f = _Fields(value, where, problems)
    layers = f.integer("layers", preset.layers if preset else None, low=1, high=MAX_LAYERS)
    kv_heads = f.integer("kv_heads", preset.kv_heads if preset else None, low=1, high=MAX_KV_HEADS)
    head_dim = f.integer("head_dim", preset.head_dim if preset else None, low=1, high=MAX_HEAD_DIM)
    params = f.number(
        "params_billion",
        preset.params_billion if preset else None,
        low=0,
        high=MAX_PARAMS_BILLION,
    )
    kv_dtype = _dtype(f, "kv_dtype")
    weight_dtype = _dtype(f, "weight_dtype")
    util = f.number(
        "gpu_memory_utilization", DEFAULT_GPU_MEMORY_UTILIZATION, low=0, high=1, low_open=True
    )
    overhead = f.number("overhead_gib", DEFAULT_OVERHEAD_GIB, low=0, high=MAX_OVERHEAD_GIB)
    missing = [
        k
        for k, v in (
            ("layers", layers),
            ("kv_heads", kv_heads),
            ("head_dim", head_dim),
            ("params_billion", params),
        )
        if v is None
    ]
    for key in missing:
        f.problem(f"model.{key}", None, "is missing", f"set model.{key} or use a built-in model")
    if layers is None or kv_heads is None or head_dim is None or params is None:
        return None
    return ModelArchitecture(
        name=preset.name if preset else str(value.get("name", "custom")),
        layers=layers,
        kv_heads=kv_heads,
        head_dim=head_dim,
        kv_dtype_bytes=kv_dtype,
        weight_bytes=params * 1e9 * weight_dtype,
        gpu_memory_utilization=util or DEFAULT_GPU_MEMORY_UTILIZATION,
        overhead_bytes_per_gpu=(overhead or 0.0) * catalog.GIB,
    )


def _dtype(f: _Fields, field: str) -> float:
    value = f.data.get(field, "bf16")
    size = catalog.DTYPE_BYTES.get(str(value).strip().lower())
    if size is None:
        rule = f"is not one of {', '.join(catalog.DTYPE_BYTES)}"
        f.problem(f"model.{field}", value, rule, "use one of those")
        return 2.0
    return size


def _prices(f: _Fields, entry: catalog.GpuEntry | None, gpu_name: str | None) -> Prices | None:
    value = f.data.get("prices", {})
    data: Mapping[str, object] = value if isinstance(value, Mapping) else {}
    if not isinstance(value, Mapping):
        f.problem(
            "prices",
            value,
            "is not a mapping",
            "write `prices: {on_demand: 3.67, reserved: 2.20, spot: 1.28}` ($/GPU-hour)",
        )
    p = _Fields(data, f.where, f.problems)
    on_demand = p.number(
        "on_demand",
        entry.on_demand_per_gpu_hour if entry else None,
        low=0,
        high=MAX_PRICE_PER_GPU_HOUR,
    )
    reserved = p.number(
        "reserved",
        entry.reserved_per_gpu_hour if entry else None,
        low=0,
        high=MAX_PRICE_PER_GPU_HOUR,
    )
    spot = p.number(
        "spot", entry.spot_per_gpu_hour if entry else None, low=0, high=MAX_PRICE_PER_GPU_HOUR
    )
    if on_demand is None or reserved is None or spot is None:
        if gpu_name is not None:
            f.problem(
                "prices",
                dict(data),
                f"are incomplete for gpu {gpu_name}, which is not in "
                f"the built-in catalog ({', '.join(catalog.GPUS)})",
                "set prices.on_demand, prices.reserved and prices.spot ($/GPU-hour)",
            )
        return None
    overridden = bool(data)
    source = "workload spec" if overridden or entry is None else entry.price_source
    return Prices(on_demand, reserved, spot, source)


def _check_derivable(
    f: _Fields, unit: DemandUnit, kind: WorkloadKind | None, model: ModelArchitecture | None
) -> None:
    derivable = model is not None and unit in (DemandUnit.KV_TOKENS, DemandUnit.CONCURRENCY)
    if not derivable:
        hint = (
            " or give `model:` (unit kv_tokens or concurrency)" if kind is WorkloadKind.LLM else ""
        )
        f.problem(
            "capacity_per_replica",
            None,
            f"is missing for unit {unit.value}",
            f"set capacity_per_replica (in {unit.value} per replica at the SLO){hint}",
        )


def _check_request_for_unit(f: _Fields, unit: DemandUnit, request: RequestShape) -> None:
    """Little's law needs the request's duration (and tokens) for every unit but requests/s:
    without them every request would count as zero load."""
    timed = unit in (DemandUnit.CONCURRENCY, DemandUnit.KV_TOKENS)
    tokens = request.prompt_tokens + request.completion_tokens
    for broken, what, fix in (
        (timed and request.duration_s <= 0, "request duration", "ttft_s and itl_s, or duration_s"),
        (unit is DemandUnit.KV_TOKENS and tokens <= 0, "tokens", "prompt/completion_tokens"),
        (
            unit is DemandUnit.TOKENS_PER_S and request.completion_tokens <= 0,
            "completion_tokens",
            "completion_tokens",
        ),
    ):
        if broken:
            rule = f"gives no {what} for unit {unit.value}"
            f.problem("request", f.data.get("request"), rule, f"set request.{fix}")
