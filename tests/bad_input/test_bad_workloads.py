"""Bad workload files through `prescale plan --workload`: exit 2 naming the file, the field,
the value, the rule and the fix; a plan is never made from them."""

from __future__ import annotations

from pathlib import Path

import bad_input_run as r
import pytest
import yaml

from actuator import yamldoc

BASE = yaml.safe_load(r.VALID_WORKLOAD)


def _with(**changes: object) -> str:
    """The valid workload with fields changed (None removes a field)."""
    data = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    return yaml.safe_dump(data, sort_keys=False)


def _request(**changes: object) -> str:
    return _with(request={**BASE["request"], **changes})


def _prices(**prices: object) -> str:
    return _with(prices=prices)


def _model(**fields: object) -> str:
    return _with(capacity_per_replica=None, unit="kv_tokens", model=fields)


POOLED = """\
pools: {{{pool}: {{gpus: {gpus}}}}}
workloads:
  - {{name: a, unit: requests_per_s, gpu: L4, capacity_per_replica: 10, max_replicas: 8,
     min_replicas: 2, pool: {member}}}
"""

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)

CASES = [
    # names
    pytest.param(
        _with(name=None), ["name (None) is missing", "give the workload a name"], id="name-missing"
    ),
    pytest.param(
        _with(name="Chat_LLM"),
        ["name ('Chat_LLM') is not a valid Kubernetes name", "RFC 1123", "e.g. 'chat-llm'"],
        id="name-not-dns",
    ),
    pytest.param(
        _with(name="x" * 64), ["is not a valid Kubernetes name", "at most 63"], id="name-too-long"
    ),
    pytest.param(_with(name="chat llm"), ["('chat llm')", "e.g. 'chat-llm'"], id="name-space"),
    pytest.param(_with(name="-chat"), ["('-chat')", "starting and ending"], id="name-leading-dash"),
    pytest.param(_with(name="<b>x</b>"), ["('<b>x</b>')", "RFC 1123"], id="name-markup"),
    # kinds and units
    pytest.param(
        _with(unit=None), ["unit (None) is missing", "set unit: one of"], id="unit-missing"
    ),
    pytest.param(
        _with(unit="qps"), ["unit ('qps') is not one of concurrency|kv_tokens"], id="unit-bad"
    ),
    pytest.param(
        _with(kind="robot"), ["kind ('robot') is not one of llm|vision|generic"], id="kind-bad"
    ),
    pytest.param(_with(gpu=None), ["gpu (None) is missing", "set gpu"], id="gpu-missing"),
    pytest.param(
        _with(gpu="TPU-v5"),
        ["prices", "are incomplete for gpu TPU-v5", "set prices.on_demand"],
        id="gpu-unknown",
    ),
    # replicas and GPUs
    pytest.param(_with(gpus_per_replica=0), ["gpus_per_replica (0) must be >= 1"], id="gpus-zero"),
    pytest.param(
        _with(gpus_per_replica=1000),
        ["gpus_per_replica (1000) must be <= 64 (the limit)", "64 or less"],
        id="gpus-huge",
    ),
    pytest.param(
        _with(gpus_per_replica="two"),
        ["gpus_per_replica ('two') is not a whole number"],
        id="gpus-text",
    ),
    pytest.param(
        _with(gpus_per_replica=1.5),
        ["gpus_per_replica (1.5) is not a whole number"],
        id="gpus-fraction",
    ),
    pytest.param(
        _with(gpu_memory_gib=-1),
        ["gpu_memory_gib (-1) must be > 0 and <= 1024"],
        id="memory-negative",
    ),
    pytest.param(
        _with(capacity_per_replica=0), ["capacity_per_replica (0) must be > 0"], id="capacity-zero"
    ),
    pytest.param(
        _with(capacity_per_replica=1e20),
        ["capacity_per_replica (1e+20) must be > 0 and <= 1e+12"],
        id="capacity-huge",
    ),
    pytest.param(
        _with(capacity_per_replica=".nan"),
        ["capacity_per_replica ('.nan') is not a number"],
        id="capacity-text-nan",
    ),
    pytest.param(
        _with(target_utilization=1.5),
        ["target_utilization (1.5) must be > 0 and <= 1"],
        id="utilization-over-1",
    ),
    pytest.param(
        _with(target_utilization=0), ["target_utilization (0) must be > 0"], id="utilization-zero"
    ),
    pytest.param(
        _with(min_replicas=10, max_replicas=4),
        ["max_replicas (4) is below min_replicas (10)", "raise max_replicas"],
        id="min-above-max",
    ),
    pytest.param(
        _with(max_replicas=None),
        ["max_replicas (None) is missing", "set max_replicas"],
        id="max-missing",
    ),
    pytest.param(
        _with(max_replicas=10**6),
        ["max_replicas (1000000) must be <= 10,000 (the limit)"],
        id="max-huge",
    ),
    pytest.param(
        _with(max_replicas=True), ["max_replicas (True) is not a whole number"], id="max-bool"
    ),
    pytest.param(_with(min_replicas=-1), ["min_replicas (-1) must be >= 0"], id="min-negative"),
    pytest.param(
        _with(warm_standby=10**9),
        ["warm_standby (1000000000) must be <= 10,000"],
        id="warm-standby-huge",
    ),
    pytest.param(
        _with(warm_standby=100),
        [
            "warm_standby (100) is not below max_replicas (64)",
            "every minute would plan max_replicas",
            "lower warm_standby to 63 or less",
        ],
        id="warm-standby-above-max",
    ),
    pytest.param(
        _with(warm_standby=64),
        ["warm_standby (64) is not below max_replicas (64)"],
        id="warm-standby-at-max",
    ),
    pytest.param(
        _with(scale_in_step=0), ["scale_in_step (0) must be >= 1"], id="scale-in-step-zero"
    ),
    # durations
    pytest.param(
        _with(lead_time="10 minutes"),
        ["lead_time ('10 minutes') is not a duration", "write lead_time like 90s"],
        id="lead-time-words",
    ),
    pytest.param(
        _with(lead_time="1y"),
        ["lead_time ('1y') is 31,536,000 s, more than the 1d limit", "1d or less"],
        id="lead-time-year",
    ),
    pytest.param(
        _with(lead_time=-5), ["lead_time (-5) is not a duration"], id="lead-time-negative"
    ),
    pytest.param(
        _with(lead_time=10**400), ["lead_time (1000", "is not a duration"], id="lead-time-overflow"
    ),
    pytest.param(
        _with(cooldown="30d"),
        ["cooldown ('30d') is 2,592,000 s, more than the 1d limit"],
        id="cooldown-month",
    ),
    pytest.param(
        _with(cooldown="0.5s"),
        ["cooldown ('0.5s') is not a duration in whole seconds"],
        id="cooldown-fraction",
    ),
    # capacity types and spot
    pytest.param(
        _with(spot_share=2), ["spot_share (2) must be >= 0 and <= 1"], id="spot-share-over-1"
    ),
    pytest.param(
        _with(capacity_types=["on_demand"], spot_share=0.5),
        ["spot_share (0.5) is set but spot is not in capacity_types"],
        id="spot-share-no-spot",
    ),
    pytest.param(
        _with(capacity_types=["spot"]),
        ["has spot without on_demand", "add on_demand"],
        id="spot-only",
    ),
    pytest.param(
        _with(capacity_types=["reserved"]),
        ["is reserved only", "add on_demand"],
        id="reserved-only",
    ),
    pytest.param(
        _with(capacity_types="spot"),
        ["capacity_types ('spot') is not a non-empty list"],
        id="types-string",
    ),
    pytest.param(
        _with(capacity_types=["cheap"]),
        ["capacity_types ('cheap') is not one of reserved|spot|on_demand"],
        id="types-unknown",
    ),
    pytest.param(
        _with(spot_interruption_rate_per_hour=1000),
        ["spot_interruption_rate_per_hour (1000) must be >= 0 and <= 60"],
        id="interruption-rate-huge",
    ),
    # prices
    pytest.param(
        _prices(on_demand=3.67, reserved=2.2, spot=5.0),
        [
            "prices.spot (5.0) is not below prices.on_demand (3.67)",
            "remove spot from capacity_types",
        ],
        id="spot-dearer-than-on-demand",
    ),
    pytest.param(
        _prices(on_demand=-1, reserved=1, spot=0.5),
        ["on_demand (-1) must be >= 0"],
        id="price-negative",
    ),
    pytest.param(
        _prices(on_demand=1e6, reserved=1, spot=0.5),
        ["on_demand (1000000.0) must be >= 0 and <= 1000"],
        id="price-huge",
    ),
    pytest.param(_with(prices="cheap"), ["prices ('cheap') is not a mapping"], id="prices-string"),
    pytest.param(
        _with(api_overflow_price_per_1m_tokens=-3),
        ["api_overflow_price_per_1m_tokens (-3) must be >= 0"],
        id="overflow-negative",
    ),
    pytest.param(
        _with(provisioning_quantile="p75"),
        ["provisioning_quantile ('p75') is not one of p50|p90|p99"],
        id="quantile-bad",
    ),
    # request shape
    pytest.param(
        _request(ttft_s=1e9), ["ttft_s (1000000000.0) must be >= 0 and <= 86400"], id="ttft-huge"
    ),
    pytest.param(
        _request(prompt_tokens=1e9),
        ["prompt_tokens (1000000000.0) must be >= 0 and <= 1e+07"],
        id="prompt-tokens-huge",
    ),
    pytest.param(
        _request(itl_ms=3),
        ["request.itl_ms (3) is not a known field", "remove it"],
        id="request-unknown-key",
    ),
    pytest.param(_with(request="fast"), ["request ('fast') is not a mapping"], id="request-string"),
    pytest.param(
        _with(request={"prompt_tokens": 100}),
        ["gives no request duration for unit concurrency", "set request.ttft_s and itl_s"],
        id="request-no-duration",
    ),
    # model architecture
    pytest.param(
        _with(capacity_per_replica=None, model="gpt-9"),
        ["model ('gpt-9') is not a built-in model"],
        id="model-unknown",
    ),
    pytest.param(
        _model(layers=0, kv_heads=8, head_dim=128, params_billion=8),
        ["layers (0) must be >= 1"],
        id="model-layers-zero",
    ),
    pytest.param(
        _model(layers=32, kv_heads=8, head_dim=128, params_billion=8, kv_dtype="fp12"),
        ["model.kv_dtype ('fp12') is not one of"],
        id="model-dtype",
    ),
    pytest.param(
        _model(layers=32, kv_heads=8, head_dim=128),
        ["model.params_billion (None) is missing"],
        id="model-incomplete",
    ),
    # fields and documents
    pytest.param(
        _with(max_replica=3),
        ["max_replica (3) is not a known field", "did you mean max_replicas?"],
        id="typo-field",
    ),
    pytest.param(
        r.VALID_WORKLOAD + "max_replicas: 8\n",
        ["key 'max_replicas' appears twice (lines 6 and 10)", "keep one"],
        id="duplicate-key",
    ),
    pytest.param(
        ALIAS_BOMB, ["expands to", "more than 1,000,000", "write the values out"], id="alias-bomb"
    ),
    pytest.param(
        "name: [unclosed\n", ["invalid YAML", "line 2", "fix the syntax there"], id="yaml-syntax"
    ),
    pytest.param("", ["is empty", "define at least one workload"], id="empty-file"),
    pytest.param("- 1\n- 2\n", ["workload #1 (int) is not a mapping"], id="list-of-scalars"),
    pytest.param(
        "just text\n",
        ["workload document (str) is neither a mapping nor a list"],
        id="scalar-document",
    ),
    pytest.param(
        f"workloads:\n  - {yaml.safe_dump(BASE, default_flow_style=True).strip()}\n"
        f"  - {yaml.safe_dump(BASE, default_flow_style=True).strip()}\n",
        ["name ('chat') is used by two workloads", "give each workload its own name"],
        id="same-name-twice",
    ),
    pytest.param(
        "workloads: {a: 1}\n", ["workloads ({'a': 1}) is not a list"], id="workloads-not-list"
    ),
    pytest.param(
        POOLED.format(pool="gpu-a", gpus=0, member="gpu-a"),
        ["pools.gpu-a.gpus (0) must be a whole number from 1"],
        id="pool-zero-gpus",
    ),
    pytest.param(
        POOLED.format(pool="gpu-a", gpus=8, member="gpu-b"),
        ["pool ('gpu-b') is not defined under pools (gpu-a)"],
        id="pool-undefined",
    ),
    pytest.param(
        POOLED.format(pool="GPU_A", gpus=8, member="GPU_A"),
        ["pools.GPU_A ('GPU_A') is not a valid Kubernetes name"],
        id="pool-name-not-dns",
    ),
    pytest.param(
        POOLED.format(pool="gpu-a", gpus=1, member="gpu-a"),
        ["pools.gpu-a.gpus (1) is below the 2 GPUs that min_replicas of a hold"],
        id="pool-below-floor",
    ),
]


@pytest.mark.parametrize(("text", "expect"), CASES)
def test_bad_workload(
    text: str, expect: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workload = tmp_path / "w.yaml"
    workload.write_text(text)
    argv = ["plan", "--trace", str(r.day_trace(tmp_path / "t.csv")), "--workload", str(workload)]
    outcome = r.run(argv, capsys)
    r.refused(outcome, [f"workload file {workload}", *expect])


SOURCE_CASES = [
    pytest.param(
        _with(source={"url": "ftp://prom", "query": "up"}),
        ["url ('ftp://prom') is not an http(s) URL", "write it like http://"],
        id="source-bad-url",
    ),
    pytest.param(
        _with(source={"url": "http://127.0.0.1:1", "preset": "nope"}),
        ["preset ('nope') is not known", "use one of vllm"],
        id="source-unknown-preset",
    ),
]


@pytest.mark.parametrize(("text", "expect"), SOURCE_CASES)
def test_bad_source_block(
    text: str, expect: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workload's source: block is read when no --trace is given (it is the history)."""
    workload = tmp_path / "w.yaml"
    workload.write_text(text)
    outcome = r.run(["plan", "--workload", str(workload)], capsys)
    r.refused(outcome, [f"workload file {workload}", *expect])


@pytest.mark.parametrize(
    ("capacity_types", "expect"),
    [
        pytest.param(["spot"], "has spot without on_demand", id="spot-alone"),
        pytest.param(["spto", "on_demand"], "('spto') is not one of", id="misspelt"),
        pytest.param(["reserved"], "is reserved only", id="reserved-alone"),
        pytest.param("spot", "is not a non-empty list", id="not-a-list"),
    ],
)
def test_a_bad_capacity_types_is_the_one_problem(
    capacity_types: object, expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example's `spot_share: 0.5` stays quiet while capacity_types itself is wrong: the
    capacity types the share would be checked against are not known."""
    workload = tmp_path / "w.yaml"
    workload.write_text(_with(capacity_types=capacity_types, spot_share=0.5))
    argv = ["plan", "--trace", str(r.day_trace(tmp_path / "t.csv")), "--workload", str(workload)]
    outcome = r.run(argv, capsys)
    r.refused(outcome, ["capacity_types (", expect])
    assert "spot_share" not in outcome.err, outcome.err
    assert len(outcome.err.strip().splitlines()) == 1, outcome.err


def test_missing_workload_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "--trace", str(r.day_trace(tmp_path / "t.csv")), "--workload", "nope.yaml"]
    r.refused(r.run(argv, capsys), ["workload file nope.yaml does not exist", "pass --workload"])


def test_not_utf8_workload_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workload = tmp_path / "w.yaml"
    workload.write_bytes(b"name: \xff\xfe\n")
    argv = ["plan", "--trace", str(r.day_trace(tmp_path / "t.csv")), "--workload", str(workload)]
    r.refused(r.run(argv, capsys), ["cannot be read", "readable UTF-8 YAML file"])


def test_oversized_workload_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workload = tmp_path / "w.yaml"
    workload.write_text("# " + "x" * yamldoc.MAX_DOCUMENT_BYTES + "\n")
    argv = ["plan", "--trace", str(r.day_trace(tmp_path / "t.csv")), "--workload", str(workload)]
    r.refused(r.run(argv, capsys), ["bytes) is larger than 8,388,608 bytes", "not a data file"])
