"""Shared fixtures: real servers started on loopback for the adapters' tests."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a loopback port, as a SQLAlchemy URL."""
    cluster = postgres_server.create()
    try:
        yield cluster.url
    finally:
        cluster.remove()
