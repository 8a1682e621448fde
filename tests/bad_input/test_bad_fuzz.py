"""Fuzzing the input boundaries: the trace loader, the workload loader and `plan_step` never
raise anything but InputError, and what they accept is within bounds."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actuator import trace, workload_schema, workloads
from kernel import errors
from planner import spec, step

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- traces -------------------------------------------------------------------------------

_STAMP = st.one_of(
    st.datetimes(
        min_value=datetime(1600, 1, 1), max_value=datetime(3000, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat()),
    st.integers(0, 20).map(lambda m: f"2024-01-01T00:{m:02d}:00Z"),  # mostly a real grid
    st.text(max_size=12),
)
_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10, 10**15).map(str),
    st.sampled_from(["", "inf", "-inf", "nan", "1e400", "NaN", "x", "  7 "]),
    st.text(max_size=6),
)
_HEADER = st.sampled_from(
    ["timestamp,requests", "timestamp,value", "timestamp,requests,prompt_tokens", "ts,requests"]
)


@st.composite
def _csv(draw: st.DrawFn) -> str:
    header = draw(_HEADER)
    width = header.count(",")
    rows = draw(st.lists(st.tuples(_STAMP, *[_VALUE] * width).map(",".join), max_size=30))
    return "\n".join([header, *rows]) + "\n"


def _load(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(content)
        try:
            loaded = trace.load(path)
        except errors.InputError as exc:
            assert exc.problems and all(p.strip() for p in exc.problems)
            return
    values = loaded.values.to_numpy(dtype=float)
    present = values[~np.isnan(values)]
    assert np.all(np.isfinite(present)) and np.all(present >= 0)
    assert np.all(present <= trace.MAX_VALUE)
    assert loaded.values.index.freq is not None and loaded.interval_s >= 1


@FAST
@given(_csv())
def test_fuzz_trace_text(text: str) -> None:
    _load(text.encode("utf-8", "surrogatepass"))


@FAST
@given(st.binary(max_size=200))
def test_fuzz_trace_bytes(content: bytes) -> None:
    _load(content)


# ---- workload files -----------------------------------------------------------------------

_ANY = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=10),
        st.sampled_from(["10m", "1y", "-5", "p90", "on_demand", "spot", "A100-80GB", "0.5s"]),
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = sorted(workload_schema.KNOWN_FIELDS)
BASE: dict[str, Any] = {
    "name": "chat",
    "unit": "concurrency",
    "gpu": "A100-80GB",
    "capacity_per_replica": 16,
    "max_replicas": 64,
    "request": {"prompt_tokens": 500, "completion_tokens": 600, "ttft_s": 0.5, "itl_s": 0.03},
}


def _accepted_within_bounds(specs: tuple[spec.WorkloadSpec, ...]) -> None:
    for w in specs:
        assert 0 <= w.min_replicas <= w.max_replicas <= spec.MAX_REPLICAS
        assert 1 <= w.gpus_per_replica <= spec.MAX_GPUS_PER_REPLICA
        assert 0 <= w.lead_time_s <= spec.MAX_LEAD_TIME_S
        assert 0 <= w.cooldown_s <= spec.MAX_COOLDOWN_S
        assert 0 < w.target_utilization <= 1
        assert 0 <= w.spot_share <= 1
        assert spec.name_problem("name", w.name) is None
        prices = (w.prices.on_demand_per_gpu_hour, w.prices.reserved_per_gpu_hour)
        assert all(0 <= p <= spec.MAX_PRICE_PER_GPU_HOUR for p in prices)
        if spec.CapacityType.SPOT in w.capacity_types:
            assert w.prices.spot_per_gpu_hour < w.prices.on_demand_per_gpu_hour
        for value in (w.request.duration_s, w.request.prompt_tokens, w.gpu_memory_gib):
            assert math.isfinite(value) and value >= 0


@FAST
@given(st.dictionaries(st.sampled_from(_FIELDS), _ANY, max_size=6))
def test_fuzz_workload_fields(changes: dict[str, Any]) -> None:
    """Any values in the known fields of an otherwise valid workload, through the YAML loader."""
    text = yaml.safe_dump({**BASE, **changes})
    try:
        specs = workloads.parse(text, source="fuzz.yaml")
    except errors.InputError as exc:
        assert all(p.startswith("workload file fuzz.yaml") for p in exc.problems)
        return
    _accepted_within_bounds(specs)


@FAST
@given(st.text(alphabet="abc:-[]{}&*!|>#'\" \n\t0123456789.", max_size=120))
def test_fuzz_workload_text(text: str) -> None:
    """Arbitrary YAML-ish text: a spec or an InputError, never another exception."""
    try:
        specs = workloads.parse(text, source="fuzz.yaml")
    except errors.InputError:
        return
    _accepted_within_bounds(specs)


# ---- plan_step ----------------------------------------------------------------------------

START = datetime(2024, 1, 1, tzinfo=UTC)


@st.composite
def _workload(draw: st.DrawFn) -> spec.WorkloadSpec:
    max_replicas = draw(st.integers(1, spec.MAX_REPLICAS))
    data = {
        **BASE,
        "max_replicas": max_replicas,
        "min_replicas": draw(st.integers(0, max_replicas)),
        "capacity_per_replica": draw(st.floats(1e-6, 1e6)),
        "target_utilization": draw(st.floats(0.01, 1.0)),
        "lead_time": draw(st.integers(0, spec.MAX_LEAD_TIME_S)),
        "cooldown": draw(st.integers(0, spec.MAX_COOLDOWN_S)),
        "scale_in_step": draw(st.integers(1, spec.MAX_REPLICAS)),
        "warm_standby": draw(st.integers(0, min(50, max_replicas - 1))),
        "capacity_types": draw(
            st.sampled_from(
                [
                    ["on_demand"],
                    ["reserved", "on_demand"],
                    ["reserved", "spot", "on_demand"],
                    ["spot", "on_demand"],
                ]
            )
        ),
        "spot_interruption_rate_per_hour": draw(st.floats(0, spec.MAX_INTERRUPTION_RATE_PER_HOUR)),
    }
    if "spot" not in data["capacity_types"]:
        data["spot_share"] = 0
    (parsed,) = workloads.parse_workloads(data)
    return parsed


_DEMAND = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1e300),
)
_TICK = st.tuples(
    st.one_of(st.none(), st.integers(0, 2**62)),  # forecast floor
    _DEMAND,
    st.integers(0, 10**6),  # ready spot (interruptions, or more than asked)
    st.one_of(st.none(), st.integers(-5, spec.MAX_REPLICAS)),  # pool budget share
    st.one_of(st.none(), st.floats(0, 1e9)),  # capacity per replica (0: nothing fits)
)


@FAST
@given(_workload(), st.integers(0, 10), st.lists(_TICK, min_size=1, max_size=20))
def test_fuzz_plan_step_stays_within_bounds(
    workload: spec.WorkloadSpec, reserved: int, ticks: list[tuple[Any, ...]]
) -> None:
    """Hostile tick inputs (infinite or NaN demand, floors past int64's range, a zero capacity,
    a negative budget share): every target is a count within [0, cap], the total never above
    the cap, never below min(min_replicas, cap)."""
    state = step.PolicyState.initial()
    for minute, (floor, observed, spot_ready, share, per_replica) in enumerate(ticks):
        inputs = step.StepInputs(
            now=START + timedelta(minutes=minute),
            forecast_floor=floor,
            reserved=reserved,
            observed_demand=observed,
            ready=spec.ByType(0, spot_ready, 0),
            lead_time_s=workload.lead_time_s,
            replica_cap=share,
            capacity_per_replica=per_replica,
        )
        result = step.plan_step(workload, inputs, state)
        cap = workload.max_replicas if share is None else max(min(workload.max_replicas, share), 0)
        t = result.targets
        assert min(t.reserved, t.spot, t.on_demand) >= 0
        assert t.total <= cap
        assert t.total >= min(workload.min_replicas, cap)
        assert result.reason in set(step.Reason)
        state = result.state
