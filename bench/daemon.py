"""Bench: one daemon tick without a refit, for 100 and 1,000 workloads (goal at 1,000: under
2 s and 1 GB peak RSS).

Each size runs in its own process so its peak RSS is its own. Setup: one real refit of the
bundled NASA trace (the forecast and plan every workload then steps on), its plan and a policy
state saved for every workload in a fresh SQLite store, then a new `Daemon` restores them, as
after a restart: the measured tick reads each workload's last minute from a trace source (one
shared, in memory), steps the planner and stores every decision (the first tick after a
restart stores all of them: the worst case) and every state. A second tick a minute later is
the steady case.

Baselines, measured in the same process: the planner's part alone (`tick.step_on_floors` for
every workload, no I/O), and the store's part alone (the same batch of decisions and states
written once more).

    python bench/daemon.py [--sizes 100,1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from actuator import config, daemon, store, trace_source
from actuator.commands import inputs
from planner import spec, tick

NOW = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)
SPEC: dict[str, Any] = {
    "kind": "llm",
    "unit": "concurrency",
    "gpu": "A100-80GB",
    "capacity_per_replica": 4,
    "max_replicas": 64,
    "lead_time": "10m",
    "request": {"prompt_tokens": 500, "completion_tokens": 600, "ttft_s": 0.5, "itl_s": 0.03},
    "capacity_types": ["spot", "on_demand"],
}


def settings(count: int, db_path: Path) -> config.Config:
    trace = str(inputs.example_path(inputs.EXAMPLE_TRACE))
    return config.validate(
        {
            "store": f"sqlite:///{db_path}",
            "leader_election": {"enabled": False},
            "schedule": {"history": "1y"},
            "workloads": [
                {
                    "spec": {**SPEC, "name": f"w{i:04d}"},
                    "source": {"trace": trace},
                    "targets": {
                        "spot": {"kind": "metric", "namespace": "bench", "name": f"w{i}-spot"},
                        "on_demand": {"kind": "metric", "namespace": "bench", "name": f"w{i}"},
                    },
                }
                for i in range(count)
            ],
        }
    )


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def child(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        full = settings(count, db_path)
        db = store.Store.connect(full.store_url)
        source = trace_source.TraceSource.from_file(
            inputs.example_path(inputs.EXAMPLE_TRACE), "requests"
        )
        sources: dict[str, daemon.DemandSource] = {w.name: source for w in full.workloads}
        # one real refit and tick of the first workload, copied to every other one
        first_only = config.Config(**{**full.__dict__, "workloads": full.workloads[:1]})
        seed = daemon.Daemon(first_only, db, sources)
        seed.run_once(NOW - dt.timedelta(minutes=1))
        planned = db.latest_plan(full.workloads[0].name)
        state_text = db.load_policy_state(full.workloads[0].name)
        if planned is None or state_text is None:
            raise SystemExit("the seed refit stored no plan or state")
        for w in full.workloads[1:]:
            db.save_plan(store.PlanRecord(**{**planned.__dict__, "workload": w.name}))
        db.save_policy_states({w.name: state_text for w in full.workloads[1:]}, NOW)
        rss_setup = rss_mib()

        restarted = daemon.Daemon(full, db, sources)
        started = time.perf_counter()
        report = restarted.tick(NOW)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        restarted.tick(NOW + dt.timedelta(minutes=1))
        steady_s = time.perf_counter() - started
        rss_tick = rss_mib()
        if len(report.workloads) != count:
            raise SystemExit("the tick skipped workloads")

        # baseline 1: the planner's steps alone
        floors = tick.Floors(planned.start_at.timestamp(), planned.floors)
        state = store.decode_state(state_text)
        ready = spec.ByType()
        started = time.perf_counter()
        for w in full.workloads:
            tick.step_on_floors(
                w.spec, floors, NOW, 10.0, ready, state, 0, 600, planned.capacity_per_replica
            )
        planner_s = time.perf_counter() - started
        # baseline 2: the store's batch write alone
        records = [
            store.DecisionRecord(w.name, t, 3, "forecast_floor", "{}", NOW, "advised")
            for w in full.workloads
            for t in ("spot", "on_demand")
        ]
        started = time.perf_counter()
        db.record_decisions(records)
        db.save_policy_states({w.name: state_text for w in full.workloads}, NOW)
        store_s = time.perf_counter() - started
    return {
        "workloads": count,
        "first_tick_s": first_s,
        "steady_tick_s": steady_s,
        "planner_only_s": planner_s,
        "store_write_only_s": store_s,
        "rss_after_setup_mib": rss_setup,
        "peak_rss_mib": rss_tick,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return
    print(
        f"{'workloads':>9} {'1st tick s':>10} {'steady s':>9} {'planner s':>9} "
        f"{'store s':>8} {'RSS setup':>10} {'peak RSS':>9}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['workloads']:>9} {r['first_tick_s']:>10.3f} {r['steady_tick_s']:>9.3f} "
            f"{r['planner_only_s']:>9.3f} {r['store_write_only_s']:>8.3f} "
            f"{r['rss_after_setup_mib']:>7.0f} MiB {r['peak_rss_mib']:>5.0f} MiB"
        )


if __name__ == "__main__":
    main()
