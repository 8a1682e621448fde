"""Shell: the workload spec's schema, a pydantic model that converts to `spec.WorkloadSpec`.

`parse_workloads` is the one loader of workload data (a YAML file's documents, the daemon
config's `spec:` blocks, the benches and the tests): it takes the data as loaded (a mapping, a
list of mappings, or a mapping with `workloads:` and `pools:`) and returns frozen
`WorkloadSpec`s, or raises one InputError listing every problem found.

Each key's type, bounds and choices are declared on `WorkloadModel`; pydantic's errors are worded
by `actuator.schema`. What depends on other keys (the GPU's catalog defaults, max_replicas above
min_replicas, spot below on-demand, what the unit needs, pools) is checked while converting.
Those checks also run when some keys failed: the model is validated again without the failed
keys, so one run lists both kinds of problem. A key written `null` is a key not given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import pydantic

from actuator import schema
from kernel import duration, errors
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


# The declared types: `Field` bounds (`schema.LIMIT` marks a guard against typos), and our
# validators for what pydantic does not know (durations, case-insensitive choices).
Replicas = Annotated[int, pydantic.Field(ge=0, le=spec.MAX_REPLICAS), schema.LIMIT]
SomeReplicas = Annotated[int, pydantic.Field(ge=1, le=spec.MAX_REPLICAS), schema.LIMIT]
Fraction = Annotated[float, pydantic.Field(ge=0, le=1)]
Share = Annotated[float, pydantic.Field(gt=0, le=1)]
Tokens = Annotated[float, pydantic.Field(ge=0, le=spec.MAX_TOKENS)]
RequestSeconds = Annotated[float, pydantic.Field(ge=0, le=spec.MAX_REQUEST_S)]
Price = Annotated[float, pydantic.Field(ge=0, le=spec.MAX_PRICE_PER_GPU_HOUR)]
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
    duration_s: Annotated[float, pydantic.Field(gt=0, le=spec.MAX_REQUEST_S)] | None = None


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
    params_billion: Annotated[float, pydantic.Field(ge=0, le=spec.MAX_PARAMS_BILLION)] | None = None
    kv_dtype: Dtype = DEFAULT_DTYPE
    weight_dtype: Dtype = DEFAULT_DTYPE
    gpu_memory_utilization: Share = spec.DEFAULT_GPU_MEMORY_UTILIZATION
    overhead_gib: Annotated[float, pydantic.Field(ge=0, le=spec.MAX_OVERHEAD_GIB)] = (
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
    gpu_memory_gib: Annotated[float, pydantic.Field(gt=0, le=spec.MAX_GPU_MEMORY_GIB)] | None = None
    capacity_per_replica: (
        Annotated[float, pydantic.Field(gt=0, le=spec.MAX_CAPACITY_PER_REPLICA)] | None
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
        float, pydantic.Field(ge=0, le=spec.MAX_INTERRUPTION_RATE_PER_HOUR)
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
        Annotated[float, pydantic.Field(ge=0, le=spec.MAX_OVERFLOW_PRICE)] | None
    ) = None
    slo: Annotated[float, pydantic.BeforeValidator(_served_minutes)] = (
        spec.DEFAULT_SLO.served_minutes_pct
    )
    scale_in_hold: Annotated[spec.HoldRule, pydantic.BeforeValidator(_choice(spec.HoldRule))] = (
        spec.HoldRule.LEAD_TIME
    )


KNOWN_FIELDS = frozenset(WorkloadModel.model_fields)


def _unknown_field(path: str, value: object, known: list[str], where: str) -> str:
    close = schema.guess(path.rsplit(".", 1)[-1], known)
    fix = f"did you mean {close}? fix its spelling or remove it" if close else "remove it"
    fix = fix if close or "." in path else "remove it or fix its spelling"
    return f"{path} ({value!r}) is not a known field{where}; {fix}"


# ----- documents -------------------------------------------------------------------------------


def parse_workloads(data: object) -> tuple[spec.WorkloadSpec, ...]:
    """Validate workload YAML data into specs; raise one InputError listing every problem."""
    problems: list[str] = []
    items, pools = _split_document(data, problems)
    budgets = _parse_pools(pools, problems)
    specs: list[spec.WorkloadSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append(
                f"workload #{index + 1} ({type(item).__name__}) is not a mapping; "
                "write each workload as `name: ..., unit: ..., ...`"
            )
            continue
        parsed = _parse_one(item, index, budgets, problems)
        if parsed is None:
            continue
        if parsed.name in seen:
            problems.append(
                f"name ({parsed.name!r}) is used by two workloads; give each workload its own name"
            )
        seen.add(parsed.name)
        specs.append(parsed)
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
        if (
            isinstance(gpus, bool)
            or not isinstance(gpus, int)
            or not 1 <= gpus <= spec.MAX_POOL_GPUS
        ):
            problems.append(
                f"pools.{name}.gpus ({gpus!r}) must be a whole number from 1 to "
                f"{spec.MAX_POOL_GPUS:,}; set `pools: {{{name}: {{gpus: N}}}}`"
            )
            continue
        bad_name = spec.name_problem(f"pools.{name}", str(name))
        if bad_name is not None:
            problems.append(bad_name)
            continue
        budgets[str(name)] = gpus
    return budgets


def _pool_problems(specs: list[spec.WorkloadSpec], budgets: dict[str, int]) -> list[str]:
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


# ----- one workload ------------------------------------------------------------------------------


def _validated(
    item: Mapping[str, object], where: str, problems: list[str]
) -> tuple[WorkloadModel | None, set[str]]:
    """The model, and the dotted paths of the keys that failed; when some failed, the model of
    the item without them (their defaults stand in, so the checks across keys still run)."""
    try:
        return WorkloadModel.model_validate(item), set()
    except pydantic.ValidationError as exc:
        found = exc.errors()
    problems.extend(
        schema.describe(e, WorkloadModel, where=where, unknown=_unknown_field) for e in found
    )
    failed = {schema.path_text(tuple(e["loc"])) for e in found}
    remaining: object = item
    for e in found:
        remaining = _without(remaining, tuple(e["loc"]))
    try:
        return WorkloadModel.model_validate(remaining), failed
    except pydantic.ValidationError:
        return None, failed


def _without(data: object, loc: tuple[Any, ...]) -> object:
    """`data` without the key at `loc` (a list's bad item takes the whole list with it)."""
    if not loc or not isinstance(data, Mapping):
        return data
    head, rest = loc[0], loc[1:]
    if head not in data:
        return data
    inner = data[head]
    if rest and isinstance(inner, Mapping) and not isinstance(rest[0], int):
        return {**data, head: _without(inner, rest)}
    return {k: v for k, v in data.items() if k != head}


def _parse_one(
    item: Mapping[str, object], index: int, budgets: dict[str, int], problems: list[str]
) -> spec.WorkloadSpec | None:
    raw_name = item.get("name")
    named = isinstance(raw_name, str) and raw_name.strip()
    where = f"workload {raw_name}" if named else f"workload #{index + 1}"
    model, failed = _validated(item, where, problems)
    if model is None:
        return None

    def problem(field: str, value: object, rule: str, fix: str) -> None:
        problems.append(f"{field} ({value!r}) {rule} for {where}; {fix}")

    for key, fix in REQUIRED_FIX.items():
        if getattr(model, key) is None and key not in failed:
            problem(key, item.get(key), "is missing", fix)
    entry = catalog.gpu(model.gpu) if model.gpu else None
    gpu_name = entry.name if entry else model.gpu
    memory = model.gpu_memory_gib
    if memory is None and "gpu_memory_gib" not in failed:
        memory = entry.memory_gib if entry else None
        if memory is None and gpu_name:
            problem("gpu_memory_gib", None, f"is unknown for gpu {gpu_name}", "set gpu_memory_gib")
    if model.max_replicas is not None and model.max_replicas < model.min_replicas:
        problems.append(
            f"max_replicas ({model.max_replicas}) is below min_replicas ({model.min_replicas}) "
            f"for {where}; raise max_replicas or lower min_replicas"
        )
    request = _request(model.request)
    types = model.capacity_types
    spot = spec.CapacityType.SPOT in types
    spot_share = model.spot_share
    if spot_share is None:
        spot_share = spec.DEFAULT_SPOT_SHARE if spot else 0.0
    elif spot_share and not spot:
        rule, fix = "is set but spot is not in capacity_types", "add spot or drop spot_share"
        problem("spot_share", spot_share, rule, fix)
    prices = _prices(
        model.prices,
        item.get("prices"),
        entry=entry,
        gpu_name=gpu_name,
        failed="prices" in failed,
        problem=problem,
    )
    if prices is not None and spot and prices.spot_per_gpu_hour >= prices.on_demand_per_gpu_hour:
        problem(
            "prices.spot",
            prices.spot_per_gpu_hour,
            f"is not below prices.on_demand ({prices.on_demand_per_gpu_hour:g}): spot would "
            "cost more than on-demand and still be interrupted",
            "lower prices.spot, or remove spot from capacity_types",
        )
    if model.pool is not None and budgets and model.pool not in budgets:
        rule = f"is not defined under pools ({', '.join(budgets)})"
        problem("pool", model.pool, rule, "add it under `pools:` or fix the name")
    architecture = _architecture(model.model, failed, problem) if model.model else None
    if model.unit is not None:
        _check_request_for_unit(model.unit, request, item.get("request"), problem)
        model_failed = any(p == "model" or p.startswith("model.") for p in failed)
        if item.get("capacity_per_replica") is None and not model_failed:
            _check_derivable(model.unit, model.kind, architecture, model.model, problem)
    if model.name is None or model.unit is None or model.max_replicas is None:
        return None
    if memory is None or gpu_name is None or prices is None:
        return None
    return spec.WorkloadSpec(
        name=model.name,
        kind=model.kind,
        unit=model.unit,
        gpu=gpu_name,
        gpus_per_replica=model.gpus_per_replica,
        gpu_memory_gib=memory,
        capacity_per_replica=model.capacity_per_replica,
        target_utilization=model.target_utilization,
        min_replicas=model.min_replicas,
        max_replicas=model.max_replicas,
        lead_time_s=model.lead_time,
        request=request,
        capacity_types=types,
        model=architecture,
        spot_interruption_rate_per_hour=model.spot_interruption_rate_per_hour,
        spot_share=spot_share,
        prices=prices,
        provisioning_quantile=model.provisioning_quantile,
        cooldown_s=model.cooldown,
        # No step limit unless asked: the HPA's default scale-down policy may remove 100 % a period.
        scale_in_step=model.scale_in_step or model.max_replicas,
        warm_standby=model.warm_standby,
        pool=model.pool,
        pool_gpu_budget=budgets.get(model.pool) if model.pool else None,
        api_overflow_price_per_1m_tokens=model.api_overflow_price_per_1m_tokens,
        slo=spec.Slo(served_minutes_pct=model.slo),
        scale_in_hold=model.scale_in_hold,
    )


Problem = Callable[[str, object, str, str], None]


def _request(given: RequestModel) -> spec.RequestShape:
    duration_s = given.duration_s
    if duration_s is None:
        duration_s = given.ttft_s + given.completion_tokens * given.itl_s
    return spec.RequestShape(
        prompt_tokens=given.prompt_tokens,
        completion_tokens=given.completion_tokens,
        ttft_s=given.ttft_s,
        itl_s=given.itl_s,
        duration_s=duration_s,
        prefix_cache_hit_rate=given.prefix_cache_hit_rate,
    )


def _prices(
    given: PricesModel,
    raw: object,
    *,
    entry: catalog.GpuEntry | None,
    gpu_name: str | None,
    failed: bool,
    problem: Problem,
) -> spec.Prices | None:
    on_demand = given.on_demand if given.on_demand is not None else _catalog(entry, "on_demand")
    reserved = given.reserved if given.reserved is not None else _catalog(entry, "reserved")
    spot = given.spot if given.spot is not None else _catalog(entry, "spot")
    if on_demand is None or reserved is None or spot is None:
        if gpu_name is not None and not failed:
            problem(
                "prices",
                dict(raw) if isinstance(raw, Mapping) else {},
                f"are incomplete for gpu {gpu_name}, which is not in "
                f"the built-in catalog ({', '.join(catalog.GPUS)})",
                "set prices.on_demand, prices.reserved and prices.spot ($/GPU-hour)",
            )
        return None
    overridden = isinstance(raw, Mapping) and bool(raw)
    source = "workload spec" if overridden or entry is None else entry.price_source
    return spec.Prices(on_demand, reserved, spot, source)


def _catalog(entry: catalog.GpuEntry | None, capacity_type: str) -> float | None:
    return getattr(entry, f"{capacity_type}_per_gpu_hour") if entry else None


def _architecture(
    given: ArchitectureModel, failed: set[str], problem: Problem
) -> spec.ModelArchitecture | None:
    preset = catalog.model(given.preset) if given.preset else None
    layers = given.layers if given.layers is not None else (preset.layers if preset else None)
    kv_heads = (
        given.kv_heads if given.kv_heads is not None else (preset.kv_heads if preset else None)
    )
    head_dim = (
        given.head_dim if given.head_dim is not None else (preset.head_dim if preset else None)
    )
    params = given.params_billion
    if params is None and preset:
        params = preset.params_billion
    shape = {"layers": layers, "kv_heads": kv_heads, "head_dim": head_dim, "params_billion": params}
    for key, value in shape.items():
        if value is None and f"model.{key}" not in failed and "model" not in failed:
            problem(f"model.{key}", None, "is missing", f"set model.{key} or use a built-in model")
    if layers is None or kv_heads is None or head_dim is None or params is None:
        return None
    return spec.ModelArchitecture(
        name=preset.name if preset else (given.name or "custom"),
        layers=layers,
        kv_heads=kv_heads,
        head_dim=head_dim,
        kv_dtype_bytes=catalog.DTYPE_BYTES[given.kv_dtype],
        weight_bytes=params * 1e9 * catalog.DTYPE_BYTES[given.weight_dtype],
        gpu_memory_utilization=given.gpu_memory_utilization,
        overhead_bytes_per_gpu=given.overhead_gib * catalog.GIB,
    )


def _check_derivable(
    unit: spec.DemandUnit,
    kind: spec.WorkloadKind,
    architecture: spec.ModelArchitecture | None,
    given: ArchitectureModel | None,
    problem: Problem,
) -> None:
    if given is not None and architecture is None:
        return  # the model's own problems are reported; do not also call capacity missing
    derivable = architecture is not None and unit in (
        spec.DemandUnit.KV_TOKENS,
        spec.DemandUnit.CONCURRENCY,
    )
    if not derivable:
        hint = (
            " or give `model:` (unit kv_tokens or concurrency)"
            if kind is spec.WorkloadKind.LLM
            else ""
        )
        problem(
            "capacity_per_replica",
            None,
            f"is missing for unit {unit.value}",
            f"set capacity_per_replica (in {unit.value} per replica at the SLO){hint}",
        )


def _check_request_for_unit(
    unit: spec.DemandUnit, request: spec.RequestShape, raw: object, problem: Problem
) -> None:
    """Little's law needs the request's duration (and tokens) for every unit but requests/s:
    without them every request would count as zero load."""
    timed = unit in (spec.DemandUnit.CONCURRENCY, spec.DemandUnit.KV_TOKENS)
    tokens = request.prompt_tokens + request.completion_tokens
    for broken, what, fix in (
        (timed and request.duration_s <= 0, "request duration", "ttft_s and itl_s, or duration_s"),
        (unit is spec.DemandUnit.KV_TOKENS and tokens <= 0, "tokens", "prompt/completion_tokens"),
        (
            unit is spec.DemandUnit.TOKENS_PER_S and request.completion_tokens <= 0,
            "completion_tokens",
            "completion_tokens",
        ),
    ):
        if broken:
            problem("request", raw, f"gives no {what} for unit {unit.value}", f"set request.{fix}")
