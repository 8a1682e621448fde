"""What the daemon keeps in the store, on real SQLite and PostgreSQL after the migrations."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa
from alembic import command

from actuator import store
from kernel import errors
from planner import spec, step

NOW = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_the_daemon_tables_exist_at_head_and_0002_downgrades_to_0001(url: str) -> None:
    store.migrate(url)
    tables = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {"forecasts", "plans", "forecast_errors"} <= tables
    command.downgrade(store.alembic_config(url), "0001")
    inspector = sa.inspect(sa.create_engine(url))
    assert "plans" not in inspector.get_table_names()
    assert "outcome" not in {c["name"] for c in inspector.get_columns("decisions")}


def test_a_decision_of_the_first_schema_reads_as_advised_after_the_upgrade(url: str) -> None:
    command.upgrade(store.alembic_config(url), "0001")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO decisions (workload, capacity_type, target_replicas, reason, "
                "evidence_json, decided_at) VALUES ('chat', 'spot', 3, 'reactive', '{}', :at)"
            ),
            {"at": NOW},
        )
    db = store.Store.connect(url)
    (old,) = db.decisions("chat", NOW - DAY)
    assert (old.outcome, old.target_ref, old.ready_replicas) == ("advised", None, None)


@pytest.mark.parametrize(
    "state",
    [
        step.PolicyState.initial(),
        step.PolicyState.initial(spec.ByType(2, 3, 4)),
        step.PolicyState(
            targets=spec.ByType(0, 1, 5),
            base=6,
            wants=((1764568800.123456789, 9), (math.inf, 6)),
            spot_targets=((-math.inf, 0), (1764568860.5, 1)),
        ),
    ],
    ids=["before-first-tick", "running-fleet", "held-want-and-spot-window"],
)
def test_policy_state_round_trips_through_the_store_exactly_with_its_infinities(
    url: str, state: step.PolicyState
) -> None:
    db = store.Store.connect(url)
    db.save_policy_state("chat", store.encode_state(state), NOW)
    text = db.load_policy_state("chat")
    assert text is not None
    assert store.decode_state(text) == state


def test_a_state_written_by_another_version_is_refused_with_the_fix() -> None:
    with pytest.raises(errors.InputError, match="delete the workload's row"):
        store.decode_state('{"version": 99}')


def test_decisions_keep_outcome_target_and_ready_and_come_back_newest_first(url: str) -> None:
    db = store.Store.connect(url)
    records = [
        store.DecisionRecord(
            "chat",
            "on_demand",
            n,
            "forecast_floor",
            '{"floor": 3}',
            NOW + n * DAY / 1440,
            outcome="applied",
            target_ref="hpa:chat/od",
            ready_replicas=n - 1,
        )
        for n in range(1, 4)
    ]
    db.record_decisions(records)
    newest = db.latest_decisions(2)
    assert [d.target_replicas for d in newest] == [3, 2]
    assert newest[0].outcome == "applied"
    assert newest[0].target_ref == "hpa:chat/od"
    assert newest[0].ready_replicas == 2
    assert newest[0].decided_at.tzinfo is dt.UTC


def test_cold_starts_are_deduplicated_by_pod_uid_across_reads(url: str) -> None:
    db = store.Store.connect(url)
    first = [store.ColdStartRecord("uid-a", NOW, 310.0), store.ColdStartRecord("uid-b", NOW, 420.0)]
    assert db.record_cold_starts("chat", first) == 2
    # a restart reads the same Pods again, plus one new
    again = [*first, store.ColdStartRecord("uid-c", NOW + DAY, 360.0)]
    assert db.record_cold_starts("chat", again) == 1
    assert db.record_cold_starts("other", first) == 2  # the uid is per workload
    assert db.cold_start_observations("chat", NOW - DAY) == [
        (NOW, 310.0),
        (NOW, 420.0),
        (NOW + DAY, 360.0),
    ]


def test_forecast_and_plan_round_trip_with_gaps_as_nan(url: str) -> None:
    db = store.Store.connect(url)
    forecast_id = db.save_forecast(
        store.ForecastRecord(
            "chat", NOW, "weekly_profile", 300, NOW, (("p50", (1.5, math.nan)), ("p90", (2.0, 3.0)))
        )
    )
    plan = store.PlanRecord(
        "chat", NOW, NOW, (2, 2, -1, 5), 1, 12.8, 600, "spec_fallback", forecast_id
    )
    db.save_plan(plan)
    db.save_plan(store.PlanRecord("other", NOW + DAY, NOW, (1,), 0, 1.0, 60, "learned", None))
    assert db.latest_plan("chat") == plan
    assert db.latest_plan("nobody") is None
    (made,) = db.forecasts("chat", NOW - DAY)
    assert made.column("p90") == (2.0, 3.0)
    assert made.column("p50")[0] == 1.5
    assert math.isnan(made.column("p50")[1])


def test_the_latest_forecast_error_per_horizon(url: str) -> None:
    db = store.Store.connect(url)
    db.record_forecast_errors(
        [
            store.ForecastError("chat", NOW, 3600, 12, 4.0, 0.8),
            store.ForecastError("chat", NOW, 21600, 72, 6.0, 0.9),
            store.ForecastError("chat", NOW + DAY, 3600, 12, 3.0, 0.92),
        ]
    )
    latest = db.latest_forecast_errors("chat")
    assert [(e.horizon_s, e.mae, e.p90_coverage) for e in latest] == [
        (3600, 3.0, 0.92),
        (21600, 6.0, 0.9),
    ]


def test_prune_drops_old_rows_but_keeps_each_workloads_newest_plan(url: str) -> None:
    db = store.Store.connect(url)
    old, recent = NOW - 40 * DAY, NOW - DAY
    for at in (old, recent):
        db.record_decisions([store.DecisionRecord("chat", "spot", 1, "reactive", "{}", at)])
        db.save_forecast(store.ForecastRecord("chat", at, "m", 300, at, (("p50", (1.0,)),)))
        db.record_cold_starts("chat", [store.ColdStartRecord(f"uid-{at.day}", at, 60.0)])
        db.record_forecast_errors([store.ForecastError("chat", at, 3600, 1, 1.0, 1.0)])
        db.record_skipped_refit(store.SkippedRefit("chat", at, "history_partial", "warned"))
    db.save_plan(store.PlanRecord("chat", old, old, (1,), 0, 1.0, 60, "learned"))
    db.save_plan(store.PlanRecord("stale", old, old, (4,), 0, 1.0, 60, "learned"))
    db.save_plan(store.PlanRecord("chat", recent, recent, (2,), 0, 1.0, 60, "learned"))
    pruned = db.prune(
        NOW,
        decisions_s=30 * 86400,
        forecasts_s=14 * 86400,
        cold_starts_s=30 * 86400,
        forecast_errors_s=30 * 86400,
    )
    assert pruned == store.Pruned(
        decisions=1, forecasts=1, plans=1, cold_starts=1, forecast_errors=1, skipped_refits=1
    )
    assert [r.skipped_at for r in db.skipped_refits("chat", old - DAY)] == [recent]
    assert [d.decided_at for d in db.decisions("chat", old - DAY)] == [recent]
    stale = db.latest_plan("stale")
    assert stale is not None and stale.floors == (4,)  # the only plan of its workload stays


def test_a_skipped_refit_is_stored_with_its_reason_and_0004_downgrades(url: str) -> None:
    db = store.Store.connect(url)
    db.record_skipped_refit(
        store.SkippedRefit("chat", NOW, "history_partial", "history is partial (warning)")
    )
    db.record_skipped_refit(store.SkippedRefit("other", NOW, "history_missing", "no series"))
    assert db.skipped_refits("chat", NOW - DAY) == [
        store.SkippedRefit("chat", NOW, "history_partial", "history is partial (warning)")
    ]
    assert db.skipped_refits("chat", NOW + DAY) == []
    command.downgrade(store.alembic_config(url), "0002")
    assert "skipped_refits" not in sa.inspect(sa.create_engine(url)).get_table_names()
