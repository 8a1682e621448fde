"""Pool budgets in the daemon, on the bundled trace and a real SQLite store: two workloads
share one GPU pool; a refit plans them as `prescale plan` does (`fleet.plan_all`, the pool via
`budget.plan_pool`), no floor and no decided target is above the pool's cap, the pool never
holds more GPUs than its budget, and a restart keeps the caps."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import daemon_builders as b
import pandas as pd

from actuator import trace
from forecaster import forecast
from planner import fleet
from simulator import predictive

MONDAY_MORNING = dt.datetime(1995, 8, 28, 6, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
BUDGET_GPUS = 16  # the Monday peak wants about 2 x 12 replicas of 1 GPU: the budget binds
NAMES = ("chat", "chat-b")


def _config(db_path: Path, *, pooled: bool) -> dict[str, Any]:
    data = b.config_data(db_path)
    workloads = []
    for name in NAMES:
        extra = {"pool": "a100"} if pooled else {}
        workloads.append(
            {
                "spec": b.spec_data(name=name, **extra),
                "source": {"trace": str(b.TRACE)},
                "targets": {"on_demand": {"kind": "metric", "namespace": "chat", "name": name}},
            }
        )
    data["workloads"] = workloads
    data["schedule"]["refit"] = "2h"
    if pooled:
        data["pools"] = {"a100": {"gpus": BUDGET_GPUS}}
    return data


def test_a_refit_plans_the_pool_as_prescale_plan_does(tmp_path: Path) -> None:
    core, _ = b.build(_config(tmp_path / "prescale.db", pooled=True))
    core.run_once(MONDAY_MORNING)
    # `prescale plan` on the same history: one forecast, the pool shared within its budget
    loaded = trace.load(b.TRACE)
    before = loaded.values[loaded.values.index < pd.Timestamp(MONDAY_MORNING)]
    history = dataclasses.replace(loaded, values=before)
    made = forecast.forecast(
        history.values, horizon_s=predictive.WEEK_S, selection=forecast.select(history.values)
    )
    planned = fleet.plan_all([w.spec for w in core.settings.workloads], history, made)
    assert any(p.shortfall is not None for p in planned), "the budget binds this week"
    for expected in planned:
        ours = core._live[expected.workload.name].latest_plan
        assert ours is not None
        pd.testing.assert_frame_equal(ours.targets, expected.plan.targets)


def test_floors_and_targets_stay_within_the_pool_and_a_restart_keeps_the_caps(
    tmp_path: Path,
) -> None:
    data = _config(tmp_path / "pooled.db", pooled=True)
    core, _ = b.build(data)
    free, _ = b.build(_config(tmp_path / "free.db", pooled=False))
    over_budget = 0  # minutes in which the unpooled floors would need more GPUs than the pool
    ticks = [MONDAY_MORNING + i * 10 * MINUTE for i in range(12 * 6)]  # 06:00-18:00
    for now in ticks:
        report = core.run_once(now)
        floors = [w.floor or 0 for w in report.workloads]
        targets = [d.replicas for w in report.workloads for d in w.decisions]
        for w in report.workloads:
            assert w.replica_cap is not None
            assert (w.floor or 0) <= w.replica_cap, (now, w.workload)
            assert all(d.replicas <= w.replica_cap for d in w.decisions), (now, w.workload)
        assert sum(floors) <= BUDGET_GPUS and sum(targets) <= BUDGET_GPUS, now  # 1 GPU each
        over_budget += sum(w.floor or 0 for w in free.run_once(now).workloads) > BUDGET_GPUS
    assert over_budget > 0, "without the pool the day's floors exceed its budget"
    last = {w.workload: w.replica_cap for w in core.last_report.workloads}  # type: ignore[union-attr]
    restarted, _ = b.build(data)
    after = restarted.tick(ticks[-1] + MINUTE)
    assert {w.workload: w.replica_cap for w in after.workloads} == last
    print(f"pool: {over_budget} of {len(ticks)} ticks would exceed {BUDGET_GPUS} GPUs unpooled")
