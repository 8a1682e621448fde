"""Capacity per replica: the KV formula against hand-computed values, and replicas needed."""

from __future__ import annotations

import numpy as np
import planner_builders as build
import pytest

from planner import capacity

GIB = 2**30


@pytest.mark.parametrize(
    ("model", "kv_bytes"),
    [
        pytest.param("llama-3-8b", 131072, id="llama-3-8b-bf16-is-128-KiB"),  # 2*32*8*128*2
        pytest.param("llama-3-70b", 327680, id="llama-3-70b-bf16-is-320-KiB"),  # 2*80*8*128*2
    ],
)
def test_kv_bytes_per_token(model: str, kv_bytes: int) -> None:
    parsed = build.workload(unit="kv_tokens", capacity_per_replica=None, model=model)
    assert parsed.model is not None
    assert capacity.kv_bytes_per_token(parsed.model) == kv_bytes


def test_fp8_kv_halves_the_bytes() -> None:
    """2 * 32 * 8 * 128 * 1 byte = 65536."""
    parsed = build.workload(
        unit="kv_tokens",
        capacity_per_replica=None,
        model={"preset": "llama-3-8b", "kv_dtype": "fp8"},
    )
    assert parsed.model is not None
    assert capacity.kv_bytes_per_token(parsed.model) == 65536


@pytest.mark.parametrize(
    ("gpu", "gpus", "model", "tokens"),
    [
        # (80 GiB * 0.9 - 8.03e9 * 2 - 2 GiB) / 131072 = 59101927680 / 131072
        pytest.param("A100-80GB", 1, "llama-3-8b", 450911.923828125, id="8b-on-one-a100"),
        # (24 GiB * 0.9 - 16.06e9 - 2 GiB) / 131072 = 4985339750.4 / 131072
        pytest.param("L4", 1, "llama-3-8b", 38035.123828125, id="8b-on-one-l4"),
        # (2 * 80 GiB * 0.9 - 70.6e9 * 2 - 2 * 2 GiB) / 327680 = 9123855360 / 327680
        pytest.param("H100-80GB", 2, "llama-3-70b", 27843.796875, id="70b-on-two-h100"),
        # 70B bf16 weights (141.2 GB) do not fit one 80 GiB GPU: no KV room at all
        pytest.param("H100-80GB", 1, "llama-3-70b", 0.0, id="70b-does-not-fit-one-gpu"),
    ],
)
def test_kv_capacity_tokens(gpu: str, gpus: int, model: str, tokens: float) -> None:
    parsed = build.workload(
        unit="kv_tokens", capacity_per_replica=None, model=model, gpu=gpu, gpus_per_replica=gpus
    )
    assert capacity.per_replica(parsed) == pytest.approx(tokens, rel=1e-12)


def test_concurrency_from_kv_divides_by_tokens_per_sequence() -> None:
    """500 prompt + 200/2 output = 600 tokens a sequence: 450911.92 / 600 = 751.5 concurrent."""
    parsed = build.workload(capacity_per_replica=None, model="llama-3-8b")
    assert capacity.per_replica(parsed) == pytest.approx(450911.923828125 / 600)


def test_prefix_cache_hits_shrink_the_prompt_share() -> None:
    """500 * (1 - 0.4) + 200 / 2 = 400 tokens per sequence."""
    parsed = build.workload(
        request={
            "prompt_tokens": 500,
            "completion_tokens": 200,
            "duration_s": 4,
            "prefix_cache_hit_rate": 0.4,
        }
    )
    assert capacity.tokens_per_sequence(parsed.request) == pytest.approx(400)


@pytest.mark.parametrize(
    ("demand", "per_replica", "util", "replicas"),
    [
        pytest.param(100.0, 30.0, 0.8, 5, id="100-over-24-is-4.17-so-5"),
        pytest.param(96.0, 30.0, 0.8, 4, id="exactly-4-replicas-worth"),
        pytest.param(96.0 * (1 + 1e-12), 30.0, 0.8, 4, id="float-noise-does-not-buy-a-gpu"),
        pytest.param(0.0, 30.0, 0.8, 0, id="no-demand-no-replicas"),
        pytest.param(0.1, 30.0, 0.8, 1, id="any-demand-needs-one"),
    ],
)
def test_replicas_for(demand: float, per_replica: float, util: float, replicas: int) -> None:
    assert capacity.replicas_for(demand, per_replica, util) == replicas
    vector = capacity.replicas_needed(np.array([demand]), per_replica, util)
    assert vector.tolist() == [replicas]


def test_replicas_needed_treats_no_data_as_zero() -> None:
    assert capacity.replicas_needed(np.array([np.nan, 25.0]), 10.0, 1.0).tolist() == [0, 3]
