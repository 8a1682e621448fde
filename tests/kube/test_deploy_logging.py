"""What the shipped Deployment's log shows: it runs at `--log-level info` (a flag the CLI
parses, before the subcommand), a floor written in actuate mode is one INFO line, and the
scheduler's per-job chatter stays out of it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import cluster_objects
import daemon_builders as b
import manifests
import parts
import pytest

from actuator import cli, cluster, daemon, kube
from actuator.commands import run as run_command

MONDAY_9 = dt.datetime(1995, 8, 28, 9, 0, tzinfo=dt.UTC)  # the rise: the floor goes above 1


def test_the_deployment_runs_the_daemon_at_info() -> None:
    try:
        docs = manifests.render(manifests.DEPLOY)
    except manifests.UnavailableError as exc:
        parts.missing_part("kubectl with kustomize", str(exc))
    deployment = manifests.find(docs, "Deployment", "prescale")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = cli.build_parser().parse_args(container["args"])
    assert (args.log_level.upper(), args.command) == ("INFO", "run")
    assert args.config == Path("/etc/prescale/config.yaml")


def test_a_floor_written_in_actuate_mode_is_one_info_line(
    admin: kube.Client, namespace: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cluster_objects.apply(admin.api, cluster_objects.deployment(namespace, "llama", replicas=1))
    cluster_objects.apply(admin.api, cluster_objects.hpa(namespace, "llama-od", "llama", 1, 20))
    core, _ = b.build(
        b.actuating_hpa(tmp_path / "prescale.db", namespace), writer=cluster.Targets(admin)
    )
    caplog.set_level(logging.INFO)
    (decision,) = core.run_once(MONDAY_9).workloads[0].decisions
    assert decision.outcome is daemon.Outcome.APPLIED
    about_the_write = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO and "llama-od" in r.getMessage()
    ]
    assert about_the_write == [
        f"floor applied target=hpa:{namespace}/llama-od from=1 to={decision.replicas} "
        f"reason={decision.reason}"
    ]


@pytest.fixture
def scheduler_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("apscheduler")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_the_scheduler_says_only_warnings_at_info(
    scheduler_logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    run_command.quiet_scheduler()
    assert not scheduler_logger.isEnabledFor(logging.INFO)
    assert scheduler_logger.isEnabledFor(logging.WARNING)
