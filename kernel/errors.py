"""Kernel: the error hierarchy shared by every package.

It lives in the lowest layer so that the pure packages can raise it without importing the
shell. Subclasses are grouped by how the caller reacts, not by where they arise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One bad input, said in the words of the layer that found it.

    `field` is the name the pure core knows (`replay`, `lead_time`); the shell that read the
    value renames it to what the user typed (`--replay`, `workloads[0].lead_time`) with
    `renamed`. `fix` may say `{field}` where the name belongs, so it follows the renaming.
    """

    field: str
    value: str  # as shown to the user, e.g. "'30d'" or "604800 s"
    rule: str  # "leaves no warm-up: ..."
    fix: str  # "pass a shorter {field} or a longer trace"

    def text(self, name: str | None = None) -> str:
        shown = name or self.field
        return f"{shown} ({self.value}) {self.rule}; {self.fix.format(field=shown)}"


class PrescaleError(Exception):
    """Base of every error prescale raises on purpose."""


class InputError(PrescaleError):
    """Bad configuration, workload spec, trace file or command-line usage.

    The CLI stops with exit code 2. The message names the field or line, the value, the rule
    and the fix.
    """

    def __init__(self, problems: str | Problem | Sequence[str | Problem]) -> None:
        items = (problems,) if isinstance(problems, str | Problem) else tuple(problems)
        self.items: tuple[str | Problem, ...] = items
        self.problems: tuple[str, ...] = tuple(
            item.text() if isinstance(item, Problem) else item for item in items
        )
        super().__init__("\n".join(self.problems))

    def renamed(self, names: Mapping[str, str]) -> InputError:
        """The same problems with each field renamed to what the user typed (unknown: kept)."""
        return InputError(
            [
                item.text(names.get(item.field)) if isinstance(item, Problem) else item
                for item in self.items
            ]
        )


@contextmanager
def named(names: Mapping[str, str]) -> Iterator[None]:
    """Inside, a core InputError speaks in the caller's names: `{"replay": "--replay"}`."""
    try:
        yield
    except InputError as exc:
        raise exc.renamed(names) from None


class SourceUnavailableError(PrescaleError):
    """A metrics source could not be read this tick: skip the tick, keep the last targets."""


class PartialHistoryError(SourceUnavailableError):
    """The source answered for part of a history range only (its warnings, a failed chunk): no
    plan is made from it; the plan in force stays."""


class ActuationError(PrescaleError):
    """Applying a target failed: record it and retry with backoff."""
