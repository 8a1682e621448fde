"""The daemon's tick on real parts: the bundled trace as its source, a real SQLite store.

Time is injected (each tick is given its `now`), so an afternoon of ticks runs in seconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from pathlib import Path

import daemon_builders as b
import pytest

from actuator import daemon, store

MONDAY_NOON = dt.datetime(1995, 8, 28, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def minutes(start: dt.datetime, count: int) -> list[dt.datetime]:
    return [start + i * MINUTE for i in range(count)]


def targets_of(report: daemon.TickReport) -> dict[str, int]:
    return {d.target.capacity_type.value: d.replicas for d in report.workloads[0].decisions}


@pytest.fixture
def own_trace(tmp_path: Path) -> Path:
    """A copy of the bundled trace the test may take away (a source outage)."""
    path = tmp_path / "trace.csv.gz"
    shutil.copy(b.TRACE, path)
    return path


def with_trace(tmp_path: Path, trace: Path) -> dict[str, object]:
    data = b.config_data(tmp_path / "prescale.db")
    data["workloads"][0]["source"] = {"trace": str(trace)}  # type: ignore[index]
    return data


def test_a_source_outage_keeps_the_last_targets_records_why_and_recovers(
    tmp_path: Path, own_trace: Path
) -> None:
    core, db = b.build(with_trace(tmp_path, own_trace))
    before = core.run_once(MONDAY_NOON)
    hidden = own_trace.with_suffix(".away")
    own_trace.rename(hidden)  # the source goes away
    held = core.run_once(MONDAY_NOON + MINUTE)
    (decision,) = held.workloads[0].decisions
    assert targets_of(held) == targets_of(before)
    assert (decision.reason, decision.outcome) == ("source_unavailable", daemon.Outcome.HELD)
    assert held.workloads[0].source_up is False
    stored = db.decisions("chat", MONDAY_NOON)[-1]
    assert (stored.reason, stored.outcome) == ("source_unavailable", "held")
    hidden.rename(own_trace)  # back
    after = core.run_once(MONDAY_NOON + 2 * MINUTE)
    assert after.workloads[0].source_up is True
    assert after.workloads[0].decisions[0].outcome is daemon.Outcome.EXPORTED


def test_a_long_outage_never_scales_in(tmp_path: Path, own_trace: Path) -> None:
    """Twelve hours without the source across the evening's fall: the floor stays put."""
    core, _ = b.build(with_trace(tmp_path, own_trace))
    start = dt.datetime(1995, 8, 28, 17, 0, tzinfo=dt.UTC)
    last = targets_of(core.run_once(start))
    own_trace.unlink()
    for now in minutes(start + MINUTE, 12 * 60)[::30]:
        assert targets_of(core.run_once(now)) == last


def test_a_restart_sets_the_same_targets_and_state_as_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    """Run A ticks 40 minutes and stops; B starts on A's store and ticks on. An uninterrupted
    run C on its own store must agree with B minute by minute, state included."""
    ticks = minutes(MONDAY_NOON, 90)
    first_half, second_half = ticks[:40], ticks[40:]
    a, shared = b.build(b.config_data(tmp_path / "restarted.db"))
    for now in first_half:
        a.run_once(now)
    c, _ = b.build(b.config_data(tmp_path / "uninterrupted.db"))
    for now in first_half:
        c.run_once(now)
    stored_before = len(shared.decisions("chat", MONDAY_NOON))
    restarted, _ = b.build(b.config_data(tmp_path / "restarted.db"))  # a new process
    # The first tick after the restart is held to the uninterrupted run's tick at the same
    # minute, not to A's last tick: the forecast floor may move at that very minute (it rises
    # at 12:40 on this trace).
    for now in second_half:
        restarted_report = restarted.run_once(now)
        assert targets_of(restarted_report) == targets_of(c.run_once(now)), now
    assert restarted._live["chat"].state == c._live["chat"].state
    # a steady first tick after the restart adds no decision row: nothing changed
    assert len(shared.decisions("chat", MONDAY_NOON)) >= stored_before


def test_decisions_are_stored_when_they_change_with_their_evidence(tmp_path: Path) -> None:
    core, db = b.build(b.config_data(tmp_path / "prescale.db"))
    reports = [
        core.run_once(now) for now in minutes(dt.datetime(1995, 8, 28, 6, 0, tzinfo=dt.UTC), 240)
    ]
    changes = sum(
        1
        for previous, report in itertools.pairwise(reports)
        if (targets_of(previous), previous.workloads[0].decisions[0].reason)
        != (targets_of(report), report.workloads[0].decisions[0].reason)
    )
    stored = db.decisions("chat", dt.datetime(1995, 8, 28, tzinfo=dt.UTC))
    assert len(stored) == changes + 1  # the first, then each change
    assert changes >= 2  # the morning rise moved the target
    evidence = json.loads(stored[-1].evidence_json)
    assert set(evidence) >= {"forecast_floor", "observed_demand", "reactive_need", "held"}
    assert stored[-1].target_ref == "metric:chat/chat-od"


def test_forecast_error_is_scored_per_horizon_after_a_day_of_refits(tmp_path: Path) -> None:
    data = b.config_data(tmp_path / "prescale.db")
    data["schedule"]["refit"] = "6h"  # type: ignore[index]
    core, db = b.build(data)
    start = dt.datetime(1995, 8, 27, 0, 0, tzinfo=dt.UTC)
    for hour in range(0, 31, 6):
        core.run_once(start + dt.timedelta(hours=hour))
    scores = db.latest_forecast_errors("chat")
    assert [s.horizon_s for s in scores] == [3600, 21600, 86400]
    for s in scores:
        assert s.count > 0
        assert 0.0 <= s.p90_coverage <= 1.0
        assert 0.0 < s.mae < 200.0  # requests per minute; the trace peaks near 300


def test_a_tick_reads_now_once_and_stores_it_on_every_row(tmp_path: Path) -> None:
    core, db = b.build(b.config_data(tmp_path / "prescale.db"))
    report = core.run_once(MONDAY_NOON)
    assert report.at == MONDAY_NOON
    assert {d.decided_at for d in db.decisions("chat", MONDAY_NOON)} == {MONDAY_NOON}
    assert isinstance(db, store.Store)


def test_a_stated_quantile_is_planned_as_it_stands_with_no_point_chosen(tmp_path: Path) -> None:
    """The expert override: no operating point is due or chosen (no history is read for it),
    and the point in force is the spec's P99 band with its hold, tick after tick."""
    data = b.config_data(tmp_path / "prescale.db")
    data["workloads"][0]["spec"] = b.spec_data(provisioning_quantile="p99")  # type: ignore[index]
    core, _ = b.build(data)
    assert core.choices_due(MONDAY_NOON) is False
    assert core.choose_point("chat", MONDAY_NOON) is None
    core.rechoose(MONDAY_NOON)
    for now in minutes(MONDAY_NOON, 3):
        core.run_once(now)
    choice, chosen_at, point, _ = core.choice_view("chat")
    assert (choice, chosen_at) == (None, None)
    assert (point.band_scale, point.level_correction) == (2.0, False)
    # the same spec without the key: a point is due at once
    plain, _ = b.build(b.config_data(tmp_path / "plain.db"))
    assert plain.choices_due(MONDAY_NOON) is True


def test_a_start_inside_a_bucket_steps_on_the_forecast_floor_at_once(tmp_path: Path) -> None:
    """Started at 12:03, the forecast begins with the 12:05 bucket (12:00 is under way): the
    ticks at 12:03 and 12:04 step on the plan's first floor, not on none (reactive only)."""
    core, _ = b.build(b.config_data(tmp_path / "prescale.db"))
    start = MONDAY_NOON + 3 * MINUTE
    ticks = [core.run_once(now).workloads[0] for now in minutes(start, 3)]
    assert ticks[0].refit_at == start
    floors = [t.floor for t in ticks]
    assert None not in floors and floors[0] == floors[2]
    assert [t.decisions[0].reason for t in ticks[:2]] == ["forecast_floor"] * 2
