"""The README's command synopsis is the subcommands' real flags: every flag `--help` knows is
in the synopsis, and every flag the synopsis shows exists (it had drifted before)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from actuator import cli

README = Path(__file__).resolve().parent.parent / "README.md"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _synopsis() -> dict[str, set[str]]:
    """Flags per subcommand from the README's `## Commands` code block.

    A line `prescale NAME ...` starts a command; indented lines continue it. After a comment
    line (`# ... on every command`), the lines hold flags shared by every command that reads a
    history (the ones whose synopsis shows --trace).
    """
    text = README.read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1]
    block = section.split("```", 2)[1]
    commands: dict[str, set[str]] = {}
    shared: set[str] = set()
    current: set[str] | None = None
    in_shared = False
    for line in block.splitlines():
        if line.startswith("#"):
            in_shared = True
            continue
        match = re.match(r"prescale (\S+)", line)
        if match and not in_shared:
            current = commands.setdefault(match.group(1), set())
            current.update(FLAG.findall(line))
        elif in_shared:
            shared.update(FLAG.findall(line))
        elif current is not None and line.startswith(" "):
            current.update(FLAG.findall(line))
    for flags in commands.values():
        if "--trace" in flags:
            flags.update(shared)
    return commands


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }


def test_the_synopsis_names_every_subcommand() -> None:
    assert set(_synopsis()) == set(_parsers())


@pytest.mark.parametrize("command", sorted(_parsers()))
def test_the_synopsis_shows_exactly_the_real_flags(command: str) -> None:
    shown = _synopsis().get(command, set())
    real = _flags(_parsers()[command])
    assert sorted(real - shown) == [], f"flags of `prescale {command}` missing from the README"
    assert sorted(shown - real) == [], f"README flags that `prescale {command}` does not have"
