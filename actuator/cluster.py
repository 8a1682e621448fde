"""Shell: the daemon's view of a Kubernetes cluster: the kube adapter and the Lease elector
behind the daemon's protocols (`daemon.TargetWriter`, `daemon.ColdStartReader`,
`daemon.Leadership`).

Only translation lives here: config targets become `kube.Target`s, `kube.TargetStatus` a
`daemon.Reading`, `kube.ColdStart` a stored cold start. The writes themselves (server-side
apply under the field manager `prescale`, conflicts answered with a fresh read, bounds) are the
adapter's.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from actuator import config, daemon, kube, kubeapi, lease, store

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


class Targets:
    """`daemon.TargetWriter` and `daemon.ColdStartReader` on one cluster."""

    def __init__(self, client: kubeapi.Client) -> None:
        self._client = client

    def read(self, target: config.Target) -> daemon.Reading:
        status = kube.read(self._client, target_of(target))
        return daemon.Reading(
            floor=status.floor_replicas,
            max_replicas=status.max_replicas,
            ready=status.ready_replicas,
        )

    def write(self, target: config.Target, replicas: int, *, dry_run: bool) -> None:
        kube.apply_floor(self._client, target_of(target), replicas, dry_run=dry_run)

    def cold_starts(
        self, target: config.Target, since: dt.datetime
    ) -> Sequence[store.ColdStartRecord]:
        return [
            store.ColdStartRecord(pod_uid=c.pod_uid, ready_at=c.ready_at, lead_time_s=c.lead_time_s)
            for c in kube.cold_starts(self._client, target_of(target), since)
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
            identity=settings.identity or os.environ.get("POD_NAME") or socket.gethostname(),
            lease_duration_s=settings.lease_duration_s,
            renew_deadline_s=settings.renew_deadline_s,
            retry_period_s=settings.retry_period_s,
        ),
        now,
    )


def own_namespace() -> str:
    """The Pod's namespace from its ServiceAccount mount, else `default` (out of cluster)."""
    try:
        return NAMESPACE_FILE.read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"
