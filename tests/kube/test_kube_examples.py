"""The documented ScaledObjects (deploy/examples) are valid against our CRD on a real server, and
the CRD rejects what KEDA would reject."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import cluster_objects
import kubernetes
import pytest

from actuator import kube

pytestmark = pytest.mark.usefixtures("scaledobject_crd")
EXAMPLES = cluster_objects.REPO / "deploy" / "examples"


def _in(namespace: str, doc: dict[str, Any]) -> dict[str, Any]:
    moved = copy.deepcopy(doc)
    moved["metadata"]["namespace"] = namespace
    return moved


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("keda-*.yaml")), ids=lambda p: p.stem)
def test_example_scaled_object_is_accepted(
    admin: kube.Client, namespace: str, example: Path
) -> None:
    [doc] = cluster_objects.load_all(example)
    stored = cluster_objects.apply(admin.api, _in(namespace, doc))
    assert stored.spec.minReplicaCount == 1
    triggers = {t["name"]: t["type"] for t in doc["spec"]["triggers"]}
    assert triggers == {"prescale": "metrics-api", "running": "prometheus"}


def test_the_formula_example_composes_floor_and_reactive() -> None:
    [doc] = cluster_objects.load_all(EXAMPLES / "keda-metric-formula.yaml")
    modifiers = doc["spec"]["advanced"]["scalingModifiers"]
    assert modifiers == {
        "formula": "max(prescale * 30, running)",
        "target": "30",
        "metricType": "AverageValue",
    }
    # The per-replica target of the formula is the reactive trigger's threshold.
    assert doc["spec"]["triggers"][1]["metadata"]["threshold"] == modifiers["target"]
    assert doc["spec"]["fallback"]["behavior"] == "currentReplicasIfHigher"


def _broken(change: str) -> dict[str, Any]:
    [doc] = cluster_objects.load_all(EXAMPLES / "keda-metric-formula.yaml")
    spec = doc["spec"]
    if change == "formula-without-target":
        del spec["advanced"]["scalingModifiers"]["target"]
    elif change == "fallback-without-replicas":
        del spec["fallback"]["replicas"]
    elif change == "unknown-fallback-behavior":
        spec["fallback"]["behavior"] = "sometimes"
    elif change == "min-above-max":
        spec["minReplicaCount"] = 30
    elif change == "no-triggers":
        spec["triggers"] = []
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("formula-without-target", "spec.advanced.scalingModifiers.target: Required value"),
        ("fallback-without-replicas", "spec.fallback.replicas: Required value"),
        ("unknown-fallback-behavior", 'spec.fallback.behavior: Unsupported value: "sometimes"'),
        ("min-above-max", "minReplicaCount must not exceed maxReplicaCount"),
        ("no-triggers", "spec.triggers: Invalid value"),
    ],
)
def test_the_crd_rejects_what_keda_rejects(
    admin: kube.Client, namespace: str, change: str, message: str
) -> None:
    with pytest.raises(kubernetes.client.exceptions.ApiException) as rejected:
        cluster_objects.apply(admin.api, _in(namespace, _broken(change)))
    assert rejected.value.status == 422
    assert message in json.loads(rejected.value.body)["message"]
