"""Kernel: the error hierarchy shared by every package.

It lives in the lowest layer so that the pure packages can raise it without importing the
shell. Subclasses are grouped by how the caller reacts, not by where they arise.
"""

from __future__ import annotations


class PrescaleError(Exception):
    """Base of every error prescale raises on purpose."""


class InputError(PrescaleError):
    """Bad configuration, workload spec, trace file or command-line usage.

    The CLI stops with exit code 2. The message names the field or line, the value, the rule
    and the fix.
    """

    def __init__(self, problems: str | list[str] | tuple[str, ...]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


class SourceUnavailableError(PrescaleError):
    """A metrics source could not be read this tick: skip the tick, keep the last targets."""


class ActuationError(PrescaleError):
    """Applying a target failed: record it and retry with backoff."""
