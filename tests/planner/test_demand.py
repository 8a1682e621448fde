"""Little's law: arrivals per interval to load in the workload's unit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import planner_builders as build
import pytest

from planner import demand, spec

# 500 in, 200 out, TTFT 0.5 s, ITL 0.02 s: D = 0.5 + 200 * 0.02 = 4.5 s
SHAPE = build.workload().request


@pytest.mark.parametrize(
    ("unit", "load"),
    [
        # 300 requests / 60 s = 5 req/s
        pytest.param("concurrency", 22.5, id="concurrency-5-per-s-times-4.5-s"),
        pytest.param("kv_tokens", 22.5 * 600, id="kv-22.5-sequences-times-600-tokens"),
        pytest.param("tokens_per_s", 1000.0, id="output-5-per-s-times-200-tokens"),
        pytest.param("requests_per_s", 5.0, id="requests-per-s"),
    ],
)
def test_load_by_unit(unit: str, load: float) -> None:
    as_unit = spec.DemandUnit(unit)
    vector = demand.load(np.array([300.0]), interval_s=60, unit=as_unit, request=SHAPE)
    assert vector.tolist() == [pytest.approx(load)]
    # one interval without numpy (a per-tick path): rate x the unit's factor
    assert 300.0 / 60 * demand.load_factor(as_unit, SHAPE) == pytest.approx(load)


def test_no_data_stays_no_data() -> None:
    out = demand.load(
        np.array([np.nan]), interval_s=60, unit=spec.DemandUnit.CONCURRENCY, request=SHAPE
    )
    assert np.isnan(out[0])


@dataclass(frozen=True)
class _Trace:
    values: pd.Series
    prompt_tokens: pd.Series | None
    completion_tokens: pd.Series | None


def test_measured_tokens_replace_the_spec() -> None:
    """(3000 + NaN-masked) prompt over 3 requests where known: 3000 / 3 = 1000 in, 300 / 3 = 100
    out; duration recomputed 0.5 + 100 * 0.02 = 2.5 s."""
    index = pd.date_range("2026-01-05", periods=3, freq="min", tz="UTC")
    trace = _Trace(
        values=pd.Series([1.0, 2.0, np.nan], index=index),
        prompt_tokens=pd.Series([1000.0, 2000.0, 500.0], index=index),
        completion_tokens=pd.Series([100.0, 200.0, 50.0], index=index),
    )
    measured = demand.measured_request(SHAPE, trace)
    assert (measured.prompt_tokens, measured.completion_tokens) == (1000.0, 100.0)
    assert measured.duration_s == pytest.approx(2.5)


def test_explicit_duration_is_kept_and_missing_columns_keep_the_spec() -> None:
    shape = build.workload(request={"prompt_tokens": 10, "completion_tokens": 10, "duration_s": 7})
    index = pd.date_range("2026-01-05", periods=2, freq="min", tz="UTC")
    values = pd.Series([1.0, 1.0], index=index)
    with_tokens = _Trace(values, None, pd.Series([40.0, 60.0], index=index))
    measured = demand.measured_request(shape.request, with_tokens)
    assert (measured.prompt_tokens, measured.completion_tokens, measured.duration_s) == (10, 50, 7)
    assert demand.measured_request(shape.request, _Trace(values, None, None)) == shape.request
