"""Test part: a throwaway PostgreSQL cluster of Debian's package on a loopback port, which a test
can stop and start again (the store's server going away and coming back, for real).

    cluster = postgres_server.create()         # initdb, then started
    cluster.url                              # a SQLAlchemy URL to its `postgres` database
    cluster.stop(); cluster.start()          # pg_ctl: connections refused, then answered again
    cluster.remove()

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
`postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import conftest
import parts
import sqlalchemy as sa


def require() -> Path:
    """The directory of PostgreSQL's binaries (`parts.missing_part` when there are none)."""
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists():
            return root
    parts.missing_part("PostgreSQL", ".ci/run installs Debian's postgresql package")
    raise AssertionError("unreachable: missing_part fails or skips")


@dataclass(frozen=True)
class Cluster:
    bin_dir: Path
    root: Path
    port: int
    run_as: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://prescale@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), *args],
            check=check,
            # the server inherits these: a pipe would never reach EOF while it runs
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        """A clean, fast shutdown: open sessions are ended, new connections refused."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def add_password_role(self, role: str, password: str) -> str:
        """A login role with `password` and a database of its own; from here on every TCP
        client but the superuser must give its password (scram-sha-256). Returns its URL."""
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(
                sa.text(f"CREATE ROLE {role} LOGIN PASSWORD :password"), {"password": password}
            )
            conn.execute(sa.text(f"CREATE DATABASE {role} OWNER {role}"))
        engine.dispose()
        (self.root / "data" / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all prescale 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n",
            encoding="utf-8",
        )
        self._pg_ctl("reload")
        url = sa.engine.URL.create(
            "postgresql+psycopg2", role, password, "127.0.0.1", self.port, role
        )
        return url.render_as_string(hide_password=False)

    def remove(self) -> None:
        self._pg_ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def create() -> Cluster:
    """A new cluster in a new directory of /tmp (which the server's user must reach: pytest's
    own temporary directories are private to root) on a free loopback port, started."""
    binaries = require()
    root = Path(tempfile.mkdtemp(prefix="prescale-pg-"))
    run_as: tuple[str, ...] = ()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        run_as = ("runuser", "-u", "postgres", "--")
    subprocess.run(
        [
            *run_as,
            str(binaries / "initdb"),
            "-D",
            str(root / "data"),
            "-A",
            "trust",
            "-U",
            "prescale",
        ],
        check=True,
        capture_output=True,
    )
    cluster = Cluster(binaries, root, conftest.free_port(), run_as)
    cluster.start()
    return cluster
