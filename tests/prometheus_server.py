"""Test part: a real Prometheus (Debian's package) on a free loopback port, with backfilled history.

Reusable by any test (`import prometheus_server`; tests/ is on pytest's path):

    blocks = prometheus_server.backfill(work_dir, [prometheus_server.Series(...), ...])
    server = prometheus_server.start(work_dir, blocks=blocks)   # waits until /-/ready
    ... server.url ...                                           # "http://127.0.0.1:PORT"
    server.stop()

`start` returns None after calling `parts.missing_part` when the binaries are absent (so a
test calling it fails under CI and skips elsewhere). History is written as OpenMetrics (seconds,
each series' samples in time order, `# EOF`) and turned into TSDB blocks by `promtool tsdb
create-blocks-from openmetrics`. The server gets its own config, data directory, an address on
127.0.0.1 (never 9090) and a 100-year retention, because the default 15 days would delete
backfilled blocks older than that at the first compaction.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import conftest
import numpy as np
import parts

from kernel import units

PROMETHEUS = "prometheus"
PROMTOOL = "promtool"
# Blocks older than the retention are deleted at startup's first compaction: keep them all.
RETENTION = "100y"
READY_TIMEOUT_S = 60.0
READY_POLL_S = 0.1
PARALLEL_CONVERSIONS = 2  # the CI machine has 2 cores
# One of the block sizes of Prometheus's compactor (2 h x 3^k): 54 h.
BLOCK_S = 54 * units.HOUR_S


@dataclass(frozen=True)
class Series:
    """One labelled series to backfill: `values[i]` at `start_s + i * step_s`; NaN = no sample."""

    name: str
    labels: Mapping[str, str]
    start_s: int
    step_s: int
    values: Sequence[float]
    kind: str = "gauge"  # "gauge" or "counter" (OpenMetrics TYPE; a counter's name ends _total)


@dataclass
class Server:
    """A running Prometheus started by `start`."""

    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path = field(default_factory=Path)

    def stop(self) -> None:
        """Terminate the server and wait for it (kill after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def available() -> bool:
    return shutil.which(PROMETHEUS) is not None and shutil.which(PROMTOOL) is not None


def require() -> None:
    """Fail (CI) or skip (elsewhere) when Debian's prometheus package is not installed."""
    if not available():
        parts.missing_part("Prometheus", ".ci/run installs Debian's prometheus package (apt)")


def _family(series: Series) -> str:
    if series.kind == "counter":
        return series.name.removesuffix("_total")
    return series.name


def _label_text(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    body = ",".join(
        f'{k}="{v}"'.replace("\\", "\\\\").replace("\n", "\\n") for k, v in sorted(labels.items())
    )
    return "{" + body + "}"


def openmetrics(all_series: Iterable[Series], window_s: tuple[int, int] | None = None) -> str:
    """The OpenMetrics text promtool backfills: families contiguous, samples in time order.

    `window_s` (start inclusive, end exclusive) keeps only the samples in that span. Non-finite
    values are gaps: no sample at all (a NaN sample would be a value).
    """
    by_family: dict[str, list[Series]] = {}
    for s in all_series:
        by_family.setdefault(_family(s), []).append(s)
    lines: list[str] = []
    for family, members in by_family.items():
        lines.append(f"# TYPE {family} {members[0].kind}")
        for s in members:
            values = np.asarray(s.values, dtype=float)
            first, last = 0, values.size
            if window_s is not None:
                first = max(0, -(-(window_s[0] - s.start_s) // s.step_s))
                last = min(last, max(0, -(-(window_s[1] - s.start_s) // s.step_s)))
            if first >= last:
                continue
            index = np.arange(first, last)
            kept = np.isfinite(values[first:last])
            times = (s.start_s + index[kept] * s.step_s).tolist()
            prefix = f"{s.name}{_label_text(s.labels)} "
            # Python floats' repr round-trips exactly; one list comprehension per series keeps
            # 4 weeks of dozens of series to a second or so.
            lines.extend(
                f"{prefix}{v!r} {t}"
                for v, t in zip(values[first:last][kept].tolist(), times, strict=True)
            )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def backfill(work_dir: Path, all_series: Iterable[Series]) -> Path:
    """Write the series as TSDB blocks under `work_dir/blocks` and return that directory.

    promtool 2.42 re-reads its whole input once per block it writes (64 s for 10 series of 4
    weeks at 1 min in one file with the default 2-hour blocks). So blocks are BLOCK_S long (a
    size Prometheus's compactor knows), the history goes in one file per block window (aligned
    to the epoch, as promtool aligns its blocks) and each file is read once, two at a time.
    """
    members = list(all_series)
    work_dir.mkdir(parents=True, exist_ok=True)
    blocks = work_dir / "blocks"
    blocks.mkdir(exist_ok=True)
    if not members:
        return blocks
    first_s = min(s.start_s for s in members)
    end_s = max(s.start_s + len(s.values) * s.step_s for s in members)
    command = [
        PROMTOOL,
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "-q",
        f"--max-block-duration={BLOCK_S // units.HOUR_S}h",
    ]
    running: list[tuple[subprocess.Popen[bytes], Path]] = []
    for window in range(first_s // BLOCK_S, -(-end_s // BLOCK_S)):
        span = (window * BLOCK_S, (window + 1) * BLOCK_S)
        source = work_dir / f"history-{window}.om.txt"
        source.write_text(openmetrics(members, span), encoding="utf-8")
        running.append(
            (subprocess.Popen([*command, str(source), str(blocks)], stderr=subprocess.PIPE), source)
        )
        if len(running) >= PARALLEL_CONVERSIONS:
            _finish(running.pop(0))
    for item in running:
        _finish(item)
    return blocks


def _finish(item: tuple[subprocess.Popen[bytes], Path]) -> None:
    process, source = item
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"promtool failed on {source}: {stderr.decode(errors='replace')}")
    source.unlink()


def start(work_dir: Path, *, blocks: Path | None = None, port: int | None = None) -> Server:
    """Start Prometheus on 127.0.0.1 with `blocks` (from `backfill`) as its history.

    The config scrapes nothing (no `scrape_configs`): the history is only what was backfilled.
    """
    require()
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir = work_dir / "data"
    data_dir.mkdir(exist_ok=True)
    if blocks is not None:
        for block in blocks.iterdir():
            shutil.move(str(block), data_dir / block.name)
    config = work_dir / "prometheus.yml"
    config.write_text("global:\n  evaluation_interval: 1m\n", encoding="utf-8")
    port = port or conftest.free_port()
    log_path = work_dir / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={data_dir}",
                f"--storage.tsdb.retention.time={RETENTION}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(
        url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=data_dir,
        process=process,
        log_path=log_path,
    )
    _wait_ready(server)
    return server


def _wait_ready(server: Server) -> None:
    # Polling a starting server is waiting on a real process, not a sleep standing in for a clock.
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"prometheus exited with {server.process.returncode}: "
                f"{server.log_path.read_text(errors='replace')[-2000:]}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(READY_POLL_S)
    server.stop()
    raise RuntimeError(f"prometheus on {server.url} not ready after {READY_TIMEOUT_S} s")
