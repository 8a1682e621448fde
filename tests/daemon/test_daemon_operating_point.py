"""The daemon's operating point on real parts (the bundled trace, a real SQLite store, the real
HTTP server): the spec's point until a re-selection, the choice made outside the jobs' lock,
stored, restored with its level factor on a restart, and exported."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from pathlib import Path

import daemon_builders as b
import pandas as pd

from actuator import clock, service
from planner import operating, spec
from simulator import results

START = pd.Timestamp("1995-08-26T00:00Z")
UNTIL = pd.Timestamp("1995-08-29T18:00Z")
MORNING = dt.datetime(1995, 8, 29, 4, 0, tzinfo=dt.UTC)  # before the Tuesday rise
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
WEEK_S = 7 * 86400
POINT = operating.OperatingPoint(0.5, True, operating.HoldRule.COOLDOWN)


def _config(tmp_path: Path) -> dict[str, object]:
    data = b.config_data(tmp_path / "prescale.db")
    source = b.excerpt(tmp_path / "excerpt.csv", START, UNTIL)
    data["workloads"][0]["source"] = {"trace": str(source)}  # type: ignore[index]
    data["schedule"]["refit"] = "6h"  # type: ignore[index]
    return data


def _choice() -> results.Choice:
    """A choice as `operating_point.choose` returns it (the chooser itself runs in the parity
    test and in the lock test below; here the store and the tick are under test)."""
    return results.Choice(
        point=POINT,
        met=True,
        slo=spec.Slo(99.5),
        windows=((START + pd.Timedelta(days=1), START + pd.Timedelta(days=2)),),
        frontier=(
            results.Frontier(POINT, (99.8,), 50.0),
            results.Frontier(operating.OperatingPoint(1.0, False, POINT.hold), (99.9,), 60.0),
        ),
        reason="cheapest of 1/2 points replayed serving >= 99.7 % of minutes on each of 1 windows",
    )


def test_the_spec_point_runs_until_a_choice_then_the_choice_survives_a_restart(
    tmp_path: Path,
) -> None:
    data = _config(tmp_path)
    first, db = b.build(data)
    before = first.run_once(MORNING).workloads[0]
    # the spec's P90 and hold, no correction, until a re-selection chose a point
    assert before.point == operating.OperatingPoint(1.0, False, operating.HoldRule.LEAD_TIME)
    assert not before.point_chosen
    first.use_choice("chat", _choice(), MORNING)
    ticks = [MORNING + i * HOUR for i in range(1, 11)]  # hourly: level updates between refits
    for now in ticks:
        ticked = first.run_once(now).workloads[0]
    assert ticked.point == POINT and ticked.point_chosen
    assert ticked.level_factor != 1.0  # the morning rise moved the level
    stored = db.latest_choice("chat")
    assert stored is not None and stored.choice == _choice() and stored.chosen_at == MORNING

    restarted, _ = b.build(data)  # a new process on the same store
    assert restarted.choice_view("chat") == first.choice_view("chat")
    after = ticks[-1] + MINUTE  # not a level update: the two step on the same plan
    theirs = first.run_once(after).workloads[0]
    ours = restarted.run_once(after).workloads[0]
    assert (ours.point, ours.level_factor, ours.floor) == (
        theirs.point,
        theirs.level_factor,
        theirs.floor,
    )
    assert [d.replicas for d in ours.decisions] == [d.replicas for d in theirs.decisions]


def test_the_choice_is_exported_on_metrics_and_the_plan(tmp_path: Path) -> None:
    core, db = b.build(_config(tmp_path))
    served = service.Service.of(core.settings, core, db, clock.ManualClock(MORNING))
    served.tick(MORNING)
    plan = served.plan_json("chat")
    assert plan is not None
    assert plan["operating_point"]["chosen"] is False
    core.use_choice("chat", _choice(), MORNING)
    ticked = served.tick(MORNING + MINUTE).workloads[0]
    factor = ticked.level_factor  # re-planned at the point
    widened_by = ticked.band_widened_by  # the forecast in force (refit at the first tick)
    assert widened_by is not None and 1.0 <= widened_by <= 3.0
    served.server.start()
    try:
        metrics = b.http_get(served.server.port, "/metrics")
        body = json.loads(b.http_get(served.server.port, "/api/v1/plan/chat"))
        page = b.http_get(served.server.port, "/report")
    finally:
        served.server.close()
    # the live report names the point the daemon plans at, and draws the frontier it chose on
    assert "provisioned for band 0.5, chosen for the SLO" in page
    assert page.count('class="plot plot-frontier"') == 1
    for line in (
        'prescale_operating_point_band_scale{workload="chat"} 0.5',
        'prescale_operating_point_level_correction{workload="chat"} 1.0',
        'prescale_operating_point_hold{hold="cooldown",workload="chat"} 1.0',
        'prescale_operating_point_hold{hold="lead_time",workload="chat"} 0.0',
        'prescale_operating_point_chosen{workload="chat"} 1.0',
        f'prescale_level_factor{{workload="chat"}} {factor!r}',
        f'prescale_band_widening{{workload="chat"}} {widened_by!r}',
    ):
        assert line in metrics, line
    point = body["operating_point"]
    assert (point["band_scale"], point["level_correction"], point["hold"]) == (
        0.5,
        True,
        "cooldown",
    )
    assert point["chosen"] is True and point["met"] is True and point["level_factor"] == factor
    assert point["chosen_at"] == "1995-08-29T04:00:00Z"  # MORNING
    assert point["reason"] == _choice().reason
    assert [row["chosen"] for row in point["frontier"]] == [True, False]


def test_the_operating_point_job_chooses_outside_the_lock_so_ticks_go_on(tmp_path: Path) -> None:
    core, db = b.build(_config(tmp_path))
    served = service.Service.of(core.settings, core, db, clock.ManualClock(MORNING))
    served.tick(MORNING)  # the first plan, so that the tick below is a plain step
    assert core.choices_due(MORNING)
    choosing = threading.Thread(target=served.rechoose, args=(MORNING,))
    choosing.start()
    ticked = served.tick(MORNING + MINUTE)  # under the jobs' lock, while the chooser replays
    still_choosing = choosing.is_alive()
    choosing.join()
    assert still_choosing, "the tick waited for the re-selection"
    assert not ticked.workloads[0].point_chosen  # the spec's point until the choice is in
    stored = db.latest_choice("chat")
    assert stored is not None and stored.choice.frontier  # the chooser replayed a window
    assert not core.choices_due(MORNING)
    assert served.tick(MORNING + 2 * MINUTE).workloads[0].point == stored.choice.point
    # chosen once a week (schedule.rechoose's default), as the simulator chooses once a week
    assert core.settings.schedule.rechoose_s == WEEK_S
    assert not core.choices_due(MORNING + dt.timedelta(seconds=WEEK_S - 60))
    assert core.choices_due(MORNING + dt.timedelta(seconds=WEEK_S))
    # the job passes over a workload whose choice is not due: the stored one stands
    served.rechoose(MORNING + 3 * MINUTE)
    again = db.latest_choice("chat")
    assert again is not None and again.chosen_at == stored.chosen_at


def test_a_choice_on_a_week_of_windows_stands_a_week_one_on_less_a_day(
    tmp_path: Path,
) -> None:
    data = _config(tmp_path)
    data["schedule"]["reselect"] = "1d"  # type: ignore[index]
    core, _ = b.build(data)
    day = dt.timedelta(days=1)
    young = _choice()  # one day's window: a history of days
    core.use_choice("chat", young, MORNING)
    assert not core.choice_due("chat", MORNING + day - MINUTE)
    assert core.choice_due("chat", MORNING + day)
    for count in (1, 2):  # the daemon's 28 days of history give one or two weekly windows
        weeks = tuple((START + i * 7 * day, START + (i + 1) * 7 * day) for i in range(count))
        core.use_choice("chat", dataclasses.replace(young, windows=weeks), MORNING)
        assert not core.choice_due("chat", MORNING + 7 * day - MINUTE)
        assert core.choice_due("chat", MORNING + 7 * day)
    six_days = ((START, START + 6 * day),)
    core.use_choice("chat", dataclasses.replace(young, windows=six_days), MORNING)
    assert core.choice_due("chat", MORNING + day)
