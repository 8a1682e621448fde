"""Shell: the one loader of workload specs: YAML files and data into `spec.WorkloadSpec`s.

`parse_workloads` takes workload data as loaded (a mapping, a list of mappings, or a mapping
with `workloads:` and `pools:`; from a file, the daemon config's `spec:` blocks, the benches or
the tests) and returns frozen `WorkloadSpec`s, or raises one InputError listing every problem.
Each key is validated by `workload_schema.WorkloadModel`; what depends on other keys (the GPU's
catalog defaults, max_replicas above min_replicas, warm_standby below max_replicas, spot below
on-demand, what the unit needs, pools) is checked here while converting. Those checks also run
when some keys failed: the model is validated again without the failed keys, so one run lists
both kinds of problem.

A file holds one workload mapping, a list of them, a mapping with `workloads:` (and optional
`pools:`), or several YAML documents separated by `---`, each one workload. File and YAML
problems become InputErrors that name the file and line. A workload may carry a `source:` block
(where its history lives, `actuator/source.py`): it is split off here before the schema sees
the workload, and read by `load_sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pydantic

from actuator import schema, workload_schema, yamldoc
from actuator import source as source_module
from kernel import errors
from planner import catalog, spec

SOURCE_KEY = "source"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise errors.InputError(
            f"workload file {path} does not exist; pass --workload with a YAML spec "
            "(see actuator/examples/workload.yaml)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(
            f"workload file {path} cannot be read ({exc}); pass a readable UTF-8 YAML file"
        ) from None


def load(path: Path) -> tuple[spec.WorkloadSpec, ...]:
    """Read and validate a workload YAML file; raise one InputError listing every problem."""
    return parse(_read(path), source=str(path))


def load_sources(path: Path) -> dict[str, source_module.SourceSpec]:
    """The `source:` block of each workload of the file that has one, by workload name."""
    return parse_sources(_read(path), where=str(path))


def _documents(text: str, source_name: str) -> object:
    documents = yamldoc.load_all(text, source=f"workload file {source_name}")
    if not documents:
        raise errors.InputError(
            f"workload file {source_name} is empty; define at least one workload "
            "(name, unit, gpu, max_replicas, ...)"
        )
    return documents[0] if len(documents) == 1 else documents


def split_sources(data: object) -> tuple[object, list[tuple[str, object]]]:
    """The document without `source:` keys, and each (workload name, raw source) removed."""
    found: list[tuple[str, object]] = []

    def strip(item: object, index: int) -> object:
        if isinstance(item, Mapping) and SOURCE_KEY in item:
            found.append((str(item.get("name", f"workloads[{index}]")), item[SOURCE_KEY]))
            return {k: v for k, v in item.items() if k != SOURCE_KEY}
        return item

    if isinstance(data, Mapping) and "workloads" in data and isinstance(data["workloads"], list):
        stripped = [strip(item, i) for i, item in enumerate(data["workloads"])]
        return {**data, "workloads": stripped}, found
    if isinstance(data, list):
        return [strip(item, i) for i, item in enumerate(data)], found
    return strip(data, 0), found


def parse(text: str, *, source: str = "<workload>") -> tuple[spec.WorkloadSpec, ...]:
    """Validate workload YAML text (one or many documents); `source:` blocks are set aside."""
    data, _ = split_sources(_documents(text, source))
    try:
        return parse_workloads(data)
    except errors.InputError as exc:
        raise errors.InputError([f"workload file {source}: {p}" for p in exc.problems]) from None


def parse_sources(text: str, *, where: str = "<workload>") -> dict[str, source_module.SourceSpec]:
    """Every workload's `source:` block validated, by workload name (one InputError for all)."""
    _, found = split_sources(_documents(text, where))
    problems: list[str] = []
    sources: dict[str, source_module.SourceSpec] = {}
    for name, raw in found:
        try:
            sources[name] = source_module.parse(raw, where=f"workload {name}: source")
        except errors.InputError as exc:
            problems.extend(f"workload file {where}: {p}" for p in exc.problems)
    if problems:
        raise errors.InputError(problems)
    return sources


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
) -> tuple[workload_schema.WorkloadModel | None, set[str]]:
    """The model, and the dotted paths of the keys that failed; when some failed, the model of
    the item without them (their defaults stand in, so the checks across keys still run)."""
    try:
        return workload_schema.WorkloadModel.model_validate(item), set()
    except pydantic.ValidationError as exc:
        found = exc.errors()
    problems.extend(
        schema.describe(
            e, workload_schema.WorkloadModel, where=where, unknown=workload_schema.unknown_field
        )
        for e in found
    )
    failed = {schema.path_text(tuple(e["loc"])) for e in found}
    remaining: object = item
    for e in found:
        remaining = _without(remaining, tuple(e["loc"]))
    try:
        return workload_schema.WorkloadModel.model_validate(remaining), failed
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

    for key, fix in workload_schema.REQUIRED_FIX.items():
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
    if model.max_replicas is not None and model.warm_standby >= model.max_replicas:
        # The planner adds warm_standby to the need and caps at max_replicas: at max_replicas or
        # above, every minute would plan max_replicas whatever the forecast says.
        problems.append(
            f"warm_standby ({model.warm_standby}) is not below max_replicas "
            f"({model.max_replicas}) for {where}: it is added to the need, so every minute would "
            f"plan max_replicas; lower warm_standby to {model.max_replicas - 1} or less (or set "
            "min_replicas to max_replicas for a fixed fleet)"
        )
    request = _request(model.request)
    types = model.capacity_types
    spot = spec.CapacityType.SPOT in types
    spot_share = model.spot_share
    if spot_share is None:
        spot_share = spec.DEFAULT_SPOT_SHARE if spot else 0.0
    elif "capacity_types" in failed:
        spot_share = spot_share if spot else 0.0  # the capacity types' own problem is reported
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
        quantile_override="provisioning_quantile" in model.model_fields_set,
    )


Problem = Callable[[str, object, str, str], None]


def _request(given: workload_schema.RequestModel) -> spec.RequestShape:
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
    given: workload_schema.PricesModel,
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
    given: workload_schema.ArchitectureModel, failed: set[str], problem: Problem
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
    given: workload_schema.ArchitectureModel | None,
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
