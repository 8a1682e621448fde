"""Shell: next week's plans at each workload's operating point for its SLO: what `plan` and
`report` print.

The user states an SLO (`slo: {served_minutes: 99.5%}`), not a quantile. Each workload's point
(band, level correction, scale-in hold) is chosen by replaying the trace's last weeks
walk-forward (`lineup.choose_task`, as the daemon re-chooses weekly), one workload per task of
the process pool; the fleet is then planned on the one forecast at each point's band and hold,
pools within their budgets. A spec stating `provisioning_quantile` (an expert override) is
planned at that quantile as it stands, with no replay: the fast path for large fleets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from actuator import pool
from actuator.commands import progress
from forecaster import forecast, series
from planner import fleet, spec
from simulator import lineup, predictive, results


@dataclass(frozen=True)
class AtPoints:
    """Each workload's plan and the choice it was planned at (None: the spec's quantile)."""

    planned: list[fleet.PlannedWorkload]
    choices: list[results.Choice | None]


def plan(
    specs: Sequence[spec.WorkloadSpec],
    history: series.Trace,
    predicted: forecast.Forecast,
    *,
    jobs: int | None = None,
) -> AtPoints:
    """Choose every workload's point on `history` (`jobs` processes; None: one per core), then
    plan the fleet on `predicted` at those points."""
    workers = pool.default_jobs(len(specs)) if jobs is None else jobs
    tasks = [lineup.PointTask(w, history) for w in specs]
    # only choices take time: a progress note when any is made (on a terminal)
    note = (
        progress.counter("chose operating points for", len(tasks), workers)
        if any(not w.quantile_override for w in specs)
        else None
    )
    if note is not None:
        note(0)
    choices: list[results.Choice | None] = list(
        pool.run_all(lineup.choose_task, tasks, workers, on_done=note)
    )
    points = {w.name: c.point for w, c in zip(specs, choices, strict=True) if c is not None}
    at_points = [
        dataclasses.replace(w, scale_in_hold=points[w.name].hold) if w.name in points else w
        for w in specs
    ]
    planned = fleet.plan_all(
        at_points,
        history,
        predicted,
        forecasts={
            w.name: predictive.at_point(w, predicted, points[w.name], 1.0)
            for w in at_points
            if w.name in points
        },
    )
    return AtPoints(planned, choices)
