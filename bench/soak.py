"""Bench: the soak: accelerated daemon time for a fleet, with faults at random (seeded) across
Prometheus, the API server and the store, ending with the counts.

Real parts, as in the fault suite (tests/faults): a real Prometheus (Debian's package) with two
days of backfilled history per workload, a real kube-apiserver (../shared/kube) with a
Deployment and an HPA per workload, a fault-injecting proxy in front of each, a SQLite store.
The daemon ticks once a minute of injected time (75 ticks: an hour and a quarter, so the hourly
refit also runs under faults); before each tick someone resets a few floors to 1 (so writes
happen) and, with probability --fault-rate, one fault is drawn (see tests/faults/fault_soak.py).

    python bench/soak.py [--workloads 50] [--ticks 75] [--seed 7] [--fault-rate 0.5]

Prints: ticks, faults injected, faults survived, decisions lost, floor lowered on missing data,
peak RSS (this process: the daemon), wall time, and the faults by kind.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

# The rig and the servers' helpers live with the tests, which start the same parts.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "faults"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "kube"))
import fault_rig
import fault_soak
import kube_cluster
import kube_proxy
import prometheus_server

from actuator import kube


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=75)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.5)
    args = parser.parse_args()
    if not prometheus_server.available():
        print("soak: Debian's prometheus package is not installed", file=sys.stderr)
        return 1
    workloads = fault_rig.names(args.workloads)
    with tempfile.TemporaryDirectory(prefix="prescale-soak-") as work:
        root = Path(work)
        blocks = prometheus_server.backfill(root / "prom", fault_rig.history_series(args.workloads))
        server = prometheus_server.start(root / "prom", blocks=blocks)
        try:
            with (
                kube_cluster.running(controllers=False) as plane,
                kube_proxy.running(plane.api_url, plane.ca_file) as wire,
            ):
                admin = kube.connect(plane.kubeconfig)
                namespace = f"soak-{uuid.uuid4().hex[:8]}"
                fault_rig.create_targets(admin, namespace, workloads)
                rig = fault_rig.Rig.build(
                    prometheus_url=server.url,
                    kube_wire=wire,
                    admin_token=plane.admin_token,
                    admin=admin,
                    namespace=namespace,
                    workloads=workloads,
                    work_dir=root,
                )
                try:
                    counts = fault_soak.run(
                        rig, ticks=args.ticks, seed=args.seed, fault_rate=args.fault_rate
                    )
                finally:
                    rig.stop()
        finally:
            server.stop()
    print(f"soak: {args.workloads} workloads, seed {args.seed}, fault rate {args.fault_rate}")
    print("\n".join(counts.lines()))
    return 0 if counts.decisions_lost == 0 and counts.floors_lowered_on_missing_data == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
