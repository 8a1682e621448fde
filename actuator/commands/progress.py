"""Shell: a one-line progress note on a terminal (stderr), for the commands whose work takes
more than a few seconds: replayed days per policy, workloads replayed or chosen so far. The
commands write it only when stderr is a terminal, so pipes and logs stay clean."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from simulator import results

BAR_WIDTH = 30


class ProgressBar:
    """A one-line progress bar on a terminal: replayed days per policy."""

    def __init__(self, stream: TextIO, *, label: str = "") -> None:
        self._stream = stream
        self._label = label  # e.g. the workload's name when several are replayed

    def note(self, text: str) -> None:
        self._stream.write(f"\r{text:<70}")
        self._stream.flush()

    def __call__(self, policy: results.PolicyName, minute: int, minutes: int) -> None:
        done = minute / minutes if minutes else 1.0
        filled = round(done * BAR_WIDTH)
        days = minutes / 1440
        self._stream.write(
            f"\r{self._label}{policy.value:<9} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{done * days:5.1f}/{days:.1f} d"
        )
        self._stream.flush()

    def done(self) -> None:
        width = 70 + len(self._label)
        self._stream.write("\r" + " " * width + "\r")
        self._stream.flush()


def counter(what: str, total: int, jobs: int) -> Callable[[int], None] | None:
    """`on_done(count)` for `pool.run_all` that notes "<what> 3/50 workloads in 2 processes"
    on a terminal, and clears the line when the last is done; None off a terminal."""
    if not sys.stderr.isatty():
        return None
    bar = ProgressBar(sys.stderr)

    def done(count: int) -> None:
        if count >= total:
            bar.done()
        else:
            bar.note(f"{what} {count}/{total} workloads in {jobs} processes ...")

    return done
