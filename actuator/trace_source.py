"""Shell: a demand source backed by a CSV trace, answering as Prometheus would at a given time.

`history(since, until)` is the trace's arrivals per minute in [since, until); `latest(at)` the
arrivals of the minute just before `at` (what an instant query at `at` over the last minute
returns). Nothing after `at` is visible, so a daemon driven over a trace sees what it would have
seen live. It is what `source: {trace: FILE}` configures, and what the parity test drives the
daemon with against `prescale simulate`.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd

from actuator import trace as trace_file
from forecaster import series
from kernel import errors
from simulator import replay


class TraceSource:
    """Arrivals per minute from a trace (on the 1-minute grid, as the simulator replays it).

    Built `from_file`, it follows the file as a live source follows its server: each read
    checks the file, reloads it when it changed (a trace being appended to), and raises
    SourceUnavailableError while it is missing or unreadable (the daemon then holds).
    """

    def __init__(self, loaded: series.Trace) -> None:
        self._use(loaded)
        self._path: Path | None = None
        self._column: str | None = None
        self._mtime_ns = 0

    @property
    def interval_s(self) -> int:
        return replay.MINUTE_S

    def _use(self, loaded: series.Trace) -> None:
        self._trace = replay.minute_trace(loaded)
        self._values = self._trace.values

    @classmethod
    def from_file(cls, path: Path, column: str) -> TraceSource:
        source = cls(trace_file.load(path, column))
        source._path, source._column = path, column
        source._mtime_ns = path.stat().st_mtime_ns
        return source

    def _follow(self) -> None:
        if self._path is None:
            return
        try:
            mtime_ns = self._path.stat().st_mtime_ns
            if mtime_ns != self._mtime_ns:
                self._use(trace_file.load(self._path, self._column))
                self._mtime_ns = mtime_ns
        except (OSError, errors.InputError) as exc:
            raise errors.SourceUnavailableError(
                f"trace {self._path} cannot be read ({exc}); the last targets stay until it can"
            ) from None

    def history(self, since: dt.datetime, until: dt.datetime) -> series.Trace:
        """The trace in [since, until), every column cut the same way."""
        self._follow()
        index = self._values.index
        start = int(index.searchsorted(pd.Timestamp(since), side="left"))
        stop = int(index.searchsorted(pd.Timestamp(until), side="left"))

        def cut(values: pd.Series) -> pd.Series:
            part = values.iloc[start:stop]
            return pd.Series(
                part.to_numpy(dtype=float),
                index=pd.DatetimeIndex(part.index, freq="min"),
                dtype=float,
            )

        prompt, completion = self._trace.prompt_tokens, self._trace.completion_tokens
        return series.Trace(
            values=cut(self._values),
            interval_s=replay.MINUTE_S,
            column=self._trace.column,
            prompt_tokens=None if prompt is None else cut(prompt),
            completion_tokens=None if completion is None else cut(completion),
        )

    def latest(self, at: dt.datetime) -> float | None:
        """Arrivals of the minute before `at`; None in a gap or outside the trace."""
        self._follow()
        minute = pd.Timestamp(at).floor("min") - pd.Timedelta(minutes=1)
        if minute not in self._values.index:
            return None
        value = float(self._values.loc[minute])
        return None if math.isnan(value) else value
