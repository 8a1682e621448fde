"""Test part: the fault suite's rig: the daemon on a real Prometheus and a real API server, each
behind a fault-injecting proxy, with a real SQLite store and time given by the test.

    history = fault_rig.history_series(count)            # backfilled once per session
    rig = fault_rig.Rig.build(...)                       # one namespace, one HPA per workload
    report = rig.tick(fault_rig.NOW)                     # run_once as of that minute
    rig.prom.faults = [...]; rig.kube.inject(...)        # faults at the wire
    rig.ledger.lost(rig.db)                              # decisions the store should hold, but not

The daemon is `actuator.daemon.Daemon` with the real adapters behind its protocols
(`prometheus_source.PrometheusSource`, `cluster.Targets`); only the config's placeholder trace
source is unused (the config loader wants a source; the rig passes the Prometheus ones).
The `Ledger` recomputes from the tick reports which decisions had to be stored (the first of
each target and every change) so that a lost one shows up whatever the daemon believes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cluster_objects
import daemon_builders
import fault_proxy
import kube_proxy
import kubernetes
import numpy as np
import prometheus_server
import yaml

from actuator import (
    clock,
    cluster,
    config,
    daemon,
    kube,
    kubeapi,
    prometheus_source,
    source,
    store,
)
from actuator.commands import inputs

METRIC = "prescale_fault_requests_total"
# Two days of history at one minute: a refit reads the last day (schedule history 1d).
START = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # a Monday
HISTORY_DAYS = 2
DAY_MIN = 1440
# Tuesday 09:00: the morning rise, a day of history behind it.
NOW = START + dt.timedelta(days=1, hours=9)
MINUTE = dt.timedelta(minutes=1)
# Clients give up fast, so a hang costs a second, not the 30 s default.
PROM_TIMEOUT = "1s"
KUBE_RETRY = kubeapi.RetryPolicy(attempts=3, backoff_s=0.5, request_timeout_s=0.5)
PLACEHOLDER_TRACE = inputs.example_path(inputs.EXAMPLE_TRACE)
# A locked SQLite costs the tick this long per write (the daemon's default is 5 s).
STORE_BUSY_TIMEOUT_S = 0.5


def names(count: int) -> tuple[str, ...]:
    return tuple(f"w{i:02d}" for i in range(count))


def requests_per_minute(index: int, minutes: int) -> np.ndarray:
    """A daily wave, low at midnight and high at noon; workloads differ in size (3 to 11
    replicas at the peak with the spec below)."""
    t = np.arange(minutes)
    base = 30.0 + 10.0 * (index % 5)
    return np.round(base * (1.0 + 0.6 * np.sin(2 * math.pi * (t / DAY_MIN - 0.25))))


def history_series(count: int) -> list[prometheus_server.Series]:
    minutes = HISTORY_DAYS * DAY_MIN
    return [
        prometheus_server.Series(
            name=METRIC,
            labels={"workload": name},
            start_s=int(START.timestamp()),
            step_s=60,
            values=np.concatenate([[0.0], np.cumsum(requests_per_minute(i, minutes))]).tolist(),
            kind="counter",
        )
        for i, name in enumerate(names(count))
    ]


def source_of(url: str, name: str) -> source.SourceSpec:
    return source.parse(
        {
            "url": url,
            "query": f'sum(rate({METRIC}{{workload="{name}"}}[2m]))',
            "unit": "requests_per_s",
            "step": "1m",
            "timeout": PROM_TIMEOUT,
            "retries": 0,
        }
    )


def hpa_name(workload: str) -> str:
    return f"{workload}-od"


def config_data(db_path: Path, namespace: str, workloads: Sequence[str]) -> dict[str, Any]:
    return {
        "store": f"sqlite:///{db_path}",
        "mode": "actuate",
        "leader_election": {"enabled": False},
        "http": {"listen": "127.0.0.1", "port": 0},
        "schedule": {"refit": "1h", "reselect": "30d", "history": "1d"},
        "workloads": [
            {
                "spec": daemon_builders.spec_data(name=name),
                "source": {"trace": str(PLACEHOLDER_TRACE)},
                "targets": {
                    "on_demand": {"kind": "hpa", "namespace": namespace, "name": hpa_name(name)}
                },
            }
            for name in workloads
        ],
    }


def process_config(rig: Rig, work: Path, token: str, port: int = 0) -> Path:
    """The rig's config as a file for a real `prescale` process: the same store, Prometheus
    (through the rig's proxy) and API server (through the kube proxy, with `token`)."""
    data: dict[str, Any] = config_data(rig.db_path, rig.namespace, rig.workloads)
    data["store"] = rig.settings.store_url
    data["http"]["port"] = port
    data["prometheus"] = {"url": rig.prom.url}
    data["kubernetes"] = {"kubeconfig": str(rig.kube.kubeconfig(work / "kube.yaml", token))}
    data["log_format"] = "json"
    for workload in data["workloads"]:
        name = workload["spec"]["name"]
        workload["source"] = {
            "query": f'sum(rate({METRIC}{{workload="{name}"}}[2m]))',
            "unit": "requests_per_s",
            "step": "1m",
            "retries": 0,
        }
    path = work / "prescale.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def warm_store(prometheus_url: str, db_path: Path, workloads: Sequence[str]) -> None:
    """A store as a daemon leaves it after its first tick at NOW (a refit: a plan, a forecast,
    a policy state; decisions advised, nothing written), copied by each test so that its
    daemon restarts from it instead of refitting."""
    settings = config.validate(config_data(db_path, "warm-up", workloads))
    db = store.Store.connect(settings.store_url)
    sources: dict[str, daemon.DemandSource] = {
        name: prometheus_source.PrometheusSource(source_of(prometheus_url, name))
        for name in workloads
    }
    daemon.Daemon(settings, db, sources).run_once(NOW)
    # fold the write-ahead log into the file, so one copied file holds everything
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextlib.contextmanager
def sqlite_locked(db_path: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock (a backup tool, a stuck migration) inside."""
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def create_targets(admin: kube.Client, namespace: str, workloads: Sequence[str]) -> None:
    cluster_objects.apply(
        admin.api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    )
    for name in workloads:
        cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, name))
        create_hpa(admin, namespace, name, 1)


def create_hpa(admin: kube.Client, namespace: str, workload: str, floor: int) -> None:
    """The HPA as its owner (GitOps) declares it, with `floor` as minReplicas."""
    cluster_objects.apply(
        admin.api, cluster_objects.hpa(namespace, hpa_name(workload), workload, floor, 64)
    )


def set_floor_as_operator(admin: kube.Client, namespace: str, workload: str, floor: int) -> None:
    """Someone else (an operator's kubectl) sets the floor: the next tick must write it back."""
    kubernetes.client.AutoscalingV2Api(admin.api).patch_namespaced_horizontal_pod_autoscaler(
        hpa_name(workload), namespace, {"spec": {"minReplicas": floor}}
    )


def hpa_floor(admin: kube.Client, namespace: str, workload: str) -> int | None:
    try:
        hpa = kubernetes.client.AutoscalingV2Api(
            admin.api
        ).read_namespaced_horizontal_pod_autoscaler(hpa_name(workload), namespace)
    except kubernetes.client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return int(hpa.spec.min_replicas)


def delete_targets(admin: kube.Client, namespace: str) -> None:
    """The namespace and what the rig made in it, so the HPA controller of the shared control
    plane has no leftovers to sync for the tests that come after."""
    autoscaling = kubernetes.client.AutoscalingV2Api(admin.api)
    autoscaling.delete_collection_namespaced_horizontal_pod_autoscaler(namespace)
    kubernetes.client.AppsV1Api(admin.api).delete_collection_namespaced_deployment(namespace)
    kubernetes.client.CoreV1Api(admin.api).delete_namespace(namespace)


def delete_hpa(admin: kube.Client, namespace: str, workload: str) -> None:
    kubernetes.client.AutoscalingV2Api(admin.api).delete_namespaced_horizontal_pod_autoscaler(
        hpa_name(workload), namespace
    )


@dataclass
class Ledger:
    """The decisions the store must hold, from the tick reports alone (the daemon's rule: the
    first decision of each target, then each change of replicas, reason or outcome)."""

    last: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    expected: list[tuple[str, str, int, str, str, dt.datetime]] = field(default_factory=list)

    @classmethod
    def from_store(cls, db: store.Store, workloads: Sequence[str]) -> Ledger:
        """Starting from what is stored, as a restarted daemon does (a first decision equal to
        the last stored one adds nothing)."""
        ledger = cls()
        for workload in workloads:
            for r in reversed(db.latest_decisions(100, workload)):
                ledger.last[(workload, r.capacity_type)] = (
                    r.target_replicas,
                    r.reason,
                    r.outcome,
                )
        return ledger

    def add(self, report: daemon.TickReport) -> None:
        for w in report.workloads:
            for d in w.decisions:
                key = (w.workload, d.target.capacity_type.value)
                value = (d.replicas, d.reason, d.outcome.value)
                if self.last.get(key) != value:
                    self.last[key] = value
                    self.expected.append((*key, *value, report.at))

    def lost(self, db: store.Store) -> list[tuple[str, str, int, str, str, dt.datetime]]:
        stored = set()
        for workload in {e[0] for e in self.expected}:
            for r in db.decisions(workload, START):
                stored.add(
                    (
                        r.workload,
                        r.capacity_type,
                        r.target_replicas,
                        r.reason,
                        r.outcome,
                        r.decided_at,
                    )
                )
        return [e for e in self.expected if e not in stored]


@dataclass
class Rig:
    """A daemon wired to the session's Prometheus and API server through fresh proxies."""

    core: daemon.Daemon
    db: store.Store
    db_path: Path
    settings: config.Config
    prom: fault_proxy.Proxy
    prometheus_url: str
    kube: kube_proxy.Proxy
    kube_client: kube.Client
    admin: kube.Client
    namespace: str
    workloads: tuple[str, ...]
    waits: list[float]
    ledger: Ledger = field(default_factory=Ledger)
    # The targets' wall clock follows the ticks' minutes, as it does in a running daemon (its
    # pause after a failed call then ends by the next tick, `cluster.UNREACHABLE_PAUSE_S`).
    wall: clock.ManualClock = field(default_factory=lambda: clock.ManualClock(NOW))

    @classmethod
    def build(
        cls,
        *,
        prometheus_url: str,
        kube_wire: kube_proxy.Proxy,
        admin_token: str,
        admin: kube.Client,
        namespace: str,
        workloads: Sequence[str],
        work_dir: Path,
        leadership: daemon.Leadership | None = None,
        db_path: Path | None = None,
        store_url: str | None = None,
    ) -> Rig:
        prom = fault_proxy.start(prometheus_url)
        waits: list[float] = []
        client = kube.connect(
            kube_wire.kubeconfig(work_dir / "kubeconfig", admin_token),
            retry=KUBE_RETRY,
            sleep=waits.append,
        )
        db_path = db_path or work_dir / "prescale.db"
        data = config_data(db_path, namespace, workloads)
        if store_url is not None:
            data["store"] = store_url
        settings = config.validate(data)
        db = store.Store.connect(settings.store_url, busy_timeout_s=STORE_BUSY_TIMEOUT_S)
        rig = cls(
            core=daemon.Daemon(settings, db, {}),  # replaced below, once the proxy is known
            db=db,
            db_path=db_path,
            settings=settings,
            prom=prom,
            prometheus_url=prometheus_url,
            kube=kube_wire,
            kube_client=client,
            admin=admin,
            namespace=namespace,
            workloads=tuple(workloads),
            waits=waits,
            ledger=Ledger.from_store(db, workloads),
        )
        rig.core = rig.new_daemon(leadership)
        return rig

    def new_daemon(
        self, leadership: daemon.Leadership | None = None, db: store.Store | None = None
    ) -> daemon.Daemon:
        """A daemon as after a restart: state from the store (`db`, else the rig's), the same
        parts."""
        targets = cluster.Targets(self.kube_client, clock=self.wall.now)
        sources: dict[str, daemon.DemandSource] = {
            name: prometheus_source.PrometheusSource(source_of(self.prom.url, name))
            for name in self.workloads
        }
        return daemon.Daemon(
            self.settings,
            db or self.db,
            sources,
            writer=targets,
            cold_start_reader=targets,
            leadership=leadership,
        )

    def tick(self, now: dt.datetime) -> daemon.TickReport:
        self.wall.set(now)
        report = self.core.run_once(now)
        self.ledger.add(report)
        return report

    def floor(self, workload: str | None = None) -> int | None:
        return hpa_floor(self.admin, self.namespace, workload or self.workloads[0])

    def prometheus_down(self) -> None:
        """Nothing listens where Prometheus was: connections are refused."""
        self.prom.stop()

    def prometheus_up(self) -> None:
        port = int(self.prom.url.rsplit(":", 1)[1])
        self.prom = fault_proxy.start(self.prometheus_url, port=port)

    def stop(self) -> None:
        self.prom.stop()
        delete_targets(self.admin, self.namespace)


def targets(report: daemon.TickReport) -> dict[str, int]:
    return {w.workload: w.decisions[0].replicas for w in report.workloads if w.decisions}


def first(report: daemon.TickReport) -> daemon.TargetDecision:
    return report.workloads[0].decisions[0]
