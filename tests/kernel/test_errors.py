"""Errors name what the user typed: the core says the field, the shell renames it."""

from __future__ import annotations

import pytest

from kernel import errors


def test_a_problem_reads_field_value_rule_fix() -> None:
    problem = errors.Problem("replay", "30 d", "leaves no warm-up", "pass a shorter {field}")
    assert problem.text() == "replay (30 d) leaves no warm-up; pass a shorter replay"
    assert problem.text("--replay") == "--replay (30 d) leaves no warm-up; pass a shorter --replay"


def test_named_renames_core_fields_and_keeps_plain_messages() -> None:
    core = errors.InputError(
        [errors.Problem("until", "x", "is before the trace", "move {field}"), "a plain message"]
    )
    with pytest.raises(errors.InputError) as caught, errors.named({"until": "--until"}):
        raise core
    assert caught.value.problems == (
        "--until (x) is before the trace; move --until",
        "a plain message",
    )


def test_unknown_fields_keep_the_core_name() -> None:
    problem = errors.Problem("lead_time", "-1 s", "must be >= 0", "set {field} to 10m")
    assert errors.InputError(problem).renamed({"replay": "--replay"}).problems == (
        "lead_time (-1 s) must be >= 0; set lead_time to 10m",
    )
