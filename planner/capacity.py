"""Pure: what one replica serves, and how many replicas a demand needs.

Capacity per replica comes from the spec when it is measured (`capacity_per_replica`), or for
LLMs from the model architecture: the KV cache a replica's GPUs hold after the weights
(DESIGN.md "Capacity per replica").
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from planner import catalog, spec

# Demand within this much of a replica boundary counts as on it: 96.000000001 / 96 is one
# replica, not two (float noise from unit conversions must not buy a GPU).
_CEIL_TOLERANCE = 1e-9
# A need this large is "more than any bound": replica counts saturate here instead of
# overflowing (2**53 is the largest integer a float holds exactly).
SATURATED = 2**53


def kv_bytes_per_token(model: spec.ModelArchitecture) -> float:
    """K and V, per layer, per KV head: 2 * layers * kv_heads * head_dim * kv_dtype_bytes.

    Llama-3-8B in bf16: 2 * 32 * 8 * 128 * 2 = 131072 bytes = 128 KiB per token.
    """
    return 2.0 * model.layers * model.kv_heads * model.head_dim * model.kv_dtype_bytes


def kv_capacity_tokens(
    model: spec.ModelArchitecture, *, gpu_memory_gib: float, gpus_per_replica: int
) -> float:
    """KV tokens a replica holds: (memory * utilisation * gpus - weights - overhead) / KV bytes.

    Llama-3-8B bf16 on one A100-80GB at 0.9 utilisation with 2 GiB overhead:
    (80 GiB * 0.9 - 8.03e9 * 2 B - 2 GiB) / 128 KiB = (77309411328 - 16060000000 - 2147483648)
    / 131072 = 450911.9 tokens. Zero when the weights do not fit.
    """
    usable = gpu_memory_gib * catalog.GIB * model.gpu_memory_utilization * gpus_per_replica
    free = usable - model.weight_bytes - model.overhead_bytes_per_gpu * gpus_per_replica
    return max(free, 0.0) / kv_bytes_per_token(model)


def tokens_per_sequence(request: spec.RequestShape) -> float:
    """KV tokens one in-flight request holds on average: its prompt (less the prefix-cache
    hits) plus half its output (DESIGN.md "From arrivals to load")."""
    prompt = request.prompt_tokens * (1.0 - request.prefix_cache_hit_rate)
    return prompt + request.completion_tokens / 2.0


def per_replica(workload: spec.WorkloadSpec, request: spec.RequestShape | None = None) -> float:
    """Capacity of one replica in the workload's unit at full utilisation.

    The spec's measured value wins; otherwise KV tokens from the model, divided by the tokens
    per sequence when the unit is concurrency (the memory-bound concurrency). Spec validation
    guarantees one of the two exists.
    """
    if workload.capacity_per_replica is not None:
        return workload.capacity_per_replica
    if workload.model is None:
        return math.nan  # unreachable for a validated spec; keeps the type honest
    tokens = kv_capacity_tokens(
        workload.model,
        gpu_memory_gib=workload.gpu_memory_gib,
        gpus_per_replica=workload.gpus_per_replica,
    )
    if workload.unit is spec.DemandUnit.CONCURRENCY:
        per_sequence = tokens_per_sequence(request or workload.request)
        return tokens / per_sequence if per_sequence > 0 else math.nan
    return tokens


def replicas_for(demand: float, capacity_per_replica: float, target_utilization: float) -> int:
    """ceil(demand / (capacity * target_utilization)), 0 for no demand.

    100 concurrent at 30 per replica and 0.8: 100 / 24 = 4.17, so 5 replicas.
    """
    if not demand > 0:
        return 0
    per_replica = capacity_per_replica * target_utilization
    if not per_replica > 0:
        return SATURATED  # nothing a replica can hold: no count of replicas serves it
    ratio = demand / per_replica
    if ratio >= SATURATED:  # also inf: math.ceil would raise
        return SATURATED
    return math.ceil(ratio - _CEIL_TOLERANCE)


def replicas_needed(
    demand: npt.NDArray[np.float64], capacity_per_replica: float, target_utilization: float
) -> npt.NDArray[np.int64]:
    """Vectorised `replicas_for`: NaN (no data) and non-positive demand need 0 replicas."""
    per_replica = capacity_per_replica * target_utilization
    clean = np.nan_to_num(demand, nan=0.0, posinf=np.inf)
    if not per_replica > 0:
        return np.where(clean > 0, SATURATED, 0).astype(np.int64)
    ratio = clean / per_replica
    # Clipped before the cast: a float past int64 casts to its most negative value, which the
    # bounds would then clamp to min_replicas (an infinite need planned as one replica).
    needed = np.ceil(np.minimum(ratio, float(SATURATED)) - _CEIL_TOLERANCE)
    return np.maximum(needed, 0.0).astype(np.int64)
