"""Test part: the soak: many ticks of accelerated daemon time with faults drawn at random
(seeded) across Prometheus, the API server and the store, counted.

    counts = fault_soak.run(rig, ticks=60, seed=7)

Each tick, before it runs: someone resets a few HPA floors to 1 (so the tick has writes for
API server faults to hit), then with probability `fault_rate` one fault is drawn from `FAULTS`
and injected for that tick only. After each tick the HPAs are read back. Counted:

- ticks, faults injected, faults survived (the tick returned and the fault left no lowered
  floor and no lost decision behind it);
- floors lowered on missing data: a workload held for missing data (`daemon.HOLD_REASONS`)
  whose decided target fell below the last one, or whose HPA floor fell during the tick;
- decisions lost: after a final clean tick, decisions the ledger expects but the store lacks;
- peak RSS of this process (the daemon's; Prometheus and the API server run apart).
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import fault_proxy
import fault_rig
import kube_proxy
import kubernetes

from actuator import daemon

F = fault_proxy.Fault
PROMETHEUS_ANSWERS = (F.STATUS_503, F.HTML_502, F.HTML_200, F.TRUNCATED_JSON, F.NAN_VALUES)


@dataclass(frozen=True)
class SoakCounts:
    ticks: int
    faults_injected: int
    faults_survived: int
    decisions_lost: int
    floors_lowered_on_missing_data: int
    ticks_failed: int  # run_once raised: the daemon would have logged it and ticked again
    peak_rss_mib: float
    wall_s: float
    faults_by_kind: dict[str, int]

    def lines(self) -> list[str]:
        return [
            f"ticks: {self.ticks}",
            f"faults injected: {self.faults_injected}",
            f"faults survived: {self.faults_survived}",
            f"decisions lost: {self.decisions_lost}",
            f"floor lowered on missing data: {self.floors_lowered_on_missing_data}",
            f"ticks that raised: {self.ticks_failed}",
            f"peak RSS: {self.peak_rss_mib:.0f} MiB",
            f"wall time: {self.wall_s:.1f} s",
            "faults by kind: "
            + ", ".join(f"{k}={v}" for k, v in sorted(self.faults_by_kind.items())),
        ]


@dataclass
class _Tick:
    """What one drawn fault does to the rig before the tick and how it is undone after."""

    kind: str
    heal: Callable[[], None] = lambda: None
    locked: bool = False


def _hpa_path(workload: str) -> str:
    return f"/horizontalpodautoscalers/{fault_rig.hpa_name(workload)}"


def _draw(rig: fault_rig.Rig, rng: random.Random) -> _Tick:
    """One fault for this tick, at random."""
    choice = rng.randrange(9)
    some = rng.sample(rig.workloads, k=max(1, len(rig.workloads) // 3))
    if choice == 0:
        rig.prometheus_down()
        return _Tick("prometheus_down", rig.prometheus_up)
    if choice == 1:
        # requests go out one workload after another: a random third gets the fault
        answer = rng.choice(PROMETHEUS_ANSWERS)
        rig.prom.faults = [answer if rng.random() < 0.34 else None for _ in rig.workloads]  # type: ignore[misc]
        return _Tick(f"prometheus_{answer.value}", rig.prom.faults.clear)
    if choice == 2:
        # a hang costs its workload the client's timeout: two per tick at most
        slow = set(rng.sample(range(len(rig.workloads)), k=min(2, len(rig.workloads))))
        rig.prom.faults = [F.HANG if i in slow else None for i in range(len(rig.workloads))]  # type: ignore[misc]
        return _Tick("prometheus_slow", rig.prom.faults.clear)
    if choice == 3:
        for name in some:
            rig.kube.inject(kube_proxy.Fault("PATCH", _hpa_path(name), status=503, times=10))
        return _Tick("kube_503", lambda: _clear_kube(rig))
    if choice == 4:
        for name in some:
            rig.kube.inject(
                kube_proxy.Fault("PATCH", _hpa_path(name), status=429, headers={"Retry-After": "1"})
            )
        return _Tick("kube_429", lambda: _clear_kube(rig))
    if choice == 5:
        name = some[0]
        rig.kube.inject(kube_proxy.Fault("GET", _hpa_path(name), delay_s=0.6, times=10))
        return _Tick("kube_timeout", lambda: _clear_kube(rig))
    if choice == 6:

        def raise_floor(name: str = some[0]) -> None:
            fault_rig.set_floor_as_operator(rig.admin, rig.namespace, name, 2)

        rig.kube.inject(kube_proxy.Fault("PATCH", _hpa_path(some[0]), before=raise_floor))
        return _Tick("kube_409", lambda: _clear_kube(rig))
    if choice == 7:
        name = some[0]
        fault_rig.delete_hpa(rig.admin, rig.namespace, name)
        return _Tick(
            "kube_target_deleted",
            lambda: fault_rig.create_hpa(rig.admin, rig.namespace, name, 1),
        )
    return _Tick("store_locked", locked=True)


def _clear_kube(rig: fault_rig.Rig) -> None:
    with rig.kube.lock:
        rig.kube.faults.clear()


def _floors(rig: fault_rig.Rig) -> dict[str, int]:
    listed = kubernetes.client.AutoscalingV2Api(
        rig.admin.api
    ).list_namespaced_horizontal_pod_autoscaler(rig.namespace)
    by_name = {h.metadata.name: int(h.spec.min_replicas) for h in listed.items}
    return {
        w: by_name[fault_rig.hpa_name(w)] for w in rig.workloads if fault_rig.hpa_name(w) in by_name
    }


def run(
    rig: fault_rig.Rig,
    *,
    ticks: int,
    seed: int,
    fault_rate: float = 0.5,
    start: dt.datetime = fault_rig.NOW,
) -> SoakCounts:
    rng = random.Random(seed)
    began = time.perf_counter()
    injected: Counter[str] = Counter()
    survived = 0
    failed = 0
    lowered = 0
    last_targets: dict[str, int] = {}
    for i in range(ticks):
        now = start + i * fault_rig.MINUTE
        for name in rng.sample(rig.workloads, k=min(2, len(rig.workloads))):
            if name in last_targets:
                fault_rig.set_floor_as_operator(rig.admin, rig.namespace, name, 1)
        drawn = _draw(rig, rng) if i > 0 and rng.random() < fault_rate else None
        if drawn is not None:
            injected[drawn.kind] += 1
        before = _floors(rig)
        lowered_here = 0
        try:
            if drawn is not None and drawn.locked:
                with fault_rig.sqlite_locked(rig.db_path):
                    report = rig.tick(now)
            else:
                report = rig.tick(now)
        except Exception:
            failed += 1
            report = None
        finally:
            if drawn is not None:
                drawn.heal()
        if report is not None:
            after = _floors(rig)
            for w in report.workloads:
                for d in w.decisions:
                    held = d.reason in daemon.HOLD_REASONS
                    previous = last_targets.get(w.workload)
                    if held and previous is not None and d.replicas < previous:
                        lowered_here += 1
                    if held and after.get(w.workload, 0) < before.get(w.workload, 0):
                        lowered_here += 1
                    last_targets[w.workload] = d.replicas
            lowered += lowered_here
            if drawn is not None and lowered_here == 0:
                survived += 1
    # a last clean tick flushes whatever the store could not take
    rig.tick(start + ticks * fault_rig.MINUTE)
    lost = len(rig.ledger.lost(rig.db))
    return SoakCounts(
        ticks=ticks + 1,
        faults_injected=sum(injected.values()),
        faults_survived=survived,
        decisions_lost=lost,
        floors_lowered_on_missing_data=lowered,
        ticks_failed=failed,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        wall_s=time.perf_counter() - began,
        faults_by_kind=dict(injected),
    )
