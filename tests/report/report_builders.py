"""Builders of small, hand-made report models for the renderer tests (no forecaster, no planner)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime
from typing import Any

from planner import lead_time, spec
from report import model

START = datetime(2024, 1, 15, tzinfo=UTC)


def series(values: list[float], start: datetime = START, step_s: int = 3600) -> model.Series:
    return model.Series(start=start, step_s=step_s, values=tuple(values))


def daily_wave(hours: int, base: float, amplitude: float) -> list[float]:
    return [base + amplitude * math.sin(2 * math.pi * (h % 24 - 8) / 24) for h in range(hours)]


def forecast_view(**overrides: Any) -> model.ForecastView:
    history_start = datetime(2024, 1, 1, tzinfo=UTC)
    p50 = daily_wave(168, 100, 60)
    view = model.ForecastView(
        unit_label="requests per minute",
        history=series(daily_wave(336, 95, 55), start=history_start),
        p50=series(p50),
        p90=series([v * 1.15 for v in p50]),
        p99=series([v * 1.35 for v in p50]),
        history_points=336 * 60,
        history_days=14.0,
        resolution_s=300,
    )
    return dataclasses.replace(view, **overrides)


def accuracy(**overrides: Any) -> model.Accuracy:
    value = model.Accuracy(
        model="holt_winters",
        reason="backtest_selected",
        candidates=(
            model.Candidate("seasonal_naive_weekly", 20.0, 1.0, False),
            model.Candidate("weekly_profile", 15.5, 0.775, False),
            model.Candidate("holt_winters", 14.0, 0.7, True),
        ),
        chosen_ratio_to_naive=0.7,
        coverage_p90=0.91,
        coverage_p99=0.985,
        band_widening=0.5,
    )
    return dataclasses.replace(value, **overrides)


def replicas() -> model.ReplicaView:
    needed = [math.ceil(v / 20) for v in daily_wave(168, 100, 60)]
    reserved = [min(3.0, n) for n in needed]
    spot = [max(0.0, (n - 3) * 0.5) for n in needed]
    on_demand = [max(0.0, n - 3 - s) for n, s in zip(needed, spot, strict=True)]
    return model.ReplicaView(
        needed=series([float(n) for n in needed]),
        reserved=series(reserved),
        spot=series(spot),
        on_demand=series(on_demand),
    )


def reservation(**overrides: Any) -> model.Reservation:
    fractions = [1.0, 1.0, 0.8, 0.55, 0.4, 0.25, 0.1, 0.02]
    value = model.Reservation(
        allowed=True,
        reserved_replicas=3,
        reserved_gpus=3,
        price_reserved_per_gpu_hour=2.20,
        price_on_demand_per_gpu_hour=3.67,
        price_spot_per_gpu_hour=1.47,
        break_even_fraction=2.20 / 3.67,
        duration_curve=tuple(
            model.DurationPoint(k + 1, f, f > 2.20 / 3.67) for k, f in enumerate(fractions)
        ),
    )
    return dataclasses.replace(value, **overrides)


def cost(**overrides: Any) -> model.Cost:
    lines = (
        model.CostLine(
            spec.CapacityType.RESERVED, 3, 3.0, 504.0, 1108.8, 504.0, 1108.8, 1.1, 0.001
        ),
        model.CostLine(spec.CapacityType.SPOT, 3, 0.9, 151.2, 222.26, 151.2, 222.26, 0.22, 0.0002),
        model.CostLine(
            spec.CapacityType.ON_DEMAND, 3, 0.9, 151.2, 554.9, 151.2, 554.9, 0.55, 0.0005
        ),
    )
    value = model.Cost(
        horizon_hours=168.0,
        lines=lines,
        total_gpu_hours_per_week=806.4,
        total_usd_per_week=1885.96,
        all_on_demand_usd_per_week=2959.49,
        static_peak_usd_per_week=4932.48,
        savings_vs_on_demand_pct=36.27,
        savings_vs_static_pct=61.76,
        usd_per_million_requests=1.87,
        usd_per_million_tokens=0.0017,
    )
    return dataclasses.replace(value, **overrides)


def simulation(
    operating_point: model.OperatingPointView | None = None,
) -> model.Simulation:
    def row(policy: str, served: float, gpu_h: float, usd: float) -> model.PolicyRow:
        return model.PolicyRow(
            policy=policy,
            served_minutes_pct=served,
            unserved_demand_pct=round(100 - served, 3) / 10,
            gpu_hours=gpu_h,
            cost_usd=usd,
            reserved_usd=0.0,
            spot_usd=0.0,
            on_demand_usd=usd,
            overflow_usd=0.0,
            scale_events=12,
            gpu_hours_vs_oracle=gpu_h / 700.0,
            cost_vs_oracle=usd / 2569.0,
            unserved_minutes=round((100 - served) * 100.8),
            unserved_runs=round((100 - served) * 20),
            longest_unserved_minutes=10 if served < 100 else 0,
        )

    return model.Simulation(
        replay_start=START,
        replay_days=7.0,
        seed=1,
        planning_lead_time_s=600,
        forecast_model="holt_winters",
        forecast_refits=29,
        cold_start="fixed 600 s",
        policies=(
            row("prescale", 99.8, 800.0, 2936.0),
            row("reactive", 97.1, 720.0, 2642.4),
            row("oracle", 100.0, 700.0, 2569.0),
        ),
        operating_point=operating_point,
    )


def chosen_point() -> model.OperatingPointView:
    """Four points replayed, cheapest first: three on the frontier, one dominated (it costs
    more than the chosen point and serves less), the chosen one the cheapest above 99.7 %."""

    def point(name: str, served: float, gpu_h: float, efficient: bool) -> model.FrontierPoint:
        return model.FrontierPoint(name, served, gpu_h, efficient, name == "band 0.50")

    return model.OperatingPointView(
        slo_served_minutes_pct=99.5,
        chosen="band 0.50",
        met=True,
        reason="cheapest of 2/4 points replayed serving >= 99.7 % of minutes on each of 2 windows",
        windows=2,
        frontier=(
            point("band 0.00", 99.1, 1210.0, True),
            point("band 0.50", 99.82, 1302.5, True),
            point("band 0.25 hold cooldown", 99.4, 1340.0, False),
            point("band 1.00", 99.97, 1420.0, True),
        ),
        replayed_on="the warm-up",
    )


def workload(**overrides: Any) -> model.WorkloadReport:
    value = model.WorkloadReport(
        name="chat-llama-8b",
        kind="llm",
        unit="concurrency",
        gpu="A100-80GB",
        gpus_per_replica=1,
        capacity_per_replica=16.0,
        target_utilization=0.8,
        provisioning_quantile="p90",
        provisioned_for="p90",
        min_replicas=1,
        max_replicas=64,
        column="requests",
        history=model.HistorySource(
            source_unit="arrivals",
            conversion="arrivals per 60 s -> concurrency by Little's law (1 request/s = 2 "
            "concurrency)",
        ),
        forecast=forecast_view(),
        accuracy=accuracy(),
        replicas=replicas(),
        peak_needed=8,
        peak_planned=9,
        peak_gpus=9,
        reservation=reservation(),
        cost=cost(),
        lead_time=model.LeadTimeView(
            600.0, lead_time.LeadTimeSource.SPEC_FALLBACK, "the workload spec's lead_time."
        ),
        budget_note=None,
        simulation=None,
    )
    return dataclasses.replace(value, **overrides)


def report(
    *workloads: model.WorkloadReport, caveats: tuple[model.Caveat, ...] = ()
) -> model.Report:
    ws = workloads or (workload(),)
    # The fleet's headline is the default workload's cost whatever the workloads (the GPU-type
    # row sums them), so the headline figures the tests check stay put.
    one = cost()
    fleet = model.Fleet(
        gpu_types=(
            model.GpuTypeTotal(
                gpu="A100-80GB",
                gpus_at_peak=sum(w.peak_gpus for w in ws),
                reserved_gpus=sum(w.reservation.reserved_gpus for w in ws),
                gpu_hours_per_week=sum(w.cost.total_gpu_hours_per_week for w in ws),
                usd_per_week=sum(w.cost.total_usd_per_week for w in ws),
                all_on_demand_usd_per_week=sum(w.cost.all_on_demand_usd_per_week for w in ws),
                static_peak_usd_per_week=sum(w.cost.static_peak_usd_per_week for w in ws),
            ),
        ),
        gpu_hours_per_week=one.total_gpu_hours_per_week,
        usd_per_week=one.total_usd_per_week,
        all_on_demand_usd_per_week=one.all_on_demand_usd_per_week,
        static_peak_usd_per_week=one.static_peak_usd_per_week,
        savings_vs_on_demand_usd_per_week=1073.53,  # 2959.49 - 1885.96
        savings_vs_on_demand_pct=one.savings_vs_on_demand_pct,
        savings_vs_static_usd_per_week=3046.52,  # 4932.48 - 1885.96
        savings_vs_static_pct=one.savings_vs_static_pct,
        budget_bound_workloads=tuple(w.name for w in ws if w.budget_note),
        caveats=caveats,
    )
    return model.Report(
        schema_version=model.SCHEMA_VERSION,
        generated_at=datetime(2024, 1, 15, 6, 0, tzinfo=UTC),
        trace="nasa.csv.gz",
        workload_file="workload.yaml",
        horizon_start=START,
        horizon_hours=168.0,
        fleet=fleet,
        workloads=ws,
    )
