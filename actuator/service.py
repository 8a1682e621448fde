"""Shell: the daemon as a process: the parts wired from the config, APScheduler's jobs, the HTTP
server, and a clean stop on SIGTERM.

Jobs (APScheduler 3.x, each `max_instances=1` and `coalesce=True`, so a slow run is never
doubled and missed runs collapse into one): the tick (every `schedule.tick`; it refits a
workload first when its refit is due, so a refit at minute m uses history before m and m is
then stepped, in the simulator's order), the refit safety net (every `schedule.refit`),
re-selection (daily), cold-start learning and retention. All jobs take one lock: they share
the daemon's memory. SIGTERM (and SIGINT) stop the scheduler after the running job finishes,
release the Lease and exit 0.

The store may not answer when the process starts (PostgreSQL restarting, the SQLite volume not
mounted yet). The process starts anyway: the HTTP server answers /healthz, /readyz says why it
is not ready, and the store is tried again with a backoff (1 s doubling to 60 s). Until the
store has answered and every workload's state is restored from it, there is no daemon and so
no tick, no Lease and no write: a floor is never decided from a state that was not read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html as html_text
import logging
import math
import signal
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
from apscheduler.schedulers.background import BackgroundScheduler

from actuator import (
    clock,
    cluster,
    config,
    daemon,
    http,
    prometheus_source,
    shadow,
    store,
    trace_source,
)
from kernel import errors, timestamp
from report import content, html, model
from simulator import operating_point

log = logging.getLogger(__name__)

# The first retry of a start whose store did not answer, doubling up to the cap: a store back in
# seconds is met at once, one down for long is asked once a minute.
START_RETRY_FIRST_S = 1.0
START_RETRY_MAX_S = 60.0

# Plan minutes shown ahead on /api/v1/plan: two hours covers any lead time worth planning for.
PLAN_AHEAD_MINUTES = 120

# How often the operating-point job looks for workloads whose choice is due: a restart (or a
# choice that failed) waits at most this long, not a whole `schedule.rechoose`.
RECHOOSE_LOOK_S = 3600


def sources(settings: config.Config) -> dict[str, daemon.DemandSource]:
    """One demand source per workload, as its `source:` block says."""
    built: dict[str, daemon.DemandSource] = {}
    for w in settings.workloads:
        if isinstance(w.source, config.TraceSource):
            built[w.name] = trace_source.TraceSource.from_file(w.source.path, w.source.column)
        else:
            built[w.name] = prometheus_source.PrometheusSource(w.source)
    return built


def cluster_parts(settings: config.Config) -> dict[str, Any]:
    """The target writer, cold-start reader and Lease elector, when a target lives in the
    cluster or election is on (a fleet of `metric` targets alone needs no cluster)."""
    in_cluster = any(
        t.kind is not config.TargetKind.METRIC for w in settings.workloads for t in w.targets
    )
    if not in_cluster and not settings.leader_election.enabled:
        return {}
    client = cluster.connect(settings)
    targets = cluster.Targets(
        client, identity=cluster.own_identity(settings.leader_election.identity)
    )
    parts: dict[str, Any] = {"writer": targets, "cold_start_reader": targets}
    if settings.leader_election.enabled:
        # the Lease runs on the wall clock even when ticks run "as of" --at
        parts["leadership"] = cluster.elector(
            client, settings.leader_election, clock.SystemClock().now
        )
    return parts


def restorer(settings: config.Config) -> Callable[[], tuple[daemon.Daemon, store.Store]]:
    """The store, migrated, and the daemon restored from it: made again on each call, so a call
    that meets a store down (SourceUnavailableError) can be repeated. The sources and cluster
    parts are built once, now: their mistakes are the user's and stop the start."""
    demand_sources = sources(settings)
    parts = cluster_parts(settings)

    def restore() -> tuple[daemon.Daemon, store.Store]:
        db = store.Store.connect(settings.store_url)
        return daemon.Daemon(settings, db, demand_sources, **parts), db

    return restore


def start_retry_s(failures: int) -> float:
    """Seconds before the next start attempt after `failures` failed ones."""
    return min(START_RETRY_MAX_S, START_RETRY_FIRST_S * 2.0 ** max(0, failures - 1))


class Service:
    """A running daemon: jobs on a scheduler, the HTTP server, the stop on SIGTERM."""

    def __init__(
        self,
        settings: config.Config,
        restore: Callable[[], tuple[daemon.Daemon, store.Store]],
        now: clock.Clock,
    ) -> None:
        self.settings = settings
        self._restore = restore
        self._core: daemon.Daemon | None = None
        self._db: store.Store | None = None
        self.start_failures = 0
        self.start_problem: str | None = "starting: the store has not been read yet"
        self._clock = now
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.shadow = shadow.Shadow(settings.schedule.shadow_window_s)
        self.metrics = http.Metrics()
        self._scheduler = BackgroundScheduler(timezone=dt.UTC)
        self.server = http.Server(
            settings.http.listen,
            settings.http.port,
            http.Views(
                metrics=self.metrics,
                plan=self.plan_json,
                decisions=self.decisions_json,
                report_html=self.report_html,
                not_ready=self.not_ready,
                api_token_file=settings.http.api_token_file,
            ),
        )

    @classmethod
    def of(
        cls, settings: config.Config, core: daemon.Daemon, db: store.Store, now: clock.Clock
    ) -> Service:
        """A service on a daemon already restored from its store."""
        made = cls(settings, lambda: (core, db), now)
        made.try_start()
        return made

    @property
    def core(self) -> daemon.Daemon:
        if self._core is None:
            raise RuntimeError(f"the daemon has not started: {self.start_problem}")
        return self._core

    # ----- start -----------------------------------------------------------------------

    def try_start(self) -> bool:
        """One attempt to reach the store and restore the daemon from it; True once started.
        A store that does not answer leaves the service waiting (`start_problem` says why)."""
        with self._lock:
            if self._core is not None:
                return True
            try:
                core, db = self._restore()
            except errors.SourceUnavailableError as exc:
                self.start_failures += 1
                # one line: it is the body of /readyz (drivers' messages span several)
                self.start_problem = " ".join(
                    f"store unavailable after {self.start_failures} attempt(s), nothing is "
                    f"written until it answers: {exc}".split()
                )
                self.metrics.started.set(0)
                log.warning(
                    "start waits for the store (attempt %d, next in %.0f s): %s",
                    self.start_failures,
                    start_retry_s(self.start_failures),
                    exc,
                )
                return False
            self._core, self._db = core, db
            self._restore_shadow(db)
            self.start_problem = None
            self.metrics.started.set(1)
        log.info("store answered after %d failed attempt(s): state restored", self.start_failures)
        if self._scheduler.running:
            self._schedule_jobs()
        return True

    def _start_or_retry(self) -> None:
        if not self.try_start() and not self._stopped.is_set():
            self._scheduler.add_job(
                self._start_or_retry,
                "date",
                # no fixed id: the fired job is removed after it was handed to a thread, which
                # could remove a successor that reused its id
                run_date=dt.datetime.now(dt.UTC)
                + dt.timedelta(seconds=start_retry_s(self.start_failures)),
            )

    # ----- jobs ------------------------------------------------------------------------

    def _job(
        self, name: str, work: Callable[[dt.datetime], Any], *, locked: bool = True
    ) -> Callable[[], None]:
        """A job for the scheduler: under the jobs' lock unless it takes it itself."""

        def attempt() -> None:
            now = self._clock.now()
            try:
                work(now)
            except errors.PrescaleError as exc:
                log.error("job=%s failed: %s", name, exc)
            except Exception:
                # a job that raises would stop nothing else; log it with the traceback and
                # let the next run try again
                log.exception("job=%s failed unexpectedly", name)

        def run() -> None:
            if not locked:
                attempt()
                return
            with self._lock:
                attempt()

        return run

    def rechoose(self, now: dt.datetime) -> None:
        """The operating-point job: each workload whose choice is due (`Daemon.choice_due`) has
        its point chosen outside the jobs' lock (tens of seconds a workload, so every
        workload's ticks go on meanwhile), then put in force under it; one workload that fails
        does not stop the others. It runs every RECHOOSE_LOOK_S."""
        for workload in self.settings.workloads:
            if not self.core.choice_due(workload.name, now):
                continue
            try:
                choice = self.core.choose_point(workload.name, now)
            except errors.PrescaleError as exc:
                log.error("workload=%s operating point not chosen: %s", workload.name, exc)
                choice = None
            with self._lock:
                self.core.use_choice(workload.name, choice, now)

    def renew_lease(self) -> bool:
        """The lease job: one acquire-or-renew, and `prescale_leader` as it left it, so a
        failover shows within a retry period rather than at the next tick."""
        leads = self.core.renew_lease_now()
        self.metrics.leader.set(1 if leads else 0)
        return leads

    def tick(self, now: dt.datetime) -> daemon.TickReport:
        report = self.core.run_once(now)
        self._observe(report)
        return report

    def _restore_shadow(self, db: store.Store) -> None:
        """The shadow score's window as stored: a restart carries the week on."""
        since = self._clock.now() - dt.timedelta(seconds=self.settings.schedule.shadow_window_s)
        try:
            self.shadow.restore(db.shadow_hours(since))
        except store.StoreUnavailableError as exc:
            log.warning("shadow score not restored, it starts empty: %s", exc)

    def _observe(self, report: daemon.TickReport) -> None:
        if self._db is None:
            return  # no tick runs before the start: unreachable, for the type checker
        specs = {w.name: w.spec for w in self.settings.workloads}
        for w in report.workloads:
            self.shadow.add(specs[w.workload], report.at.timestamp(), w)
        try:
            self._db.save_shadow_hours(self.shadow.unsaved())
            self.shadow.saved()
        except store.StoreUnavailableError as exc:
            # the changed hours stay unsaved and go with the next tick's (each is rewritten
            # whole, so nothing is counted twice)
            log.warning("shadow score not stored: %s", exc)
        self.metrics.observe(report, {n: self.shadow.score(n) for n in specs})
        try:
            for name in specs:
                self.metrics.observe_errors(self._db.latest_forecast_errors(name))
        except store.StoreUnavailableError as exc:
            # the tick's own metrics are out; the scores shown stay the last ones read
            log.warning("forecast errors not read: %s", exc)

    def start(self) -> None:
        """Serve at once; the jobs start once the store has answered (see the module). The
        first attempt runs on the scheduler too: a store that hangs (packets dropped, not
        refused) must not hold up the start nor the SIGTERM handler."""
        self.server.start()
        self._scheduler.start()
        self._scheduler.add_job(self._start_or_retry, "date", run_date=dt.datetime.now(dt.UTC))

    def _schedule_jobs(self) -> None:
        s = self.settings.schedule
        jobs: tuple[tuple[str, Callable[[dt.datetime], Any], int], ...] = (
            ("tick", self.tick, s.tick_s),
            ("refit", self.core.refit, s.refit_s),
            ("rechoose", self.rechoose, min(s.rechoose_s, RECHOOSE_LOOK_S)),
            ("learn_cold_starts", self.core.learn_cold_starts, s.learn_cold_starts_s),
            ("prune", self.core.prune, s.prune_s),
        )
        election = self.settings.leader_election
        if election.enabled:
            # One renewal now, before any job exists, so the first tick already knows who
            # writes; the lease job takes over one retry period later. Started at once as
            # well, it would renew concurrently with this call and lose to its own write.
            self.renew_lease()
        # read after the renewal, which may have waited on the API server: a first run already
        # past the scheduler's misfire grace would be skipped
        first = dt.datetime.now(dt.UTC)
        if election.enabled:
            # not under the jobs' lock: a long refit must not let the Lease lapse
            self._scheduler.add_job(
                self.renew_lease,
                "interval",
                seconds=election.retry_period_s,
                id="lease",
                max_instances=1,
                coalesce=True,
                next_run_time=first + dt.timedelta(seconds=election.retry_period_s),
            )
        # the tick runs at once (the first decision need not wait a minute), and so does the
        # point's choice when a workload has none chosen within `rechoose`; the
        # other jobs wait one interval, the tick refits whatever is due on its own
        at_once = {"tick"} | ({"rechoose"} if self.core.choices_due(first) else set())
        for name, work, every_s in jobs:
            self._scheduler.add_job(
                self._job(name, work, locked=name != "rechoose"),
                "interval",
                seconds=every_s,
                id=name,
                max_instances=1,
                coalesce=True,
                next_run_time=first if name in at_once else None,
            )
        log.info(
            "prescale running: mode=%s port=%d workloads=%d",
            self.settings.mode.value,
            self.server.port,
            len(self.settings.workloads),
        )

    def wait_for_stop(self) -> None:
        """Block until SIGTERM or SIGINT, then stop cleanly."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stopped.set())
        while not self._stopped.wait(timeout=1.0):
            pass
        self.stop()

    def request_stop(self) -> None:
        self._stopped.set()

    def stop(self) -> None:
        """Finish the running job, stop scheduling, release the Lease, close the server."""
        log.info("stopping: finishing the running job, releasing the lease")
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        with self._lock:
            if self._core is not None:
                self._core.release()
        self.server.close()

    # ----- read views ------------------------------------------------------------------

    def not_ready(self) -> str | None:
        """Why this replica should not get traffic, or None when it should."""
        if self._core is None:
            return self.start_problem
        # a replica refused its Lease never writes: not ready, so the rollout and
        # `kubectl get pods` show it instead of a standby that looks healthy forever
        lease_problem = self._core.lease_problem()
        if lease_problem is not None:
            return lease_problem
        report = self._core.last_report
        if report is None:
            return "no tick yet"
        age_s = (self._clock.now() - report.at).total_seconds()
        if age_s > http.STALE_TICKS * self.settings.schedule.tick_s:
            return f"no tick for {age_s:.0f} s"
        return None

    def plan_json(self, workload: str | None) -> dict[str, Any] | None:
        names = [w.name for w in self.settings.workloads]
        if workload is not None and workload not in names:
            return None
        if self._core is None:
            # no target before the state is restored: a reader (KEDA) finds no value and
            # keeps its own fallback rather than a number made up here
            waiting = {"starting": self.start_problem}
            return waiting if workload else {"at": None, **waiting, "workloads": {}}
        report = self._core.last_report
        ticks = {w.workload: w for w in report.workloads} if report else {}
        bodies = {}
        for name in [workload] if workload else names:
            floors, reserved = self.core.plan_view(name)
            last = ticks.get(name)
            start = (report.at if report else self._clock.now()).timestamp()
            bodies[name] = {
                "floor": None if last is None else last.floor,
                "targets": {}
                if last is None
                else {d.target.capacity_type.value: d.replicas for d in last.decisions},
                "reasons": {}
                if last is None
                else {d.target.capacity_type.value: d.reason for d in last.decisions},
                "reserved": reserved,
                "replica_cap": None if last is None else last.replica_cap,
                "lead_time_s": None if last is None else last.lead_time_s,
                "lead_time_source": None if last is None else last.lead_time_source,
                "refit_at": None
                if last is None or last.refit_at is None
                else timestamp.utc_text(last.refit_at),
                "operating_point": self._point_json(name),
                "floors_ahead": [
                    floors.at(dt.datetime.fromtimestamp(start + 60 * m, dt.UTC))
                    for m in range(PLAN_AHEAD_MINUTES)
                ],
            }
        if workload is not None:
            return bodies[workload]
        return {
            "at": None if report is None else timestamp.utc_text(report.at),
            "workloads": bodies,
        }

    def _point_json(self, name: str) -> dict[str, Any]:
        choice, chosen_at, point, factor = self.core.choice_view(name)
        body: dict[str, Any] = {
            "band_scale": point.band_scale,
            "level_correction": point.level_correction,
            "hold": point.hold.value,
            "level_factor": factor,
            "chosen": choice is not None,
            "chosen_at": None if chosen_at is None else timestamp.utc_text(chosen_at),
        }
        if choice is None:
            body["reason"] = "no re-selection yet: the spec's quantile and hold"
            return body
        body.update(
            met=choice.met,
            slo_served_pct=choice.slo.served_minutes_pct,
            reason=choice.reason,
            frontier=[
                {
                    "point": described,
                    "pooled_served_pct": served if math.isfinite(served) else None,
                    "gpu_hours": gpu_hours if math.isfinite(gpu_hours) else None,
                    "chosen": chosen,
                }
                for described, served, gpu_hours, chosen in operating_point.frontier_rows(choice)
            ],
        )
        return body

    def decisions_json(self, workload: str | None, limit: int) -> list[dict[str, Any]]:
        if self._db is None:
            return []
        rows = self._db.latest_decisions(limit, workload)
        return [
            {**dataclasses.asdict(r), "decided_at": timestamp.utc_text(r.decided_at)} for r in rows
        ]

    def report_html(self) -> str:
        if self._core is None:
            problem = html_text.escape(self.start_problem or "")
            return f"<!doctype html><p>Starting: {problem}</p>"
        with self._lock:
            inputs = self.core.report_inputs(self._clock.now())
        if not inputs:
            return "<!doctype html><p>No refit yet: the report appears after the first plan.</p>"
        inputs = [
            dataclasses.replace(i, shadow=_shadow_view(self.shadow.score(i.workload.name)))
            for i in inputs
        ]
        made = content.report(
            inputs,
            trace_name="live",
            workload_file="daemon config",
            generated_at=pd.Timestamp(self._clock.now()).to_pydatetime(),
        )
        return html.render(made)


def _shadow_view(score: shadow.Score) -> model.ShadowScore:
    """The shadow score as the report's data."""
    return model.ShadowScore(
        window_s=score.window_s,
        minutes=score.minutes,
        plan_served_pct=score.plan_served_pct,
        actual_served_pct=score.actual_served_pct,
        plan_usd=score.plan_usd,
        actual_usd=score.actual_usd,
    )
