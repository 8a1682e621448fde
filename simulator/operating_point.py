"""Pure: choose a workload's operating point for its SLO by replaying its own recent history.

The user states an SLO (share of minutes served, `spec.Slo`), not a quantile. Which band
point, level correction and scale-in hold meet it at the least GPU-hours depends on the
workload's traffic: a smooth service is served at its P50 plus the reactive step, a bursty one
needs its P90 and the lead-time hold. So prescale replays the last weeks of the history it has
(walk-forward: each validation window is forecast from the history before it only, with a
model chosen on that history, never on the window itself) at every point of a small grid, and
picks the cheapest point whose share of minutes served over the windows together meets the
SLO: the SLO is a share of minutes, and the windows' pooled share is its estimate from the
weeks the workload has. The band is searched by bisection, so about half of the grid is
replayed. If no point meets it, the point that serves most (the cheapest among equals). The
frontier it saw, served % against GPU-hours, is returned with the choice so that an operator
can see what the setting costs and buys. What else was measured for the choice and the grid
(margins, more sources and dimensions, feedback on the band) and left out, with its figures,
is in docs/architecture.md, "The operating point: measured and left out".

The model behind a window is chosen by the same backtest as any other (`forecast.select`): a
window with 8-13 days before it (histories of 15-20 days) may be forecast by weekly
seasonal-naive (backtest rule 6), so a window after a quiet Sunday is planned by weekday.

Forecasts do not depend on the point (the point is applied to the plan), so each window's
refits, and the floors planned on them, are made once and shared by every point's replay that
has the same (`predictive.Shared`).

`choose` is shaped as a worker: plain frozen inputs, a frozen result, no shared state, so a
pool or a distributed engine can run one workload per task.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from forecaster import forecast, series
from planner import operating, spec
from simulator import cold_start, engine, fits, predictive, replay, results, schedule, spot
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


def evidence_whole(choice: Choice) -> bool:
    """Whether the choice's windows replayed at least a week (a history of about two weeks or
    more; the daemon's default of 28 days gives one or two weekly windows); a choice made on a
    younger history has less evidence behind it, and the daemon re-makes it sooner."""
    replayed_s = sum((stop - start).total_seconds() for start, stop in choice.windows)
    return replayed_s >= WEEK_S


def choose(inputs: Inputs) -> Choice:
    """The cheapest grid point whose share of minutes served over the windows meets the SLO."""
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
    stamps = tuple(
        (
            pd.Timestamp(inputs.history.values.index[start]),
            pd.Timestamp(inputs.history.values.index[stop - 1]) + pd.Timedelta(minutes=1),
        )
        for start, stop in spans
    )
    prepared = [_window(inputs, start, stop) for start, stop in spans]
    wanted = slo.served_minutes_pct
    seen: dict[operating.OperatingPoint, Frontier] = {}

    def evaluate(point: operating.OperatingPoint) -> Frontier:
        if point not in seen:
            rows = [replay_point(inputs, window, point) for window in prepared]
            seen[point] = Frontier(point, tuple(r[0] for r in rows), sum(r[1] for r in rows))
        return seen[point]

    # Served share and cost both grow with the band (a higher floor never serves less), so
    # per level correction and hold the cheapest band meeting the SLO is found by bisection:
    # the widest band first (if it fails, none will), then halving the rest.
    for level_correction in (False, True):
        for hold in (operating.HoldRule.LEAD_TIME, operating.HoldRule.COOLDOWN):
            points = [operating.OperatingPoint(b, level_correction, hold) for b in BAND_SCALES]
            low, high = 0, len(points) - 1
            if evaluate(points[high]).pooled_served_pct < wanted:
                continue
            while low < high:
                middle = (low + high) // 2
                if evaluate(points[middle]).pooled_served_pct >= wanted:
                    high = middle
                else:
                    low = middle + 1
    frontier = tuple(seen[p] for p in GRID if p in seen)
    meeting = [f for f in frontier if f.pooled_served_pct >= wanted]
    if meeting:
        best = min(meeting, key=lambda f: f.gpu_hours)
        reason = (
            f"cheapest of {len(meeting)}/{len(frontier)} points replayed serving >= {wanted:g} "
            f"% of the minutes of {len(spans)} window(s)"
        )
        return Choice(best.point, True, slo, stamps, frontier, reason)
    best = min(frontier, key=lambda f: (-round(f.pooled_served_pct, 6), f.gpu_hours))
    reason = (
        f"no point served >= {wanted:g} % of the minutes of the {len(spans)} window(s); the "
        f"one serving most ({best.pooled_served_pct:.2f} %)"
    )
    return Choice(best.point, False, slo, stamps, frontier, reason)


@dataclass(frozen=True)
class Window:
    """A period made ready for replays at many points: the history before it, the model chosen
    on that history, the world, and the refits every point shares (a validation window here;
    bench/corpus.py --hindsight replays the replayed week itself this way)."""

    before: series.Trace
    selection: forecast.Selection
    world: scenario_.Scenario
    draws: spot.InterruptionDraws
    shared: predictive.Shared


def _window(inputs: Inputs, start: int, stop: int) -> Window:
    before = _slice(inputs.history, 0, start)
    split = replay.Replay(warmup=before, replayed=_slice(inputs.history, start, stop))
    cold = cold_start.ColdStartDistribution.fixed(inputs.lead_time_s)
    world = _scenario(inputs.workload, split, cold, inputs)
    return Window(
        before=before,
        selection=fits.select(before.values, resolution_s=inputs.resolution_s),
        world=world,
        draws=spot.InterruptionDraws.draw(inputs.seed, world.minutes),
        shared=predictive.Shared(),
    )


def replay_point(
    inputs: Inputs, window: Window, point: operating.OperatingPoint
) -> tuple[float, float]:
    """Served % and GPU-hours of one point replayed on one window."""
    policy = predictive.Prescale(
        inputs.workload,
        window.before,
        lead_time_s=inputs.lead_time_s,
        mix=inputs.mix,
        refit_every_s=inputs.refit_every_s,
        selection=window.selection,
        request=inputs.request,
        reserved=inputs.reserved,
        operating_point=point,
        shared=window.shared,
    )
    # the steps computed at once where they can be (schedule.py), the same result
    ahead = schedule.ahead(policy, window.world)
    row = engine.run(policy if ahead is None else ahead, window.world, window.draws)
    return row.served_minutes_pct, row.gpu_hours


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
    """(point, served % over the windows, GPU-hours, chosen) per efficient grid point,
    cheapest first (`results.frontier_rows`)."""
    return [
        (f.point.describe(), f.pooled_served_pct, f.gpu_hours, chosen)
        for f, chosen in results.frontier_rows(choice)
    ]
