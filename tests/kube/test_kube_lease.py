"""Leader election on a real Lease: one winner, renewal, takeover after expiry, release.

Time is an injected clock advanced by the test; the API server's resourceVersion conflicts are
real (two contenders racing through a proxy at the wire, or in threads).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import kube_cluster
import kube_proxy
import kubernetes
import pytest

from actuator import kube, lease
from kernel import errors

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def _elector(client: kube.Client, namespace: str, identity: str, clock: Clock) -> lease.Elector:
    return lease.Elector(client, lease.LeaseSettings(namespace, "prescale", identity), clock)


def _lease(admin: kube.Client, namespace: str) -> dict[str, Any]:
    obj: dict[str, Any] = kubernetes.client.CustomObjectsApi(
        admin.api
    ).get_namespaced_custom_object("coordination.k8s.io", "v1", namespace, "leases", "prescale")
    return obj


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        pytest.param(
            {"lease_duration_s": 10, "renew_deadline_s": 10.0},
            ["must exceed lease.renew_deadline_s (10)"],
            id="duration-not-above-deadline",
        ),
        pytest.param(
            {"renew_deadline_s": 2.0, "retry_period_s": 2.0},
            ["must exceed 1.2 x lease.retry_period_s (2)"],
            id="deadline-within-jitter",
        ),
        pytest.param(
            {"retry_period_s": 0.0}, ["lease.retry_period_s (0): must be positive"], id="zero-retry"
        ),
        pytest.param(
            {"identity": "", "lease_duration_s": 0, "renew_deadline_s": 5.0},
            [
                "lease.identity (''): must not be empty",
                "lease.lease_duration_s (0): must be a whole number",
                "lease.lease_duration_s (0) must exceed",
            ],
            id="all-problems-at-once",
        ),
    ],
)
def test_bad_timing_is_an_input_error_naming_each_problem(
    overrides: dict[str, Any], fragments: list[str]
) -> None:
    settings = lease.LeaseSettings(
        **{"namespace": "p", "name": "prescale", "identity": "a", **overrides}
    )
    with pytest.raises(errors.InputError) as raised:
        lease.validate(settings)
    assert len(raised.value.problems) == len(fragments)
    for fragment, problem in zip(fragments, raised.value.problems, strict=True):
        assert fragment in problem


def test_defaults_are_valid() -> None:
    lease.validate(lease.LeaseSettings("p", "prescale", "a"))


def test_first_contender_leads_the_second_follows(admin: kube.Client, namespace: str) -> None:
    clock = Clock()
    a, b = (_elector(admin, namespace, name, clock) for name in ("a", "b"))
    assert a.tick() and a.is_leader()
    assert not b.tick() and not b.is_leader()
    spec = _lease(admin, namespace)["spec"]
    assert (spec["holderIdentity"], spec["leaseDurationSeconds"], spec["leaseTransitions"]) == (
        "a",
        15,
        0,
    )
    assert spec["renewTime"] == "2026-03-02T09:00:00.000000Z"


def test_leader_renews_and_a_follower_never_takes_over(admin: kube.Client, namespace: str) -> None:
    clock = Clock()
    a, b = (_elector(admin, namespace, name, clock) for name in ("a", "b"))
    a.tick()
    for _ in range(12):  # a minute of 5 s rounds, well past one lease duration
        clock.advance(5)
        assert a.tick()
        assert not b.tick()
    assert _lease(admin, namespace)["spec"]["renewTime"] == "2026-03-02T09:01:00.000000Z"


def test_follower_takes_over_one_lease_duration_after_the_leader_stops(
    admin: kube.Client, namespace: str
) -> None:
    """b first sees a's lease at 0 s; a dies; b may take over only once 15 s pass unrenewed."""
    clock = Clock()
    a, b = (_elector(admin, namespace, name, clock) for name in ("a", "b"))
    a.tick()
    assert not b.tick()
    clock.advance(10)
    assert not a.is_leader()  # 10 s without renewal: a's own deadline has passed, it stops writing
    assert not b.tick()  # but the lease is not expired for b: 10 s < 15 s
    clock.advance(4.9)
    assert not b.tick()
    clock.advance(0.2)
    assert b.tick() and b.is_leader()
    spec = _lease(admin, namespace)["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("b", 1)
    assert not a.tick()  # a comes back: b holds a fresh lease


def test_release_hands_over_without_waiting(admin: kube.Client, namespace: str) -> None:
    clock = Clock()
    a, b = (_elector(admin, namespace, name, clock) for name in ("a", "b"))
    a.tick()
    assert not b.tick()
    a.release()
    assert not a.is_leader()
    assert _lease(admin, namespace)["spec"]["holderIdentity"] == ""
    clock.advance(1)
    assert b.tick()


def test_two_contenders_racing_on_one_lease_version_one_wins(
    admin: kube.Client, namespace: str, control_plane: kube_cluster.ControlPlane, tmp_path: Path
) -> None:
    """b's write reaches the server just after a's, carrying the version both read: 409 for b."""
    clock = Clock()
    a = _elector(admin, namespace, "a", clock)
    with kube_proxy.running(control_plane.api_url, control_plane.ca_file) as proxy:
        b_client = kube.connect(
            proxy.kubeconfig(tmp_path / "kubeconfig", control_plane.admin_token)
        )
        b = _elector(b_client, namespace, "b", clock)
        # The Lease does not exist yet: both try to create it, a first.
        proxy.inject(kube_proxy.Fault("POST", "/leases", before=a.tick))
        assert not b.tick()
        assert a.is_leader()
        # a releases; both see a free Lease and race to take it, a first again.
        a.release()
        proxy.inject(kube_proxy.Fault("PUT", "/leases/prescale", before=a.tick))
        assert not b.tick()
        assert a.is_leader() and not b.is_leader()
        assert [m for m, p in proxy.seen if "/leases" in p] == ["GET", "POST", "GET", "PUT"]
    assert _lease(admin, namespace)["spec"]["holderIdentity"] == "a"


def test_many_contenders_at_once_elect_exactly_one(
    admin: kube.Client, namespace: str, control_plane: kube_cluster.ControlPlane
) -> None:
    clock = Clock()
    contenders = [
        _elector(kube.connect(control_plane.kubeconfig), namespace, f"replica-{i}", clock)
        for i in range(6)
    ]
    start = threading.Barrier(len(contenders))
    won: list[bool] = [False] * len(contenders)

    def contend(index: int) -> None:
        start.wait()
        won[index] = contenders[index].tick()

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(contenders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(won) == 1
    winner = won.index(True)
    assert _lease(admin, namespace)["spec"]["holderIdentity"] == f"replica-{winner}"
