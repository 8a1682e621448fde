"""Shell: adapter for prescale's SQL store (SQLite or PostgreSQL through SQLAlchemy).

What the daemon keeps: policy state per workload (`encode_state`, lossless for the infinities
`PolicyState` holds), every decision with its reason, evidence and outcome, cold starts by pod
(deduplicated across restarts), the forecast and plan of every refit, forecast error per
horizon; `prune` applies the retention.

The schema is owned by the alembic migrations in `migrations/`; `migrate` brings a database to
head. Every datetime is stored timezone-aware and normalised to UTC on the way out, because
SQLite returns naive datetimes for `DateTime(timezone=True)` while PostgreSQL returns aware ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from kernel import errors
from planner import operating, spec, step
from simulator import results

# Bumped when encode_state's layout changes; an old row is refused with a fix, not misread.
STATE_VERSION = 1

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
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("target_ref", sa.String(600), nullable=True),
    sa.Column("ready_replicas", sa.Integer(), nullable=True),
)
COLD_STARTS = sa.Table(
    "cold_starts",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("lead_time_s", sa.Float(), nullable=False),
    sa.Column("pod_uid", sa.String(64), nullable=True),
)
FORECASTS = sa.Table(
    "forecasts",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("resolution_s", sa.Integer(), nullable=False),
    sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("frame_json", sa.Text(), nullable=False),
)
PLANS = sa.Table(
    "plans",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("forecast_id", sa.Integer(), nullable=True),
    sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("floors_json", sa.Text(), nullable=False),
    sa.Column("reserved", sa.Integer(), nullable=False),
    sa.Column("capacity_per_replica", sa.Float(), nullable=False),
    sa.Column("lead_time_s", sa.Integer(), nullable=False),
    sa.Column("lead_time_source", sa.String(32), nullable=False),
    sa.Column("level_factor", sa.Float(), nullable=False),
    sa.Column("caps_json", sa.Text(), nullable=True),
)
OPERATING_POINTS = sa.Table(
    "operating_points",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("band_scale", sa.Float(), nullable=True),
    sa.Column("level_correction", sa.Boolean(), nullable=False),
    sa.Column("hold", sa.String(32), nullable=False),
    sa.Column("met", sa.Boolean(), nullable=False),
    sa.Column("slo_served_pct", sa.Float(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("windows_json", sa.Text(), nullable=False),
    sa.Column("frontier_json", sa.Text(), nullable=False),
)
SHADOW_HOURS = sa.Table(
    "shadow_hours",
    _METADATA,
    sa.Column("workload", sa.String(253), primary_key=True),
    sa.Column("hour_at", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("minutes", sa.Integer(), nullable=False),
    sa.Column("plan_served", sa.Integer(), nullable=False),
    sa.Column("actual_served", sa.Integer(), nullable=False),
    sa.Column("plan_usd", sa.Float(), nullable=False),
    sa.Column("actual_usd", sa.Float(), nullable=False),
)
FORECAST_ERRORS = sa.Table(
    "forecast_errors",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("horizon_s", sa.Integer(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("mae", sa.Float(), nullable=False),
    sa.Column("p90_coverage", sa.Float(), nullable=False),
)
SKIPPED_REFITS = sa.Table(
    "skipped_refits",
    _METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("workload", sa.String(253), nullable=False),
    sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
)


@dataclass(frozen=True)
class SkippedRefit:
    """A refit not made: the plan in force stayed. `reason` as the daemon names it
    (`history_partial`, `history_missing`, `source_unavailable`), `detail` the source's words."""

    workload: str
    skipped_at: dt.datetime
    reason: str
    detail: str


@dataclass(frozen=True)
class DecisionRecord:
    """One applied (or advised) target, as stored."""

    workload: str
    capacity_type: str
    target_replicas: int
    reason: str
    evidence_json: str
    decided_at: dt.datetime
    # what the daemon did with it (see daemon.Outcome); rows of the first schema read "advised"
    outcome: str = "advised"
    target_ref: str | None = None  # kind:namespace/name of the object holding the floor
    ready_replicas: int | None = None  # ready replicas of that type when decided; None: unknown


@dataclass(frozen=True)
class ColdStartRecord:
    """One observed cold start: a Pod's creation to its Ready condition."""

    pod_uid: str  # deduplicates across restarts and overlapping reads
    ready_at: dt.datetime
    lead_time_s: float


@dataclass(frozen=True)
class PlanRecord:
    """A refit's plan as the daemon steps on it: the floor per minute from `start_at`."""

    workload: str
    made_at: dt.datetime
    start_at: dt.datetime  # first minute of `floors`
    floors: tuple[int, ...]  # -1 where no forecast covers the minute
    reserved: int
    capacity_per_replica: float
    lead_time_s: int
    lead_time_source: str
    forecast_id: int | None = None
    level_factor: float = 1.0  # the level correction's factor the floors were planned with
    # the pool budget's replica cap per minute, on the floors' minutes; None: not pooled
    caps: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ChoiceRecord:
    """A workload's operating point as chosen at a re-selection (the simulator's `Choice`)."""

    workload: str
    chosen_at: dt.datetime
    choice: results.Choice


@dataclass(frozen=True)
class ShadowHour:
    """One hour of a workload's shadow score: minutes scored, served by the plan and by what
    ran, and what each cost."""

    workload: str
    hour_at: dt.datetime  # the hour's first second
    minutes: int
    plan_served: int
    actual_served: int
    plan_usd: float
    actual_usd: float


@dataclass(frozen=True)
class ForecastRecord:
    """A refit's forecast: quantile columns at `resolution_s` from `start_at`."""

    workload: str
    made_at: dt.datetime
    model: str
    resolution_s: int
    start_at: dt.datetime
    columns: tuple[tuple[str, tuple[float, ...]], ...]  # (name, values); NaN kept as null

    def column(self, name: str) -> tuple[float, ...]:
        return dict(self.columns)[name]


@dataclass(frozen=True)
class ForecastError:
    """How far a workload's forecasts were off at one horizon, over the forecasts scored."""

    workload: str
    scored_at: dt.datetime
    horizon_s: int
    count: int  # buckets compared
    mae: float  # mean absolute error of P50, in the forecast's unit
    p90_coverage: float  # share of buckets at or below P90


@dataclass(frozen=True)
class Pruned:
    """Rows removed by one retention pass, per table."""

    decisions: int
    forecasts: int
    plans: int
    cold_starts: int
    forecast_errors: int
    operating_points: int = 0
    shadow_hours: int = 0
    skipped_refits: int = 0


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
            f"cannot migrate the store at {_redact(url)}: {exc.orig}; {_check(url)}"
        ) from exc


def utc(moment: dt.datetime) -> dt.datetime:
    """Normalise a stored datetime to aware UTC (SQLite hands back naive UTC values)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


# How long a SQLite write waits for another connection's lock: a few seconds is nothing in a
# one-minute tick, and an HTTP read or a backup holding the file briefly is not an outage.
SQLITE_BUSY_TIMEOUT_S = 5.0


class StoreUnavailableError(errors.SourceUnavailableError):
    """The database did not answer: locked past the busy timeout, stopped, unreachable. The
    caller keeps what it meant to write and tries again later."""


class Store:
    """Reads and writes prescale's persisted state. Create with an engine from `connect`."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @contextlib.contextmanager
    def _session(self, *, write: bool) -> Iterator[sa.Connection]:
        """A connection (a transaction when writing); a database that cannot be reached or
        stays locked becomes StoreUnavailableError (its driver's first line only: the URL,
        and so any password, stays out of the message)."""
        try:
            with self._engine.begin() if write else self._engine.connect() as conn:
                yield conn
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
            raise StoreUnavailableError(
                f"the store did not answer ({type(exc.orig).__name__}: {first_line}); "
                f"{_check(self._engine.url)}"
            ) from exc

    @classmethod
    def connect(cls, url: str, *, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> Store:
        """The store at `url`, migrated; SQLite waits up to `busy_timeout_s` for a lock another
        connection holds before a write gives up (StoreUnavailableError)."""
        migrate(url)
        engine = sa.create_engine(url)
        if engine.dialect.name == "sqlite":
            timeout_ms = round(busy_timeout_s * 1000)

            def pragmas(connection: Any, _record: object) -> None:
                _sqlite_pragmas(connection, timeout_ms)

            sa.event.listen(engine, "connect", pragmas)
        return cls(engine)

    def save_policy_state(self, workload: str, state_json: str, now: dt.datetime) -> None:
        now = _require_aware("now", now)
        with self._session(write=True) as conn:
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

    def save_policy_states(self, states: Mapping[str, str], now: dt.datetime) -> None:
        """Upsert several workloads' states in one transaction (the tick saves them all)."""
        now = _require_aware("now", now)
        if not states:
            return
        with self._session(write=True) as conn:
            known = set(
                conn.execute(
                    sa.select(POLICY_STATES.c.workload).where(
                        POLICY_STATES.c.workload.in_(list(states))
                    )
                ).scalars()
            )
            updates = [
                {"name": w, "new_state": text, "new_at": now}
                for w, text in states.items()
                if w in known
            ]
            if updates:
                conn.execute(
                    POLICY_STATES.update()
                    .where(POLICY_STATES.c.workload == sa.bindparam("name"))
                    .values(
                        state_json=sa.bindparam("new_state"),
                        updated_at=sa.bindparam("new_at"),
                    ),
                    updates,
                )
            inserts = [
                {"workload": w, "state_json": text, "updated_at": now}
                for w, text in states.items()
                if w not in known
            ]
            if inserts:
                conn.execute(POLICY_STATES.insert(), inserts)

    def load_policy_state(self, workload: str) -> str | None:
        """The last saved state of `workload`, or None when it has never been saved."""
        with self._session(write=False) as conn:
            row = conn.execute(
                sa.select(POLICY_STATES.c.state_json).where(POLICY_STATES.c.workload == workload)
            ).first()
        return None if row is None else str(row[0])

    def record_decisions(self, records: list[DecisionRecord]) -> None:
        moments = [_require_aware("decided_at", r.decided_at) for r in records]
        if not records:
            return
        with self._session(write=True) as conn:
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
                        "outcome": r.outcome,
                        "target_ref": r.target_ref,
                        "ready_replicas": r.ready_replicas,
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
        with self._session(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [_decision(row) for row in rows]

    def latest_decisions(self, limit: int, workload: str | None = None) -> list[DecisionRecord]:
        """The newest `limit` decisions (of `workload`, or of all), newest first."""
        query = sa.select(DECISIONS).order_by(DECISIONS.c.decided_at.desc(), DECISIONS.c.id.desc())
        if workload is not None:
            query = query.where(DECISIONS.c.workload == workload)
        with self._session(write=False) as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [_decision(row) for row in rows]

    def record_skipped_refit(self, skipped: SkippedRefit) -> None:
        at = _require_aware("skipped_at", skipped.skipped_at)
        with self._session(write=True) as conn:
            conn.execute(
                SKIPPED_REFITS.insert().values(
                    workload=skipped.workload,
                    skipped_at=at,
                    reason=skipped.reason,
                    detail=skipped.detail,
                )
            )

    def skipped_refits(self, workload: str, since: dt.datetime) -> list[SkippedRefit]:
        since = _require_aware("since", since)
        query = (
            sa.select(SKIPPED_REFITS)
            .where(SKIPPED_REFITS.c.workload == workload, SKIPPED_REFITS.c.skipped_at >= since)
            .order_by(SKIPPED_REFITS.c.skipped_at, SKIPPED_REFITS.c.id)
        )
        with self._session(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [
            SkippedRefit(r["workload"], utc(r["skipped_at"]), r["reason"], r["detail"])
            for r in rows
        ]

    def record_cold_start(self, workload: str, ready_at: dt.datetime, lead_time_s: float) -> None:
        ready_at = _require_aware("ready_at", ready_at)
        if not lead_time_s >= 0:
            raise errors.InputError(
                f"lead_time_s ({lead_time_s}) for workload {workload} must be >= 0; "
                "a replica cannot be ready before it was ordered"
            )
        with self._session(write=True) as conn:
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
        with self._session(write=False) as conn:
            return [float(value) for (value,) in conn.execute(query)]

    def record_cold_starts(self, workload: str, observed: list[ColdStartRecord]) -> int:
        """Store the cold starts not stored before (by pod uid); returns how many were new."""
        fresh: dict[str, ColdStartRecord] = {}
        for record in observed:
            _require_aware("ready_at", record.ready_at)
            if record.lead_time_s >= 0:
                fresh.setdefault(record.pod_uid, record)
        if not fresh:
            return 0
        with self._session(write=True) as conn:
            known = set(
                conn.execute(
                    sa.select(COLD_STARTS.c.pod_uid).where(
                        COLD_STARTS.c.workload == workload, COLD_STARTS.c.pod_uid.in_(list(fresh))
                    )
                ).scalars()
            )
            rows = [
                {
                    "workload": workload,
                    "pod_uid": uid,
                    "ready_at": record.ready_at.astimezone(dt.UTC),
                    "lead_time_s": record.lead_time_s,
                }
                for uid, record in fresh.items()
                if uid not in known
            ]
            if rows:
                conn.execute(COLD_STARTS.insert(), rows)
        return len(rows)

    def cold_start_observations(
        self, workload: str, since: dt.datetime
    ) -> list[tuple[dt.datetime, float]]:
        """(ready_at, seconds) of the cold starts of `workload` ready at or after `since`."""
        since = _require_aware("since", since)
        query = (
            sa.select(COLD_STARTS.c.ready_at, COLD_STARTS.c.lead_time_s)
            .where(COLD_STARTS.c.workload == workload, COLD_STARTS.c.ready_at >= since)
            .order_by(COLD_STARTS.c.ready_at, COLD_STARTS.c.id)
        )
        with self._session(write=False) as conn:
            return [(utc(at), float(seconds)) for at, seconds in conn.execute(query)]

    def save_forecast(self, record: ForecastRecord) -> int:
        columns = {name: [_finite_or_none(v) for v in values] for name, values in record.columns}
        with self._session(write=True) as conn:
            result = conn.execute(
                FORECASTS.insert().values(
                    workload=record.workload,
                    made_at=_require_aware("made_at", record.made_at),
                    model=record.model,
                    resolution_s=record.resolution_s,
                    start_at=_require_aware("start_at", record.start_at),
                    frame_json=json.dumps(columns, allow_nan=False, separators=(",", ":")),
                )
            )
            return _inserted_id(result)

    def forecasts(self, workload: str, since: dt.datetime) -> list[ForecastRecord]:
        """Forecasts of `workload` made at or after `since`, oldest first."""
        query = (
            sa.select(FORECASTS)
            .where(
                FORECASTS.c.workload == workload,
                FORECASTS.c.made_at >= _require_aware("since", since),
            )
            .order_by(FORECASTS.c.made_at, FORECASTS.c.id)
        )
        with self._session(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [
            ForecastRecord(
                workload=row["workload"],
                made_at=utc(row["made_at"]),
                model=row["model"],
                resolution_s=row["resolution_s"],
                start_at=utc(row["start_at"]),
                columns=tuple(
                    (name, tuple(math.nan if v is None else float(v) for v in values))
                    for name, values in json.loads(row["frame_json"]).items()
                ),
            )
            for row in rows
        ]

    def save_plan(self, record: PlanRecord) -> int:
        with self._session(write=True) as conn:
            result = conn.execute(
                PLANS.insert().values(
                    workload=record.workload,
                    made_at=_require_aware("made_at", record.made_at),
                    forecast_id=record.forecast_id,
                    start_at=_require_aware("start_at", record.start_at),
                    floors_json=json.dumps(list(record.floors), separators=(",", ":")),
                    reserved=record.reserved,
                    capacity_per_replica=record.capacity_per_replica,
                    lead_time_s=record.lead_time_s,
                    lead_time_source=record.lead_time_source,
                    level_factor=record.level_factor,
                    caps_json=None
                    if record.caps is None
                    else json.dumps(list(record.caps), separators=(",", ":")),
                )
            )
            return _inserted_id(result)

    def _newest(self, table: sa.Table, at: sa.Column[Any], workload: str) -> sa.RowMapping | None:
        """The row of `table` for `workload` latest by `at` (the later id among equals)."""
        query = (
            sa.select(table)
            .where(table.c.workload == workload)
            .order_by(at.desc(), table.c.id.desc())
            .limit(1)
        )
        with self._session(write=False) as conn:
            return conn.execute(query).mappings().first()

    def latest_plan(self, workload: str) -> PlanRecord | None:
        row = self._newest(PLANS, PLANS.c.made_at, workload)
        if row is None:
            return None
        return PlanRecord(
            workload=row["workload"],
            made_at=utc(row["made_at"]),
            start_at=utc(row["start_at"]),
            floors=tuple(int(v) for v in json.loads(row["floors_json"])),
            reserved=row["reserved"],
            capacity_per_replica=float(row["capacity_per_replica"]),
            lead_time_s=row["lead_time_s"],
            lead_time_source=row["lead_time_source"],
            forecast_id=row["forecast_id"],
            level_factor=float(row["level_factor"]),
            caps=None
            if row["caps_json"] is None
            else tuple(int(v) for v in json.loads(row["caps_json"])),
        )

    def record_forecast_errors(self, scores: list[ForecastError]) -> None:
        if not scores:
            return
        with self._session(write=True) as conn:
            conn.execute(
                FORECAST_ERRORS.insert(),
                [
                    {
                        "workload": e.workload,
                        "scored_at": _require_aware("scored_at", e.scored_at),
                        "horizon_s": e.horizon_s,
                        "count": e.count,
                        "mae": e.mae,
                        "p90_coverage": e.p90_coverage,
                    }
                    for e in scores
                ],
            )

    def latest_forecast_errors(self, workload: str) -> list[ForecastError]:
        """The newest score of `workload` per horizon, shortest horizon first."""
        newest = (
            sa.select(FORECAST_ERRORS.c.horizon_s, sa.func.max(FORECAST_ERRORS.c.id).label("id"))
            .where(FORECAST_ERRORS.c.workload == workload)
            .group_by(FORECAST_ERRORS.c.horizon_s)
            .subquery()
        )
        query = (
            sa.select(FORECAST_ERRORS)
            .join(newest, FORECAST_ERRORS.c.id == newest.c.id)
            .order_by(FORECAST_ERRORS.c.horizon_s)
        )
        with self._session(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [
            ForecastError(
                workload=row["workload"],
                scored_at=utc(row["scored_at"]),
                horizon_s=row["horizon_s"],
                count=row["count"],
                mae=float(row["mae"]),
                p90_coverage=float(row["p90_coverage"]),
            )
            for row in rows
        ]

    def prune(
        self,
        now: dt.datetime,
        *,
        decisions_s: int,
        forecasts_s: int,
        cold_starts_s: int,
        forecast_errors_s: int,
        shadow_s: int | None = None,
    ) -> Pruned:
        """Delete rows older than their retention. The newest plan and the newest operating
        point of each workload are kept whatever their age: a restart steps on them until the
        next refit and re-selection. Shadow hours go after `shadow_s` (the score's window)."""
        now = _require_aware("now", now)

        def before(seconds: int) -> dt.datetime:
            return now - dt.timedelta(seconds=seconds)

        newest_plans = sa.select(sa.func.max(PLANS.c.id)).group_by(PLANS.c.workload)
        newest_points = sa.select(sa.func.max(OPERATING_POINTS.c.id)).group_by(
            OPERATING_POINTS.c.workload
        )
        with self._session(write=True) as conn:
            counts = Pruned(
                decisions=conn.execute(
                    DECISIONS.delete().where(DECISIONS.c.decided_at < before(decisions_s))
                ).rowcount,
                forecasts=conn.execute(
                    FORECASTS.delete().where(FORECASTS.c.made_at < before(forecasts_s))
                ).rowcount,
                plans=conn.execute(
                    PLANS.delete().where(
                        PLANS.c.made_at < before(forecasts_s), PLANS.c.id.not_in(newest_plans)
                    )
                ).rowcount,
                cold_starts=conn.execute(
                    COLD_STARTS.delete().where(COLD_STARTS.c.ready_at < before(cold_starts_s))
                ).rowcount,
                forecast_errors=conn.execute(
                    FORECAST_ERRORS.delete().where(
                        FORECAST_ERRORS.c.scored_at < before(forecast_errors_s)
                    )
                ).rowcount,
                operating_points=conn.execute(
                    OPERATING_POINTS.delete().where(
                        OPERATING_POINTS.c.chosen_at < before(forecasts_s),
                        OPERATING_POINTS.c.id.not_in(newest_points),
                    )
                ).rowcount,
                shadow_hours=0
                if shadow_s is None
                else conn.execute(
                    SHADOW_HOURS.delete().where(SHADOW_HOURS.c.hour_at < before(shadow_s))
                ).rowcount,
                # a skipped refit explains the decisions of its time: kept as long as they are
                skipped_refits=conn.execute(
                    SKIPPED_REFITS.delete().where(SKIPPED_REFITS.c.skipped_at < before(decisions_s))
                ).rowcount,
            )
        return counts

    def save_choice(self, record: ChoiceRecord) -> None:
        c = record.choice
        p = c.point
        with self._session(write=True) as conn:
            conn.execute(
                OPERATING_POINTS.insert().values(
                    workload=record.workload,
                    chosen_at=_require_aware("chosen_at", record.chosen_at),
                    band_scale=p.band_scale,
                    level_correction=p.level_correction,
                    hold=p.hold.value,
                    met=c.met,
                    slo_served_pct=c.slo.served_minutes_pct,
                    reason=c.reason,
                    windows_json=json.dumps(
                        [[start.isoformat(), end.isoformat()] for start, end in c.windows]
                    ),
                    frontier_json=json.dumps(
                        [
                            {
                                "band_scale": f.point.band_scale,
                                "level_correction": f.point.level_correction,
                                "hold": f.point.hold.value,
                                "served_pct": [_finite_or_none(v) for v in f.served_pct],
                                "gpu_hours": _finite_or_none(f.gpu_hours),
                            }
                            for f in c.frontier
                        ],
                        allow_nan=False,
                    ),
                )
            )

    def latest_choice(self, workload: str) -> ChoiceRecord | None:
        """The operating point chosen last for `workload`; None before any re-selection."""
        row = self._newest(OPERATING_POINTS, OPERATING_POINTS.c.chosen_at, workload)
        if row is None:
            return None
        frontier = tuple(
            results.Frontier(
                _point(f["band_scale"], f["level_correction"], f["hold"]),
                tuple(math.nan if v is None else float(v) for v in f["served_pct"]),
                math.nan if f["gpu_hours"] is None else float(f["gpu_hours"]),
            )
            for f in json.loads(row["frontier_json"])
        )
        windows = tuple(
            (pd.Timestamp(start), pd.Timestamp(end))
            for start, end in json.loads(row["windows_json"])
        )
        choice = results.Choice(
            point=_point(row["band_scale"], row["level_correction"], row["hold"]),
            met=bool(row["met"]),
            slo=spec.Slo(float(row["slo_served_pct"])),
            windows=windows,
            frontier=frontier,
            reason=row["reason"],
        )
        return ChoiceRecord(row["workload"], utc(row["chosen_at"]), choice)

    def save_shadow_hours(self, hours: Sequence[ShadowHour]) -> None:
        """Upsert hours of the shadow score (the current hour is rewritten every tick)."""
        if not hours:
            return
        rows = [
            {
                "workload": h.workload,
                "hour_at": _require_aware("hour_at", h.hour_at),
                "minutes": h.minutes,
                "plan_served": h.plan_served,
                "actual_served": h.actual_served,
                "plan_usd": h.plan_usd,
                "actual_usd": h.actual_usd,
            }
            for h in hours
        ]
        with self._session(write=True) as conn:
            conn.execute(
                SHADOW_HOURS.delete().where(
                    SHADOW_HOURS.c.workload == sa.bindparam("w"),
                    SHADOW_HOURS.c.hour_at == sa.bindparam("h"),
                ),
                [{"w": r["workload"], "h": r["hour_at"]} for r in rows],
            )
            conn.execute(SHADOW_HOURS.insert(), rows)

    def shadow_hours(self, since: dt.datetime) -> list[ShadowHour]:
        """Every workload's shadow hours from `since` on, oldest first."""
        query = (
            sa.select(SHADOW_HOURS)
            .where(SHADOW_HOURS.c.hour_at >= _require_aware("since", since))
            .order_by(SHADOW_HOURS.c.workload, SHADOW_HOURS.c.hour_at)
        )
        with self._session(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [
            ShadowHour(
                workload=row["workload"],
                hour_at=utc(row["hour_at"]),
                minutes=row["minutes"],
                plan_served=row["plan_served"],
                actual_served=row["actual_served"],
                plan_usd=float(row["plan_usd"]),
                actual_usd=float(row["actual_usd"]),
            )
            for row in rows
        ]


def encode_state(state: step.PolicyState) -> str:
    """`PolicyState` as JSON text, losslessly: floats (window ends, which may be +inf or -inf)
    as their `repr`, which `float()` reads back exactly; JSON itself has no infinity."""
    t = state.targets
    return json.dumps(
        {
            "version": STATE_VERSION,
            "targets": [t.reserved, t.spot, t.on_demand],
            "base": state.base,
            "wants": [[repr(float(until)), value] for until, value in state.wants],
            "spot_targets": [[repr(float(at)), value] for at, value in state.spot_targets],
        },
        separators=(",", ":"),
    )


def decode_state(text: str) -> step.PolicyState:
    """The `PolicyState` `encode_state` wrote; InputError for anything else."""
    try:
        data = json.loads(text)
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        reserved, spot, on_demand = (int(v) for v in data["targets"])
        base = data["base"]
        return step.PolicyState(
            targets=spec.ByType(reserved, spot, on_demand),
            base=None if base is None else int(base),
            wants=tuple((float(until), int(value)) for until, value in data["wants"]),
            spot_targets=tuple((float(at), int(value)) for at, value in data["spot_targets"]),
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise errors.InputError(
            f"stored policy state ({text[:80]!r}) cannot be read ({exc}); it was written by "
            "another prescale version: delete the workload's row in policy_states to start "
            "from the cluster's current replicas"
        ) from None


def _point(band_scale: float | None, level_correction: bool, hold: str) -> operating.OperatingPoint:
    return operating.OperatingPoint(
        None if band_scale is None else float(band_scale),
        bool(level_correction),
        operating.HoldRule(hold),
    )


def _decision(row: sa.RowMapping) -> DecisionRecord:
    return DecisionRecord(
        workload=row["workload"],
        capacity_type=row["capacity_type"],
        target_replicas=row["target_replicas"],
        reason=row["reason"],
        evidence_json=row["evidence_json"],
        decided_at=utc(row["decided_at"]),
        outcome=row["outcome"],
        target_ref=row["target_ref"],
        ready_replicas=row["ready_replicas"],
    )


def _sqlite_pragmas(connection: Any, busy_timeout_ms: int) -> None:
    """WAL lets the HTTP server read while a tick writes; with WAL, synchronous=NORMAL stays
    consistent after a crash and syncs at checkpoints instead of at every commit (a tick
    commits a few times a minute); wait for a lock instead of failing at once."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def _inserted_id(result: sa.CursorResult[object]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise errors.PrescaleError("the store returned no id for an inserted row")
    return int(key[0])


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _require_aware(field: str, moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC; SQLite would otherwise drop a non-UTC offset without converting."""
    if moment.tzinfo is None:
        raise errors.InputError(
            f"{field} ({moment.isoformat()}) is a naive datetime; the store keeps UTC only, "
            "pass a timezone-aware datetime"
        )
    return moment.astimezone(dt.UTC)


def _check(url: str | sa.URL) -> str:
    """What to check when the database at `url` does not answer: for SQLite the file and its
    folder (a read-only volume, a missing folder), for a server the server."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or "the in-memory database"
        return (
            f"check that {where} and its folder exist and are writable by this process "
            "(not a read-only volume) and that nothing else holds a lock on the file"
        )
    return (
        "check the database URL, that the server is up and reachable, and that nothing holds a lock"
    )


def _redact(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)
