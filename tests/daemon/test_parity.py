"""Parity: the daemon's ticks and `prescale simulate`'s prescale policy set the same targets.

Both run the same planner tick (`planner.tick.step_on_floors`) on the same refits; this holds
them to it over twelve hours of the bundled NASA trace, minute by minute: the daemon driven by
an injected time on a trace-backed source, the simulator replaying the same minutes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import daemon_builders as b
import numpy as np
import pandas as pd
import pytest

from actuator import trace
from planner import spec
from simulator import lineup, results

UNTIL = pd.Timestamp("1995-08-29T18:00Z")  # the excerpt: Tuesday 06:00-18:00, the day's rise
REPLAY_S = 12 * 3600


@pytest.mark.slow
def test_daemon_ticks_set_the_simulators_targets_minute_by_minute(tmp_path: Path) -> None:
    workload = spec.parse_workloads(b.spec_data())[0]
    options = lineup.Options(
        replay_s=REPLAY_S,
        policies=(results.PolicyName.PRESCALE,),
        seed=1,
        refit_every_s=3600,
        until=UNTIL,
        mask_dropouts=False,  # the daemon's source shows the trace as it is
        # the daemon runs the default operating point (P90 band, no level correction); the
        # per-workload choice is the simulator's alone for now
        choose_operating_point=False,
    )
    replayed = lineup.run(workload, trace.load(b.TRACE), options)
    prescale = replayed.result(results.PolicyName.PRESCALE)
    assert prescale is not None
    simulated = prescale.timeseries["target_on_demand"]

    daemon, db = b.build(b.config_data(tmp_path / "prescale.db"))
    targets = []
    for now in simulated.index:
        report = daemon.run_once(pd.Timestamp(now).to_pydatetime())
        (decision,) = report.workloads[0].decisions
        targets.append(decision.replicas)

    daemon_targets = np.array(targets)
    mismatched = np.flatnonzero(daemon_targets != simulated.to_numpy())
    assert mismatched.size == 0, (
        f"{mismatched.size} of {simulated.size} minutes differ, first at "
        f"{simulated.index[mismatched[0]]}: daemon {daemon_targets[mismatched[0]]}, "
        f"simulator {simulated.iloc[mismatched[0]]}"
    )
    # the excerpt is not flat: the floor moved, so equality says something
    assert len(set(targets)) >= 3, sorted(set(targets))
    # the daemon refitted on the simulator's schedule: once at the start, then hourly
    stored = db.forecasts("chat", UNTIL.to_pydatetime() - dt.timedelta(seconds=REPLAY_S + 1))
    assert len(stored) == REPLAY_S // 3600 == replayed.forecast_refits
