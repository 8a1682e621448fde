"""Pure: choose a workload's operating point for its SLO by replaying its own recent history.

The user states an SLO (share of minutes served, `spec.Slo`), not a quantile. Which band
point, level correction and scale-in hold meet it at the least GPU-hours depends on the
workload's traffic: a smooth service is served at its P50 plus the reactive step, a bursty one
needs its P90 and the lead-time hold. So prescale replays the last weeks of the history it has
(walk-forward: each validation window is forecast from the history before it only, with a
model chosen on that history, never on the window itself) at every point of a small grid, and
picks the cheapest point whose served share on every window is at least the SLO plus a margin
(the next week is not one of those seen). If no point meets it, the point that serves most
(the cheapest among equals). The frontier it saw, served % against GPU-hours, is returned
with the choice so that an operator can see what the setting costs and buys.

Forecasts do not depend on the point (the point is applied to the plan), so each window's
refits are made once and shared by every point's replay (`Prescale(forecasts=...)`).

`choose` is shaped as a worker: plain frozen inputs, a frozen result, no shared state, so a
pool or a distributed engine can run one workload per task.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pandas as pd

from forecaster import forecast, series
from planner import operating, spec
from simulator import cold_start, engine, predictive, replay, results, spot
from simulator import scenario as scenario_

DAY_S = 86400
WEEK_S = 7 * DAY_S
MINUTE_S = 60
# Up to two weekly windows: two weeks of evidence for the choice, and about two replays'
# worth of refits per grid (the forecasts are shared by the points).
MAX_WINDOWS = 2
# A window needs at least this much history before it (a day: the daily-regime models), and
# at most half of the history is spent on windows so the model behind them is not starved.
MIN_HISTORY_S = DAY_S
MIN_WINDOW_S = DAY_S
# Required on each window beyond the SLO: the week to come is not one of those seen, and one
# week's served share varies by a few tenths of a point between weeks of the same service.
MARGIN_PCT = 0.2
BAND_SCALES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
GRID = tuple(
    operating.OperatingPoint(band, level, hold)
    for band in BAND_SCALES
    for level in (False, True)
    for hold in (operating.HoldRule.LEAD_TIME, operating.HoldRule.COOLDOWN)
)


Frontier = results.Frontier
Choice = results.Choice


@dataclass(frozen=True)
class Inputs:
    """What the replays need; the same the simulator gives prescale."""

    workload: spec.WorkloadSpec
    history: series.Trace  # per minute (replay.minute_trace), what the workload has seen
    lead_time_s: int
    mix: results.MixMode
    refit_every_s: int
    resolution_s: int | None  # the model resolution (None: the forecaster's default)
    request: spec.RequestShape
    reserved: int
    seed: int = 0


def windows(history: series.Trace) -> tuple[tuple[int, int], ...]:
    """Minute index ranges [start, stop) of the validation windows, oldest first."""
    total = len(history.values)
    budget = min(MAX_WINDOWS * WEEK_S, max(total * MINUTE_S - MIN_HISTORY_S, 0), total * 30)
    if budget < MIN_WINDOW_S:
        return ()
    count = max(1, min(MAX_WINDOWS, budget // WEEK_S))
    length = min(WEEK_S, budget // count) // MINUTE_S
    return tuple((total - i * length, total - (i - 1) * length) for i in range(count, 0, -1))


def choose(inputs: Inputs) -> Choice:
    """The cheapest grid point that meets the SLO plus MARGIN_PCT on every window."""
    slo = inputs.workload.slo
    spans = windows(inputs.history)
    if not spans:
        return Choice(
            operating.DEFAULT,
            False,
            slo,
            (),
            (),
            "too little history for a validation window (needs 2 days): the spec's quantile",
        )
    served: dict[operating.OperatingPoint, list[float]] = {p: [] for p in GRID}
    hours: dict[operating.OperatingPoint, float] = dict.fromkeys(GRID, 0.0)
    stamps = []
    for start, stop in spans:
        stamps.append(
            (
                pd.Timestamp(inputs.history.values.index[start]),
                pd.Timestamp(inputs.history.values.index[stop - 1]) + pd.Timedelta(minutes=1),
            )
        )
        for point, (pct, gpu_hours) in _replay_window(inputs, start, stop).items():
            served[point].append(pct)
            hours[point] += gpu_hours
    frontier = tuple(Frontier(p, tuple(served[p]), hours[p]) for p in GRID)
    wanted = slo.served_minutes_pct + MARGIN_PCT
    meeting = [f for f in frontier if f.worst_served_pct >= min(wanted, 100.0)]
    if meeting:
        best = min(meeting, key=lambda f: f.gpu_hours)
        reason = (
            f"cheapest of {len(meeting)}/{len(frontier)} points serving >= {wanted:g} % of "
            f"minutes on each of {len(spans)} windows"
        )
        return Choice(best.point, True, slo, tuple(stamps), frontier, reason)
    best = min(frontier, key=lambda f: (-round(f.worst_served_pct, 6), f.gpu_hours))
    reason = (
        f"no point served >= {wanted:g} % on every window; the one serving most "
        f"({best.worst_served_pct:.2f} % on the worst)"
    )
    return Choice(best.point, False, slo, tuple(stamps), frontier, reason)


def _replay_window(
    inputs: Inputs, start: int, stop: int
) -> dict[operating.OperatingPoint, tuple[float, float]]:
    """Served % and GPU-hours of every grid point replayed on minutes [start, stop)."""
    trace = inputs.history
    before = _slice(trace, 0, start)
    window = _slice(trace, start, stop)
    split = replay.Replay(warmup=before, replayed=window)
    workload = inputs.workload
    selection = forecast.select(before.values, resolution_s=inputs.resolution_s)
    cold = cold_start.ColdStartDistribution.fixed(inputs.lead_time_s)
    world = _scenario(workload, split, cold, inputs)
    draws = spot.InterruptionDraws.draw(inputs.seed, world.minutes)
    shared: dict[int, forecast.Forecast] = {}
    results = {}
    for point in GRID:
        policy = predictive.Prescale(
            workload,
            before,
            lead_time_s=inputs.lead_time_s,
            mix=inputs.mix,
            refit_every_s=inputs.refit_every_s,
            selection=selection,
            request=inputs.request,
            reserved=inputs.reserved,
            operating_point=point,
            forecasts=shared,
        )
        row = engine.run(policy, world, draws)
        results[point] = (row.served_minutes_pct, row.gpu_hours)
    return results


def _scenario(
    workload: spec.WorkloadSpec,
    split: replay.Replay,
    cold: cold_start.ColdStartDistribution,
    inputs: Inputs,
) -> scenario_.Scenario:
    # lineup.scenario, imported late: lineup builds prescale with this module's choice
    from simulator import lineup  # noqa: PLC0415 - lineup imports this module

    return lineup.scenario(workload, split, cold, inputs.seed, inputs.request)


def _slice(trace: series.Trace, start: int, stop: int) -> series.Trace:
    def cut(values: pd.Series | None) -> pd.Series | None:
        if values is None:
            return None
        part = values.iloc[start:stop]
        return pd.Series(part.to_numpy(dtype=float), index=pd.DatetimeIndex(part.index, freq="min"))

    values = cut(trace.values)
    return dataclasses.replace(
        trace,
        values=trace.values if values is None else values,
        prompt_tokens=cut(trace.prompt_tokens),
        completion_tokens=cut(trace.completion_tokens),
    )


def frontier_rows(choice: Choice) -> list[tuple[str, float, float, bool]]:
    """(point, worst served %, GPU-hours, chosen) per efficient grid point, cheapest first:
    a point is left out when a cheaper one serves as much (the chosen one always stays)."""
    ordered = sorted(choice.frontier, key=lambda f: (f.gpu_hours, -f.worst_served_pct))
    rows = []
    best = -math.inf
    for f in ordered:
        chosen = f.point == choice.point
        if f.worst_served_pct > best or chosen:
            rows.append((f.point.describe(), f.worst_served_pct, f.gpu_hours, chosen))
        best = max(best, f.worst_served_pct)
    return rows
