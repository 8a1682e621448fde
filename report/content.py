"""Shell: assembles the report model from the forecaster's, planner's and simulator's results.

No number is computed twice: costs, the reserved count and the lead time are the planner's,
accuracy is the forecaster's backtest, policy figures are the simulator's. What is derived here
is presentation: series downsampled for plots, per-week scaling, fleet sums and the reservation
duration curve (checked against the planner's reserved count).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecaster import forecast as fc
from forecaster import series as fseries
from planner import cost, demand, lead_time, mix, plan, spec
from report import caveats, model
from simulator import results

HOURS_PER_WEEK = 168.0
# History shown before the forecast: two weeks show the weekly cycle the model learned from.
HISTORY_SHOWN_S = 14 * 86400
# Plots need no more points than pixels: 15-minute steps give 2,016 points for three weeks.
PLOT_STEP_S = 900
# Replica plots step every 10 minutes, drawing each step at its busiest minute.
REPLICA_PLOT_STEP_S = 600
# Plot series keep six significant digits: the JSON stays readable and nothing visible changes.
PLOT_DIGITS = 6


@dataclass(frozen=True)
class WorkloadInputs:
    """Everything one workload's section is made from."""

    workload: spec.WorkloadSpec
    history: pd.Series  # the input series the forecast was fitted on (input unit per interval)
    column: str
    forecast: fc.Forecast
    plan: plan.Plan
    lead_time: lead_time.LeadTime
    budget_note: str | None
    simulation: results.SimulationResult | None
    request: spec.RequestShape  # the request shape the plan used (measured or the spec's)
    shadow: model.ShadowScore | None = None  # the live daemon's shadow score, as data
    # the operating point the plan was made at, chosen for the SLO on the history; None: the
    # spec's provisioning quantile
    choice: results.Choice | None = None


def interval_label(column: str, interval_s: int) -> str:
    names = {1: "second", 60: "minute", 600: "10 minutes", 900: "15 minutes", 3600: "hour"}
    per = names.get(interval_s, f"{interval_s} s")
    return f"{column} per {per}"


def _rounded(values: npt.NDArray[np.float64]) -> tuple[float, ...]:
    return tuple(
        float(f"{v:.{PLOT_DIGITS}g}") if math.isfinite(v) else math.nan for v in values.tolist()
    )


def _series(values: pd.Series) -> model.Series:
    index = pd.DatetimeIndex(values.index)
    step = int((index[1] - index[0]).total_seconds()) if len(index) > 1 else PLOT_STEP_S
    return model.Series(
        start=index[0].to_pydatetime(),
        step_s=step,
        values=_rounded(values.to_numpy(dtype=np.float64)),
    )


def _coarsen(values: pd.Series, step_s: int) -> pd.Series:
    if len(values) < 2:
        return values
    current = (values.index[1] - values.index[0]).total_seconds()
    if current >= step_s:
        return values
    return values.resample(f"{step_s}s", origin="epoch", label="left", closed="left").mean()


def forecast_view(history: pd.Series, forecast: fc.Forecast, column: str) -> model.ForecastView:
    """The forecast and the history shown before it (`HISTORY_SHOWN_S`); the days and points
    are those the model was fitted on (the forecast's own), which may be more than shown."""
    interval = forecast.input_interval_s
    shown = history[history.index >= history.index[-1] - pd.Timedelta(seconds=HISTORY_SHOWN_S)]
    # A whole number of model buckets per plot step, so plot buckets never straddle them.
    step = forecast.resolution_s * max(1, math.ceil(PLOT_STEP_S / forecast.resolution_s))
    frame = forecast.frame
    return model.ForecastView(
        unit_label=interval_label(column, interval),
        history=_series(_coarsen(fseries.bucket_mean(shown, interval, step), step)),
        p50=_series(_coarsen(frame["p50"], step)),
        p90=_series(_coarsen(frame["p90"], step)),
        p99=_series(_coarsen(frame["p99"], step)),
        history_points=forecast.history_points,
        history_days=forecast.history_s / 86400,
        resolution_s=forecast.resolution_s,
    )


def accuracy(forecast: fc.Forecast) -> model.Accuracy:
    rows = tuple(
        model.Candidate(
            model=c.model.value,
            mae=c.mae,
            ratio_to_naive=c.ratio_to_naive,
            chosen=c.model is forecast.model,
            status=c.status,
        )
        for c in forecast.candidates
    )
    chosen = next((c.ratio_to_naive for c in rows if c.chosen), math.nan)
    return model.Accuracy(
        model=forecast.model.value,
        reason=forecast.reason.value,
        candidates=rows,
        chosen_ratio_to_naive=chosen,
        coverage_p90=forecast.coverage_p90,
        coverage_p99=forecast.coverage_p99,
        band_widening=forecast.selection.calibration_mean.widening,
        band_widened_by=forecast.band_widened_by,
    )


def replica_view(targets: pd.DataFrame) -> model.ReplicaView:
    """Each 10-minute step shows the row of its busiest minute, so the stack adds up to a
    real total, and the most replicas needed within it."""
    per = REPLICA_PLOT_STEP_S // plan.PLAN_STEP_S
    total = targets["total"].to_numpy()
    need = targets["needed"].to_numpy()
    rows = []
    needed = []
    for first in range(0, len(total), per):
        rows.append(first + int(np.argmax(total[first : first + per])))
        needed.append(float(need[first : first + per].max()))
    start = pd.Timestamp(targets.index[0]).to_pydatetime()

    def take(column: str) -> model.Series:
        values = targets[column].to_numpy(dtype=np.float64)[rows]
        return model.Series(start=start, step_s=REPLICA_PLOT_STEP_S, values=_rounded(values))

    return model.ReplicaView(
        needed=model.Series(start=start, step_s=REPLICA_PLOT_STEP_S, values=tuple(needed)),
        reserved=take("reserved"),
        spot=take("spot"),
        on_demand=take("on_demand"),
    )


def reservation(workload: spec.WorkloadSpec, p: plan.Plan) -> model.Reservation:
    """The break-even reasoning behind the plan's reserved count: the duration curve of the
    planner's base (replicas before the capacity-type split), on which build_plan decides."""
    base = p.targets["base"].to_numpy(dtype=np.int64)
    threshold = mix.break_even_fraction(workload.prices)
    peak = int(base.max()) if base.size else 0
    may_reserve = spec.CapacityType.RESERVED in workload.capacity_types
    points = []
    for k in range(1, peak + 1):
        fraction = float(np.count_nonzero(base >= k)) / base.size
        points.append(model.DurationPoint(k, fraction, may_reserve and fraction > threshold))
    return model.Reservation(
        allowed=may_reserve,
        reserved_replicas=p.reserved,
        reserved_gpus=p.reserved * workload.gpus_per_replica,
        price_reserved_per_gpu_hour=workload.prices.reserved_per_gpu_hour,
        price_on_demand_per_gpu_hour=workload.prices.on_demand_per_gpu_hour,
        price_spot_per_gpu_hour=workload.prices.spot_per_gpu_hour,
        break_even_fraction=threshold,
        duration_curve=tuple(points),
    )


def _per_week(value: float, hours: float) -> float:
    return value / hours * HOURS_PER_WEEK if hours > 0 else math.nan


def _pct_saved(planned: float, alternative: float) -> float:
    return (alternative - planned) / alternative * 100 if alternative > 0 else math.nan


def _per_million(dollars: float, count: float | None) -> float | None:
    """The planner's unit cost rule (cost.summarise): None when nothing is expected."""
    return dollars / count * 1e6 if count else None


def cost_view(summary: cost.CostSummary) -> model.Cost:
    hours = summary.hours
    on_demand = _per_week(summary.all_on_demand_dollars, hours)
    static = _per_week(summary.static_peak_dollars, hours)
    return model.Cost(
        horizon_hours=hours,
        lines=tuple(
            model.CostLine(
                capacity_type=t.capacity_type,
                peak_replicas=t.peak_replicas,
                mean_replicas=t.mean_replicas,
                gpu_hours=t.gpu_hours,
                cost_usd=t.dollars,
                gpu_hours_per_week=_per_week(t.gpu_hours, hours),
                cost_usd_per_week=_per_week(t.dollars, hours),
                usd_per_million_requests=_per_million(t.dollars, summary.requests),
                usd_per_million_tokens=_per_million(t.dollars, summary.tokens),
            )
            for t in summary.by_type
        ),
        total_gpu_hours_per_week=_per_week(summary.gpu_hours, hours),
        total_usd_per_week=summary.dollars_per_week,
        all_on_demand_usd_per_week=on_demand,
        static_peak_usd_per_week=static,
        savings_vs_on_demand_pct=_pct_saved(summary.dollars_per_week, on_demand),
        savings_vs_static_pct=_pct_saved(summary.dollars_per_week, static),
        usd_per_million_requests=summary.dollars_per_1m_requests,
        usd_per_million_tokens=summary.dollars_per_1m_tokens,
    )


def lead_time_view(value: lead_time.LeadTime) -> model.LeadTimeView:
    if value.source is lead_time.LeadTimeSource.LEARNED:
        note = (
            f"P90 of {value.observations} cold starts observed in the last week "
            f"(the spec says {value.fallback_s} s)."
        )
    else:
        note = (
            f"the workload spec's lead_time; {value.observations} cold starts were observed, "
            "too few to learn from."
        )
    return model.LeadTimeView(seconds=float(value.seconds), source=value.source, note=note)


def simulation_view(result: results.SimulationResult) -> model.Simulation:
    oracle = result.result(results.PolicyName.ORACLE)

    def vs(value: float, base: float | None) -> float | None:
        return value / base if base else None

    rows = tuple(
        model.PolicyRow(
            policy=r.policy.value
            if r.mix is results.MixMode.PLANNER
            else f"{r.policy.value} ({r.mix.value})",
            served_minutes_pct=r.served_minutes_pct,
            unserved_demand_pct=r.unserved_demand_pct,
            gpu_hours=r.gpu_hours,
            cost_usd=r.cost_usd,
            reserved_usd=r.cost_by_type.reserved,
            spot_usd=r.cost_by_type.spot,
            on_demand_usd=r.cost_by_type.on_demand,
            overflow_usd=r.api_overflow_usd,
            scale_events=r.scale_events,
            gpu_hours_vs_oracle=vs(r.gpu_hours, oracle.gpu_hours if oracle else None),
            cost_vs_oracle=vs(r.cost_usd, oracle.cost_usd if oracle else None),
            unserved_minutes=r.minutes_with_data - r.served_minutes,
            unserved_runs=r.unserved_runs,
            longest_unserved_minutes=r.longest_unserved_minutes,
        )
        for r in result.policies
    )
    return model.Simulation(
        replay_start=result.start.to_pydatetime(),
        replay_days=result.minutes / 1440,
        seed=result.seed,
        planning_lead_time_s=result.planning_lead_time_s,
        forecast_model=result.forecast_model,
        forecast_refits=result.forecast_refits,
        cold_start=result.cold_start.describe(),
        policies=rows,
        operating_point=operating_point_view(result.operating_point, "the warm-up"),
    )


def operating_point_view(
    choice: results.Choice | None, replayed_on: str
) -> model.OperatingPointView | None:
    """The choice and every point replayed, cheapest first; `efficient` marks the points
    `prescale simulate` prints (results.frontier_rows)."""
    if choice is None:
        return None
    efficient = {f.point for f, _ in results.frontier_rows(choice)}
    ordered = sorted(choice.frontier, key=lambda f: (f.gpu_hours, -f.pooled_served_pct))
    return model.OperatingPointView(
        slo_served_minutes_pct=choice.slo.served_minutes_pct,
        chosen=choice.point.describe(),
        met=choice.met,
        reason=choice.reason,
        windows=len(choice.windows),
        replayed_on=replayed_on,
        frontier=tuple(
            model.FrontierPoint(
                point=f.point.describe(),
                pooled_served_pct=f.pooled_served_pct,
                gpu_hours=f.gpu_hours,
                efficient=f.point in efficient,
                chosen=f.point == choice.point,
            )
            for f in ordered
        ),
    )


def workload_report(inputs: WorkloadInputs) -> model.WorkloadReport:
    w, p = inputs.workload, inputs.plan
    targets = p.targets
    peak_planned = int(targets["total"].max())
    return model.WorkloadReport(
        name=w.name,
        kind=w.kind.value,
        unit=w.unit.value,
        gpu=w.gpu,
        gpus_per_replica=w.gpus_per_replica,
        capacity_per_replica=p.capacity_per_replica,
        target_utilization=w.target_utilization,
        provisioning_quantile=w.provisioning_quantile.value,
        provisioned_for=results.provisioned_for(w, inputs.choice),
        min_replicas=w.min_replicas,
        max_replicas=w.max_replicas,
        column=inputs.column,
        history=model.HistorySource(
            source_unit=w.history_unit.value,
            conversion=demand.describe(w, inputs.request, inputs.forecast.input_interval_s),
        ),
        forecast=forecast_view(inputs.history, inputs.forecast, inputs.column),
        accuracy=accuracy(inputs.forecast),
        replicas=replica_view(targets),
        peak_needed=int(targets["needed"].max()),
        peak_planned=peak_planned,
        peak_gpus=peak_planned * w.gpus_per_replica,
        reservation=reservation(w, p),
        cost=cost_view(p.cost),
        lead_time=lead_time_view(inputs.lead_time),
        budget_note=inputs.budget_note,
        simulation=simulation_view(inputs.simulation) if inputs.simulation else None,
        shadow=inputs.shadow,
        plan_point=operating_point_view(inputs.choice, "the history"),
    )


def fleet(sections: Sequence[model.WorkloadReport], plans: Sequence[plan.Plan]) -> model.Fleet:
    """Totals per GPU type; GPUs at peak is the peak of the summed per-minute GPUs, which is
    below the sum of the workloads' peaks when they peak at different times."""
    by_gpu: dict[str, list[tuple[model.WorkloadReport, plan.Plan]]] = {}
    for section, p in zip(sections, plans, strict=True):
        by_gpu.setdefault(section.gpu, []).append((section, p))
    totals = []
    for gpu, members in by_gpu.items():
        gpus = sum(
            (p.targets["total"] * s.gpus_per_replica for s, p in members),
            start=pd.Series(0, index=members[0][1].targets.index),
        )
        totals.append(
            model.GpuTypeTotal(
                gpu=gpu,
                gpus_at_peak=int(gpus.max()),
                reserved_gpus=sum(s.reservation.reserved_gpus for s, _ in members),
                gpu_hours_per_week=sum(s.cost.total_gpu_hours_per_week for s, _ in members),
                usd_per_week=sum(s.cost.total_usd_per_week for s, _ in members),
                all_on_demand_usd_per_week=sum(
                    s.cost.all_on_demand_usd_per_week for s, _ in members
                ),
                static_peak_usd_per_week=sum(s.cost.static_peak_usd_per_week for s, _ in members),
            )
        )
    usd = sum(t.usd_per_week for t in totals)
    on_demand = sum(t.all_on_demand_usd_per_week for t in totals)
    static = sum(t.static_peak_usd_per_week for t in totals)
    notes = caveats.for_fleet(sections)
    return model.Fleet(
        gpu_types=tuple(totals),
        gpu_hours_per_week=sum(t.gpu_hours_per_week for t in totals),
        usd_per_week=usd,
        all_on_demand_usd_per_week=on_demand,
        static_peak_usd_per_week=static,
        savings_vs_on_demand_usd_per_week=on_demand - usd,
        savings_vs_on_demand_pct=_pct_saved(usd, on_demand),
        savings_vs_static_usd_per_week=static - usd,
        savings_vs_static_pct=_pct_saved(usd, static),
        budget_bound_workloads=tuple(s.name for s in sections if s.budget_note),
        caveats=notes,
    )


def report(
    inputs: Sequence[WorkloadInputs],
    *,
    trace_name: str,
    workload_file: str,
    generated_at: datetime,
) -> model.Report:
    sections = tuple(workload_report(i) for i in inputs)
    plans = [i.plan for i in inputs]
    first = plans[0].targets.index
    return model.Report(
        schema_version=model.SCHEMA_VERSION,
        generated_at=generated_at,
        trace=trace_name,
        workload_file=workload_file,
        horizon_start=pd.Timestamp(first[0]).to_pydatetime(),
        horizon_hours=len(first) * plan.PLAN_STEP_S / 3600,
        fleet=fleet(sections, plans),
        workloads=sections,
    )
