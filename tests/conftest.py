"""Shared fixtures: real servers started on loopback for the adapters' tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Session fixtures of real servers that live in their own modules (started only when used).
pytest_plugins = ("prometheus_history", "kube_fixtures")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (never 9090, the Prometheus default other tools expect)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def missing_part(what: str, how: str) -> None:
    """Stop a test that needs a real part (a server, a browser) this machine does not have.

    Under CI (`CI` set) that fails the run: a real part that silently skipped would let CI pass
    without testing it. On a user's machine the test skips and says how to get the part.
    """
    message = f"{what} is not available: {how}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _postgres_bin() -> Path | None:
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").exists():
            return root
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a loopback port, as a SQLAlchemy URL.

    PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
    `postgres` system user that Debian's package creates.
    """
    bin_dir = _postgres_bin()
    if bin_dir is None:
        missing_part("PostgreSQL", ".ci/run installs Debian's postgresql package")
    data_root = Path(tempfile.mkdtemp(prefix="prescale-pg-"))
    data_dir = data_root / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data_root, "postgres", "postgres")
        data_root.chmod(0o700)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", "prescale"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {data_root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run_as,
            *(str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", options),
            *("-l", str(data_root / "server.log"), "-w", "start"),
        ],
        check=True,
        # The server inherits these: a pipe would never reach EOF while it runs.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql+psycopg2://prescale@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(data_root, ignore_errors=True)
