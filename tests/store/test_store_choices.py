"""Migration 0003 on real SQLite and PostgreSQL: the chosen operating points, each plan's level
factor and the shadow score's hours."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import sqlalchemy as sa
from alembic import command

from actuator import store
from planner import operating, spec
from simulator import results

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _choice(band: float, reason: str) -> results.Choice:
    point = operating.OperatingPoint(band, True, operating.HoldRule.COOLDOWN)
    other = operating.OperatingPoint(None, False, operating.HoldRule.LEAD_TIME)
    return results.Choice(
        point=point,
        met=True,
        slo=spec.Slo(99.5),
        windows=((pd.Timestamp("2026-11-28T00:00Z"), pd.Timestamp("2026-11-29T12:00Z")),),
        frontier=(
            results.Frontier(point, (99.8,), 120.5),
            results.Frontier(other, (math.nan,), 98.0),
        ),
        reason=reason,
    )


def test_0003_adds_its_tables_and_column_and_downgrades_to_0002(url: str) -> None:
    store.migrate(url)
    inspector = sa.inspect(sa.create_engine(url))
    assert {"operating_points", "shadow_hours"} <= set(inspector.get_table_names())
    assert "level_factor" in {c["name"] for c in inspector.get_columns("plans")}
    command.downgrade(store.alembic_config(url), "0002")
    inspector = sa.inspect(sa.create_engine(url))
    assert not {"operating_points", "shadow_hours"} & set(inspector.get_table_names())
    assert "level_factor" not in {c["name"] for c in inspector.get_columns("plans")}


def test_a_plan_of_0002_reads_with_factor_one_after_the_upgrade(url: str) -> None:
    command.upgrade(store.alembic_config(url), "0002")
    with sa.create_engine(url).begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO plans (workload, made_at, start_at, floors_json, reserved, "
                "capacity_per_replica, lead_time_s, lead_time_source) VALUES "
                "('chat', :at, :at, '[3]', 0, 4.0, 600, 'spec_fallback')"
            ),
            {"at": NOW},
        )
    db = store.Store.connect(url)
    old = db.latest_plan("chat")
    assert old is not None and old.level_factor == 1.0
    db.save_plan(
        store.PlanRecord("chat", NOW + HOUR, NOW, (4,), 0, 4.0, 600, "learned", None, 1.25)
    )
    newer = db.latest_plan("chat")
    assert newer is not None and newer.level_factor == 1.25


def test_the_latest_choice_round_trips_with_its_frontier_windows_and_reason(url: str) -> None:
    db = store.Store.connect(url)
    assert db.latest_choice("chat") is None
    db.save_choice(store.ChoiceRecord("chat", NOW - DAY, _choice(1.0, "older")))
    db.save_choice(store.ChoiceRecord("chat", NOW, _choice(0.5, "cheapest of 3/5")))
    db.save_choice(store.ChoiceRecord("other", NOW + HOUR, _choice(2.0, "other")))
    latest = db.latest_choice("chat")
    assert latest is not None
    assert latest.chosen_at == NOW
    expected = _choice(0.5, "cheapest of 3/5")
    assert latest.choice.point == expected.point
    assert (latest.choice.met, latest.choice.slo, latest.choice.reason) == (
        True,
        spec.Slo(99.5),
        "cheapest of 3/5",
    )
    assert latest.choice.windows == expected.windows
    assert latest.choice.frontier[0] == expected.frontier[0]
    # NaN (a window with no data) survives as NaN, not as a number
    assert math.isnan(latest.choice.frontier[1].served_pct[0])
    assert latest.choice.frontier[1].point == expected.frontier[1].point


def test_shadow_hours_upsert_and_prune_keeps_the_newest_choice(url: str) -> None:
    db = store.Store.connect(url)
    hour = NOW.replace(minute=0)
    db.save_shadow_hours([store.ShadowHour("chat", hour - 9 * DAY, 60, 60, 59, 10.0, 9.0)])
    db.save_shadow_hours([store.ShadowHour("chat", hour, 3, 3, 2, 0.5, 0.4)])
    db.save_shadow_hours([store.ShadowHour("chat", hour, 4, 4, 3, 0.75, 0.5)])  # same hour
    assert [(h.hour_at, h.minutes) for h in db.shadow_hours(hour - 10 * DAY)] == [
        (hour - 9 * DAY, 60),
        (hour, 4),
    ]
    db.save_choice(store.ChoiceRecord("chat", NOW - 30 * DAY, _choice(1.0, "oldest")))
    db.save_choice(store.ChoiceRecord("lone", NOW - 30 * DAY, _choice(1.0, "lone")))
    db.save_choice(store.ChoiceRecord("chat", NOW - 20 * DAY, _choice(0.5, "newest")))
    pruned = db.prune(
        NOW,
        decisions_s=86400,
        forecasts_s=14 * 86400,
        cold_starts_s=86400,
        forecast_errors_s=86400,
        shadow_s=7 * 86400,
    )
    assert (pruned.operating_points, pruned.shadow_hours) == (1, 1)
    kept = db.latest_choice("chat")
    assert kept is not None and kept.choice.reason == "newest"
    assert db.latest_choice("lone") is not None  # a workload's only choice stays
    assert [h.hour_at for h in db.shadow_hours(hour - 10 * DAY)] == [hour]
