"""report.json: versioned, strict JSON (no NaN), readable timestamps, dotted-path lookup."""

from __future__ import annotations

import json
import math

import report_builders as build

from report import jsondoc, model


def test_document_is_versioned_strict_json() -> None:
    text = jsondoc.dumps(build.report(build.workload(simulation=build.simulation())))
    document = json.loads(text)
    assert document["schema_version"] == model.SCHEMA_VERSION
    assert document["horizon_start"] == "2024-01-15T00:00:00Z"
    assert "NaN" not in text and "Infinity" not in text


def test_nan_becomes_null_and_enums_their_value() -> None:
    w = build.workload(accuracy=build.accuracy(chosen_ratio_to_naive=math.nan))
    document = jsondoc.to_document(build.report(w))
    assert jsondoc.resolve(document, "workloads.0.accuracy.chosen_ratio_to_naive") is None
    assert jsondoc.resolve(document, "workloads.0.cost.lines.2.capacity_type") == "on_demand"


def test_resolve_walks_lists_and_objects() -> None:
    document = jsondoc.to_document(build.report())
    assert jsondoc.resolve(document, "fleet.gpu_types.0.gpu") == "A100-80GB"
    assert jsondoc.resolve(document, "workloads.0.reservation.duration_curve.3.replicas") == 4
