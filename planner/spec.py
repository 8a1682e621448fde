"""Pure: the workload spec: what a workload is, with every default resolved once.

The dataclasses, the defaults and bounds, and the naming rule. Reading and validating a workload
file is the shell's (`actuator/workloads.py`, through the pydantic model of
`actuator/workload_schema.py`, converted to these dataclasses): the core only ever sees a
`WorkloadSpec` that passed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar


class CapacityType(StrEnum):
    RESERVED = "reserved"
    SPOT = "spot"
    ON_DEMAND = "on_demand"


Amount = TypeVar("Amount", int, float)


@dataclass(frozen=True, slots=True)
class ByType(Generic[Amount]):
    """An amount per capacity type: replicas (int), GPU-hours or dollars (float).

    Slotted and built positionally on the step's path (every replayed minute builds one).
    """

    reserved: Amount = 0
    spot: Amount = 0
    on_demand: Amount = 0

    @classmethod
    def build(cls, amount: Callable[[CapacityType], Amount]) -> ByType[Amount]:
        """`amount(t)` for each capacity type t."""
        return cls(
            amount(CapacityType.RESERVED), amount(CapacityType.SPOT), amount(CapacityType.ON_DEMAND)
        )

    @property
    def total(self) -> Amount:
        return self.reserved + self.spot + self.on_demand

    def of(self, capacity_type: CapacityType) -> Amount:
        if capacity_type is CapacityType.RESERVED:
            return self.reserved
        if capacity_type is CapacityType.SPOT:
            return self.spot
        return self.on_demand

    def as_dict(self) -> dict[str, Amount]:
        """{"reserved": ..., "spot": ..., "on_demand": ...}: the stored and JSON keys."""
        return {t.value: self.of(t) for t in CapacityType}


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

# The shortest refit interval, of the daemon (`schedule.refit`) and of a replay
# (`--refit-every`): a refit reads the history's complete buckets at the forecast's 5-minute
# resolution (forecaster.forecast.DEFAULT_RESOLUTION_S), so refitting more often refits the same
# history, and a replayed day at 1 min is 1,440 refits (minutes of work for nothing new).
MIN_REFIT_S = 300

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
    return f"{field} ({value!r}) {DNS_RULE}; {name_fix(value)}"


def name_fix(value: str) -> str:
    """A valid name close to `value`, as the fix of a bad one."""
    suggestion = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:DNS_LABEL_MAX]
    return f"rename it, e.g. {suggestion!r}" if suggestion else "rename it, e.g. 'chat-llama-8b'"


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
        prices = ByType(
            self.reserved_per_gpu_hour, self.spot_per_gpu_hour, self.on_demand_per_gpu_hour
        )
        return prices.of(capacity_type)


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
    # The spec states provisioning_quantile itself (an expert override): it is planned as it
    # stands, and no operating point is chosen for the SLO (simulator/operating_point.py).
    quantile_override: bool = False
