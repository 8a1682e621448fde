"""Shell: the daemon's HTTP server: /metrics, /healthz, /readyz, /api/v1/plan,
/api/v1/decisions and /report.

Every replica serves these, leader or not (reads only). /metrics, /healthz and /readyz are
open, the usual in-cluster practice (the kubelet probes and Prometheus scrapes without
credentials; restrict who reaches the port with a NetworkPolicy); /api/v1/* and /report
require `Authorization: Bearer TOKEN` when `http.api_token_file` is set, the token read from
that file (a mounted Secret) on each request so a rotation needs no restart, and compared in
constant time. Nothing served holds a secret.

`/api/v1/plan/WORKLOAD` answers `{"floor": N, "targets": {"on_demand": N, ...}}`, which KEDA's
metrics-api scaler reads with `valueLocation: targets.on_demand` (the `metric` target kind).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus, server
from pathlib import Path
from typing import Any

import prometheus_client as prom

from actuator import daemon, shadow, store
from planner import operating

log = logging.getLogger(__name__)

DECISIONS_LIMIT_DEFAULT = 100
DECISIONS_LIMIT_MAX = 10_000
# A tick of a thousand workloads takes about a second; readiness fails when none finished for
# three ticks, so a wedged daemon is taken out of the Service but not restarted for one slow tick.
STALE_TICKS = 3


class Metrics:
    """The daemon's Prometheus metrics, on a registry of their own."""

    def __init__(self) -> None:
        r = self.registry = prom.CollectorRegistry()
        w, wt = ["workload"], ["workload", "capacity_type"]
        self.floor = prom.Gauge("prescale_floor_replicas", "Forecast floor in force", w, registry=r)
        self.target = prom.Gauge(
            "prescale_target_replicas", "Decided target per capacity type", wt, registry=r
        )
        self.ready = prom.Gauge(
            "prescale_ready_replicas", "Ready replicas read from the target", wt, registry=r
        )
        self.forecast = prom.Gauge(
            "prescale_forecast_demand",
            "Forecast demand now, in the workload's unit",
            ["workload", "quantile"],
            registry=r,
        )
        self.demand = prom.Gauge(
            "prescale_observed_demand", "Last minute's demand, workload's unit", w, registry=r
        )
        self.lead_time = prom.Gauge(
            "prescale_lead_time_seconds",
            "Lead time planned with; source: learned or spec_fallback",
            ["workload", "source"],
            registry=r,
        )
        self.decisions = prom.Counter(
            "prescale_decisions",
            "Decisions by reason and outcome",
            ["workload", "reason", "outcome"],
            registry=r,
        )
        self.refits_skipped = prom.Counter(
            "prescale_refits_skipped",
            "Refits not made (the plan in force stayed), by reason",
            ["workload", "reason"],
            registry=r,
        )
        self.mae = prom.Gauge(
            "prescale_forecast_mae", "MAE of P50 per horizon", ["workload", "horizon"], registry=r
        )
        self.coverage = prom.Gauge(
            "prescale_forecast_p90_coverage",
            "Share of buckets at or below P90, per horizon",
            ["workload", "horizon"],
            registry=r,
        )
        self.tick_seconds = prom.Gauge(
            "prescale_tick_duration_seconds", "Duration of the last tick", registry=r
        )
        self.refit_age = prom.Gauge(
            "prescale_last_refit_age_seconds", "Seconds since the last refit", w, registry=r
        )
        self.source_up = prom.Gauge(
            "prescale_source_up", "1 when the demand source answered this tick", w, registry=r
        )
        self.leader = prom.Gauge("prescale_leader", "1 when this replica writes", registry=r)
        self.started = prom.Gauge(
            "prescale_started",
            "1 once the store answered and the daemon's state was restored from it",
            registry=r,
        )
        self.store_pending = prom.Gauge(
            "prescale_store_pending",
            "Decisions and states waiting in memory for a store that did not answer",
            registry=r,
        )
        self.shadow_served = prom.Gauge(
            "prescale_shadow_served_ratio",
            "Advisory shadow score: share of minutes served over the window; run=plan|actual",
            ["workload", "run"],
            registry=r,
        )
        self.shadow_usd = prom.Gauge(
            "prescale_shadow_usd",
            "Advisory shadow score: $ over the window; run=plan|actual",
            ["workload", "run"],
            registry=r,
        )
        self.shadow_minutes = prom.Gauge(
            "prescale_shadow_minutes", "Minutes scored by the shadow score", w, registry=r
        )
        self.band_scale = prom.Gauge(
            "prescale_operating_point_band_scale",
            "Where the floor sits on the forecast's band (0 P50, 1 P90, 2 P99)",
            w,
            registry=r,
        )
        self.level_correction = prom.Gauge(
            "prescale_operating_point_level_correction",
            "1 when the operating point corrects the forecast's level between refits",
            w,
            registry=r,
        )
        self.hold = prom.Gauge(
            "prescale_operating_point_hold",
            "1 for the scale-in hold in force: lead_time (max(cooldown, lead time)) or cooldown",
            ["workload", "hold"],
            registry=r,
        )
        self.point_chosen = prom.Gauge(
            "prescale_operating_point_chosen",
            "1 when the point was chosen by replaying the workload's history, 0 the spec's",
            w,
            registry=r,
        )
        self.replica_cap = prom.Gauge(
            "prescale_pool_cap_replicas",
            "The pool GPU budget's replica cap on the workload now (pooled workloads only)",
            w,
            registry=r,
        )
        self.level_factor = prom.Gauge(
            "prescale_level_factor",
            "The level correction's factor in force (1: none)",
            w,
            registry=r,
        )
        self.band_widening = prom.Gauge(
            "prescale_band_widening",
            "Factor the latest forecast widened its spread above P50 by, from the last day's "
            "residuals (1: none; absent before this replica's first refit)",
            w,
            registry=r,
        )

    def observe(self, report: daemon.TickReport, scores: dict[str, shadow.Score]) -> None:
        self.tick_seconds.set(report.duration_s)
        self.leader.set(1 if report.leader else 0)
        self.store_pending.set(report.store_pending)
        for w in report.workloads:
            name = w.workload
            self.floor.labels(name).set(-1 if w.floor is None else w.floor)
            for d in w.decisions:
                capacity_type = d.target.capacity_type.value
                self.target.labels(name, capacity_type).set(d.replicas)
                if d.ready is not None:
                    self.ready.labels(name, capacity_type).set(d.ready)
                self.decisions.labels(name, d.reason, d.outcome.value).inc()
            for quantile, value in (("p50", w.forecast_p50), ("p90", w.forecast_p90)):
                if value is not None:
                    self.forecast.labels(name, quantile).set(value)
            if w.observed_demand is not None:
                self.demand.labels(name).set(w.observed_demand)
            self.lead_time.labels(name, w.lead_time_source).set(w.lead_time_s)
            if w.refit_at is not None:
                self.refit_age.labels(name).set((report.at - w.refit_at).total_seconds())
            self.source_up.labels(name).set(1 if w.source_up else 0)
            if w.band_widened_by is not None:
                self.band_widening.labels(name).set(w.band_widened_by)
            self._observe_point(w)
            if w.refit_skipped is not None:
                self.refits_skipped.labels(name, w.refit_skipped).inc()
            score = scores.get(name)
            if score is not None:
                self.shadow_minutes.labels(name).set(score.minutes)
                for run, pct, usd in (
                    ("plan", score.plan_served_pct, score.plan_usd),
                    ("actual", score.actual_served_pct, score.actual_usd),
                ):
                    if pct is not None:
                        self.shadow_served.labels(name, run).set(pct / 100.0)
                    self.shadow_usd.labels(name, run).set(usd)

    def _observe_point(self, w: daemon.WorkloadTick) -> None:
        name, point = w.workload, w.point
        if point is None:
            return
        if point.band_scale is not None:
            self.band_scale.labels(name).set(point.band_scale)
        self.level_correction.labels(name).set(1 if point.level_correction else 0)
        for hold in operating.HoldRule:
            self.hold.labels(name, hold.value).set(1 if hold is point.hold else 0)
        self.point_chosen.labels(name).set(1 if w.point_chosen else 0)
        self.level_factor.labels(name).set(w.level_factor)
        if w.replica_cap is not None:
            self.replica_cap.labels(name).set(w.replica_cap)

    def observe_errors(self, scores: list[store.ForecastError]) -> None:
        for e in scores:
            horizon = f"{e.horizon_s}s"
            self.mae.labels(e.workload, horizon).set(e.mae)
            self.coverage.labels(e.workload, horizon).set(e.p90_coverage)


@dataclass(frozen=True)
class Views:
    """What the server reads; each a function so that it sees the daemon's latest state."""

    metrics: Metrics
    plan: Callable[[str | None], dict[str, Any] | None]  # workload (None: all) -> JSON
    decisions: Callable[[str | None, int], list[dict[str, Any]]]
    report_html: Callable[[], str]
    not_ready: Callable[[], str | None]  # why this replica should get no traffic; None: ready
    api_token_file: Path | None


class Server:
    """A threading HTTP server on its own thread; `close` stops it."""

    def __init__(self, listen: str, port: int, views: Views) -> None:
        handler = type("Handler", (_Handler,), {"views": views})
        self._httpd = server.ThreadingHTTPServer((listen, port), handler)
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> Server:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _Handler(server.BaseHTTPRequestHandler):
    views: Views

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        path = url.path.rstrip("/") or "/"
        if path == "/metrics":
            self._send(
                HTTPStatus.OK,
                prom.generate_latest(self.views.metrics.registry),
                prom.CONTENT_TYPE_LATEST,
            )
        elif path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain")
        elif path == "/readyz":
            problem = self.views.not_ready()
            self._send(
                HTTPStatus.OK if problem is None else HTTPStatus.SERVICE_UNAVAILABLE,
                b"ok\n" if problem is None else problem.encode() + b"\n",
                "text/plain",
            )
        elif path.startswith(("/api/", "/report")):
            if not self._authorised():
                self._send(
                    HTTPStatus.UNAUTHORIZED,
                    b"bearer token required\n",
                    "text/plain",
                    {"WWW-Authenticate": "Bearer"},
                )
            elif path == "/api/v1/plan" or path.startswith("/api/v1/plan/"):
                name = path.removeprefix("/api/v1/plan").strip("/") or None
                body = self.views.plan(name)
                if body is None:
                    self._json(HTTPStatus.NOT_FOUND, {"error": f"no workload named {name}"})
                else:
                    self._json(HTTPStatus.OK, body)
            elif path == "/api/v1/decisions":
                limit = _limit(query.get("limit", [""])[0])
                if limit is None:
                    self._json(
                        HTTPStatus.BAD_REQUEST,
                        {"error": f"limit must be a whole number from 1 to {DECISIONS_LIMIT_MAX}"},
                    )
                else:
                    workload = query.get("workload", [None])[0]
                    self._json(HTTPStatus.OK, {"decisions": self.views.decisions(workload, limit)})
            elif path == "/report":
                self._send(
                    HTTPStatus.OK, self.views.report_html().encode(), "text/html; charset=utf-8"
                )
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {path}"})
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def _authorised(self) -> bool:
        token_file = self.views.api_token_file
        if token_file is None:
            return True
        try:
            expected = token_file.read_text(encoding="utf-8").strip()
        except OSError:
            log.warning("api token file %s unreadable: refusing /api and /report", token_file)
            return False
        given = self.headers.get("Authorization", "")
        return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())

    def _json(self, status: HTTPStatus, body: object) -> None:
        self._send(status, json.dumps(body, allow_nan=False).encode() + b"\n", "application/json")

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)


def _limit(text: str) -> int | None:
    if text == "":
        return DECISIONS_LIMIT_DEFAULT
    if not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= DECISIONS_LIMIT_MAX else None
