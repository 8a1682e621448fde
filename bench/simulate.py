"""Bench: how long the what-if replay takes per policy, forecast fits excluded.

Replays the last `--days` (default 60) of a per-minute trace (default: the NASA KSC trace from
the shared traces, 62 days with two long gaps) on the 1-minute grid for each policy, and prints
seconds per replay (best and median of --repeat rounds that interleave the policies),
microseconds per simulated minute, and the ratio to a baseline measured in the same run: a bare
Python loop over the same minutes that builds one small frozen dataclass per minute and calls a
method on it, the least any per-minute replay in Python can cost.

prescale is timed with refits switched off (the engine plus the planner's plan_step every
minute, which is what "forecast fits excluded" measures) and, with --with-refits, as replayed
(refitting its forecast every 6 h). Building the policies (the backtest that
selects prescale's model, the rivals' sizing) is outside every timing.

With `--baseline-ref REF` the replay with refits runs in fresh processes on this checkout's
library code and on git ref REF's (bench/baseline.py), alternately, `--rounds` times each, and
the ratio is printed (the issue's target: a 60-day replay with refits under 20 s).

    python bench/simulate.py [--traces-dir ../shared/traces] [--days 60] [--repeat 3]
                             [--with-refits] [--baseline-ref main [--rounds 2] [--refits-only]]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import baseline

from actuator import trace, workloads
from actuator.commands import inputs
from forecaster import forecast
from planner import spec, step
from simulator import cold_start, engine, lineup, predictive, replay, results, spot

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 1.0  # the target: 60 days of one policy in under a second


@dataclass(frozen=True, slots=True)
class _Tick:
    minute: int
    value: float

    def bump(self) -> int:
        return self.minute + 1


def baseline_loop(minutes: int) -> float:
    """Seconds for a bare per-minute loop: one frozen dataclass and one method call a minute."""
    start = time.perf_counter()
    rows: list[int] = []
    for t in range(minutes):
        rows.append(_Tick(t, 1.0).bump())
    return time.perf_counter() - start


def best_of(repeat: int, timed: Callable[[], float]) -> float:
    return min(timed() for _ in range(repeat))


def refit_replay(traces_dir: Path, trace_name: str, days: float, seed: int) -> dict[str, float]:
    """prescale replayed with its 6-hourly refits: seconds (wall, this process's CPU), refits
    and the replay's figures. The model selection on the warm-up is outside the timing."""
    (workload,) = workloads.load(inputs.example_path(inputs.EXAMPLE_WORKLOAD))
    loaded = trace.load(traces_dir / trace_name)
    options = lineup.Options(replay_s=round(days * 86400), seed=seed)
    split = replay.split(loaded, options.replay_s)
    cold = cold_start.ColdStartDistribution.fixed(workload.lead_time_s)
    world = lineup.scenario(workload, split, cold, options.seed, workload.request)
    draws = spot.InterruptionDraws.draw(seed, world.minutes)
    sizing = lineup.sizing(workload, split, world, options.mix, workload.request)
    selection = forecast.select(split.warmup.values)
    start, start_cpu = time.perf_counter(), time.process_time()
    policy = predictive.Prescale(
        workload,
        split.warmup,
        lead_time_s=sizing.lead_time_s,
        mix=options.mix,
        refit_every_s=predictive.DEFAULT_REFIT_EVERY_S,
        selection=selection,
        request=workload.request,
        reserved=sizing.reserved,
    )
    result = engine.run(policy, world, draws)
    return {
        "wall_s": time.perf_counter() - start,
        "cpu_s": time.process_time() - start_cpu,
        "refits": len(policy.refits) - 1,
        "served_minutes_pct": result.served_minutes_pct,
        "gpu_hours": result.gpu_hours,
    }


def compare_refits(args: argparse.Namespace) -> None:
    """refit_replay on this checkout and on --baseline-ref, alternately, in fresh processes."""
    worker = ["--refits-worker", "--traces-dir", str(args.traces_dir), "--trace", args.trace]
    worker += ["--days", str(args.days), "--seed", str(args.seed)]
    with tempfile.TemporaryDirectory() as scratch:
        base = baseline.tree(args.baseline_ref, Path(scratch))
        trees = {f"baseline {args.baseline_ref}": base, "this checkout": REPO}
        seen: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        for _ in range(args.rounds):
            for label, tree in trees.items():
                seen[label].append(baseline.run(Path(__file__), worker, tree))
    print(
        f"\nprescale replayed {args.days:g} days of {args.trace} with refits every "
        f"{predictive.DEFAULT_REFIT_EVERY_S // 3600} h, fresh process per run, "
        f"{args.rounds} round(s) alternating:"
    )
    best = {label: min(runs, key=lambda r: r["wall_s"]) for label, runs in seen.items()}
    for label, row in best.items():
        cpu = min(r["cpu_s"] for r in seen[label])
        print(
            f"  {label:<22} wall {row['wall_s']:6.1f} s (best), cpu {cpu:6.1f} s, "
            f"{row['refits']:.0f} refits, served {row['served_minutes_pct']:.3f} % of minutes, "
            f"{row['gpu_hours']:.1f} GPU-hours; under 20 s: "
            f"{'yes' if row['wall_s'] < 20 else 'NO'}"
        )
    old, new = best[f"baseline {args.baseline_ref}"], best["this checkout"]
    old_cpu = min(r["cpu_s"] for r in seen[f"baseline {args.baseline_ref}"])
    new_cpu = min(r["cpu_s"] for r in seen["this checkout"])
    print(f"  speed-up: wall {old['wall_s'] / new['wall_s']:.1f}x, cpu {old_cpu / new_cpu:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces-dir", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--trace", default="nasa_ksc_http_1995_per_minute.csv.gz")
    parser.add_argument("--days", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--with-refits",
        action="store_true",
        help="also replay prescale with its 6-hourly refits (about 0.5 s per refit)",
    )
    parser.add_argument("--baseline-ref", help="git ref whose library code is the baseline")
    parser.add_argument("--rounds", type=int, default=1, help="baseline comparison rounds")
    parser.add_argument(
        "--refits-only", action="store_true", help="only the replay with refits (with a ref)"
    )
    parser.add_argument("--refits-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refits_worker:
        print(json.dumps(refit_replay(args.traces_dir, args.trace, args.days, args.seed)))
        return
    if args.baseline_ref is not None:
        compare_refits(args)
        if args.refits_only:
            return

    (workload,) = workloads.load(inputs.example_path(inputs.EXAMPLE_WORKLOAD))
    loaded = trace.load(args.traces_dir / args.trace)
    options = lineup.Options(replay_s=round(args.days * 86400), seed=args.seed)
    split = replay.split(loaded, options.replay_s)
    cold = cold_start.ColdStartDistribution.fixed(workload.lead_time_s)
    request = workload.request
    world = lineup.scenario(workload, split, cold, options.seed, request)
    draws = spot.InterruptionDraws.draw(args.seed, world.minutes)
    sizing = lineup.sizing(workload, split, world, options.mix, request)
    print(
        f"trace {args.trace}: replaying {world.minutes} minutes ({world.minutes / 1440:.1f} d), "
        f"warm-up {len(split.warmup.values)} minutes; workload {workload.name}, mix "
        f"{options.mix.value}, cold start {cold.describe()}"
    )

    base = best_of(args.repeat, lambda: baseline_loop(world.minutes))
    print(
        f"baseline  bare loop (1 dataclass + 1 call per minute): {base:.3f} s, "
        f"{1e6 * base / world.minutes:.2f} us/minute"
    )

    t0 = time.perf_counter()
    selection = forecast.select(split.warmup.values)
    print(f"(excluded) prescale model selection on the warm-up: {time.perf_counter() - t0:.1f} s")

    def prescale(refit_every_s: int) -> predictive.Prescale:
        return predictive.Prescale(
            workload,
            split.warmup,
            lead_time_s=sizing.lead_time_s,
            mix=options.mix,
            refit_every_s=refit_every_s,
            selection=selection,
            request=request,
            reserved=sizing.reserved,
        )

    def lineup_policy(name: results.PolicyName) -> engine.Policy:
        only = lineup.Options(
            replay_s=options.replay_s, policies=(name,), mix=options.mix, seed=options.seed
        )
        (policy,) = lineup.policies(workload, split, world, only, request=request)
        return policy

    builders: list[tuple[str, Callable[[], engine.Policy]]] = [
        ("prescale (no refits)", lambda: prescale(10 * options.replay_s)),
        ("reactive", lambda: lineup_policy(results.PolicyName.REACTIVE)),
        ("static", lambda: lineup_policy(results.PolicyName.STATIC)),
        ("cron", lambda: lineup_policy(results.PolicyName.CRON)),
        ("oracle", lambda: lineup_policy(results.PolicyName.ORACLE)),
    ]

    # Rounds interleave the policies (one replay each per round) so that a burst of load from
    # another process on this shared machine spreads over all of them instead of one. Wall
    # time counts the minutes we wait for a core too; CPU time (this process only) does not,
    # so it is the steadier figure on a busy machine.
    wall: dict[str, list[float]] = {label: [] for label, _ in builders}
    cpu: dict[str, list[float]] = {label: [] for label, _ in builders}
    for _ in range(args.repeat):
        for label, build in builders:
            policy = build()  # outside the timing: sizing, and prescale's first forecast
            start, start_cpu = time.perf_counter(), time.process_time()
            engine.run(policy, world, draws)
            wall[label].append(time.perf_counter() - start)
            cpu[label].append(time.process_time() - start_cpu)
    print(
        f"\n{'policy':<22} {'wall best':>9} {'median':>7} {'cpu best':>9} {'us/minute':>10} "
        f"{'x baseline':>10} {'< 1 s':>6}"
    )
    for label, _ in builders:
        best = min(wall[label])
        print(
            f"{label:<22} {best:9.3f} {statistics.median(wall[label]):7.3f} "
            f"{min(cpu[label]):9.3f} {1e6 * best / world.minutes:10.2f} {best / base:10.1f} "
            f"{'yes' if best < TARGET_S else 'NO':>6}"
        )

    step_s = time_plan_step(workload, world.minutes, sizing.lead_time_s, sizing.reserved)
    print(
        f"\nof which planner.step.plan_step alone ({world.minutes} calls with fixed inputs, "
        f"state carried): {step_s:.3f} s, {1e6 * step_s / world.minutes:.2f} us/call"
    )
    if not args.with_refits:
        return
    policy = prescale(predictive.DEFAULT_REFIT_EVERY_S)
    start = time.perf_counter()
    result = engine.run(policy, world, draws)
    total = time.perf_counter() - start
    refits = len(policy.refits) - 1
    print(
        f"\nprescale as replayed (refit every {predictive.DEFAULT_REFIT_EVERY_S // 3600} h): "
        f"{total:.2f} s in all for {refits} refits ({total / max(refits, 1):.2f} s per refit "
        f"incl. its share of the loop); served {result.served_minutes_pct:.2f} % of minutes, "
        f"{result.gpu_hours:.0f} GPU-hours"
    )


def time_plan_step(
    workload: spec.WorkloadSpec, calls: int, lead_time_s: int, reserved: int
) -> float:
    """Seconds for `calls` plan_step calls a minute apart (observed demand just above the
    forecast floor, so the reactive branch and the mix both run)."""
    state = step.PolicyState.initial(spec.ByType(on_demand=2))
    ready = spec.ByType(reserved=reserved, on_demand=2)
    first = datetime(2026, 1, 5, tzinfo=UTC)
    times = [first + timedelta(minutes=i) for i in range(calls)]
    start = time.perf_counter()
    for now in times:
        inputs = step.StepInputs(
            now=now,
            forecast_floor=3,
            reserved=reserved,
            observed_demand=40.0,
            ready=ready,
            lead_time_s=lead_time_s,
        )
        state = step.plan_step(workload, inputs, state).state
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
