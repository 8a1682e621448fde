"""The store adapter against real SQLite and PostgreSQL, both through the alembic migrations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from actuator import store
from kernel import errors

NOW = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)


def test_migrations_create_every_table_and_downgrade_cleanly(url: str) -> None:
    store.migrate(url)
    inspector = sa.inspect(sa.create_engine(url))
    assert {"policy_states", "decisions", "cold_starts", "alembic_version"} <= set(
        inspector.get_table_names()
    )
    command.downgrade(store.alembic_config(url), "base")
    assert set(sa.inspect(sa.create_engine(url)).get_table_names()) <= {"alembic_version"}


def test_migrate_twice_keeps_rows(url: str) -> None:
    db = store.Store.connect(url)
    db.save_policy_state("chat", '{"total": 3}', NOW)
    store.migrate(url)
    assert db.load_policy_state("chat") == '{"total": 3}'


def test_policy_state_upserts(url: str) -> None:
    db = store.Store.connect(url)
    assert db.load_policy_state("chat") is None
    db.save_policy_state("chat", '{"total": 3}', NOW)
    db.save_policy_state("chat", '{"total": 5}', NOW + dt.timedelta(minutes=1))
    assert db.load_policy_state("chat") == '{"total": 5}'


def test_decisions_come_back_in_order_as_aware_utc(url: str) -> None:
    db = store.Store.connect(url)
    later = store.DecisionRecord("chat", "spot", 4, "forecast_floor", "{}", NOW)
    earlier = store.DecisionRecord(
        "chat", "on_demand", 2, "reactive", '{"demand": 7}', NOW - dt.timedelta(minutes=5)
    )
    other = store.DecisionRecord("vision", "spot", 1, "forecast_floor", "{}", NOW)
    db.record_decisions([later, earlier, other])
    got = db.decisions("chat", since=NOW - dt.timedelta(hours=1))
    assert got == [earlier, later]
    assert all(record.decided_at.tzinfo == dt.UTC for record in got)


def test_datetimes_in_other_zones_are_normalised_to_utc(url: str) -> None:
    db = store.Store.connect(url)
    plus_two = dt.timezone(dt.timedelta(hours=2))
    db.record_decisions(
        [store.DecisionRecord("chat", "spot", 1, "reactive", "{}", NOW.astimezone(plus_two))]
    )
    (record,) = db.decisions("chat", since=NOW - dt.timedelta(seconds=1))
    assert record.decided_at == NOW
    assert record.decided_at.utcoffset() == dt.timedelta(0)


def test_cold_starts_window(url: str) -> None:
    db = store.Store.connect(url)
    for minutes_ago, seconds in [(90, 400.0), (30, 610.0), (10, 550.0)]:
        db.record_cold_start("chat", NOW - dt.timedelta(minutes=minutes_ago), seconds)
    assert db.cold_starts_s("chat", since=NOW - dt.timedelta(hours=1)) == [610.0, 550.0]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda db: db.save_policy_state("chat", "{}", NOW.replace(tzinfo=None)), "now"),
        (lambda db: db.cold_starts_s("chat", NOW.replace(tzinfo=None)), "since"),
        (lambda db: db.record_cold_start("chat", NOW.replace(tzinfo=None), 1.0), "ready_at"),
    ],
    ids=["state-naive-now", "cold-starts-naive-since", "cold-start-naive-ready-at"],
)
def test_naive_datetimes_are_refused_by_name(call: object, field: str, tmp_path: Path) -> None:
    db = store.Store.connect(f"sqlite:///{tmp_path / 'p.sqlite'}")
    with pytest.raises(errors.InputError, match=f"^{field} .*naive.*timezone-aware"):
        call(db)  # type: ignore[operator]


def test_negative_cold_start_is_refused(tmp_path: Path) -> None:
    db = store.Store.connect(f"sqlite:///{tmp_path / 'p.sqlite'}")
    with pytest.raises(errors.InputError, match=r"lead_time_s \(-1.0\).*must be >= 0"):
        db.record_cold_start("chat", NOW, -1.0)


def test_unreachable_database_is_a_source_error() -> None:
    with pytest.raises(errors.SourceUnavailableError, match="cannot migrate the store"):
        store.migrate("sqlite:////nonexistent-dir/prescale.sqlite")


def test_a_sqlite_file_that_cannot_be_opened_names_the_file_and_what_to_check() -> None:
    with pytest.raises(errors.SourceUnavailableError) as failed:
        store.migrate("sqlite:////nonexistent-dir/prescale.sqlite")
    message = str(failed.value)
    assert "check that /nonexistent-dir/prescale.sqlite and its folder exist and are writable" in (
        message
    )
    assert "server" not in message


def test_a_server_that_refuses_says_to_check_the_server() -> None:
    # port 1 on loopback: refused at once, nothing listens there
    with pytest.raises(errors.SourceUnavailableError) as failed:
        store.migrate("postgresql+psycopg2://prescale:secret@127.0.0.1:1/prescale")
    message = str(failed.value)
    assert "that the server is up and reachable" in message
    assert "secret" not in message
