"""Workload YAML files: every layout the docs promise, and file/YAML problems as InputErrors."""

from __future__ import annotations

import functools
import operator
import typing
from pathlib import Path

import pydantic
import pytest

from actuator import schema, workload_schema, workloads, yamldoc
from actuator.commands import inputs
from kernel import errors

ONE = """
name: chat
unit: concurrency
gpu: L4
capacity_per_replica: 8
max_replicas: 10
request: {duration_s: 2}
"""


def test_bundled_example_is_valid() -> None:
    (workload,) = workloads.load(inputs.example_path(inputs.EXAMPLE_WORKLOAD))
    assert workload.name == "chat-llama-8b"
    assert workload.lead_time_s == 600


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param(ONE, ["chat"], id="one-mapping"),
        pytest.param(ONE + "---" + ONE.replace("chat", "other"), ["chat", "other"], id="two-docs"),
        pytest.param(
            "workloads:\n  - {name: a, unit: concurrency, gpu: L4, capacity_per_replica: 8, "
            "max_replicas: 4, pool: p, request: {duration_s: 2}}\npools: {p: {gpus: 8}}\n",
            ["a"],
            id="workloads-and-pools",
        ),
    ],
)
def test_layouts(text: str, names: list[str]) -> None:
    assert [w.name for w in workloads.parse(text)] == names


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: chat\nunit: [concurrency\nmax_replicas: 3\n")
    with pytest.raises(errors.InputError) as caught:
        workloads.load(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"workload file {path} line ")
    assert "invalid YAML" in problem and "fix the syntax there" in problem


def test_spec_problems_are_prefixed_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(ONE.replace("max_replicas: 10", "max_replicas: 0"))
    with pytest.raises(errors.InputError) as caught:
        workloads.load(path)
    assert caught.value.problems == (
        f"workload file {path}: max_replicas (0) must be >= 1 for workload chat; "
        "set max_replicas to 1 or more",
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(None, "does not exist", id="missing-file"),
        pytest.param("", "is empty", id="empty-file"),
    ],
)
def test_missing_and_empty_files(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "w.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(errors.InputError, match=fragment):
        workloads.load(path)


def test_a_repeated_key_is_refused_with_both_lines() -> None:
    with pytest.raises(errors.InputError) as caught:
        workloads.parse("name: a\nunit: concurrency\nmax_replicas: 4\nmax_replicas: 40\n")
    (problem,) = caught.value.problems
    assert "'max_replicas' appears twice (lines 3 and 4)" in problem and "keep one" in problem


def test_an_alias_bomb_is_refused_quickly() -> None:
    """The 'billion laughs': nine levels of ten aliases would expand to 10^9 strings."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 10):
        levels.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]")
    with pytest.raises(errors.InputError, match="expands to 1,000,001 nodes"):
        workloads.parse("\n".join(levels) + "\n")


def test_an_unknown_key_gets_a_did_you_mean() -> None:
    with pytest.raises(errors.InputError, match="did you mean max_replicas"):
        workloads.parse("name: a\nunit: concurrency\ngpu: L4\nmax_replica: 4\n")


def test_a_stated_quantile_is_the_expert_override() -> None:
    """Without provisioning_quantile the operating point is chosen for the SLO (P90 is only
    the fallback); stating it, even as the default p90, plans at it as it stands."""
    (chosen,) = workloads.parse(ONE)
    (stated,) = workloads.parse(ONE + "provisioning_quantile: p90\n")
    assert chosen.quantile_override is False
    assert stated.quantile_override is True
    assert chosen.provisioning_quantile is stated.provisioning_quantile


def _number_fields(
    model: type[pydantic.BaseModel], prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """The path of every number (float) field of a workload, nested models included."""
    found: list[tuple[str, ...]] = []
    for key, field in model.model_fields.items():
        inner = schema.model_of(field.annotation)
        if inner is not None:
            found.extend(_number_fields(inner, (*prefix, key)))
        elif key != "slo" and float in _types(field.annotation):  # slo: {served_minutes: %}
            found.append((*prefix, key))
    return found


def _types(annotation: object) -> set[object]:
    """`float` for `float`, `float | None` and `Annotated[float, ...] | None`."""
    options = typing.get_args(annotation) if typing.get_origin(annotation) is not None else ()
    return {
        typing.get_args(a)[0] if hasattr(a, "__metadata__") else a for a in (annotation, *options)
    }


NUMBER_FIELDS = _number_fields(workload_schema.WorkloadModel)


def test_every_number_field_is_found() -> None:
    assert {("capacity_per_replica",), ("request", "ttft_s"), ("prices", "spot")} <= set(
        NUMBER_FIELDS
    )
    assert ("max_replicas",) not in NUMBER_FIELDS  # whole numbers stay whole


@pytest.mark.parametrize("path", NUMBER_FIELDS, ids=".".join)
def test_every_number_field_takes_an_exponent(path: tuple[str, ...]) -> None:
    """YAML 1.1 (PyYAML) reads `5e-1` as text; the README writes limits like 1e12, so every
    number of the spec reads it as YAML 1.2 does: 0.5."""
    line = f"{path[-1]}: 5e-1"
    for key in reversed(path[:-1]):
        line = f"{key}: {{{line}}}"
    (data,) = yamldoc.load_all(f"name: chat\n{line}\n", source="test")
    assert isinstance(functools.reduce(operator.getitem, path, data), str)  # as YAML 1.1 reads
    parsed = workload_schema.WorkloadModel.model_validate(data)
    assert functools.reduce(getattr, path, parsed) == 0.5


def test_an_exponent_number_through_the_loader() -> None:
    (workload,) = workloads.parse(
        ONE.replace("capacity_per_replica: 8", "capacity_per_replica: 1e1")
    )
    assert workload.capacity_per_replica == 10.0


@pytest.mark.parametrize("text", ['"8"', "1e", "e5", "1e1.5", "0x1p3", "1_000e1"])
def test_quoted_digits_and_near_numbers_stay_text(text: str) -> None:
    """Only the exponent form YAML 1.1 misreads becomes a number: quoted digits stay refused."""
    with pytest.raises(errors.InputError, match=r"capacity_per_replica .* is not a number"):
        workloads.parse(ONE.replace("capacity_per_replica: 8", f"capacity_per_replica: {text}"))
