"""Bench: what the operating-point chooser (simulator/operating_point.choose) costs per trace,
against a git ref's code in the same run, and whether it chooses the same.

Each trace is set up as bench/corpus.py sets up its replay (the history capped at
--history-weeks weeks before the last week, the generic on-demand spec sized for 15 replicas at
the replayed week's peak, a 10-min cold start) and `choose` is timed on the warm-up, in a fresh
process per trace and tree, alternating the baseline ref's code and this checkout's. Printed per
trace: seconds on each, the ratio, and whether the chosen point and every replayed point's
served % and GPU-hours are the same. `example` among the traces is the chooser of
`prescale simulate --seed 1` on the bundled example (its trace, workload and inputs as the
command builds them). With --rounds N each tree runs N times per trace, alternately, and the
best is printed.

    python bench/operating_point.py --baseline-ref main [--only example nasa_... ...]
                                    [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import baseline
import corpus

from actuator import trace as trace_io
from actuator import workloads
from actuator.commands import inputs as inputs_
from forecaster import forecast
from simulator import cold_start, lineup, operating_point, results

EXAMPLE = "example"  # the bundled example, as `prescale simulate --seed 1` chooses on it
DEFAULT_TRACES = (
    EXAMPLE,
    "nasa_ksc_http_1995_per_minute.csv.gz",
    "servegen_m_mid_10min.csv.gz",
    "corpus/nab_twitter_aapl_5min.csv.gz",
    "corpus/web_madrid_2018_hourly.csv.gz",
)


def choose_once(path: Path, history_weeks: float) -> dict[str, Any]:
    """Seconds for one `choose` on the trace's warm-up, and what it chose and saw."""
    inputs = example_inputs() if path.name == EXAMPLE else trace_inputs(path, history_weeks)
    started, cpu = time.perf_counter(), time.process_time()
    choice = operating_point.choose(inputs)
    return {
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "point": choice.point.describe(),
        "frontier": [
            [f.point.describe(), list(f.served_pct), f.gpu_hours] for f in choice.frontier
        ],
    }


def example_inputs() -> operating_point.Inputs:
    """What `prescale simulate --seed 1` gives the chooser on the bundled example."""
    (workload,) = workloads.load(inputs_.example_path(inputs_.EXAMPLE_WORKLOAD))
    loaded = trace_io.load(inputs_.example_path(inputs_.EXAMPLE_TRACE))
    options = lineup.Options(seed=1)
    split = lineup.warmup_and_replay(loaded, options)
    cold = cold_start.ColdStartDistribution.fixed(workload.lead_time_s)
    return lineup.operating_point_inputs(
        workload,
        split.warmup,
        lead_time_s=lineup.planning_lead_time_s(cold),
        mix_mode=options.mix,
        refit_every_s=options.refit_every_s,
        resolution_s=lineup.forecast_resolution_s(loaded),
        seed=options.seed,
    )


def trace_inputs(path: Path, history_weeks: float) -> operating_point.Inputs:
    """A shared trace set up as bench/corpus.py sets up its replay."""
    loaded = corpus._cap_history(trace_io.load(path), history_weeks)
    if loaded is None:
        raise SystemExit(f"{path.name}: less than {corpus.MIN_WEEKS} weeks of trace")
    resolution_s = forecast.DEFAULT_RESOLUTION_S if loaded.interval_s < 300 else loaded.interval_s
    options = lineup.Options(
        replay_s=corpus.WEEK_S,
        cold_start=cold_start.ColdStartDistribution.fixed(corpus.COLD_START_S),
        mix=results.MixMode.ON_DEMAND,
    )
    split = lineup.warmup_and_replay(loaded, options)
    peak = float(split.replayed.values.max())
    workload = corpus.generic_workload(path.name.split(".")[0], peak)
    return operating_point.Inputs(
        workload,
        split.warmup,
        corpus.COLD_START_S,
        options.mix,
        options.refit_every_s,
        resolution_s,
        workload.request,
        reserved=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--traces-dir", type=Path, default=corpus.REPO.parent / "shared" / "traces")
    parser.add_argument("--baseline-ref", default="main")
    parser.add_argument("--history-weeks", type=float, default=8.0)
    parser.add_argument("--only", nargs="*", help=f"trace files under --traces-dir, or {EXAMPLE}")
    parser.add_argument("--rounds", type=int, default=1, help="runs per tree and trace")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(choose_once(args.worker, args.history_weeks)))
        return
    names = args.only or list(DEFAULT_TRACES)
    ratios = []
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"baseline": baseline.tree(args.baseline_ref, Path(scratch)), "new": corpus.REPO}
        print(f"operating-point chooser, baseline {args.baseline_ref} vs this checkout:")
        print(f"  {'trace':<42}{'baseline s':>11}{'new s':>8}{'ratio':>7}  same choice, frontier")
        for name in names:
            path = Path(EXAMPLE) if name == EXAMPLE else args.traces_dir / name
            worker = ["--worker", str(path), "--history-weeks", str(args.history_weeks)]
            seen: dict[str, list[dict[str, Any]]] = {label: [] for label in trees}
            for _ in range(args.rounds):
                for label, tree in trees.items():
                    seen[label].append(baseline.run(Path(__file__), worker, tree))
            old, new = (min(seen[label], key=lambda r: r["wall_s"]) for label in trees)
            ratios.append(old["wall_s"] / new["wall_s"])
            print(
                f"  {Path(name).name.removesuffix('.csv.gz'):<42}{old['wall_s']:>11.1f}"
                f"{new['wall_s']:>8.1f}{ratios[-1]:>6.1f}x  {old['point'] == new['point']}, "
                f"{old['frontier'] == new['frontier']}  (cpu {old['cpu_s']:.1f} -> "
                f"{new['cpu_s']:.1f} s; chose {new['point']})"
            )
    print(f"  median speed-up {statistics.median(ratios):.1f}x over {len(ratios)} traces")


if __name__ == "__main__":
    main()
