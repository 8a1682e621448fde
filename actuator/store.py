"""Shell: adapter for prescale's SQL store (SQLite or PostgreSQL through SQLAlchemy).

The schema is owned by the alembic migrations in `migrations/`; `migrate` brings a database to
head. Every datetime is stored timezone-aware and normalised to UTC on the way out, because
SQLite returns naive datetimes for `DateTime(timezone=True)` while PostgreSQL returns aware ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from kernel import errors

_METADATA = sa.MetaData()

POLICY_STATES = sa.Table(
    "policy_states",
    _METADATA,
    sa.Column("workload", sa.String(253), primary_key=True),
    sa.Column("state_json", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
DECISIONS = sa.Table(
    "decisions",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("capacity_type", sa.String(32), nullable=False),
    sa.Column("target_replicas", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("evidence_json", sa.Text(), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
)
COLD_STARTS = sa.Table(
    "cold_starts",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lead_time_s", sa.Float(), nullable=False),
)


@dataclass(frozen=True)
class DecisionRecord:
    """One applied (or advised) target, as stored."""

    workload: str
    capacity_type: str
    target_replicas: int
    reason: str
    evidence_json: str
    decided_at: dt.datetime


def alembic_config(url: str) -> Config:
    """Alembic config pointing at the packaged migrations and the given database URL."""
    here = Path(str(resources.files("migrations")))
    config = Config(str(here / "alembic.ini"))
    config.set_main_option("script_location", str(here))
    config.set_main_option("sqlalchemy.url", url)
    return config


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema; stored rows are kept."""
    try:
        command.upgrade(alembic_config(url), "head")
    except sa.exc.OperationalError as exc:
        raise errors.SourceUnavailableError(
            f"cannot migrate the store at {_redact(url)}: {exc.orig}; check the database URL "
            "and that the server is reachable"
        ) from exc


def utc(moment: dt.datetime) -> dt.datetime:
    """Normalise a stored datetime to aware UTC (SQLite hands back naive UTC values)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


class Store:
    """Reads and writes prescale's persisted state. Create with an engine from `connect`."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @classmethod
    def connect(cls, url: str) -> Store:
        migrate(url)
        return cls(sa.create_engine(url))

    def save_policy_state(self, workload: str, state_json: str, now: dt.datetime) -> None:
        now = _require_aware("now", now)
        with self._engine.begin() as conn:
            updated = conn.execute(
                POLICY_STATES.update()
                .where(POLICY_STATES.c.workload == workload)
                .values(state_json=state_json, updated_at=now)
            )
            if updated.rowcount == 0:
                conn.execute(
                    POLICY_STATES.insert().values(
                        workload=workload, state_json=state_json, updated_at=now
                    )
                )

    def load_policy_state(self, workload: str) -> str | None:
        """The last saved state of `workload`, or None when it has never been saved."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(POLICY_STATES.c.state_json).where(POLICY_STATES.c.workload == workload)
            ).first()
        return None if row is None else str(row[0])

    def record_decisions(self, records: list[DecisionRecord]) -> None:
        moments = [_require_aware("decided_at", r.decided_at) for r in records]
        if not records:
            return
        with self._engine.begin() as conn:
            conn.execute(
                DECISIONS.insert(),
                [
                    {
                        "workload": r.workload,
                        "capacity_type": r.capacity_type,
                        "target_replicas": r.target_replicas,
                        "reason": r.reason,
                        "evidence_json": r.evidence_json,
                        "decided_at": moment,
                    }
                    for r, moment in zip(records, moments, strict=True)
                ],
            )

    def decisions(self, workload: str, since: dt.datetime) -> list[DecisionRecord]:
        since = _require_aware("since", since)
        query = (
            sa.select(DECISIONS)
            .where(DECISIONS.c.workload == workload, DECISIONS.c.decided_at >= since)
            .order_by(DECISIONS.c.decided_at, DECISIONS.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            DecisionRecord(
                workload=row["workload"],
                capacity_type=row["capacity_type"],
                target_replicas=row["target_replicas"],
                reason=row["reason"],
                evidence_json=row["evidence_json"],
                decided_at=utc(row["decided_at"]),
            )
            for row in rows
        ]

    def record_cold_start(self, workload: str, ready_at: dt.datetime, lead_time_s: float) -> None:
        ready_at = _require_aware("ready_at", ready_at)
        if not lead_time_s >= 0:
            raise errors.InputError(
                f"lead_time_s ({lead_time_s}) for workload {workload} must be >= 0; "
                "a replica cannot be ready before it was ordered"
            )
        with self._engine.begin() as conn:
            conn.execute(
                COLD_STARTS.insert().values(
                    workload=workload, ready_at=ready_at, lead_time_s=lead_time_s
                )
            )

    def cold_starts_s(self, workload: str, since: dt.datetime) -> list[float]:
        """Observed cold starts of `workload` ready at or after `since`, oldest first."""
        since = _require_aware("since", since)
        query = (
            sa.select(COLD_STARTS.c.lead_time_s)
            .where(COLD_STARTS.c.workload == workload, COLD_STARTS.c.ready_at >= since)
            .order_by(COLD_STARTS.c.ready_at, COLD_STARTS.c.id)
        )
        with self._engine.connect() as conn:
            return [float(value) for (value,) in conn.execute(query)]


def _require_aware(field: str, moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC; SQLite would otherwise drop a non-UTC offset without converting."""
    if moment.tzinfo is None:
        raise errors.InputError(
            f"{field} ({moment.isoformat()}) is a naive datetime; the store keeps UTC only, "
            "pass a timezone-aware datetime"
        )
    return moment.astimezone(dt.UTC)


def _redact(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)
