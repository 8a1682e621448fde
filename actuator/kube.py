"""Shell: adapter for Kubernetes, the cluster whose autoscaler floors prescale raises.

prescale co-owns a replica count with the autoscaler that already scales the workload: it writes
one field and nothing else, by server-side apply under the field manager `prescale`:

- `hpa`: an autoscaling/v2 HorizontalPodAutoscaler's `spec.minReplicas`, never above its
  `maxReplicas` (the HPA keeps scaling above the floor on its own metrics);
- `keda`: a KEDA ScaledObject's `spec.minReplicaCount`, never above its `maxReplicaCount` (the
  ScaledObject is the source of truth: KEDA reverts any write to the `keda-hpa-*` HPA it owns);
- `scale`: the `/scale` subresource's `spec.replicas` of a Deployment, StatefulSet or any custom
  resource that has one, when no autoscaler owns it;
- `metric`: nothing is written; the daemon exports the floor for KEDA to read.

Writes are absolute and idempotent, made only when the value changes, against the
resourceVersion just read (a concurrent writer gives a real 409, answered with a fresh read).
Every call goes through `kubeapi.call` (retries, backoff, Retry-After), so library errors never
leave the adapter: callers see `kernel.errors`.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from typing import Any

import kubernetes

from actuator import kubeapi
from kernel import errors

log = logging.getLogger(__name__)

FIELD_MANAGER = "prescale"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
MERGE_PATCH_CONTENT_TYPE = "application/merge-patch+json"
# Groups whose /scale takes server-side apply. The API server (v1.36) fails an apply to a custom
# resource's /scale with HTTP 500 ("request to convert CR to an invalid group/version:
# autoscaling/v1"), so a custom resource's /scale gets a merge patch under the same field manager.
SSA_SCALE_GROUPS = frozenset({"apps"})
# KEDA's documented defaults when a ScaledObject leaves the bounds out.
KEDA_DEFAULT_MIN_REPLICAS = 0
KEDA_DEFAULT_MAX_REPLICAS = 100
# autoscaling/v2 defaults minReplicas to 1 and rejects 0 unless the HPAScaleToZero gate is on.
HPA_DEFAULT_MIN_REPLICAS = 1
# A page of Pods per list call: bounded memory for big workloads, few round trips for small ones.
POD_PAGE_SIZE = 500


class TargetKind(enum.StrEnum):
    """What prescale writes for one capacity type of a workload."""

    HPA = "hpa"  # autoscaling/v2 HorizontalPodAutoscaler spec.minReplicas
    KEDA = "keda"  # keda.sh/v1alpha1 ScaledObject spec.minReplicaCount
    SCALE = "scale"  # the /scale subresource of a Deployment, StatefulSet or custom resource
    METRIC = "metric"  # write nothing: export the floor for KEDA's metrics-api scaler


class ApplyResult(enum.StrEnum):
    """What `apply_floor` did."""

    APPLIED = "applied"  # the floor changed to the value asked for
    UNCHANGED = "unchanged"  # it already had that value: nothing written
    CLAMPED = "clamped"  # the value asked for was outside the autoscaler's bounds: the bound holds
    EXPORTED = "exported"  # a metric target: nothing to write, the daemon exports the floor


@dataclass(frozen=True)
class Target:
    """One object prescale drives. For `scale` and `metric`, `name` is the scaled workload itself
    (`api_version`/`resource_kind`, default an apps/v1 Deployment); for `hpa` and `keda` it is the
    autoscaler, and the workload is the autoscaler's scaleTargetRef."""

    kind: TargetKind
    namespace: str
    name: str
    api_version: str = "apps/v1"
    resource_kind: str = "Deployment"

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class WorkloadRef:
    """The object whose replicas actually run (a Deployment, a StatefulSet, a CR with /scale)."""

    api_version: str
    kind: str
    name: str


@dataclass(frozen=True)
class TargetStatus:
    """A target as read now."""

    target: TargetKind
    floor_replicas: int | None  # minReplicas / minReplicaCount / spec.replicas; None for metric
    max_replicas: int | None  # the autoscaler's maximum; None for scale and metric
    replicas: int | None  # the workload's spec.replicas (its /scale), None if it has none
    ready_replicas: int | None  # Pods of the workload with Ready=True; None without a selector
    selector: str | None  # the workload's Pod label selector, from its /scale status
    workload: WorkloadRef
    resource_version: str  # of the object prescale writes (or the workload, for metric)
    # KEDA's pause annotations are set: KEDA scales nothing, so a new floor waits for the unpause.
    paused: bool = False


@dataclass(frozen=True)
class ApplyOutcome:
    """The result of one `apply_floor`."""

    result: ApplyResult
    requested_replicas: int
    replicas: int  # the value the target holds now (or would hold, for a dry run)
    previous_replicas: int | None
    written: bool  # a write was sent (and, unless dry_run, persisted)
    dry_run: bool


@dataclass(frozen=True)
class ColdStart:
    """One Pod's start: creation to its Ready condition."""

    pod_uid: str
    pod_name: str
    created_at: dt.datetime
    ready_at: dt.datetime
    lead_time_s: float


@dataclass(frozen=True)
class _Resource:
    group: str
    version: str
    plural: str


# The names callers of this adapter use for the connection (it lives in kubeapi).
Client = kubeapi.Client
connect = kubeapi.connect

_HPA = _Resource("autoscaling", "v2", "horizontalpodautoscalers")
_SCALED_OBJECT = _Resource("keda.sh", "v1alpha1", "scaledobjects")


def _get(client: Client, resource: _Resource, namespace: str, name: str) -> dict[str, Any]:
    what = f"get {resource.plural} {namespace}/{name}"
    obj = kubeapi.call(
        client,
        what,
        lambda: kubeapi.custom(client).get_namespaced_custom_object(
            resource.group,
            resource.version,
            namespace,
            resource.plural,
            name,
            _request_timeout=client.retry.request_timeout_s,
        ),
        access=kubeapi.Access("get", resource.plural, namespace, name),
    )
    return kubeapi.as_object(what, obj)


def _get_scale(client: Client, namespace: str, workload: WorkloadRef) -> dict[str, Any]:
    group, version = kubeapi.split_api_version(workload.api_version)
    plural = kubeapi.plural(client, workload.api_version, workload.kind)
    what = f"get {plural}/scale {namespace}/{workload.name}"
    scale = kubeapi.call(
        client,
        what,
        lambda: kubeapi.custom(client).get_namespaced_custom_object_scale(
            group,
            version,
            namespace,
            plural,
            workload.name,
            _request_timeout=client.retry.request_timeout_s,
        ),
        access=kubeapi.Access("get", f"{plural}/scale", namespace, workload.name),
    )
    return kubeapi.as_object(what, scale)


def _workload_of(obj: dict[str, Any]) -> WorkloadRef:
    ref = obj.get("spec", {}).get("scaleTargetRef", {})
    return WorkloadRef(
        api_version=ref.get("apiVersion") or "apps/v1",
        kind=ref.get("kind") or "Deployment",
        name=ref["name"],
    )


@dataclass(frozen=True)
class _Owned:
    """The field prescale writes, its bound, and the workload behind it."""

    floor: int | None
    max: int | None
    resource_version: str
    workload: WorkloadRef
    uid: str  # of the object written (the workload itself for scale and metric)
    paused: bool = False


# KEDA's annotations (scaledobject_types.go): paused-replicas pins the replica count whatever its
# value; paused pauses when true, or when it is not a boolean at all.
KEDA_PAUSED_REPLICAS_ANNOTATION = "autoscaling.keda.sh/paused-replicas"
KEDA_PAUSED_ANNOTATION = "autoscaling.keda.sh/paused"
KEDA_OWNER_LABEL = "scaledobject.keda.sh/name"


def _keda_paused(scaled: dict[str, Any]) -> bool:
    annotations = scaled["metadata"].get("annotations") or {}
    if KEDA_PAUSED_REPLICAS_ANNOTATION in annotations:
        return True
    value = annotations.get(KEDA_PAUSED_ANNOTATION)
    return value is not None and value.strip().lower() not in ("false", "0", "f")


def _refuse_keda_owned(target: Target, hpa: dict[str, Any]) -> None:
    """KEDA owns the HPA it makes for a ScaledObject and reverts any write to it."""
    metadata = hpa["metadata"]
    owners = [
        ref["name"]
        for ref in metadata.get("ownerReferences") or []
        if ref.get("kind") == "ScaledObject"
    ]
    owner = owners[0] if owners else (metadata.get("labels") or {}).get(KEDA_OWNER_LABEL)
    if owner:
        raise errors.InputError(
            f"target {target}: this HPA belongs to KEDA ScaledObject {owner}, which reverts any "
            f"change to it; use kind: keda, name: {owner}"
        )


def _read_owned(client: Client, target: Target) -> tuple[_Owned, dict[str, Any] | None]:
    if target.kind is TargetKind.HPA:
        hpa = _get(client, _HPA, target.namespace, target.name)
        _refuse_keda_owned(target, hpa)
        spec = hpa["spec"]
        owned = _Owned(
            floor=spec.get("minReplicas", HPA_DEFAULT_MIN_REPLICAS),
            max=spec["maxReplicas"],
            resource_version=hpa["metadata"]["resourceVersion"],
            workload=_workload_of(hpa),
            uid=hpa["metadata"].get("uid", ""),
        )
        return owned, None
    if target.kind is TargetKind.KEDA:
        scaled = _get(client, _SCALED_OBJECT, target.namespace, target.name)
        spec = scaled["spec"]
        owned = _Owned(
            floor=spec.get("minReplicaCount", KEDA_DEFAULT_MIN_REPLICAS),
            max=spec.get("maxReplicaCount", KEDA_DEFAULT_MAX_REPLICAS),
            resource_version=scaled["metadata"]["resourceVersion"],
            workload=_workload_of(scaled),
            uid=scaled["metadata"].get("uid", ""),
            paused=_keda_paused(scaled),
        )
        return owned, None
    workload = WorkloadRef(target.api_version, target.resource_kind, target.name)
    scale = _get_scale(client, target.namespace, workload)
    owned = _Owned(
        floor=scale.get("spec", {}).get("replicas", 0) if target.kind is TargetKind.SCALE else None,
        max=None,
        resource_version=scale["metadata"]["resourceVersion"],
        workload=workload,
        uid=scale["metadata"].get("uid", ""),
    )
    return owned, scale


def _ready_pods(client: Client, namespace: str, selector: str) -> list[Any]:
    """Every Pod matching the selector, page by page."""
    core = kubernetes.client.CoreV1Api(client.api)
    pods: list[Any] = []
    token: str | None = None
    while True:
        page = kubeapi.call(
            client,
            f"list pods {namespace} {selector}",
            lambda token=token: core.list_namespaced_pod(  # type: ignore[misc]
                namespace,
                label_selector=selector,
                limit=POD_PAGE_SIZE,
                _continue=token,
                _request_timeout=client.retry.request_timeout_s,
            ),
            access=kubeapi.Access("list", "pods", namespace),
        )
        pods.extend(page.items)
        token = page.metadata._continue if page.metadata else None
        if not token:
            return pods


def _ready_condition(pod: Any) -> Any | None:
    for condition in (pod.status.conditions if pod.status else None) or []:
        if condition.type == "Ready" and condition.status == "True":
            return condition
    return None


def read(client: Client, target: Target) -> TargetStatus:
    """The target's floor and bound, and its workload's replicas, ready Pods and selector."""
    owned, scale = _read_owned(client, target)
    if scale is None:
        scale = _get_scale(client, target.namespace, owned.workload)
    selector = scale.get("status", {}).get("selector") or None
    ready = None
    if selector is not None:
        pods = _ready_pods(client, target.namespace, selector)
        ready = sum(1 for pod in pods if _ready_condition(pod) is not None)
    return TargetStatus(
        target=target.kind,
        floor_replicas=owned.floor,
        max_replicas=owned.max,
        replicas=scale.get("spec", {}).get("replicas"),
        ready_replicas=ready,
        selector=selector,
        workload=owned.workload,
        resource_version=owned.resource_version,
        paused=owned.paused,
    )


def _bounded(target: Target, replicas: int, owned: _Owned) -> int:
    value = replicas
    if target.kind is TargetKind.HPA:
        value = max(value, HPA_DEFAULT_MIN_REPLICAS)
    if owned.max is not None:
        value = min(value, owned.max)
    return value


def _apply_body(target: Target, replicas: int, resource_version: str) -> dict[str, Any]:
    # resourceVersion in an applied configuration is a precondition: a stale read fails with 409
    # instead of overwriting, and a deleted target is never re-created from this fragment.
    metadata = {
        "name": target.name,
        "namespace": target.namespace,
        "resourceVersion": resource_version,
    }
    if target.kind is TargetKind.HPA:
        return {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": metadata,
            "spec": {"minReplicas": replicas},
        }
    if target.kind is TargetKind.KEDA:
        return {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": metadata,
            "spec": {"minReplicaCount": replicas},
        }
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": metadata,
        "spec": {"replicas": replicas},
    }


def _send_apply(client: Client, target: Target, body: dict[str, Any], *, dry_run: bool) -> None:
    custom = kubeapi.custom(client)
    # force: a controller that owns a field takes it back from whoever last wrote it, rather than
    # failing on a field-manager conflict it could not resolve (the Kubernetes SSA guidance).
    options: dict[str, Any] = {
        "dry_run": "All" if dry_run else None,
        "field_manager": FIELD_MANAGER,
        "force": True,
        "_content_type": APPLY_CONTENT_TYPE,
        "_request_timeout": client.retry.request_timeout_s,
    }
    what = f"apply {target} floor"
    if target.kind is TargetKind.SCALE:
        group, version = kubeapi.split_api_version(target.api_version)
        plural = kubeapi.plural(client, target.api_version, target.resource_kind)
        if group not in SSA_SCALE_GROUPS:
            # force is for apply only; the resourceVersion in the body is still a precondition.
            options.pop("force")
            options["_content_type"] = MERGE_PATCH_CONTENT_TYPE
            body = {"metadata": body["metadata"], "spec": body["spec"]}
        kubeapi.call(
            client,
            what,
            lambda: custom.patch_namespaced_custom_object_scale(
                group, version, target.namespace, plural, target.name, body, **options
            ),
            access=kubeapi.Access("patch", f"{plural}/scale", target.namespace, target.name),
        )
        return
    resource = _HPA if target.kind is TargetKind.HPA else _SCALED_OBJECT
    kubeapi.call(
        client,
        what,
        lambda: custom.patch_namespaced_custom_object(
            resource.group,
            resource.version,
            target.namespace,
            resource.plural,
            target.name,
            body,
            **options,
        ),
        access=kubeapi.Access("patch", resource.plural, target.namespace, target.name),
    )


def _confirm_present(client: Client, target: Target, failure: errors.ActuationError) -> None:
    try:
        _read_owned(client, target)
    except kubeapi.TargetMissingError:
        raise kubeapi.TargetMissingError(
            f"{target} was deleted while prescale wrote it"
        ) from failure


def apply_floor(client: Client, target: Target, replicas: int, *, dry_run: bool) -> ApplyOutcome:
    """Set the target's floor to `replicas` (clamped to its bounds), only if that changes it.

    `dry_run` sends the same write as a server-side dry run: admission and RBAC run, nothing is
    persisted. A 409 (someone wrote in between) is answered with a fresh read and a new attempt.
    """
    if replicas < 0:
        raise errors.InputError(
            f"replicas ({replicas}) for {target}: must be 0 or more; this is a planner bug"
        )
    if target.kind is TargetKind.METRIC:
        return ApplyOutcome(ApplyResult.EXPORTED, replicas, replicas, None, False, dry_run)
    for _ in range(client.retry.attempts):
        owned, _scale = _read_owned(client, target)
        value = _bounded(target, replicas, owned)
        result = ApplyResult.APPLIED if value == replicas else ApplyResult.CLAMPED
        if value == owned.floor:
            if result is ApplyResult.APPLIED:
                result = ApplyResult.UNCHANGED
            return ApplyOutcome(result, replicas, value, owned.floor, False, dry_run)
        body = _apply_body(target, value, owned.resource_version)
        try:
            _send_apply(client, target, body, dry_run=dry_run)
        except kubeapi.ConflictError as conflict:
            log.debug("kube conflict target=%s: %s; reading again", target, conflict)
            continue
        except kubeapi.UnreachableError:
            raise  # the server did not answer: a confirming read would not either
        except errors.ActuationError as exc:
            # An apply to a deleted object is a create from our one-field fragment, which the
            # server refuses as invalid (422) or not found: a fresh read tells which it was.
            _confirm_present(client, target, exc)
            raise
        # DEBUG: the caller says a changed floor once, at INFO, with why it changed
        log.debug(
            "kube floor target=%s previous=%s replicas=%d result=%s dry_run=%s",
            target,
            owned.floor,
            value,
            result,
            dry_run,
        )
        return ApplyOutcome(result, replicas, value, owned.floor, True, dry_run)
    raise errors.ActuationError(
        f"apply {target} floor: the object kept changing under us "
        f"({client.retry.attempts} conflicts in a row)"
    )


def cold_starts(client: Client, target: Target, since: dt.datetime) -> tuple[ColdStart, ...]:
    """Cold starts of the target's workload Pods that became Ready at or after `since`.

    Lead time is creationTimestamp to the Ready condition's lastTransitionTime. A Pod that went
    unready and ready again reports its latest transition; callers dedupe by `pod_uid`.
    """
    owned, scale = _read_owned(client, target)
    if scale is None:
        scale = _get_scale(client, target.namespace, owned.workload)
    selector = scale.get("status", {}).get("selector")
    if not selector:
        return ()
    starts = []
    for pod in _ready_pods(client, target.namespace, selector):
        condition = _ready_condition(pod)
        created = pod.metadata.creation_timestamp
        if condition is None or condition.last_transition_time is None or created is None:
            continue
        ready = condition.last_transition_time
        if ready < since:
            continue
        starts.append(
            ColdStart(
                pod_uid=pod.metadata.uid,
                pod_name=pod.metadata.name,
                created_at=created,
                ready_at=ready,
                lead_time_s=(ready - created).total_seconds(),
            )
        )
    return tuple(sorted(starts, key=lambda start: start.ready_at))


class EventType(enum.StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


# events.k8s.io/v1 caps a note at 1 kB.
EVENT_NOTE_MAX_CHARS = 1024


def _regarding(target: Target, owned: _Owned) -> dict[str, str]:
    if target.kind is TargetKind.HPA:
        api_version, kind = "autoscaling/v2", "HorizontalPodAutoscaler"
    elif target.kind is TargetKind.KEDA:
        api_version, kind = "keda.sh/v1alpha1", "ScaledObject"
    else:
        api_version, kind = target.api_version, target.resource_kind
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": target.name,
        "namespace": target.namespace,
        "uid": owned.uid,
    }


def record_event(
    client: Client,
    target: Target,
    *,
    reason: str,
    note: str,
    action: str,
    event_type: EventType,
    reporting_instance: str,
    now: dt.datetime,
) -> None:
    """An Event on the target (events.k8s.io/v1), so `kubectl describe` shows why a floor
    moved. `reason` is CamelCase (e.g. RaisedFloor), `action` what prescale did (e.g. Apply)."""
    owned, _scale = _read_owned(client, target)
    stamp = now.astimezone(dt.UTC)
    event = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {
            # Unique per target and moment, as client-go names its events.
            "name": f"{target.name}.{int(stamp.timestamp() * 1e9):x}",
            "namespace": target.namespace,
        },
        "eventTime": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reportingController": FIELD_MANAGER,
        "reportingInstance": reporting_instance,
        "action": action,
        "reason": reason,
        "note": note[:EVENT_NOTE_MAX_CHARS],
        "type": str(event_type),
        "regarding": _regarding(target, owned),
    }
    kubeapi.call(
        client,
        f"create event on {target}",
        lambda: kubeapi.custom(client).create_namespaced_custom_object(
            "events.k8s.io",
            "v1",
            target.namespace,
            "events",
            event,
            _request_timeout=client.retry.request_timeout_s,
        ),
        access=kubeapi.Access("create", "events", target.namespace),
    )
