"""Pure: a trace on the simulator's 1-minute grid, split into warm-up and replayed period.

The simulator decides once per minute, so every trace is brought to arrivals per minute first:

- coarser traces (10-min, hourly) hold each interval's rate: an interval of `x` requests over
  `k` minutes becomes `x / k` in each of its minutes (the rate within an interval is unknown,
  so the flattest guess is used; the replay then cannot show peaks shorter than the interval);
- finer traces (per-second) are summed per minute; a minute with no data at all stays NaN.

The warm-up is everything before the replayed period: static and cron size themselves on it,
prescale fits its forecast on it, and the replayed period is simulated minute by minute.

Collection dropouts (runs of near-zero intervals that no Poisson process at the local level
would produce, e.g. ServeGen's exact-zero windows; forecaster.outliers.dropout_mask) are turned
into gaps before anything else: replayed as demand they would count as minutes every policy
serves for free, and observed they would tell a policy that traffic vanished. As gaps they are
neither served nor unserved, and policies see no metric for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecaster import outliers, series
from kernel import errors

MINUTE_S = 60
MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class Replay:
    """A minute-grid trace cut into the warm-up (training) part and the replayed part."""

    warmup: series.Trace  # interval_s == 60, ends the minute before `replayed` starts
    replayed: series.Trace  # interval_s == 60, the minutes the simulator steps through
    dropout_minutes: int = 0  # replayed minutes turned into gaps as collection dropouts

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.replayed.values.index[0])

    @property
    def minutes(self) -> int:
        return len(self.replayed.values)


def minute_trace(trace: series.Trace) -> series.Trace:
    """The trace as arrivals per minute on a 1-minute UTC grid (see the module docstring)."""
    interval_s = trace.interval_s
    if interval_s == MINUTE_S:
        return trace
    if interval_s > MINUTE_S and interval_s % MINUTE_S == 0:
        per = interval_s // MINUTE_S
        return _map(trace, lambda values: _hold(values, per))
    if interval_s < MINUTE_S and MINUTE_S % interval_s == 0:
        return _map(trace, _sum_per_minute)
    raise errors.InputError(
        f"trace interval ({interval_s} s) neither divides nor is a multiple of 60 s, so it "
        "cannot be replayed on the 1-minute grid; resample the trace to 1 s, 1 min, 10 min or 1 h"
    )


def _without_dropouts(trace: series.Trace, mask_dropouts: bool) -> tuple[series.Trace, np.ndarray]:
    """The trace with its collection dropouts as gaps (when `mask_dropouts`), and their mask."""
    dropped = np.zeros(len(trace.values), dtype=bool)
    if mask_dropouts and len(trace.values):
        dropped = outliers.dropout_mask(trace.values, trace.interval_s)
        if dropped.any():
            trace = _masked(trace, dropped)
    return trace, dropped


def history(trace: series.Trace, *, mask_dropouts: bool = True) -> series.Trace:
    """The whole trace as a history per minute, dropouts masked as `split` masks them: what a
    choice for the week after the trace is made on (nothing replayed)."""
    return minute_trace(_without_dropouts(trace, mask_dropouts)[0])


def split(trace: series.Trace, replay_s: int, *, mask_dropouts: bool = True) -> Replay:
    """Replay the last `replay_s` seconds of `trace` (per minute); warm up on the rest."""
    trace, dropped = _without_dropouts(trace, mask_dropouts)
    minutes = minute_trace(trace)
    total = len(minutes.values)
    replay_minutes = replay_s // MINUTE_S
    span_days = total / MINUTES_PER_DAY
    if replay_minutes <= 0:
        raise errors.InputError(
            errors.Problem(
                "replay", f"{replay_s} s", "must be at least one minute", "set {field} to e.g. 7d"
            )
        )
    if replay_minutes >= total:
        raise errors.InputError(
            errors.Problem(
                "replay",
                f"{replay_s / 86400:g} d",
                f"leaves no warm-up: the trace spans {span_days:.2f} d and the warm-up is "
                "everything before the replayed period",
                "pass a shorter {field} or a longer trace",
            )
        )
    cut = total - replay_minutes
    warmup = _slice(minutes, 0, cut)
    replayed = _slice(minutes, cut, total)
    if not np.isfinite(warmup.values.to_numpy()).any():
        raise errors.InputError(
            errors.Problem(
                "replay",
                f"{replay_s / 86400:g} d",
                f"leaves a warm-up ({warmup.values.index[0].isoformat()} to "
                f"{warmup.values.index[-1].isoformat()}) that holds no data, only gaps",
                "pass a shorter {field} or a trace with history before the replayed period",
            )
        )
    dropout_minutes = 0
    if dropped.any():
        flags = series.Trace(
            values=pd.Series(dropped.astype(float), index=trace.values.index),
            interval_s=trace.interval_s,
            column="dropout",
            prompt_tokens=None,
            completion_tokens=None,
        )
        held = minute_trace(flags).values.to_numpy()[cut:total]
        dropout_minutes = int(np.count_nonzero(held > 0))
    return Replay(warmup=warmup, replayed=replayed, dropout_minutes=dropout_minutes)


def until(trace: series.Trace, end: pd.Timestamp) -> series.Trace:
    """The trace up to (not including) `end`: to replay a period that is not the trace's last."""
    keep = pd.DatetimeIndex(trace.values.index) < end
    if not keep.any():
        raise errors.InputError(
            errors.Problem(
                "until",
                end.isoformat(),
                f"is before the trace starts ({trace.values.index[0].isoformat()})",
                "set {field} to a time within the trace",
            )
        )

    def cut(values: pd.Series | None) -> pd.Series | None:
        if values is None:
            return None
        part = values[keep]
        return pd.Series(
            part.to_numpy(dtype=float),
            index=pd.DatetimeIndex(part.index, freq=f"{trace.interval_s}s"),
            dtype=float,
        )

    kept = cut(trace.values)
    return series.Trace(
        values=trace.values if kept is None else kept,
        interval_s=trace.interval_s,
        column=trace.column,
        prompt_tokens=cut(trace.prompt_tokens),
        completion_tokens=cut(trace.completion_tokens),
    )


def _masked(trace: series.Trace, dropped: npt.NDArray[np.bool_]) -> series.Trace:
    def mask(values: pd.Series | None) -> pd.Series | None:
        if values is None:
            return None
        return values.mask(pd.Series(dropped, index=values.index))

    masked = mask(trace.values)
    return series.Trace(
        values=trace.values if masked is None else masked,
        interval_s=trace.interval_s,
        column=trace.column,
        prompt_tokens=mask(trace.prompt_tokens),
        completion_tokens=mask(trace.completion_tokens),
    )


def _map(trace: series.Trace, convert: Callable[[pd.Series], pd.Series]) -> series.Trace:
    return series.Trace(
        values=convert(trace.values),
        interval_s=MINUTE_S,
        column=trace.column,
        prompt_tokens=None if trace.prompt_tokens is None else convert(trace.prompt_tokens),
        completion_tokens=(
            None if trace.completion_tokens is None else convert(trace.completion_tokens)
        ),
    )


def _hold(values: pd.Series, per: int) -> pd.Series:
    start = pd.Timestamp(values.index[0]) if len(values) else pd.Timestamp(0, tz="UTC")
    index = pd.date_range(start, periods=len(values) * per, freq="min", tz="UTC")
    held = np.repeat(values.to_numpy(dtype=float) / per, per)
    return pd.Series(held, index=index, dtype=float)


def _sum_per_minute(values: pd.Series) -> pd.Series:
    summed = values.astype(float).resample("min", origin="epoch").sum(min_count=1)
    return _on_minute_grid(summed)


def _slice(trace: series.Trace, start: int, stop: int) -> series.Trace:
    def cut(values: pd.Series) -> pd.Series:
        return _on_minute_grid(values.iloc[start:stop])

    return series.Trace(
        values=cut(trace.values),
        interval_s=MINUTE_S,
        column=trace.column,
        prompt_tokens=None if trace.prompt_tokens is None else cut(trace.prompt_tokens),
        completion_tokens=None if trace.completion_tokens is None else cut(trace.completion_tokens),
    )


def _on_minute_grid(values: pd.Series) -> pd.Series:
    index = pd.DatetimeIndex(values.index, freq="min")
    return pd.Series(values.to_numpy(dtype=float), index=index, dtype=float)
