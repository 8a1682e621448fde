"""The documented ScaledObjects (deploy/examples/keda-*.yaml) read a value the daemon serves:
their metrics-api trigger's URL and valueLocation, asked of the real HTTP server with the token
their TriggerAuthentication sends, give the target the daemon decided (tests/kube checks the
same files against the ScaledObject CRD)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from pathlib import Path
from typing import Any

import daemon_builders as b
import pytest
import yaml
from test_http import TOKEN, get

from actuator import clock, service

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
NOON = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)


def _prescale_trigger(example: Path) -> dict[str, Any]:
    [doc] = list(yaml.safe_load_all(example.read_text(encoding="utf-8")))
    [trigger] = [t for t in doc["spec"]["triggers"] if t["name"] == "prescale"]
    assert isinstance(trigger, dict)
    return trigger


def _at(document: Any, location: str) -> Any:
    """A plain dotted GJSON path (what the examples use) resolved in `document`."""
    for key in location.split("."):
        document = document[key]
    return document


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("keda-*.yaml")), ids=lambda p: p.stem)
def test_the_example_reads_the_daemons_target(example: Path, tmp_path: Path) -> None:
    trigger = _prescale_trigger(example)
    metadata = trigger["metadata"]
    # the token is the daemon's API token: without it /api/v1/* answers 401
    assert metadata["authMode"] == "bearer"
    auth = yaml.safe_load((EXAMPLES / "prescale-api-auth.yaml").read_text(encoding="utf-8"))
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    assert [r["parameter"] for r in auth["spec"]["secretTargetRef"]] == ["token"]

    url = urllib.parse.urlsplit(metadata["url"])
    workload = url.path.rsplit("/", 1)[-1]
    token_file = tmp_path / "api-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    targets = {
        t: {"kind": "metric", "namespace": "inference", "name": f"llama-{t}"}
        for t in ("on_demand", "spot")
    }
    data = b.config_data(tmp_path / "prescale.db")
    data["http"] = {"listen": "127.0.0.1", "port": 0, "api_token_file": str(token_file)}
    data["workloads"][0]["spec"] = b.spec_data(name=workload, capacity_types=["on_demand", "spot"])
    data["workloads"][0]["targets"] = targets
    core, db = b.build(data)
    now = clock.ManualClock(NOON)
    served = service.Service.of(core.settings, core, db, now)
    served.server.start()
    try:
        served.tick(now.now())
        path = url.path + (f"?{url.query}" if url.query else "")
        assert get(served.server.port, path)[0] == 401
        status, _, body = get(served.server.port, path, token=TOKEN)
        assert status == 200, body
        value = _at(json.loads(body), metadata["valueLocation"])
        report = served.core.last_report
        assert report is not None
        decided = {d.target.capacity_type.value: d.replicas for d in report.workloads[0].decisions}
        capacity_type = metadata["valueLocation"].rsplit(".", 1)[-1]
        assert isinstance(value, int) and value == decided[capacity_type]
    finally:
        served.server.close()
