"""Pure: one what-if run end to end: the scenario every policy faces, and the policies.

`run` takes a workload, a trace and `Options`, and returns the `SimulationResult`: the trace is
put on the 1-minute grid and split into warm-up and replay (replay.py), arrivals become load in
the workload's unit (demand.py), and prescale and its rivals are replayed on the same demand,
cold-start draws and spot interruptions (engine.py).

What each policy plans with: the lead time at the cold-start distribution's P90 (the planner
also provisions ahead by a P90 lead time, lead_time.py), the request shape measured on the
warm-up where the trace has token columns (never on the replayed period, which the policies
may not see), and under the planner's mix one reserved base for every policy: the planner's
break-even rule (mix.reserved_base) on the warm-up's last week of need. A reservation is a
purchase made before the replay, not part of a scaling policy, so every policy gets the same.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecaster import forecast, series
from kernel import errors
from planner import capacity, demand, mix, operating, spec
from simulator import (
    cold_start,
    engine,
    fits,
    operating_point,
    predictive,
    replay,
    results,
    rivals,
)
from simulator import scenario as scenario_

DAY_S = 86400
WEEK_MINUTES = 7 * 1440
ALL_POLICIES = tuple(results.PolicyName)


@dataclass(frozen=True)
class Options:
    """How to replay: the period, the cold start, which policies, the mix, the seed."""

    replay_s: int = 7 * DAY_S  # the last replay_s of the trace are replayed
    cold_start: cold_start.ColdStartDistribution | None = (
        None  # None: fixed at the spec's lead_time_s
    )
    policies: tuple[results.PolicyName, ...] = ALL_POLICIES
    mix: results.MixMode = results.MixMode.PLANNER
    seed: int = 0
    refit_every_s: int = predictive.DEFAULT_REFIT_EVERY_S
    until: pd.Timestamp | None = None  # replay the period ending here; None: the trace's end
    mask_dropouts: bool = True  # collection dropouts become gaps (replay.py)
    # choose prescale's operating point for the spec's SLO by replaying the warm-up
    # (operating_point.py); False, or a spec stating provisioning_quantile (an expert
    # override): the spec's provisioning quantile as it stands
    choose_operating_point: bool = True


def run(
    workload: spec.WorkloadSpec,
    trace: series.Trace,
    options: Options,
    *,
    selection: forecast.Selection | None = None,
    progress: engine.Progress | None = None,
) -> results.SimulationResult:
    """Replay every policy in `options.policies` on `trace` (see the module docstring).

    `selection` reuses a model choice made on this warm-up (e.g. for another workload on the
    same trace); without it prescale runs the backtest on the warm-up.
    """
    _check(options)
    split = warmup_and_replay(trace, options)
    cold = options.cold_start or cold_start.ColdStartDistribution.fixed(workload.lead_time_s)
    request = demand.measured_request(workload.request, split.warmup)
    world = scenario(workload, split, cold, options.seed, request)
    resolution_s = forecast_resolution_s(trace)
    if selection is None and results.PolicyName.PRESCALE in options.policies:
        selection = fits.select(split.warmup.values, resolution_s=resolution_s)
    choice = None
    if (
        options.choose_operating_point
        and not workload.quantile_override
        and results.PolicyName.PRESCALE in options.policies
    ):
        choice = operating_point.choose(
            operating_point_inputs(
                workload,
                split.warmup,
                lead_time_s=planning_lead_time_s(cold),
                mix_mode=options.mix,
                refit_every_s=options.refit_every_s,
                resolution_s=resolution_s,
                seed=options.seed,
            )
        )
    contenders = policies(
        workload,
        split,
        world,
        options,
        request=request,
        selection=selection,
        point=operating.DEFAULT if choice is None else choice.point,
    )
    result = engine.simulate(world, contenders, workload=workload.name, progress=progress)
    prescale = next((p for p in contenders if isinstance(p, predictive.Prescale)), None)
    return dataclasses.replace(
        result,
        planning_lead_time_s=planning_lead_time_s(cold),
        forecast_model=None if prescale is None else prescale.selection.model.value,
        forecast_refits=0 if prescale is None else len(prescale.refits),
        dropout_minutes=split.dropout_minutes,
        operating_point=choice,
    )


@dataclass(frozen=True)
class Task:
    """One workload's what-if run as plain frozen inputs, for `run_task`: what a process pool
    (or, later, a distributed engine) ships to a worker."""

    workload: spec.WorkloadSpec
    trace: series.Trace
    options: Options
    selection: forecast.Selection | None = None


def run_task(task: Task) -> results.SimulationResult:
    """`run` on a task's inputs, with no progress callback: a worker of a pool. It depends on
    its inputs alone (the seeds are in `options`), so a pool's results are the serial ones."""
    return run(task.workload, task.trace, task.options, selection=task.selection)


@dataclass(frozen=True)
class PointTask:
    """One workload's operating-point choice for the week after its trace, as plain frozen
    inputs for `choose_task` (a pool's worker, like `Task`)."""

    workload: spec.WorkloadSpec
    trace: series.Trace
    refit_every_s: int = predictive.DEFAULT_REFIT_EVERY_S
    seed: int = 0


def choose_task(task: PointTask) -> results.Choice | None:
    """The operating point for the workload's SLO, chosen on the whole trace (its last weeks
    replayed walk-forward, as `run` chooses on a warm-up and the daemon on what it has read),
    with the spec's lead time and the planner's mix; None for a spec stating its provisioning
    quantile (an expert override: planned as it stands)."""
    if task.workload.quantile_override:
        return None
    history = replay.history(task.trace)
    return operating_point.choose(
        operating_point_inputs(
            task.workload,
            history,
            lead_time_s=task.workload.lead_time_s,
            mix_mode=results.MixMode.PLANNER,
            refit_every_s=task.refit_every_s,
            resolution_s=forecast_resolution_s(task.trace),
            seed=task.seed,
        )
    )


def forecast_resolution_s(trace: series.Trace) -> int:
    """The model resolution for a trace: the forecaster's default, or the trace's own interval
    when coarser (an hourly trace held per minute carries nothing finer than its hour, and a
    model at 5 min would only fit the same hour twelve times)."""
    return max(forecast.DEFAULT_RESOLUTION_S, trace.interval_s)


def warmup_and_replay(trace: series.Trace, options: Options) -> replay.Replay:
    """The trace cut as `run` cuts it: up to `options.until`, dropouts masked, the last
    `options.replay_s` replayed and the rest the warm-up."""
    if options.until is not None:
        trace = replay.until(trace, options.until)
    return replay.split(trace, options.replay_s, mask_dropouts=options.mask_dropouts)


def prescale_selection(trace: series.Trace, options: Options) -> forecast.Selection | None:
    """prescale's model choice on the warm-up `run` would make (the backtest, the slow part),
    to pass to `run` for every workload replayed on this trace and column with these options;
    None when prescale is not among `options.policies`.

    The choice depends on the warm-up's arrivals only, not on the workload (load is arrivals
    times a per-workload constant, and prescale forecasts arrivals), so sharing it changes no
    figure: each workload replays exactly as it would alone.
    """
    if results.PolicyName.PRESCALE not in options.policies:
        return None
    return fits.select(
        warmup_and_replay(trace, options).warmup.values, resolution_s=forecast_resolution_s(trace)
    )


def planning_lead_time_s(cold: cold_start.ColdStartDistribution) -> int:
    """The lead time policies plan with: the P90 of the cold start, in whole seconds."""
    return math.ceil(cold.quantile_s(0.9) - 1e-9)


def scenario(
    workload: spec.WorkloadSpec,
    split: replay.Replay,
    cold: cold_start.ColdStartDistribution,
    seed: int,
    request: spec.RequestShape,
) -> scenario_.Scenario:
    """The replayed minutes as the engine sees them: arrivals, load, prices, cold start."""
    arrivals = split.replayed.values.to_numpy(dtype=np.float64)
    before = float(split.warmup.values.iloc[-1])
    load = _load(arrivals, workload, request)
    spot_rate = (
        workload.spot_interruption_rate_per_hour
        if spec.CapacityType.SPOT in workload.capacity_types
        else 0.0
    )
    return scenario_.Scenario(
        timestamps=pd.DatetimeIndex(split.replayed.values.index, freq="min"),
        arrivals=arrivals,
        demand=load,
        tokens_per_request=_tokens_per_request(split.replayed, request),
        arrivals_before=None if math.isnan(before) else before,
        demand_before=None
        if math.isnan(before)
        else float(_load(np.array([before]), workload, request)[0]),
        capacity_per_replica=capacity.per_replica(workload, request),
        gpus_per_replica=workload.gpus_per_replica,
        prices=workload.prices,
        spot_interruption_rate_per_hour=spot_rate,
        api_overflow_price_per_1m_tokens=workload.api_overflow_price_per_1m_tokens,
        cold_start=cold,
        seed=seed,
    )


def sizing(
    workload: spec.WorkloadSpec,
    split: replay.Replay,
    world: scenario_.Scenario,
    mix_mode: results.MixMode,
    request: spec.RequestShape,
) -> rivals.Sizing:
    """How the rivals are sized; the reserved base by break-even on the warm-up's last week."""
    return _sized(
        workload,
        split.warmup,
        capacity_per_replica=world.capacity_per_replica,
        lead_time_s=planning_lead_time_s(world.cold_start),
        mix_mode=mix_mode,
        request=request,
    )


def _sized(
    workload: spec.WorkloadSpec,
    warmup: series.Trace,
    *,
    capacity_per_replica: float,
    lead_time_s: int,
    mix_mode: results.MixMode,
    request: spec.RequestShape,
) -> rivals.Sizing:
    base = rivals.Sizing(
        workload=workload,
        capacity_per_replica=capacity_per_replica,
        lead_time_s=lead_time_s,
        mix=mix_mode,
        reserved=0,
    )
    if mix_mode is results.MixMode.ON_DEMAND:
        return base
    warmup_load = _load(warmup.values.to_numpy(dtype=np.float64)[-WEEK_MINUTES:], workload, request)
    return dataclasses.replace(base, reserved=mix.reserved_base(workload, base.needed(warmup_load)))


def operating_point_inputs(
    workload: spec.WorkloadSpec,
    warmup: series.Trace,
    *,
    lead_time_s: int,
    mix_mode: results.MixMode,
    refit_every_s: int,
    resolution_s: int,
    seed: int,
) -> operating_point.Inputs:
    """What `operating_point.choose` replays for a workload with this history (per minute):
    the request shape measured on it and the reserved base by break-even on its last week, as
    `run` gives prescale. The simulator and the daemon (at re-selection) both choose on these."""
    request = demand.measured_request(workload.request, warmup)
    sized = _sized(
        workload,
        warmup,
        capacity_per_replica=capacity.per_replica(workload, request),
        lead_time_s=lead_time_s,
        mix_mode=mix_mode,
        request=request,
    )
    return operating_point.Inputs(
        workload=workload,
        history=warmup,
        lead_time_s=lead_time_s,
        mix=mix_mode,
        refit_every_s=refit_every_s,
        resolution_s=resolution_s,
        request=request,
        reserved=sized.reserved,
        seed=seed,
    )


def policies(
    workload: spec.WorkloadSpec,
    split: replay.Replay,
    world: scenario_.Scenario,
    options: Options,
    *,
    request: spec.RequestShape,
    selection: forecast.Selection | None = None,
    point: operating.OperatingPoint = operating.DEFAULT,
) -> list[engine.Policy]:
    """The policies named in `options`, in that order, built from the warm-up only (the oracle
    alone is given the replayed demand: that is what makes it the oracle)."""
    sized = sizing(workload, split, world, options.mix, request)
    warmup_load = pd.Series(
        _load(split.warmup.values.to_numpy(dtype=np.float64), workload, request),
        index=split.warmup.values.index,
    )
    built: list[engine.Policy] = []
    for name in options.policies:
        if name is results.PolicyName.PRESCALE:
            built.append(
                predictive.Prescale(
                    workload,
                    split.warmup,
                    lead_time_s=sized.lead_time_s,
                    mix=options.mix,
                    refit_every_s=options.refit_every_s,
                    selection=selection,
                    request=request,
                    reserved=sized.reserved,
                    operating_point=point,
                )
            )
        elif name is results.PolicyName.REACTIVE:
            built.append(rivals.reactive(sized))
        elif name is results.PolicyName.STATIC:
            built.append(rivals.static(sized, warmup_load, world.minutes))
        elif name is results.PolicyName.CRON:
            built.append(rivals.cron(sized, warmup_load, world.timestamps))
        elif name is results.PolicyName.LAST_WEEK:
            built.append(rivals.last_week(sized, warmup_load.to_numpy(), world.demand))
        else:
            built.append(rivals.oracle(sized, world.demand))
    return built


def _load(
    arrivals: np.ndarray, workload: spec.WorkloadSpec, request: spec.RequestShape
) -> np.ndarray:
    return demand.history_load(
        arrivals, interval_s=replay.MINUTE_S, workload=workload, request=request
    )


def _tokens_per_request(trace: series.Trace, request: spec.RequestShape) -> np.ndarray:
    """Prompt + completion tokens per request each minute: measured where the trace has token
    columns and requests, the (measured) mean shape otherwise."""
    mean = request.prompt_tokens + request.completion_tokens
    arrivals = trace.values.to_numpy(dtype=np.float64)
    if trace.prompt_tokens is None or trace.completion_tokens is None:
        return np.full(arrivals.size, mean)
    tokens = trace.prompt_tokens.to_numpy(dtype=np.float64) + trace.completion_tokens.to_numpy(
        dtype=np.float64
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = tokens / arrivals
    return np.where(np.isfinite(measured) & (arrivals > 0), measured, mean)


def _check(options: Options) -> None:
    problems: list[errors.Problem] = []
    if not options.policies:
        problems.append(
            errors.Problem(
                "policies",
                "",
                "is empty",
                "name at least one of " + ",".join(p.value for p in ALL_POLICIES),
            )
        )
    if len(set(options.policies)) != len(options.policies):
        problems.append(
            errors.Problem(
                "policies", ",".join(options.policies), "names a policy twice", "name each once"
            )
        )
    if options.refit_every_s < replay.MINUTE_S:
        problems.append(
            errors.Problem(
                "refit_every",
                f"{options.refit_every_s} s",
                "must be at least 60 s",
                "set {field} to e.g. 6h",
            )
        )
    if problems:
        raise errors.InputError(problems)


def names(values: Sequence[str]) -> tuple[results.PolicyName, ...]:
    """Policy names from strings, collecting every unknown one into one InputError."""
    known = {p.value: p for p in ALL_POLICIES}
    unknown = [v for v in values if v.strip().lower() not in known]
    if unknown:
        raise errors.InputError(
            errors.Problem(
                "policies",
                ",".join(values),
                f"has unknown names {unknown}",
                "use any of " + ",".join(known),
            )
        )
    return tuple(known[v.strip().lower()] for v in values)


@dataclass(frozen=True)
class FleetResult:
    """One policy over every workload replayed on one trace (see `fleet`)."""

    policy: results.PolicyName
    workloads: int
    minutes_with_data: int  # minutes in which at least one workload has data
    served_minutes: int  # of those, minutes in which every workload with data was served
    served_minutes_pct: float
    requests: float  # arrivals summed over minutes with data and over workloads (trace unit)
    unserved_requests: float  # requests that met too little capacity, summed over workloads
    unserved_demand_pct: float  # unserved_requests of requests
    gpu_hours: float
    gpu_hours_by_type: spec.ByType[float]
    cost_usd: float
    cost_by_type: spec.ByType[float]
    api_overflow_usd: float | None  # summed over the workloads that price it; None: none does
    scale_events: int
    replicas_ordered: int
    spot_interruptions: int


def fleet(replays: Sequence[results.SimulationResult]) -> tuple[FleetResult, ...]:
    """Each policy's figures over the workloads `replays` replayed on the same minutes.

    GPU-hours, cost, scale events, cold starts and spot losses are summed. A minute is served
    when every workload with data in it was served. Unserved demand cannot be summed across
    workloads (each is in its own unit: concurrency of one model, KV tokens of another), so it
    is counted in requests of the trace: a minute's unserved share of a workload's demand is
    the unserved share of its arrivals (load is arrivals times a per-workload constant,
    demand.py), and those requests are summed over minutes and workloads. With one trace
    every workload sees the same arrivals, so this is the mean of the workloads' unserved %.
    """
    if not replays:
        return ()
    first = replays[0]
    mismatched = [
        r.workload
        for r in replays
        if r.start != first.start
        or r.minutes != first.minutes
        or [p.policy for p in r.policies] != [p.policy for p in first.policies]
    ]
    if mismatched:
        raise errors.InputError(
            f"workloads {mismatched} were replayed over other minutes or policies than "
            f"{first.workload}; replay every workload with the same trace and options"
        )
    return tuple(
        _fleet_policy([r.policies[index] for r in replays]) for index in range(len(first.policies))
    )


def _fleet_policy(rows: Sequence[results.PolicyResult]) -> FleetResult:
    served = np.vstack([row.timeseries["served"].to_numpy(dtype=np.float64) for row in rows])
    has_data = np.isfinite(served)
    counted = has_data.any(axis=0)
    all_served = np.where(has_data, served >= 1.0, True).all(axis=0)
    minutes_with_data = int(counted.sum())
    served_minutes = int((counted & all_served).sum())
    requests = 0.0
    unserved_requests = 0.0
    for row in rows:
        frame = row.timeseries
        arrivals = frame["arrivals"].to_numpy(dtype=np.float64)
        load = frame["demand"].to_numpy(dtype=np.float64)
        unserved = frame["unserved_demand"].to_numpy(dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(load > 0, unserved / load, 0.0)
        requests += float(np.nansum(np.where(np.isfinite(load), arrivals, np.nan)))
        unserved_requests += float(np.nansum(share * arrivals))
    overflows = [row.api_overflow_usd for row in rows if row.api_overflow_usd is not None]
    gpu_hours = _sum_by_type([row.gpu_hours_by_type for row in rows])
    cost = _sum_by_type([row.cost_by_type for row in rows])
    return FleetResult(
        policy=rows[0].policy,
        workloads=len(rows),
        minutes_with_data=minutes_with_data,
        served_minutes=served_minutes,
        served_minutes_pct=results.percent(served_minutes, minutes_with_data),
        requests=requests,
        unserved_requests=unserved_requests,
        unserved_demand_pct=100.0 * unserved_requests / requests if requests > 0 else 0.0,
        gpu_hours=sum(row.gpu_hours for row in rows),
        gpu_hours_by_type=gpu_hours,
        cost_usd=sum(row.cost_usd for row in rows),
        cost_by_type=cost,
        api_overflow_usd=sum(overflows) if overflows else None,
        scale_events=sum(row.scale_events for row in rows),
        replicas_ordered=sum(row.replicas_ordered for row in rows),
        spot_interruptions=sum(row.spot_interruptions for row in rows),
    )


def _sum_by_type(values: Sequence[spec.ByType[float]]) -> spec.ByType[float]:
    return spec.ByType.build(lambda t: sum(v.of(t) for v in values))
