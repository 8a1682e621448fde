"""Pure: plan every workload of a fleet on one forecast, pooled workloads within their budget.

`prescale plan`, `prescale report` and the daemon's refit all plan a set of workloads the same
way: each workload's lead time (learned from its observed cold starts, else its spec), its
request shape (measured from the history where the trace carries token columns), and either its
own plan or, for workloads that share a pool's GPU budget, the pool's joint plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from forecaster import forecast, series
from planner import budget, demand, lead_time, plan, spec


@dataclass(frozen=True)
class PlannedWorkload:
    workload: spec.WorkloadSpec
    plan: plan.Plan
    lead_time: lead_time.LeadTime
    shortfall: budget.Shortfall | None
    request: spec.RequestShape  # the shape planned with: measured from the trace, or the spec's


def plan_all(
    specs: Sequence[spec.WorkloadSpec],
    history: series.Trace,
    predicted: forecast.Forecast,
    *,
    cold_starts: Mapping[str, Iterable[lead_time.ColdStart]] | None = None,
    forecasts: Mapping[str, forecast.Forecast] | None = None,
) -> list[PlannedWorkload]:
    """Plan every workload on the one forecast; pooled workloads share their GPU budget.

    `cold_starts` maps a workload's name to its observed cold starts (the daemon learns them
    from the cluster); a workload without any plans with its spec's lead time. `forecasts`
    maps a workload's name to the forecast it is planned on instead of `predicted` (the same
    forecast at the workload's operating point, `simulator.predictive.at_point`).
    """
    own = forecasts or {}
    now = predicted.frame.index[0].to_pydatetime()
    observed = cold_starts or {}
    leads = {w.name: lead_time.learn(w, observed.get(w.name, ()), now=now) for w in specs}
    shapes = {w.name: demand.measured_request(w.request, history) for w in specs}
    plans: dict[str, plan.Plan] = {}
    shortfalls: dict[str, budget.Shortfall] = {}
    pools: dict[str, list[spec.WorkloadSpec]] = {}
    for w in specs:
        if w.pool is not None and w.pool_gpu_budget is not None:
            pools.setdefault(w.pool, []).append(w)
        else:
            plans[w.name] = plan.build_plan(
                w,
                own.get(w.name, predicted),
                lead_time_s=leads[w.name].seconds,
                request=shapes[w.name],
            )
    for pool, members in pools.items():
        pooled = budget.plan_pool(
            pool,
            members[0].pool_gpu_budget or 0,
            members,
            [own.get(w.name, predicted) for w in members],
            lead_times_s=[leads[w.name].seconds for w in members],
            requests=[shapes[w.name] for w in members],
        )
        plans.update({w.name: p for w, p in zip(members, pooled.plans, strict=True)})
        shortfalls.update({s.workload: s for s in pooled.shortfalls})
    return [
        PlannedWorkload(w, plans[w.name], leads[w.name], shortfalls.get(w.name), shapes[w.name])
        for w in specs
    ]
