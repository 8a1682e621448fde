"""Shell: the connection to a Kubernetes API server, shared by the adapter's modules.

`connect` builds a `Client` from a kubeconfig or the Pod's ServiceAccount; `call` makes one API
call under the client's `RetryPolicy` and turns library errors into ours: 404 is
`TargetMissingError`, 409 `ConflictError`, 403 `ForbiddenError`, other 4xx an ActuationError
with the server's message (never a token); 429 honours Retry-After; 5xx, timeouts and dropped
connections back off, bounded. `plural` finds a kind's resource name by discovery, once per client.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
import urllib3
from kubernetes.client import exceptions as kube_errors

from kernel import errors

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it becomes an ActuationError.

    Five attempts with 0.5 s doubling to a cap of 8 s wait at most 0.5+1+2+4 = 7.5 s: inside one
    minute tick, so a flapping API server delays a tick instead of skipping it.
    """

    attempts: int = 5
    backoff_s: float = 0.5
    backoff_cap_s: float = 8.0
    # A server asking for more than this is treated as down for this tick.
    retry_after_cap_s: float = 30.0
    request_timeout_s: float = 10.0


@dataclass(frozen=True)
class Client:
    """A connection to one cluster, with the retry policy and the sleep used between attempts
    (injected, so tests of the backoff do not wait)."""

    api: kubernetes.client.ApiClient
    retry: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = time.sleep
    # Plural resource names found by discovery, by (apiVersion, kind): they never change.
    plurals: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, repr=False)


class TargetMissingError(errors.ActuationError):
    """The target (or its workload) does not exist: deleted, or a wrong name in the config."""


class ConflictError(errors.ActuationError):
    """The object changed between our read and our write, or already exists (HTTP 409)."""


class UnreachableError(errors.ActuationError):
    """The API server did not answer usefully within the retry policy: connection errors,
    timeouts, 5xx or 429 to the last attempt, or a Retry-After beyond the cap. The next call
    to the same server is likely to fare the same (`cluster.Targets` then waits a while)."""


@dataclass(frozen=True)
class Access:
    """What one call asks the API server for, in RBAC's terms: so a 403 can say what to grant."""

    verb: str  # get, list, create, update, patch
    resource: str  # the plural, with its subresource: horizontalpodautoscalers, deployments/scale
    namespace: str
    name: str = ""  # empty for list and create


# What deploy/base grants prescale's ServiceAccount, named in the fix a 403 prints.
LEASE_ROLE = "prescale-leader-election"
LEASE_ROLE_FILE = "deploy/base/role-leader-election.yaml"
TARGETS_CLUSTER_ROLE = "prescale-targets"
TARGETS_CLUSTER_ROLE_FILE = "deploy/base/clusterrole-targets.yaml"
TARGETS_ROLE_BINDING_FILE = "deploy/base/rolebinding-targets.yaml"


def forbidden_fix(access: Access | None) -> str:
    """What to grant after a 403, in deploy/base's terms: the Lease has a Role of its own; a
    target's namespace gets the ClusterRole prescale-targets through a RoleBinding there."""
    if access is None:
        return "grant the call to prescale's ServiceAccount (docs/deploy.md lists every verb)"
    if access.resource == "leases":
        name = access.name or "prescale"
        return (
            f"grant get, create and update on leases {name} in namespace {access.namespace} to "
            f"prescale's ServiceAccount ({LEASE_ROLE_FILE}: Role {LEASE_ROLE} and its "
            f"RoleBinding, in namespace {access.namespace})"
        )
    return (
        f"prescale's ServiceAccount may not {access.verb} {access.resource} in namespace "
        f"{access.namespace}: if no RoleBinding there binds ClusterRole {TARGETS_CLUSTER_ROLE} "
        f"to it, create one (a copy of {TARGETS_ROLE_BINDING_FILE} with namespace: "
        f"{access.namespace}); if one does, add {access.verb} on {access.resource} to the "
        f"ClusterRole ({TARGETS_CLUSTER_ROLE_FILE})"
    )


class ForbiddenError(errors.ActuationError):
    """RBAC refused the call (HTTP 403): retrying cannot help until someone grants it."""

    def __init__(self, message: str, access: Access | None, status_message: str) -> None:
        super().__init__(message)
        self.access = access
        self.status_message = status_message  # the API server's own words


def connect(
    kubeconfig: Path | None,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Client:
    """A client from a kubeconfig file, or from the Pod's ServiceAccount when `kubeconfig` is
    None (in-cluster)."""
    configuration = kubernetes.client.Configuration()
    try:
        if kubeconfig is None:
            kubernetes.config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
        else:
            kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=str(kubeconfig), client_configuration=configuration
            )
    except (kubernetes.config.ConfigException, OSError, ValueError) as exc:
        where = "in-cluster config" if kubeconfig is None else f"kubeconfig {kubeconfig}"
        raise errors.InputError(
            f"kubernetes.kubeconfig ({kubeconfig}): cannot load the {where}: {exc}; "
            "give a readable kubeconfig file, or omit it when running in a Pod"
        ) from exc
    # Our retry loop is the only one: urllib3's own retries would multiply the attempts.
    configuration.retries = False
    return Client(
        api=kubernetes.client.ApiClient(configuration), retry=retry or RetryPolicy(), sleep=sleep
    )


def _status_message(exc: kube_errors.ApiException) -> str:
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or exc.reason or "no message")


def _retry_after_s(exc: kube_errors.ApiException) -> float | None:
    headers = exc.headers or {}
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date form: fall back to our own backoff


def call(
    client: Client, what: str, request: Callable[[], _T], *, access: Access | None = None
) -> _T:
    """One API call with the client's retry policy; library errors become ours.

    404 is TargetMissingError, 409 ConflictError and 403 ForbiddenError (carrying `access`) at
    once (the caller decides what a fresh read means); 429, 5xx, timeouts and connection errors
    are retried; the rest is an ActuationError.
    """
    policy = client.retry
    delay_s = policy.backoff_s
    last = "no attempt made"
    for attempt in range(1, policy.attempts + 1):
        wait_s = delay_s
        try:
            return request()
        except kube_errors.ApiException as exc:
            status = exc.status or 0
            message = _status_message(exc)
            if status == 404:
                raise TargetMissingError(f"{what}: not found ({message})") from exc
            if status == 409:
                raise ConflictError(message) from exc
            if status == 403:
                raise ForbiddenError(
                    f"{what}: forbidden ({message}); {forbidden_fix(access)}",
                    access,
                    message,
                ) from exc
            if status != 429 and status < 500:
                raise errors.ActuationError(f"{what}: HTTP {status}: {message}") from exc
            last = f"HTTP {status}: {message}"
            retry_after_s = _retry_after_s(exc) if status == 429 else None
            if retry_after_s is not None:
                if retry_after_s > policy.retry_after_cap_s:
                    raise UnreachableError(
                        f"{what}: server asks to retry after {retry_after_s:g} s, more than "
                        f"{policy.retry_after_cap_s:g} s; giving up for now"
                    ) from exc
                wait_s = retry_after_s
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if attempt < policy.attempts:
            log.debug(
                "kube retry what=%s attempt=%d wait_s=%.2f last=%s", what, attempt, wait_s, last
            )
            client.sleep(wait_s)
            delay_s = min(delay_s * 2, policy.backoff_cap_s)
    raise UnreachableError(f"{what}: gave up after {policy.attempts} attempts; last: {last}")


def custom(client: Client) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(client.api)


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    if not group:
        raise errors.InputError(
            f"target apiVersion ({api_version!r}): core-group kinds are not supported; "
            "name a group/version such as apps/v1"
        )
    return group, version


def plural(client: Client, api_version: str, kind: str) -> str:
    """The resource name of a kind that has a /scale subresource, by discovery (cached)."""
    key = (api_version, kind)
    if key not in client.plurals:
        group, version = split_api_version(api_version)
        listing = call(
            client,
            f"discover {api_version}",
            lambda: custom(client).get_api_resources(
                group, version, _request_timeout=client.retry.request_timeout_s
            ),
        )
        names = {r.name for r in listing.resources}
        matches = [r.name for r in listing.resources if r.kind == kind and "/" not in r.name]
        if not matches:
            raise TargetMissingError(f"{api_version} has no kind {kind}")
        if f"{matches[0]}/scale" not in names:
            raise errors.InputError(
                f"target kind ({api_version} {kind}): has no /scale subresource; "
                "use an hpa or keda target, or a kind with /scale"
            )
        client.plurals[key] = matches[0]
    return client.plurals[key]


def as_object(what: str, obj: object) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise errors.ActuationError(
            f"{what}: the server answered {type(obj).__name__}, not an object"
        )
    return obj
