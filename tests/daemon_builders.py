"""Builders for the daemon's tests: configs through the real loader, the bundled trace."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd

from actuator import config, daemon, store, trace, trace_source
from actuator.commands import inputs

TRACE = inputs.example_path(inputs.EXAMPLE_TRACE)


def spec_data(**overrides: Any) -> dict[str, Any]:
    """The example chat workload, on demand, with 4 concurrent per replica (so the NASA trace's
    day moves it between a few replicas and a dozen) and a 10 min lead time."""
    data: dict[str, Any] = {
        "name": "chat",
        "kind": "llm",
        "unit": "concurrency",
        "gpu": "A100-80GB",
        "capacity_per_replica": 4,
        "target_utilization": 0.8,
        "min_replicas": 1,
        "max_replicas": 64,
        "lead_time": "10m",
        "request": {"prompt_tokens": 500, "completion_tokens": 600, "ttft_s": 0.5, "itl_s": 0.03},
        "capacity_types": ["on_demand"],
        "cooldown": "5m",
    }
    data.update(overrides)
    return data


def config_data(db_path: Path, **overrides: Any) -> dict[str, Any]:
    """A daemon config on the bundled trace with metric targets (nothing to write)."""
    workload = {
        "spec": spec_data(),
        "source": {"trace": str(TRACE)},
        "targets": {"on_demand": {"kind": "metric", "namespace": "chat", "name": "chat-od"}},
    }
    data: dict[str, Any] = {
        "store": f"sqlite:///{db_path}",
        "leader_election": {"enabled": False},
        "http": {"listen": "127.0.0.1", "port": 0},
        # history from the trace's start, as the simulator's warm-up has it
        "schedule": {"refit": "1h", "reselect": "30d", "history": "1y"},
        "workloads": [workload],
    }
    data.update(overrides)
    return data


def actuating_hpa(db_path: Path, namespace: str, name: str = "llama-od") -> dict[str, Any]:
    """`config_data` in actuate mode, its on-demand target HPA `name` in `namespace`."""
    data = config_data(db_path)
    data["mode"] = "actuate"
    data["workloads"][0]["targets"]["on_demand"] = {
        "kind": "hpa",
        "namespace": namespace,
        "name": name,
    }
    return data


def build(data: dict[str, Any], **kwargs: Any) -> tuple[daemon.Daemon, store.Store]:
    settings = config.validate(data)
    db = store.Store.connect(settings.store_url)
    sources: dict[str, daemon.DemandSource] = {}
    for w in settings.workloads:
        if not isinstance(w.source, config.TraceSource):
            raise TypeError("these builders drive trace sources only")
        sources[w.name] = trace_source.TraceSource.from_file(w.source.path, w.source.column)
    return daemon.Daemon(settings, db, sources, **kwargs), db


def excerpt(path: Path, start: pd.Timestamp, until: pd.Timestamp) -> Path:
    """The bundled trace in [start, until), written as a CSV trace file at `path` (a short
    history, so the operating point's chooser has one validation window and runs in seconds)."""
    values = trace.load(TRACE).values
    part = values[(values.index >= start) & (values.index < until)]
    frame = pd.DataFrame(
        {"timestamp": part.index.strftime("%Y-%m-%dT%H:%M:%SZ"), "requests": part.to_numpy()}
    )
    frame.to_csv(path, index=False)
    return path


def http_get(port: int, path: str) -> str:
    """The body of a GET on the daemon's loopback server (an open endpoint)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        body: bytes = response.read()
    return body.decode()
