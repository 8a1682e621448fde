"""Shared fixtures: real servers started on loopback for the adapters' tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import postgres_server
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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a loopback port, as a SQLAlchemy URL."""
    cluster = postgres_server.create()
    try:
        yield cluster.url
    finally:
        cluster.remove()
