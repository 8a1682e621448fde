"""Shell: leader election on a coordination.k8s.io/v1 Lease, so exactly one replica writes.

Each replica calls `Elector.tick()` every `retry_period_s`: it creates the Lease if there is
none, renews it while it holds it, and takes it over once the holder has not renewed for a lease
duration. Every write carries the resourceVersion just read, so two contenders racing for one
Lease get a real 409 from the API server and exactly one wins. `release()` on shutdown hands the
Lease over at once instead of after a lease duration.

Expiry is judged on this replica's own clock, from when it last saw the Lease record change (as
client-go does), so clock skew between replicas cannot shorten a lease. The clock is injected and
nothing here sleeps: the caller owns the schedule. One `Elector` may be ticked from several
threads (the service's lease job, its start, a shutdown's release): a lock makes each tick and
release one read-then-write, so a replica never races itself into a 409 on its own Lease.
The timing rules are those of client-go's leader election, checked up front with an
InputError; the kubernetes client's own leader-election module exits the process on bad
timing, so it is not used.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kubernetes

from actuator import kubeapi
from kernel import errors

log = logging.getLogger(__name__)

# client-go's JitterFactor: a renewal may come up to 1.2 retry periods apart.
JITTER_FACTOR = 1.2
_GROUP, _VERSION, _PLURAL = "coordination.k8s.io", "v1", "leases"


@dataclass(frozen=True)
class LeaseSettings:
    """Who contends for which Lease, and how fast.

    The defaults are client-go's and kube-controller-manager's (15 s lease, 10 s renew deadline,
    2 s retry): a dead leader is replaced within about 17 s.
    """

    namespace: str
    name: str
    identity: str  # unique per replica: the Pod name
    lease_duration_s: int = 15  # a follower waits this long after the last renewal it saw
    renew_deadline_s: float = 10.0  # a leader that could not renew for this long stops writing
    retry_period_s: float = 2.0  # how often the caller should call tick()


def validate(settings: LeaseSettings) -> None:
    """Every timing problem at once, as one InputError."""
    problems = []
    if not settings.identity:
        problems.append(
            "lease.identity (''): must not be empty; set it to the Pod name (metadata.name)"
        )
    if settings.retry_period_s <= 0:
        problems.append(
            f"lease.retry_period_s ({settings.retry_period_s:g}): must be positive; try 2"
        )
    if settings.lease_duration_s < 1:
        problems.append(
            f"lease.lease_duration_s ({settings.lease_duration_s}): must be a whole number of "
            "seconds, at least 1; try 15"
        )
    if settings.lease_duration_s <= settings.renew_deadline_s:
        problems.append(
            f"lease.lease_duration_s ({settings.lease_duration_s}) must exceed "
            f"lease.renew_deadline_s ({settings.renew_deadline_s:g}), or a follower could take "
            "over while the leader still writes; raise the duration or lower the deadline"
        )
    if settings.renew_deadline_s <= JITTER_FACTOR * settings.retry_period_s:
        problems.append(
            f"lease.renew_deadline_s ({settings.renew_deadline_s:g}) must exceed "
            f"{JITTER_FACTOR:g} x lease.retry_period_s ({settings.retry_period_s:g}), or one "
            "late retry loses the lease; raise the deadline or lower the retry period"
        )
    if problems:
        raise errors.InputError(problems)


@dataclass(frozen=True)
class LeaseRecord:
    """The Lease's spec as read."""

    holder: str  # "" when released
    lease_duration_s: int
    acquired_at: str | None
    renewed_at: str | None
    transitions: int
    resource_version: str


def _micro_time(moment: dt.datetime) -> str:
    # The Lease's times are MicroTime: RFC 3339 with exactly six fractional digits.
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(lease: dict[str, Any]) -> LeaseRecord:
    spec = lease.get("spec", {})
    return LeaseRecord(
        holder=spec.get("holderIdentity") or "",
        lease_duration_s=int(spec.get("leaseDurationSeconds") or 0),
        acquired_at=spec.get("acquireTime"),
        renewed_at=spec.get("renewTime"),
        transitions=int(spec.get("leaseTransitions") or 0),
        resource_version=lease["metadata"]["resourceVersion"],
    )


class Elector:
    """One replica's view of the Lease: whether it leads, as of the injected clock."""

    def __init__(
        self,
        client: kubeapi.Client,
        settings: LeaseSettings,
        clock: Callable[[], dt.datetime],
    ) -> None:
        validate(settings)
        self._client = client
        self._settings = settings
        self._clock = clock
        self._custom = kubernetes.client.CustomObjectsApi(client.api)
        # One attempt at a time: two overlapping ticks would read the same resourceVersion, and
        # the second write would get a 409 from the first and report the Lease lost.
        self._lock = threading.Lock()
        # When this replica last renewed the Lease it holds; None while it does not hold it. One
        # attribute, so `is_leader` (unlocked: a tick may wait on the API server for seconds)
        # never sees a half-made change.
        self._renewed_at: dt.datetime | None = None
        # The last record seen and when (our clock): expiry counts from a change we observed.
        self._observed: LeaseRecord | None = None
        self._observed_at: dt.datetime | None = None
        # Why this replica cannot take part in the election (RBAC refused a call on the Lease),
        # until a tick gets through; None when nothing is known to be wrong.
        self._problem: str | None = None

    @property
    def settings(self) -> LeaseSettings:
        return self._settings

    def is_leader(self) -> bool:
        """True while this replica holds the Lease and renewed it within the renew deadline."""
        renewed_at = self._renewed_at
        if renewed_at is None:
            return False
        elapsed_s = (self._clock() - renewed_at).total_seconds()
        return elapsed_s < self._settings.renew_deadline_s

    def problem(self) -> str | None:
        """Why this replica cannot lead whatever the others do (RBAC refuses it the Lease), with
        the fix; None when the last tick got through."""
        return self._problem

    def _what(self, verb: str) -> str:
        return f"{verb} lease {self._settings.namespace}/{self._settings.name}"

    def _access(self, verb: str) -> kubeapi.Access:
        s = self._settings
        return kubeapi.Access(verb, _PLURAL, s.namespace, "" if verb == "create" else s.name)

    def _forbidden(self, exc: kubeapi.ForbiddenError) -> str:
        s = self._settings
        verb = exc.access.verb if exc.access is not None else "use"
        return (
            f"lease {s.namespace}/{s.name}: forbidden to {verb} it ({exc.status_message}); "
            f"{kubeapi.forbidden_fix(self._access('get'))}; until then this replica never leads "
            "and writes nothing"
        )

    def _spec(self, now: dt.datetime, previous: LeaseRecord | None) -> dict[str, Any]:
        me = self._settings.identity
        keeps = previous is not None and previous.holder == me
        acquired = previous.acquired_at if keeps and previous is not None else _micro_time(now)
        transitions = 0 if previous is None else previous.transitions + (0 if keeps else 1)
        return {
            "holderIdentity": me,
            "leaseDurationSeconds": self._settings.lease_duration_s,
            "acquireTime": acquired,
            "renewTime": _micro_time(now),
            "leaseTransitions": transitions,
        }

    def _body(self, spec: dict[str, Any], resource_version: str | None) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "name": self._settings.name,
            "namespace": self._settings.namespace,
        }
        if resource_version is not None:
            metadata["resourceVersion"] = resource_version
        return {
            "apiVersion": f"{_GROUP}/{_VERSION}",
            "kind": "Lease",
            "metadata": metadata,
            "spec": spec,
        }

    def _read(self) -> LeaseRecord | None:
        what = self._what("get")
        try:
            lease = kubeapi.call(
                self._client,
                what,
                lambda: self._custom.get_namespaced_custom_object(
                    _GROUP, _VERSION, self._settings.namespace, _PLURAL, self._settings.name
                ),
                access=self._access("get"),
            )
        except kubeapi.TargetMissingError:
            return None
        return _record(kubeapi.as_object(what, lease))

    def _write(self, body: dict[str, Any], *, create: bool) -> LeaseRecord:
        s = self._settings
        verb = "create" if create else "update"
        what = self._what(verb)
        if create:
            lease = kubeapi.call(
                self._client,
                what,
                lambda: self._custom.create_namespaced_custom_object(
                    _GROUP, _VERSION, s.namespace, _PLURAL, body
                ),
                access=self._access(verb),
            )
        else:
            lease = kubeapi.call(
                self._client,
                what,
                lambda: self._custom.replace_namespaced_custom_object(
                    _GROUP, _VERSION, s.namespace, _PLURAL, s.name, body
                ),
                access=self._access(verb),
            )
        return _record(kubeapi.as_object(what, lease))

    def _won(self, record: LeaseRecord, now: dt.datetime) -> bool:
        if self._renewed_at is None:
            log.info("lease acquired lease=%s identity=%s", self._settings.name, record.holder)
        self._renewed_at = now
        self._observed, self._observed_at = record, now
        return True

    def _lost(self) -> bool:
        if self._renewed_at is not None:
            log.warning(
                "lease lost lease=%s identity=%s", self._settings.name, self._settings.identity
            )
        self._renewed_at = None
        return False

    def tick(self) -> bool:
        """One attempt to acquire or renew; returns whether this replica leads now.

        A failed call (API down, forbidden) is logged and changes nothing: a leader keeps leading
        until its renew deadline passes, then `is_leader()` turns False by itself.
        """
        with self._lock:
            try:
                leads = self._tick()
            except kubeapi.ForbiddenError as exc:
                # not a passing fault: nothing changes until someone grants the verb. Said as an
                # error when it starts (repeats every retry period are detail), and kept for
                # /readyz and `--once`
                problem = self._forbidden(exc)
                log.log(logging.DEBUG if problem == self._problem else logging.ERROR, problem)
                self._problem = problem
                return self.is_leader()
            except errors.ActuationError as exc:
                # the API server did not answer: what was known to be wrong still is
                log.warning("lease tick failed lease=%s: %s", self._settings.name, exc)
                return self.is_leader()
            self._problem = None
            return leads

    def _tick(self) -> bool:
        now = self._clock()
        try:
            current = self._read()
            if current is None:
                created = self._write(self._body(self._spec(now, None), None), create=True)
                return self._won(created, now)
            if current != self._observed:
                self._observed, self._observed_at = current, now
            held_by_other = current.holder not in ("", self._settings.identity)
            if held_by_other and self._observed_at is not None:
                expires_at = self._observed_at + dt.timedelta(seconds=current.lease_duration_s)
                if now < expires_at:
                    return self._lost()
            body = self._body(self._spec(now, current), current.resource_version)
            return self._won(self._write(body, create=False), now)
        except kubeapi.ConflictError:
            # Another contender wrote first: it leads, we read again next tick.
            return self._lost()

    def release(self) -> None:
        """Give the Lease up (on shutdown) so a follower takes over at its next tick."""
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self._renewed_at is None:
            return
        self._renewed_at = None
        now = self._clock()
        try:
            current = self._read()
            if current is None or current.holder != self._settings.identity:
                return
            # client-go releases the same way: no holder, a 1 s duration.
            spec = {
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "acquireTime": _micro_time(now),
                "renewTime": _micro_time(now),
                "leaseTransitions": current.transitions,
            }
            self._write(self._body(spec, current.resource_version), create=False)
            log.info(
                "lease released lease=%s identity=%s", self._settings.name, self._settings.identity
            )
        except errors.ActuationError as exc:
            # The lease then expires on its own after one duration.
            log.warning("lease release failed lease=%s: %s", self._settings.name, exc)
