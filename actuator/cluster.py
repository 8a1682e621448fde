"""Shell: the daemon's view of a Kubernetes cluster: the kube adapter and the Lease elector
behind the daemon's protocols (`daemon.TargetWriter`, `daemon.ColdStartReader`,
`daemon.Leadership`).

Only translation lives here: config targets become `kube.Target`s, `kube.TargetStatus` a
`daemon.Reading`, `kube.ColdStart` a stored cold start. The writes themselves (server-side
apply under the field manager `prescale`, conflicts answered with a fresh read, bounds) are the
adapter's. A write that changed a floor is said once: one INFO line, and one Event on the
target (`kubectl describe` shows what moved, from what to what, and why); an Event that cannot
be written is a warning, never a failed write. One guard is added: after the API server failed
a call, the tick's other calls fail at once for a while (`UNREACHABLE_PAUSE_S`), so an outage
costs a tick one call's retries, not every target's.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from actuator import config, daemon, kube, kubeapi, lease, store
from kernel import errors

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# After the API server failed a call (`kubeapi.UnreachableError`: the retry policy spent), the
# other calls of the tick are not sent for this long: a tick over many targets would otherwise
# spend the policy's 7.5 s of backoff, and each attempt's timeout, on every target in turn, and
# run for minutes. Shorter than the minute tick, so every tick tries the server again, once,
# with the whole policy.
UNREACHABLE_PAUSE_S = 30.0

# Where a Pod finds its own namespace (the ServiceAccount's mount).
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def target_of(target: config.Target) -> kube.Target:
    return kube.Target(
        kind=target.kind,
        namespace=target.namespace,
        name=target.name,
        api_version=target.api_version,
        resource_kind=target.resource_kind,
    )


# The field each kind of target holds its floor in, as an Event's note names it.
FLOOR_FIELDS = {
    kube.TargetKind.HPA: "spec.minReplicas",
    kube.TargetKind.KEDA: "spec.minReplicaCount",
    kube.TargetKind.SCALE: "spec.replicas",
}


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Targets:
    """`daemon.TargetWriter` and `daemon.ColdStartReader` on one cluster.

    `identity` is this replica's name in the Events it records (the Pod's, by default);
    `clock` stamps them: the wall clock, even when the tick runs "as of" another time, because
    an Event says when the write happened. It also times the pause after the server failed a
    call (`UNREACHABLE_PAUSE_S`): calls in the pause fail at once, without a request.
    """

    def __init__(
        self,
        client: kubeapi.Client,
        *,
        identity: str | None = None,
        clock: Callable[[], dt.datetime] = _wall_clock,
    ) -> None:
        self._client = client
        self._identity = identity or own_identity(None)
        self._clock = clock
        # when the server last failed a call, and how (None: the last call was answered)
        self._unreachable: tuple[dt.datetime, str] | None = None

    def _call(self, target: config.Target, request: Callable[[], _T]) -> _T:
        """`request` unless the server failed a call less than `UNREACHABLE_PAUSE_S` ago."""
        if self._unreachable is not None:
            since, problem = self._unreachable
            elapsed_s = (self._clock() - since).total_seconds()
            if 0 <= elapsed_s < UNREACHABLE_PAUSE_S:
                raise kubeapi.UnreachableError(
                    f"{target.ref}: not tried: the API server failed a call {elapsed_s:.0f} s "
                    f"ago ({problem}); the first call after {UNREACHABLE_PAUSE_S:g} s tries "
                    "again"
                )
        try:
            result = request()
        except kubeapi.UnreachableError as exc:
            self._unreachable = (self._clock(), str(exc))
            raise
        self._unreachable = None
        return result

    def read(self, target: config.Target) -> daemon.Reading:
        status = self._call(target, lambda: kube.read(self._client, target_of(target)))
        return daemon.Reading(
            floor=status.floor_replicas,
            max_replicas=status.max_replicas,
            ready=status.ready_replicas,
        )

    def write(self, target: config.Target, replicas: int, *, dry_run: bool, reason: str) -> None:
        written = target_of(target)
        outcome = self._call(
            target, lambda: kube.apply_floor(self._client, written, replicas, dry_run=dry_run)
        )
        if not outcome.written or outcome.dry_run:
            return  # nothing changed in the cluster: nothing to say
        log.info(
            "floor applied target=%s from=%s to=%d reason=%s",
            target.ref,
            outcome.previous_replicas,
            outcome.replicas,
            reason,
        )
        self._record(written, outcome, reason)

    def _record(self, target: kube.Target, outcome: kube.ApplyOutcome, reason: str) -> None:
        """One Event for one changed floor; a failure to record it costs only the Event."""
        previous = outcome.previous_replicas
        raised = previous is None or outcome.replicas > previous
        note = (
            f"prescale set {FLOOR_FIELDS[target.kind]} from {previous} to {outcome.replicas}: "
            f"{reason}"
        )
        if outcome.result is kube.ApplyResult.CLAMPED:
            note += f" (it asked for {outcome.requested_replicas}; the autoscaler's bound holds)"
        try:
            kube.record_event(
                self._client,
                target,
                reason="RaisedFloor" if raised else "LoweredFloor",
                note=note,
                action="Apply",
                event_type=kube.EventType.NORMAL,
                reporting_instance=self._identity,
                now=self._clock(),
            )
        except errors.PrescaleError as exc:
            log.warning("target=%s event not recorded (the floor was written): %s", target, exc)

    def cold_starts(
        self, target: config.Target, since: dt.datetime
    ) -> Sequence[store.ColdStartRecord]:
        return [
            store.ColdStartRecord(pod_uid=c.pod_uid, ready_at=c.ready_at, lead_time_s=c.lead_time_s)
            for c in self._call(
                target, lambda: kube.cold_starts(self._client, target_of(target), since)
            )
        ]


def connect(settings: config.Config) -> kubeapi.Client:
    return kubeapi.connect(settings.kubeconfig)


def elector(
    client: kubeapi.Client, settings: config.LeaderElection, now: Callable[[], dt.datetime]
) -> lease.Elector:
    """The Lease elector for this replica (a `daemon.Leadership`)."""
    return lease.Elector(
        client,
        lease.LeaseSettings(
            namespace=settings.lease_namespace or own_namespace(),
            name=settings.lease_name,
            identity=own_identity(settings.identity),
            lease_duration_s=settings.lease_duration_s,
            renew_deadline_s=settings.renew_deadline_s,
            retry_period_s=settings.retry_period_s,
        ),
        now,
    )


def own_identity(configured: str | None) -> str:
    """This replica's name: the config's, else the Pod's (POD_NAME), else the host's."""
    return configured or os.environ.get("POD_NAME") or socket.gethostname()


def own_namespace() -> str:
    """The Pod's namespace from its ServiceAccount mount, else `default` (out of cluster)."""
    try:
        return NAMESPACE_FILE.read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"
