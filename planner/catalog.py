"""Pure: the built-in GPU and model catalog: reference prices, GPU memory, model architectures.

Every number here is a default that a workload spec may override (`prices:`, `gpu_memory_gib:`,
a `model:` mapping). Sources are given next to each value.
"""

from __future__ import annotations

from dataclasses import dataclass

# Median of AWS/GCP/Azure list prices, July 2025, $/GPU-hour (DESIGN.md "Reference numbers").
PRICE_SOURCE = "median of AWS/GCP/Azure list prices, July 2025 (prescale DESIGN.md)"

# Spot is "30-40 % of on-demand for L4 (up to 60-90 % off elsewhere)" (DESIGN.md): we take the
# middle of the L4 range for every GPU, the conservative end of the wider range.
SPOT_FRACTION_OF_ON_DEMAND = 0.35

# 1-year reserved sits at 0.60 of on-demand for L4 (0.58/0.97), A100 (2.20/3.67) and H100
# (4.86/8.10); DESIGN.md gives no reserved price for L40S, so we apply the same ratio to it.
RESERVED_FRACTION_OF_ON_DEMAND = 0.60

GIB = 2**30


@dataclass(frozen=True, slots=True)
class GpuEntry:
    """One GPU type: nominal memory and reference prices per GPU-hour."""

    name: str
    memory_gib: float
    on_demand_per_gpu_hour: float
    reserved_per_gpu_hour: float
    spot_per_gpu_hour: float
    price_source: str


def _entry(name: str, memory_gib: float, on_demand: float, reserved: float) -> GpuEntry:
    return GpuEntry(
        name=name,
        memory_gib=memory_gib,
        on_demand_per_gpu_hour=on_demand,
        reserved_per_gpu_hour=reserved,
        spot_per_gpu_hour=round(on_demand * SPOT_FRACTION_OF_ON_DEMAND, 4),
        price_source=PRICE_SOURCE,
    )


# Memory: NVIDIA data sheets (L4 24 GB, A100 80 GB, H100 80 GB, L40S 48 GB), taken as GiB.
# L40S on-demand is "about 1.20-1.80" (DESIGN.md): the midpoint, 1.50.
GPUS: dict[str, GpuEntry] = {
    "L4": _entry("L4", 24.0, 0.97, 0.58),
    "A100-80GB": _entry("A100-80GB", 80.0, 3.67, 2.20),
    "H100-80GB": _entry("H100-80GB", 80.0, 8.10, 4.86),
    "L40S": _entry("L40S", 48.0, 1.50, round(1.50 * RESERVED_FRACTION_OF_ON_DEMAND, 4)),
}


def gpu(name: str) -> GpuEntry | None:
    """The catalog entry for `name` (case-insensitive), or None when it is not built in."""
    wanted = name.strip().upper()
    for key, entry in GPUS.items():
        if key.upper() == wanted:
            return entry
    return None


# Bytes per element of the dtypes a KV cache or weights may use.
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
}


@dataclass(frozen=True, slots=True)
class ModelPreset:
    """Architecture numbers of a known model (from its published config.json)."""

    name: str
    layers: int
    kv_heads: int
    head_dim: int
    params_billion: float


# Hugging Face meta-llama config.json: num_hidden_layers, num_key_value_heads, and
# head_dim = hidden_size / num_attention_heads (4096/32 and 8192/64 = 128).
MODELS: dict[str, ModelPreset] = {
    "llama-3-8b": ModelPreset(
        "llama-3-8b", layers=32, kv_heads=8, head_dim=128, params_billion=8.03
    ),
    "llama-3-70b": ModelPreset(
        "llama-3-70b", layers=80, kv_heads=8, head_dim=128, params_billion=70.6
    ),
}


def model(name: str) -> ModelPreset | None:
    """The preset for `name` (case-insensitive), or None when it is not built in."""
    return MODELS.get(name.strip().lower())
