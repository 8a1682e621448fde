"""Parity: the daemon's ticks and `prescale simulate`'s prescale policy set the same targets,
at the operating point each chooses for the workload's SLO.

Both choose the point with the same function on the same history
(`operating_point.choose` on `lineup.operating_point_inputs`: the daemon at its re-selection,
the simulator on its warm-up), plan at it (`predictive.plan_at`) and run the same planner tick
(`planner.tick.step_on_floors`). This holds them to it over twelve hours of the bundled NASA
trace, minute by minute: the daemon driven by an injected time on a trace-backed source, the
simulator replaying the same minutes. The excerpt starts three days and six hours before the
end, so the chooser has one validation window (a day and a half) and the test stays short.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import daemon_builders as b
import numpy as np
import pandas as pd
import pytest

from actuator import trace, workloads
from planner import operating
from simulator import lineup, results

START = pd.Timestamp("1995-08-26T00:00Z")
UNTIL = pd.Timestamp("1995-08-29T18:00Z")  # the replay: Tuesday 06:00-18:00, the day's rise
REPLAY_S = 12 * 3600


@pytest.mark.slow
@pytest.mark.parametrize(
    "refit_s",
    [
        3600,  # a refit every hour: the level factor moves at refits only
        6 * 3600,  # every 6 h: the hourly level updates between refits re-plan the floor
    ],
    ids=["refit-1h", "refit-6h"],
)
def test_daemon_ticks_set_the_simulators_targets_at_the_chosen_point(
    tmp_path: Path, refit_s: int
) -> None:
    excerpt = b.excerpt(tmp_path / "excerpt.csv", START, UNTIL)
    workload = workloads.parse_workloads(b.spec_data())[0]
    options = lineup.Options(
        replay_s=REPLAY_S,
        policies=(results.PolicyName.PRESCALE,),
        seed=1,
        refit_every_s=refit_s,
        mask_dropouts=False,  # the daemon's source shows the trace as it is
        choose_operating_point=True,
    )
    replayed = lineup.run(workload, trace.load(excerpt), options)
    chosen = replayed.operating_point
    assert chosen is not None and len(chosen.windows) == 1, chosen
    prescale = replayed.result(results.PolicyName.PRESCALE)
    assert prescale is not None
    simulated = prescale.timeseries["target_on_demand"]

    data = b.config_data(tmp_path / "prescale.db")
    data["workloads"][0]["source"] = {"trace": str(excerpt)}
    data["schedule"]["refit"] = f"{refit_s}s"
    daemon, db = b.build(data)
    first = pd.Timestamp(simulated.index[0]).to_pydatetime()
    daemon.rechoose(first)  # the daemon's first start: the choice, then the ticks
    stored = db.latest_choice("chat")
    assert stored is not None
    assert stored.choice.point == chosen.point, (stored.choice.reason, chosen.reason)
    assert stored.choice.frontier == chosen.frontier
    targets = []
    for now in simulated.index:
        report = daemon.run_once(pd.Timestamp(now).to_pydatetime())
        (decision,) = report.workloads[0].decisions
        targets.append(decision.replicas)
    last = report.workloads[0]
    assert last.point == chosen.point and last.point_chosen

    daemon_targets = np.array(targets)
    mismatched = np.flatnonzero(daemon_targets != simulated.to_numpy())
    assert mismatched.size == 0, (
        f"{mismatched.size} of {simulated.size} minutes differ, first at "
        f"{simulated.index[mismatched[0]]}: daemon {daemon_targets[mismatched[0]]}, "
        f"simulator {simulated.iloc[mismatched[0]]}"
    )
    # the excerpt is not flat: the floor moved, so equality says something
    assert len(set(targets)) >= 3, sorted(set(targets))
    # the daemon refitted on the simulator's schedule: once at the start, then every refit_s
    stored_forecasts = db.forecasts("chat", UNTIL.to_pydatetime() - dt.timedelta(seconds=REPLAY_S))
    assert len(stored_forecasts) == REPLAY_S // refit_s == replayed.forecast_refits
    if chosen.point.level_correction:
        # the level moved on the excerpt's rise, so the correction's arithmetic was compared too
        assert last.level_factor != 1.0
    print(
        f"parity refit {refit_s} s: {simulated.size} minutes identical, targets "
        f"{min(targets)}-{max(targets)}, level factor {last.level_factor:.3f}, "
        f"point {chosen.point.describe()} (default would be "
        f"{operating.DEFAULT.describe()}): {chosen.reason}"
    )
