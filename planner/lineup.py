"""Pure: one what-if run end to end: the scenario every policy faces, and the policies.

`run` takes a workload, a trace and `Options`, and returns the `SimulationResult`: the trace is
put on the 1-minute grid and split into warm-up and replay (replay.py), arrivals become load in
the workload's unit (demand.py), and prescale and its rivals are replayed on the same demand,
cold-start draws and spot interruptions (simulate.py).

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

from forecaster import errors, forecast, series
from planner import (
    capacity,
    cold_start,
    demand,
    mix,
    predictive,
    replay,
    rivals,
    simulate,
    spec,
)

DAY_S = 86400
WEEK_MINUTES = 7 * 1440
ALL_POLICIES = tuple(simulate.PolicyName)


@dataclass(frozen=True)
class Options:
    """How to replay: the period, the cold start, which policies, the mix, the seed."""

    replay_s: int = 7 * DAY_S  # the last replay_s of the trace are replayed
    cold_start: cold_start.ColdStartDistribution | None = (
        None  # None: fixed at the spec's lead_time_s
    )
    policies: tuple[simulate.PolicyName, ...] = ALL_POLICIES
    mix: simulate.MixMode = simulate.MixMode.PLANNER
    seed: int = 0
    refit_every_s: int = predictive.DEFAULT_REFIT_EVERY_S
    until: pd.Timestamp | None = None  # replay the period ending here; None: the trace's end
    mask_dropouts: bool = True  # collection dropouts become gaps (replay.py)


def run(
    workload: spec.WorkloadSpec,
    trace: series.Trace,
    options: Options,
    *,
    selection: forecast.Selection | None = None,
    progress: simulate.Progress | None = None,
) -> simulate.SimulationResult:
    """Replay every policy in `options.policies` on `trace` (see the module docstring).

    `selection` reuses a model choice made on this warm-up (e.g. for another workload on the
    same trace); without it prescale runs the backtest on the warm-up.
    """
    _check(options)
    if options.until is not None:
        trace = replay.until(trace, options.until)
    split = replay.split(trace, options.replay_s, mask_dropouts=options.mask_dropouts)
    cold = options.cold_start or cold_start.ColdStartDistribution.fixed(workload.lead_time_s)
    request = demand.measured_request(workload.request, split.warmup)
    world = scenario(workload, split, cold, options.seed, request)
    contenders = policies(workload, split, world, options, request=request, selection=selection)
    result = simulate.simulate(world, contenders, workload=workload.name, progress=progress)
    prescale = next((p for p in contenders if isinstance(p, predictive.Prescale)), None)
    return dataclasses.replace(
        result,
        planning_lead_time_s=planning_lead_time_s(cold),
        forecast_model=None if prescale is None else prescale.selection.model.value,
        forecast_refits=0 if prescale is None else len(prescale.refits),
        dropout_minutes=split.dropout_minutes,
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
) -> simulate.Scenario:
    """The replayed minutes as the engine sees them: arrivals, load, prices, cold start."""
    arrivals = split.replayed.values.to_numpy(dtype=np.float64)
    before = float(split.warmup.values.iloc[-1])
    load = _load(arrivals, workload, request)
    spot_rate = (
        workload.spot_interruption_rate_per_hour
        if spec.CapacityType.SPOT in workload.capacity_types
        else 0.0
    )
    return simulate.Scenario(
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
    world: simulate.Scenario,
    mix_mode: simulate.MixMode,
    request: spec.RequestShape,
) -> rivals.Sizing:
    """How the rivals are sized; the reserved base by break-even on the warm-up's last week."""
    base = rivals.Sizing(
        workload=workload,
        capacity_per_replica=world.capacity_per_replica,
        lead_time_s=planning_lead_time_s(world.cold_start),
        mix=mix_mode,
        reserved=0,
    )
    if mix_mode is simulate.MixMode.ON_DEMAND:
        return base
    warmup_load = _load(
        split.warmup.values.to_numpy(dtype=np.float64)[-WEEK_MINUTES:], workload, request
    )
    reserved = mix.reserved_base(workload, base.needed(warmup_load))
    return rivals.Sizing(
        workload=workload,
        capacity_per_replica=base.capacity_per_replica,
        lead_time_s=base.lead_time_s,
        mix=mix_mode,
        reserved=reserved,
    )


def policies(
    workload: spec.WorkloadSpec,
    split: replay.Replay,
    world: simulate.Scenario,
    options: Options,
    *,
    request: spec.RequestShape,
    selection: forecast.Selection | None = None,
) -> list[simulate.Policy]:
    """The policies named in `options`, in that order, built from the warm-up only (the oracle
    alone is given the replayed demand: that is what makes it the oracle)."""
    sized = sizing(workload, split, world, options.mix, request)
    warmup_load = pd.Series(
        _load(split.warmup.values.to_numpy(dtype=np.float64), workload, request),
        index=split.warmup.values.index,
    )
    built: list[simulate.Policy] = []
    for name in options.policies:
        if name is simulate.PolicyName.PRESCALE:
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
                )
            )
        elif name is simulate.PolicyName.REACTIVE:
            built.append(rivals.reactive(sized))
        elif name is simulate.PolicyName.STATIC:
            built.append(rivals.static(sized, warmup_load, world.minutes))
        elif name is simulate.PolicyName.CRON:
            built.append(rivals.cron(sized, warmup_load, world.timestamps))
        else:
            built.append(rivals.oracle(sized, world.demand))
    return built


def _load(
    arrivals: np.ndarray, workload: spec.WorkloadSpec, request: spec.RequestShape
) -> np.ndarray:
    return demand.load(arrivals, interval_s=replay.MINUTE_S, unit=workload.unit, request=request)


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
    problems: list[str] = []
    if not options.policies:
        problems.append(
            "--policies () is empty; name at least one of "
            + ",".join(p.value for p in ALL_POLICIES)
        )
    if len(set(options.policies)) != len(options.policies):
        problems.append(
            f"--policies ({','.join(options.policies)}) names a policy twice; name each once"
        )
    if options.refit_every_s < replay.MINUTE_S:
        problems.append(
            f"refit interval ({options.refit_every_s} s) must be at least 60 s; use e.g. 6h"
        )
    if problems:
        raise errors.InputError(problems)


def names(values: Sequence[str]) -> tuple[simulate.PolicyName, ...]:
    """Policy names from strings, collecting every unknown one into one InputError."""
    known = {p.value: p for p in ALL_POLICIES}
    unknown = [v for v in values if v.strip().lower() not in known]
    if unknown:
        raise errors.InputError(
            f"--policies ({','.join(values)}) has unknown names {unknown}; use any of "
            + ",".join(known)
        )
    return tuple(known[v.strip().lower()] for v in values)
