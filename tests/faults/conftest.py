"""Fixtures of the fault suite: one real Prometheus with two days of history for every workload
the suite and the short soak use, the session's control plane (tests/kube_fixtures.py), and a
`Rig` per test with fresh proxies, a fresh namespace and a fresh SQLite store."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import fault_rig
import kube_cluster
import kube_proxy
import postgres_server
import prometheus_server
import pytest
import sqlalchemy as sa
import tcp_proxy

from actuator import kube

# Workloads in the session's Prometheus; the single-fault cases use the first, the short soak
# SOAK_WORKLOADS of them.
SESSION_WORKLOADS = 5
SOAK_WORKLOADS = 3


@pytest.fixture(scope="session")
def fault_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prometheus_server.require()
    work = tmp_path_factory.mktemp("fault-prometheus")
    blocks = prometheus_server.backfill(work, fault_rig.history_series(SESSION_WORKLOADS))
    server = prometheus_server.start(work, blocks=blocks)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def warm_db(fault_prometheus: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store after a first tick of the first workload, for each test to copy."""
    path = tmp_path_factory.mktemp("warm-store") / "prescale.db"
    fault_rig.warm_store(fault_prometheus, path, fault_rig.names(1))
    return path


@pytest.fixture
def kube_wire(control_plane: kube_cluster.ControlPlane) -> Iterator[kube_proxy.Proxy]:
    with kube_proxy.running(control_plane.api_url, control_plane.ca_file) as running:
        yield running


@pytest.fixture
def rigs(
    fault_prometheus: str,
    kube_wire: kube_proxy.Proxy,
    control_plane: kube_cluster.ControlPlane,
    admin: kube.Client,
    tmp_path: Path,
) -> Iterator[Callable[..., fault_rig.Rig]]:
    """Makes rigs (a fresh namespace with a Deployment and an HPA per workload, a SQLite store
    copied from `warm_db` or new, or `store_url`) and stops them after the test."""
    made: list[fault_rig.Rig] = []

    def make(
        count: int, warm_db: Path | None = None, store_url: str | None = None
    ) -> fault_rig.Rig:
        namespace = f"f-{uuid.uuid4().hex[:10]}"
        workloads = fault_rig.names(count)
        fault_rig.create_targets(admin, namespace, workloads)
        if warm_db is not None:
            shutil.copy(warm_db, tmp_path / "prescale.db")
        built = fault_rig.Rig.build(
            prometheus_url=fault_prometheus,
            kube_wire=kube_wire,
            admin_token=control_plane.admin_token,
            admin=admin,
            namespace=namespace,
            workloads=workloads,
            work_dir=tmp_path,
            db_path=tmp_path / "prescale.db",
            store_url=store_url,
        )
        made.append(built)
        return built

    yield make
    for built in made:
        built.stop()


@pytest.fixture
def rig(rigs: Callable[..., fault_rig.Rig], warm_db: Path) -> fault_rig.Rig:
    """One workload with an HPA (floor 1), its daemon restarting from the warm store: the plan
    made at NOW is in force, the next refit is due an hour later."""
    return rigs(1, warm_db=warm_db)


@pytest.fixture
def fleet(rigs: Callable[..., fault_rig.Rig]) -> fault_rig.Rig:
    """The short soak's fleet: SOAK_WORKLOADS workloads, each with an HPA, a fresh store."""
    return rigs(SOAK_WORKLOADS)


@pytest.fixture
def pg_line(postgres_url: str) -> Iterator[tuple[tcp_proxy.Proxy, str]]:
    """A fresh database on the session's PostgreSQL, reached through a TCP proxy that can cut
    the line: (the proxy, the store URL through it)."""
    url = sa.engine.make_url(postgres_url)
    name = f"f_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    assert url.host is not None and url.port is not None
    line = tcp_proxy.start((url.host, url.port))
    try:
        yield line, url.set(port=line.port, database=name).render_as_string(hide_password=False)
    finally:
        line.stop()


@pytest.fixture
def pg_rig(
    rigs: Callable[..., fault_rig.Rig], pg_line: tuple[tcp_proxy.Proxy, str]
) -> fault_rig.Rig:
    """One workload with an HPA, its store on PostgreSQL behind `pg_line`."""
    return rigs(1, store_url=pg_line[1])


@pytest.fixture
def own_postgres() -> Iterator[postgres_server.Cluster]:
    """A PostgreSQL cluster of this test's own, so that the test can stop and start it."""
    cluster = postgres_server.create()
    try:
        yield cluster
    finally:
        cluster.remove()
