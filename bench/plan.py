"""Bench: planning speed. 100 workloads x 7 days x 1-minute targets from given forecasts
(target: under 2 s in total), and one `plan_step` call (target: at most 10 us).

Each figure is printed next to a baseline measured in the same run on the same machine:
  - build_plan per workload against stepping `plan_step` minute by minute over the same week
    (what the plan would cost without vectorising; the ratio is the speed-up);
  - plan_step per call against building one of its frozen input dataclasses (the floor any
    per-tick Python costs here).

    python bench/plan.py [--workloads 100] [--days 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from actuator import workloads as workload_io
from planner import plan, spec, step

START = datetime(2026, 1, 5, tzinfo=UTC)
RESOLUTION_S = 300
INPUT_INTERVAL_S = 60


@dataclass(frozen=True)
class GivenForecast:
    """The fields of forecaster's Forecast that the planner reads."""

    frame: pd.DataFrame
    resolution_s: int
    input_interval_s: int


def workloads(count: int) -> list[spec.WorkloadSpec]:
    """A fleet with every planner feature in use somewhere: mixes, quantiles, step limits."""
    items = []
    for i in range(count):
        items.append(
            {
                "name": f"w{i:03d}",
                "kind": "llm",
                "unit": "concurrency",
                "gpu": ("L4", "A100-80GB", "H100-80GB", "L40S")[i % 4],
                "capacity_per_replica": 8 + i % 5 * 4,
                "min_replicas": 1,
                "max_replicas": 64,
                "lead_time": f"{2 + i % 4 * 4}m",
                "cooldown": f"{3 + i % 3}m",
                "scale_in_step": 1 + i % 3,
                "warm_standby": i % 2,
                "provisioning_quantile": ("p50", "p90", "p99")[i % 3],
                "request": {
                    "prompt_tokens": 500,
                    "completion_tokens": 300,
                    "ttft_s": 0.4,
                    "itl_s": 0.03,
                },
                "capacity_types": ["reserved", "spot", "on_demand"],
            }
        )
    return list(workload_io.parse_workloads(items))


def forecasts(count: int, days: int, seed: int = 7) -> list[GivenForecast]:
    """Diurnal forecasts with noise, one per workload, at 5-minute resolution."""
    rng = np.random.default_rng(seed)
    steps = days * 86400 // RESOLUTION_S
    index = pd.date_range(START, periods=steps, freq=f"{RESOLUTION_S}s", tz="UTC")
    phase = np.arange(steps) / (86400 / RESOLUTION_S) * 2 * np.pi
    out = []
    for _ in range(count):
        level = rng.uniform(50, 400)
        mean = level * (1 + 0.6 * np.sin(phase + rng.uniform(0, 6))) + rng.normal(0, 5, steps)
        mean = np.maximum(mean, 0)
        frame = pd.DataFrame(
            {
                "p50": mean,
                "p90": mean * 1.15,
                "p99": mean * 1.3,
                "peak_p50": mean * 1.4,
                "peak_p90": mean * 1.6,
                "peak_p99": mean * 1.9,
            },
            index=index,
        )
        out.append(GivenForecast(frame, RESOLUTION_S, INPUT_INTERVAL_S))
    return out


def best_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def step_through(workload: spec.WorkloadSpec, built: plan.Plan) -> int:
    """The unvectorised plan: plan_step every minute with the plan's floor."""
    state = step.PolicyState.initial()
    total = 0
    now = START
    minute = timedelta(minutes=1)
    for floor in built.targets["floor"].tolist():
        inputs = step.StepInputs(
            now=now,
            forecast_floor=floor,
            reserved=built.reserved,
            observed_demand=None,
            ready=state.targets,
            lead_time_s=built.lead_time_s,
        )
        result = step.plan_step(workload, inputs, state)
        state = result.state
        total += result.total
        now += minute
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    specs = workloads(args.workloads)
    given = forecasts(args.workloads, args.days)
    minutes = args.days * 1440

    def plan_all() -> list[plan.Plan]:
        return [
            plan.build_plan(w, f, lead_time_s=w.lead_time_s)
            for w, f in zip(specs, given, strict=True)
        ]

    plans = plan_all()
    vectorised_s = best_of(args.repeat, plan_all)
    per_plan_s = vectorised_s / args.workloads
    # Baseline: the same week stepped minute by minute, for one workload.
    stepped_s = best_of(args.repeat, lambda: step_through(specs[0], plans[0]))
    print(f"build_plan: {args.workloads} workloads x {args.days} d x 1 min ({minutes} minutes)")
    print(f"  total                       {vectorised_s:8.3f} s   (target < 2 s)")
    print(f"  per workload                {per_plan_s * 1e3:8.2f} ms")
    print(f"  baseline, plan_step x {minutes:<5} {stepped_s * 1e3:8.2f} ms per workload")
    print(f"  speed-up over stepping      {stepped_s / per_plan_s:8.1f} x")

    workload, built = specs[0], plans[0]
    state = step.PolicyState.initial()
    calls = 20_000
    inputs_list = [
        step.StepInputs(
            now=START + timedelta(minutes=i),
            forecast_floor=int(f),
            reserved=built.reserved,
            observed_demand=float(d),
            ready=spec.ByType(built.reserved, 1, 1),
            lead_time_s=built.lead_time_s,
        )
        for i, (f, d) in enumerate(
            zip(
                np.resize(built.targets["floor"].to_numpy(), calls),
                np.resize(np.linspace(0.0, 200.0, 97), calls),
                strict=True,
            )
        )
    ]

    def run_steps() -> None:
        nonlocal state
        for item in inputs_list:
            state = step.plan_step(workload, item, state).state

    def build_inputs() -> None:
        for i in range(calls):
            step.StepInputs(START, i, 0, None, spec.ByType(i, 0, 0), 600)

    step_us = best_of(args.repeat, run_steps) / calls * 1e6
    floor_us = best_of(args.repeat, build_inputs) / calls * 1e6
    print(f"plan_step: {calls} calls with observed demand (reactive path)")
    print(f"  per call                    {step_us:8.2f} us  (target <= 10 us)")
    print(f"  baseline, build StepInputs  {floor_us:8.2f} us")
    print(f"  ratio to baseline           {step_us / floor_us:8.1f} x")
    peaks = [int(p.targets["total"].max()) for p in plans]
    print(f"  peak replicas per plan      median {statistics.median(peaks):g}, max {max(peaks)}")


if __name__ == "__main__":
    main()
