"""Shell: the workload spec's schema, the pydantic model a workload's YAML mapping must fit.

Each key's type, bounds and choices are declared on `WorkloadModel` (and its parts); pydantic's
errors are worded by `actuator.schema`. `workloads.parse_workloads` validates data against it
and converts the result to `spec.WorkloadSpec`, checking what depends on other keys. A key
written `null` is a key not given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, TypeVar

import pydantic

from actuator import schema
from kernel import duration
from planner import catalog, spec

_E = TypeVar("_E", bound=StrEnum)

# Keys without a default, and how to fix their absence.
REQUIRED_FIX = {
    "name": "give the workload a name",
    "unit": f"set unit: one of {'|'.join(spec.DemandUnit)}",
    "gpu": f"set gpu, e.g. one of {', '.join(catalog.GPUS)}",
    "max_replicas": "set max_replicas, the most you will run",
}
DEFAULT_LEAD_TIME_S = 600
DEFAULT_TARGET_UTILIZATION = 0.8
DEFAULT_DTYPE = "bf16"


def _choice(enum: type[_E]) -> Callable[[object], _E]:
    """A closed set, case-insensitive (`unit: Concurrency` is `concurrency`)."""

    def parse(value: object) -> _E:
        try:
            return enum(str(value).strip().lower())
        except ValueError:
            raise schema.rule(f"is not one of {'|'.join(enum)}", "use one of those") from None

    return parse


def _duration(limit_s: int) -> Callable[[object], int]:
    """A duration in the kernel's grammar, held as whole seconds, at most `limit_s`."""

    def parse(value: object) -> int:
        seconds = duration.whole_seconds(value)
        if seconds is None:
            raise schema.rule(
                "is not a duration in whole seconds", f"write {{field}} like {duration.EXAMPLES}"
            )
        if seconds > limit_s:
            limit = duration.text(limit_s)
            raise schema.rule(
                f"is {seconds:,} s, more than the {limit} limit",
                f"set {{field}} to {limit} or less",
            )
        return seconds

    return parse


def _name(value: object) -> object:
    if isinstance(value, str) and spec.name_problem("name", value) is not None:
        raise schema.rule(spec.DNS_RULE, spec.name_fix(value))
    return value


def _capacity_types(value: object) -> tuple[spec.CapacityType, ...]:
    if not isinstance(value, list) or not value:
        raise schema.rule("is not a non-empty list", f"write e.g. [{', '.join(spec.CapacityType)}]")
    names = [str(item).strip().lower() for item in value]
    bad = [item for item, n in zip(value, names, strict=True) if n not in set(spec.CapacityType)]
    if bad:
        raise schema.rule(
            f"is not one of {'|'.join(spec.CapacityType)}",
            "use those names",
            value=bad[0] if len(bad) == 1 else bad,
        )
    types = tuple(dict.fromkeys(spec.CapacityType(n) for n in names))
    if spec.CapacityType.SPOT in types and spec.CapacityType.ON_DEMAND not in types:
        raise schema.rule(
            "has spot without on_demand", "add on_demand (it covers interrupted spot)"
        )
    if types == (spec.CapacityType.RESERVED,):
        raise schema.rule(
            "is reserved only", "add on_demand (reserved alone cannot follow the need)"
        )
    return types


def _served_minutes(value: object) -> float:
    """`slo: {served_minutes: 99.5%}` (a percentage: a number, or a string ending in %)."""
    fix = "write e.g. slo: {served_minutes: 99.5%}"
    if not isinstance(value, Mapping) or set(value) != {"served_minutes"}:
        raise schema.rule("is not a mapping with served_minutes", fix)
    raw = value["served_minutes"]
    try:
        pct = float(str(raw).strip().removesuffix("%")) if not isinstance(raw, bool) else -1.0
    except ValueError:
        pct = -1.0
    if not 0 < pct <= 100:  # NaN fails this too
        raise schema.rule("is not a percentage in (0, 100] for served_minutes", fix)
    return pct


def _model_name(value: object) -> object:
    """A built-in model by name (`model: llama-3-8b`) is its preset."""
    if not isinstance(value, str):
        return value
    if catalog.model(value) is None:
        raise schema.rule(
            f"is not a built-in model ({', '.join(catalog.MODELS)})",
            "use one of those or write its layers, kv_heads, head_dim, params_billion",
        )
    return {"preset": value}


def _preset(value: object) -> object:
    if isinstance(value, str) and catalog.model(value) is None:
        raise schema.rule(
            f"is not a built-in model ({', '.join(catalog.MODELS)})", "use one of those"
        )
    return value


def _dtype(value: object) -> object:
    if str(value).strip().lower() not in catalog.DTYPE_BYTES:
        raise schema.rule(f"is not one of {', '.join(catalog.DTYPE_BYTES)}", "use one of those")
    return str(value).strip().lower()


# Every number of the spec: `1e12` is read as YAML 1.2 writes it (PyYAML's YAML 1.1 gives text).
Number = Annotated[float, pydantic.BeforeValidator(schema.exponent_number)]
# The declared types: `Field` bounds (`schema.LIMIT` marks a guard against typos), and our
# validators for what pydantic does not know (durations, case-insensitive choices).
Replicas = Annotated[int, pydantic.Field(ge=0, le=spec.MAX_REPLICAS), schema.LIMIT]
SomeReplicas = Annotated[int, pydantic.Field(ge=1, le=spec.MAX_REPLICAS), schema.LIMIT]
Fraction = Annotated[Number, pydantic.Field(ge=0, le=1)]
Share = Annotated[Number, pydantic.Field(gt=0, le=1)]
Tokens = Annotated[Number, pydantic.Field(ge=0, le=spec.MAX_TOKENS)]
RequestSeconds = Annotated[Number, pydantic.Field(ge=0, le=spec.MAX_REQUEST_S)]
Price = Annotated[Number, pydantic.Field(ge=0, le=spec.MAX_PRICE_PER_GPU_HOUR)]
Dtype = Annotated[str, pydantic.BeforeValidator(_dtype)]


class _Spec(schema.Strict):
    """Strict numbers (no `"8"` for 8, no `true` for 1, no NaN or infinity); null is not given."""

    model_config = pydantic.ConfigDict(strict=True, allow_inf_nan=False)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _null_is_not_given(cls, data: object) -> object:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None}
        return data


class RequestModel(_Spec):
    """Mean request shape: tokens in and out, latencies (the duration is derived if not given)."""

    prompt_tokens: Tokens = 0.0
    completion_tokens: Tokens = 0.0
    ttft_s: RequestSeconds = 0.0
    itl_s: RequestSeconds = 0.0
    prefix_cache_hit_rate: Fraction = 0.0
    # mean time in the system; if not given, ttft_s + completion_tokens * itl_s
    duration_s: Annotated[Number, pydantic.Field(gt=0, le=spec.MAX_REQUEST_S)] | None = None


class PricesModel(_Spec):
    """$ per GPU-hour; a price not given is the catalog's for the workload's GPU."""

    on_demand: Price | None = None
    reserved: Price | None = None
    spot: Price | None = None


class ArchitectureModel(_Spec):
    """A model's shape for KV-cache sizing: a built-in preset, its keys overridden, or all keys."""

    preset: Annotated[str, pydantic.BeforeValidator(_preset)] | None = None
    name: str | None = None
    layers: Annotated[int, pydantic.Field(ge=1, le=spec.MAX_LAYERS), schema.LIMIT] | None = None
    kv_heads: Annotated[int, pydantic.Field(ge=1, le=spec.MAX_KV_HEADS), schema.LIMIT] | None = None
    head_dim: Annotated[int, pydantic.Field(ge=1, le=spec.MAX_HEAD_DIM), schema.LIMIT] | None = None
    params_billion: Annotated[Number, pydantic.Field(ge=0, le=spec.MAX_PARAMS_BILLION)] | None = (
        None
    )
    kv_dtype: Dtype = DEFAULT_DTYPE
    weight_dtype: Dtype = DEFAULT_DTYPE
    gpu_memory_utilization: Share = spec.DEFAULT_GPU_MEMORY_UTILIZATION
    overhead_gib: Annotated[Number, pydantic.Field(ge=0, le=spec.MAX_OVERHEAD_GIB)] = (
        spec.DEFAULT_OVERHEAD_GIB
    )


class WorkloadModel(_Spec):
    """One workload as written in YAML; None is a key not given (its default depends on others)."""

    name: Annotated[str, pydantic.BeforeValidator(_name)] | None = None
    kind: Annotated[spec.WorkloadKind, pydantic.BeforeValidator(_choice(spec.WorkloadKind))] = (
        spec.WorkloadKind.GENERIC
    )
    unit: Annotated[spec.DemandUnit, pydantic.BeforeValidator(_choice(spec.DemandUnit))] | None = (
        None
    )
    gpu: Annotated[str, pydantic.StringConstraints(strip_whitespace=True, min_length=1)] | None = (
        pydantic.Field(None, json_schema_extra={"fix": REQUIRED_FIX["gpu"]})
    )
    gpus_per_replica: Annotated[
        int, pydantic.Field(ge=1, le=spec.MAX_GPUS_PER_REPLICA), schema.LIMIT
    ] = 1
    gpu_memory_gib: Annotated[Number, pydantic.Field(gt=0, le=spec.MAX_GPU_MEMORY_GIB)] | None = (
        None
    )
    capacity_per_replica: (
        Annotated[Number, pydantic.Field(gt=0, le=spec.MAX_CAPACITY_PER_REPLICA)] | None
    ) = None
    target_utilization: Share = DEFAULT_TARGET_UTILIZATION
    min_replicas: Replicas = 1
    max_replicas: SomeReplicas | None = None
    lead_time: Annotated[int, pydantic.BeforeValidator(_duration(spec.MAX_LEAD_TIME_S))] = (
        DEFAULT_LEAD_TIME_S
    )
    request: RequestModel = pydantic.Field(
        default_factory=RequestModel,
        json_schema_extra={
            "fix": "write `request: {prompt_tokens: 500, completion_tokens: 200, ttft_s: 0.5, "
            "itl_s: 0.02}`"
        },
    )
    capacity_types: Annotated[
        tuple[spec.CapacityType, ...], pydantic.BeforeValidator(_capacity_types)
    ] = (spec.CapacityType.ON_DEMAND,)
    model: Annotated[ArchitectureModel, pydantic.BeforeValidator(_model_name)] | None = None
    spot_interruption_rate_per_hour: Annotated[
        Number, pydantic.Field(ge=0, le=spec.MAX_INTERRUPTION_RATE_PER_HOUR)
    ] = spec.DEFAULT_SPOT_INTERRUPTION_RATE_PER_HOUR
    spot_share: Fraction | None = None
    prices: PricesModel = pydantic.Field(
        default_factory=PricesModel,
        json_schema_extra={
            "fix": "write `prices: {on_demand: 3.67, reserved: 2.20, spot: 1.28}` ($/GPU-hour)"
        },
    )
    provisioning_quantile: Annotated[
        spec.ProvisioningQuantile, pydantic.BeforeValidator(_choice(spec.ProvisioningQuantile))
    ] = spec.ProvisioningQuantile.P90
    cooldown: Annotated[int, pydantic.BeforeValidator(_duration(spec.MAX_COOLDOWN_S))] = (
        spec.DEFAULT_COOLDOWN_S
    )
    scale_in_step: SomeReplicas | None = None
    warm_standby: Replicas = 0
    pool: str | None = None
    api_overflow_price_per_1m_tokens: (
        Annotated[Number, pydantic.Field(ge=0, le=spec.MAX_OVERFLOW_PRICE)] | None
    ) = None
    slo: Annotated[Number, pydantic.BeforeValidator(_served_minutes)] = (
        spec.DEFAULT_SLO.served_minutes_pct
    )
    scale_in_hold: Annotated[spec.HoldRule, pydantic.BeforeValidator(_choice(spec.HoldRule))] = (
        spec.HoldRule.LEAD_TIME
    )


KNOWN_FIELDS = frozenset(WorkloadModel.model_fields)


def unknown_field(path: str, value: object, known: list[str], where: str) -> str:
    close = schema.guess(path.rsplit(".", 1)[-1], known)
    fix = f"did you mean {close}? fix its spelling or remove it" if close else "remove it"
    fix = fix if close or "." in path else "remove it or fix its spelling"
    return f"{path} ({value!r}) is not a known field{where}; {fix}"
